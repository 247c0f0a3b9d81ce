package engine

import (
	"sort"
	"strings"

	"github.com/trailsql/trailsql/internal/lake"
)

// DuckDB pushes a struct field access (useridentity.type) down into a Parquet scan only when the
// access sits right on the scan: through a view, even one that merely lists the columns, it reads
// every field of the struct. useridentity has 24 fields, so a question reading two of them over a
// month of files spent two thirds of its time on fields it never used (active-users: 190 → 85 ms
// over 276 files). So a statement's references to the table are replaced by the read_parquet
// call the view holds, over the files the statement needs; the view stays for what is not
// rewritten (DESCRIBE, EXPLAIN, a CTE that reuses the table's name, …).

// inlineTable returns stmt with every reference to cloudtrail_logs (or an alias of it) replaced
// by a scan of files. ok is false when some reference cannot be replaced, and stmt is then to run
// over the view. DuckDB's own parser finds the references: json_serialize_sql gives each table
// reference with its position in the text.
func (s *session) inlineTable(p *parsed, files []lake.File) (string, bool) {
	stmt := p.text
	if len(files) == 0 || s.noInline || p.text != p.orig {
		return stmt, false
	}
	for _, f := range files {
		if p := f.Partition; p.Account == "" || p.Region == "" || p.Year == "" || p.Month == "" || p.Day == "" {
			// Only the view reads Hive's default partition as NULL.
			return stmt, false
		}
	}
	names := s.readNames()
	type ref struct {
		at    int
		alias bool
	}
	var refs []ref
	// SELECT *, t.*, COLUMNS(…) over the table: read_parquet puts the Hive columns in another
	// order (alphabetical) than the view does. A star over anything else (VALUES, a common
	// table expression that names its columns) expands as before.
	ok := !starOverTable(p.tree, names, false)
	walkJSON(p.tree, func(m map[string]any) {
		switch m["class"] {
		case "COLUMN_REF":
			// A table's name used as a column is its whole row, in the view's column order.
			cn, _ := m["column_names"].([]any)
			if len(cn) == 1 {
				if s, _ := cn[0].(string); names[strings.ToLower(s)] {
					ok = false
				}
			}
			// "$path" is the view's.
			if len(cn) > 0 {
				if s, _ := cn[len(cn)-1].(string); strings.EqualFold(s, PathColumn) {
					ok = false
				}
			}
		}
		if cte, isMap := m["cte_map"].(map[string]any); isMap {
			// A common table expression named like the table hides it: leave such a statement
			// alone rather than reason about scopes.
			list, _ := cte["map"].([]any)
			for _, entry := range list {
				if em, _ := entry.(map[string]any); em != nil {
					if k, _ := em["key"].(string); names[strings.ToLower(k)] {
						ok = false
					}
				}
			}
		}
		if m["type"] != "BASE_TABLE" {
			return
		}
		name, _ := m["table_name"].(string)
		for _, d := range s.g.tables {
			if strings.EqualFold(name, d.Name) {
				ok = false // a user's table is a view of the view: it must read these files
			}
		}
		if !names[strings.ToLower(name)] {
			return
		}
		loc, isNum := m["query_location"].(float64)
		if !isNum || m["schema_name"] != "" || m["catalog_name"] != "" || m["at_clause"] != nil || loc < 0 || loc >= float64(len(stmt)) {
			ok = false
			return
		}
		alias, _ := m["alias"].(string)
		refs = append(refs, ref{at: int(loc), alias: alias != ""})
	})
	if !ok {
		return stmt, false
	}
	if len(refs) == 0 {
		return stmt, true
	}
	scan := s.scanSQL(files)
	sort.Slice(refs, func(i, j int) bool { return refs[i].at < refs[j].at })
	var b strings.Builder
	prev := 0
	for _, r := range refs {
		at := r.at
		if at < prev {
			return stmt, false
		}
		n := identifierLen(stmt[at:])
		tok := stmt[at : at+n]
		if n == 0 || !names[strings.ToLower(strings.Trim(tok, `"`))] {
			return stmt, false
		}
		b.WriteString(stmt[prev:at])
		b.WriteString(scan)
		if !r.alias {
			// Columns may be qualified with the table's name (cloudtrail_logs.eventtime).
			b.WriteString(" AS ")
			b.WriteString(tok)
		}
		prev = at + n
	}
	b.WriteString(stmt[prev:])
	return b.String(), true
}

// starOverTable reports whether a star in the tree v expands the columns of a table named in
// names: a star in a SELECT whose FROM reads one of them (directly, through joins, or as the
// source of a PIVOT; a subquery is a SELECT of its own). over says whether v is within such a
// SELECT.
func starOverTable(v any, names map[string]bool, over bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "SELECT_NODE" {
			over = readsTable(x["from_table"], names)
		}
		if x["class"] == "STAR" && over {
			return true
		}
		for _, c := range x {
			if starOverTable(c, names, over) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if starOverTable(c, names, over) {
				return true
			}
		}
	}
	return false
}

// readsTable reports whether a FROM tree names one of names outside its subqueries.
func readsTable(v any, names map[string]bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "SELECT_NODE" {
			return false
		}
		if x["type"] == "BASE_TABLE" {
			if n, _ := x["table_name"].(string); names[strings.ToLower(n)] {
				return true
			}
		}
		for _, c := range x {
			if readsTable(c, names) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if readsTable(c, names) {
				return true
			}
		}
	}
	return false
}

// walkJSON calls fn for every object in a decoded JSON tree.
func walkJSON(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walkJSON(c, fn)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, fn)
		}
	}
}

// identifierLen returns the length of the identifier at the start of s: a double-quoted one
// (with doubled quotes inside) or a bare word.
func identifierLen(s string) int {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					i++
					continue
				}
				return i + 1
			}
		}
		return 0
	}
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] >= 0x80) {
		i++
	}
	return i
}

// readNames are the names (in lower case) a statement reads the table by: cloudtrail_logs and
// its aliases.
func (c *core) readNames() map[string]bool {
	names := map[string]bool{"cloudtrail_logs": true}
	for _, a := range c.opt.Aliases {
		names[strings.ToLower(a)] = true
	}
	return names
}

// scanSQL is the read_parquet call over files that the view cloudtrail_logs holds.
func (c *core) scanSQL(files []lake.File) string {
	lits := make([]string, len(files))
	for i, f := range files {
		lits[i] = quote(c.absPath(f))
	}
	// Every file has the schema of cloudtrail.Record, so no union_by_name (which costs more
	// than the query itself over hundreds of files). Parquet columns come in the table's order
	// and the Hive columns after them, as the view lists them.
	return "read_parquet([" + strings.Join(lits, ", ") + "], hive_partitioning = true, hive_types = {'account': VARCHAR, 'region': VARCHAR, 'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR})"
}
