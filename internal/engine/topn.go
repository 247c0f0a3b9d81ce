package engine

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/lake"
)

// "The latest events": SELECT … FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 20, the first
// statement a user runs over a lake. DuckDB sorts every row of every file for it (its late
// materialization, which read the other columns of the 20 rows only, is off: see configure). The
// ledger knows each file's first and last eventtime and its rows, so the statement needs only
// the newest files that hold 20 rows, and the files that reach past the oldest of those: on the
// 1M-event long bench lake, a few of its 414 files.
//
// A file of a day partition holds only rows with an eventtime between its first and last (an
// event without a valid one goes to the partition without a day): so if the files with the
// newest last times hold n rows, each at least T (the oldest first time among them), then the n
// newest rows of the table are at least T, and a file whose last time is before T holds none of
// them. Files without a day are always read. The same holds for the oldest rows, the other way.

// topFiles returns the files a statement of that shape needs among files: the statement reads
// the table alone (no grouping, window, subquery, aggregate, DISTINCT or common table
// expression; a WHERE on partition values only, such as account = '…' AND region IN (…)), and
// is ordered by eventtime first, with a constant LIMIT (and OFFSET). Only the rows of files whose
// partition the WHERE holds for are counted. Any other statement needs them all.
func (s *session) topFiles(ctx context.Context, p *parsed, files []lake.File) []lake.File {
	if p.explain || p.show || len(files) < 2 {
		return files
	}
	tree := p.tree
	if s.q.Records {
		// The engine's own wrapper, SELECT to_json(t)::VARCHAR AS record FROM (statement) AS t:
		// one record per row of the statement.
		if tree = subquery(tree); tree == nil {
			return files
		}
	}
	desc, need, match, ok := s.topOf(ctx, tree)
	if !ok {
		return files
	}
	var known, keep []lake.File
	for _, f := range files {
		if f.Partition.Day == "" || f.MinTime == "" || f.MaxTime == "" {
			keep = append(keep, f)
		} else {
			known = append(known, f)
		}
	}
	// The newest last times first (for DESC; the oldest first times for ASC).
	slices.SortFunc(known, func(a, b lake.File) int {
		if desc {
			return strings.Compare(b.MaxTime, a.MaxTime)
		}
		return strings.Compare(a.MinTime, b.MinTime)
	})
	var rows int64
	var bound string
	counted := 0
	for _, f := range known {
		if !match(f.Partition) {
			continue
		}
		rows += f.Rows
		switch {
		case desc && (counted == 0 || f.MinTime < bound):
			bound = f.MinTime
		case !desc && (counted == 0 || f.MaxTime > bound):
			bound = f.MaxTime
		}
		counted++
		if rows >= need {
			break
		}
	}
	if rows < need {
		return files
	}
	for _, f := range known {
		if desc && f.MaxTime >= bound || !desc && f.MinTime <= bound {
			keep = append(keep, f)
		}
	}
	slices.SortFunc(keep, func(a, b lake.File) int { return strings.Compare(a.Path, b.Path) })
	return keep
}

// subquery returns the tree of the statement that a SELECT without WHERE, grouping or modifiers
// reads from, or nil.
func subquery(tree map[string]any) map[string]any {
	node, _ := tree["node"].(map[string]any)
	if node == nil || node["where_clause"] != nil || len(list(node["modifiers"])) > 0 || len(list(node["group_expressions"])) > 0 {
		return nil
	}
	from, _ := node["from_table"].(map[string]any)
	if from == nil || from["type"] != "SUBQUERY" {
		return nil
	}
	sub, _ := from["subquery"].(map[string]any)
	return sub
}

// topOf reads a statement's tree (json_serialize_sql): whether it is of topFiles' shape, ordered
// by eventtime descending, how many rows it needs (LIMIT + OFFSET), and which partitions its
// WHERE holds for.
func (s *session) topOf(ctx context.Context, tree map[string]any) (desc bool, need int64, match func(lake.Partition) bool, ok bool) {
	node, _ := tree["node"].(map[string]any)
	if node == nil || node["type"] != "SELECT_NODE" || node["having"] != nil ||
		node["qualify"] != nil || node["sample"] != nil || node["aggregate_handling"] != "STANDARD_HANDLING" ||
		len(list(node["group_expressions"])) > 0 || len(list(node["group_sets"])) > 0 {
		return false, 0, nil, false
	}
	if ctes, _ := node["cte_map"].(map[string]any); ctes == nil || len(list(ctes["map"])) > 0 {
		return false, 0, nil, false
	}
	from, _ := node["from_table"].(map[string]any)
	if from == nil || from["type"] != "BASE_TABLE" || from["sample"] != nil || from["at_clause"] != nil ||
		str(from["schema_name"]) != "" || str(from["catalog_name"]) != "" || len(list(from["column_name_alias"])) > 0 {
		return false, 0, nil, false
	}
	table, alias := strings.ToLower(str(from["table_name"])), strings.ToLower(str(from["alias"]))
	if !s.readNames()[table] {
		return false, 0, nil, false
	}
	mods := list(node["modifiers"])
	if len(mods) != 2 {
		return false, 0, nil, false
	}
	order, _ := mods[0].(map[string]any)
	limit, _ := mods[1].(map[string]any)
	if order == nil || limit == nil || order["type"] != "ORDER_MODIFIER" || limit["type"] != "LIMIT_MODIFIER" {
		return false, 0, nil, false
	}
	orders := list(order["orders"])
	if len(orders) == 0 {
		return false, 0, nil, false
	}
	first, _ := orders[0].(map[string]any)
	if first == nil || columnOf(first["expression"], table, alias) != "eventtime" {
		return false, 0, nil, false
	}
	switch first["type"] {
	case "DESCENDING":
		desc = true
	case "ASCENDING", "ORDER_DEFAULT":
	default:
		return false, 0, nil, false
	}
	n, ok := constInt(limit["limit"])
	if !ok || n <= 0 {
		return false, 0, nil, false
	}
	if limit["offset"] != nil {
		k, ok := constInt(limit["offset"])
		if !ok || k < 0 {
			return false, 0, nil, false
		}
		n += k
	}
	if n > 1<<20 {
		return false, 0, nil, false
	}
	// Every output row must be one row of the table: no aggregate, window or subquery, and no
	// output column named eventtime but the column itself (ORDER BY would mean that one).
	for _, item := range list(node["select_list"]) {
		m, _ := item.(map[string]any)
		if m == nil || strings.EqualFold(str(m["alias"]), "eventtime") && columnOf(m, table, alias) != "eventtime" {
			return false, 0, nil, false
		}
		if !s.rowwise(ctx, m) {
			return false, 0, nil, false
		}
	}
	match, ok = partitionMatch(node["where_clause"], table, alias)
	return desc, n, match, ok
}

// columnOf returns the name (in lower case) of the table's column that e references, by its
// name alone or qualified by the table's name or alias; "" if e is not such a reference.
func columnOf(e any, table, alias string) string {
	m, _ := e.(map[string]any)
	if m == nil || m["class"] != "COLUMN_REF" {
		return ""
	}
	names := list(m["column_names"])
	if len(names) == 2 {
		if q := strings.ToLower(str(names[0])); q != alias && (alias != "" || q != table) {
			return ""
		}
		names = names[1:]
	}
	if len(names) != 1 {
		return ""
	}
	return strings.ToLower(str(names[0]))
}

// partitionMatch returns, for a WHERE clause made only of equalities and IN lists between the
// partition columns and strings, joined with AND, whether it holds for the rows of a partition
// (nil: no WHERE, always). ok is false for any other WHERE.
func partitionMatch(where any, table, alias string) (func(lake.Partition) bool, bool) {
	if where == nil {
		return func(lake.Partition) bool { return true }, true
	}
	m, _ := where.(map[string]any)
	if m == nil {
		return nil, false
	}
	switch {
	case m["class"] == "CONJUNCTION" && m["type"] == "CONJUNCTION_AND":
		var parts []func(lake.Partition) bool
		for _, c := range list(m["children"]) {
			f, ok := partitionMatch(c, table, alias)
			if !ok {
				return nil, false
			}
			parts = append(parts, f)
		}
		return func(p lake.Partition) bool {
			for _, f := range parts {
				if !f(p) {
					return false
				}
			}
			return true
		}, true
	case m["class"] == "COMPARISON" && m["type"] == "COMPARE_EQUAL":
		col, ok := partitionColumn(m["left"], table, alias)
		v, isStr := constString(m["right"])
		if !ok || !isStr {
			if col, ok = partitionColumn(m["right"], table, alias); !ok {
				return nil, false
			}
			if v, isStr = constString(m["left"]); !isStr {
				return nil, false
			}
		}
		return func(p lake.Partition) bool { got := col(p); return got != "" && got == v }, true
	case m["class"] == "OPERATOR" && m["type"] == "COMPARE_IN":
		args := list(m["children"])
		if len(args) < 2 {
			return nil, false
		}
		col, ok := partitionColumn(args[0], table, alias)
		if !ok {
			return nil, false
		}
		set := map[string]bool{}
		for _, a := range args[1:] {
			v, isStr := constString(a)
			if !isStr {
				return nil, false
			}
			set[v] = true
		}
		return func(p lake.Partition) bool { got := col(p); return got != "" && set[got] }, true
	}
	return nil, false
}

// partitionColumn returns the partition value that a column reference names (a NULL partition
// is ""), if it names a partition column of the table.
func partitionColumn(e any, table, alias string) (func(lake.Partition) string, bool) {
	col := columnOf(e, table, alias)
	if _, ok := (lake.Partition{}).Value(col); !ok {
		return nil, false
	}
	return func(p lake.Partition) string { v, _ := p.Value(col); return v }, true
}

// constString returns the value of a string constant expression.
func constString(v any) (string, bool) {
	val, typ := constant(v)
	s, ok := val.(string)
	return s, ok && typ == "VARCHAR"
}

// rowwise reports whether an output expression makes one value from one row: columns,
// constants, operators and scalar functions only.
func (s *session) rowwise(ctx context.Context, e map[string]any) bool {
	ok := true
	walkJSON(e, func(m map[string]any) {
		class, has := m["class"].(string)
		if !has || !ok {
			return
		}
		switch class {
		case "COLUMN_REF", "CONSTANT", "CAST", "OPERATOR", "COMPARISON", "CONJUNCTION", "CASE", "BETWEEN", "COLLATE", "PARAMETER":
		case "STAR":
			ok = m["expr"] == nil && m["columns"] != true && len(list(m["replace_list"])) == 0 && len(list(m["rename_list"])) == 0
		case "FUNCTION":
			ok = m["filter"] == nil && m["distinct"] != true && len(orderBys(m)) == 0 && str(m["schema"]) == "" && str(m["catalog"]) == "" &&
				s.scalar(ctx, strings.ToLower(str(m["function_name"])))
		default: // WINDOW, SUBQUERY, LAMBDA, …
			ok = false
		}
	})
	return ok
}

func orderBys(m map[string]any) []any {
	ob, _ := m["order_bys"].(map[string]any)
	if ob == nil {
		return nil
	}
	return list(ob["orders"])
}

// scalar reports whether a function of that name is one of DuckDB's scalar functions and no
// aggregate, or one of the dialect's macros (all scalar).
func (s *session) scalar(ctx context.Context, name string) bool {
	if strings.HasPrefix(name, "trino_") {
		return true
	}
	s.core.scalarsOnce.Do(func() {
		rows, err := s.cn.c.QueryContext(ctx, `SELECT function_name FROM duckdb_functions() WHERE function_type = 'scalar'
			EXCEPT SELECT function_name FROM duckdb_functions() WHERE function_type <> 'scalar'`)
		if err != nil {
			return
		}
		defer rows.Close()
		names := map[string]bool{}
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names[strings.ToLower(n)] = true
			}
		}
		if rows.Err() == nil {
			s.core.scalars = names
		}
	})
	return s.core.scalars[name]
}

// scalarFunctions is core's lazily read set of DuckDB's scalar functions (see session.scalar).
type scalarFunctions struct {
	scalarsOnce sync.Once
	scalars     map[string]bool
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// constInt returns the value of an integer constant expression.
func constInt(v any) (int64, bool) {
	val, typ := constant(v)
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
	default:
		return 0, false
	}
	f, ok := val.(float64)
	if !ok || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// constant returns the value of a constant expression that is not NULL, as JSON decoded it,
// and its type's id ("" if v is no such constant).
func constant(v any) (any, string) {
	m, _ := v.(map[string]any)
	if m == nil || m["class"] != "CONSTANT" {
		return nil, ""
	}
	val, _ := m["value"].(map[string]any)
	if val == nil || val["is_null"] == true {
		return nil, ""
	}
	typ, _ := val["type"].(map[string]any)
	return val["value"], str(typ["id"])
}
