package engine

import (
	"slices"
	"sort"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// The columns of cloudtrail_logs as Athena shows them. SELECT * returns exactly the columns of
// Athena's CloudTrail DDL, partition columns included; the columns beyond it (residual,
// managementevent, insightdetails) and the pseudo-column "$path" are hidden from the star and
// stay readable by name, as "$path" is in Athena. DuckDB has no hidden columns in a view, so the
// engine rewrites each star that covers the table into a star with an EXCLUDE list, using
// DuckDB's own parse of the statement to find the stars and the tables they cover.

// PathColumn is the pseudo-column that holds, for each row, the lake file it was read from (an
// absolute path, as DuckDB's filename column has it). In Athena "$path" is the S3 object the
// row came from.
const PathColumn = "$path"

// defaultPartition is how the lake stores a NULL partition value (Hive's default partition).
// DuckDB reads it as text; the view turns it back into NULL, as Athena does.
const defaultPartition = "__HIVE_DEFAULT_PARTITION__"

// hiddenColumns are the columns of cloudtrail_logs that SELECT * leaves out.
func hiddenColumns() []string {
	var out []string
	for _, c := range cloudtrail.Columns() {
		if !c.Athena {
			out = append(out, c.Name)
		}
	}
	return append(out, PathColumn)
}

// hidden maps the tables a statement of s can read (lower-case names) to the columns SELECT *
// leaves out.
func (s *session) hidden() map[string][]string {
	h := hiddenColumns()
	out := map[string][]string{"cloudtrail_logs": h}
	for _, a := range s.opt.Aliases {
		out[strings.ToLower(a)] = h
	}
	for _, d := range s.g.tables {
		_, out[d.Name] = d.viewSQL()
	}
	return out
}

// viewSQL defines cloudtrail_logs over files, with Athena's column order and the partition
// columns as strings: a TEMP view, the connection's own.
func (c *core) viewSQL(files []lake.File) string {
	cols := cloudtrail.Columns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = quoteIdent(col.Name)
	}
	var body string
	if len(files) == 0 {
		parts := make([]string, len(cols))
		for i, col := range cols {
			parts[i] = "CAST(NULL AS " + col.Type + ") AS " + quoteIdent(col.Name)
		}
		body = "SELECT " + strings.Join(parts, ", ") + ", CAST(NULL AS VARCHAR) AS " + quoteIdent(PathColumn) + " WHERE false"
	} else {
		for i, col := range cols {
			if slices.Contains(cloudtrail.PartitionColumns, col.Name) {
				// Hive's default partition is NULL in Athena: `year >= '2024'` must not
				// select it.
				names[i] = "NULLIF(" + names[i] + ", " + quote(defaultPartition) + ") AS " + names[i]
			}
		}
		body = "SELECT " + strings.Join(names, ", ") + ", filename AS " + quoteIdent(PathColumn) + " FROM " + c.scanSQL(files)
	}
	return "CREATE OR REPLACE TEMP VIEW cloudtrail_logs AS " + body
}

// edit replaces text[at:at+del] with ins.
type edit struct {
	at, del int
	ins     string
}

// applyEdits applies non-overlapping edits to text; ok is false if they overlap or fall outside.
func applyEdits(text string, edits []edit) (string, bool) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].at < edits[j].at })
	var b strings.Builder
	prev := 0
	for _, ed := range edits {
		if ed.at < prev || ed.at+ed.del > len(text) {
			return text, false
		}
		b.WriteString(text[prev:ed.at])
		b.WriteString(ed.ins)
		prev = ed.at + ed.del
	}
	b.WriteString(text[prev:])
	return b.String(), true
}

// tableRef is a reference to one of the engine's tables in a FROM clause.
type tableRef struct {
	table   string // the table's name, lower case
	visible string // the name its columns are qualified with: its alias, or its name
	at      int    // where its name starts in the text
	renamed bool   // t(a, b, …) renames its columns
}

// fromRefs lists the references to tables (lower-case names → hidden columns) in a FROM tree,
// through joins but not into subqueries.
func fromRefs(node any, tables map[string][]string, out *[]tableRef) {
	m, _ := node.(map[string]any)
	if m == nil {
		return
	}
	switch m["type"] {
	case "JOIN":
		fromRefs(m["left"], tables, out)
		fromRefs(m["right"], tables, out)
	case "BASE_TABLE":
		name, _ := m["table_name"].(string)
		if _, ok := tables[strings.ToLower(name)]; !ok || m["schema_name"] != "" || m["catalog_name"] != "" {
			return
		}
		r := tableRef{table: strings.ToLower(name), visible: name, at: -1}
		if a, _ := m["alias"].(string); a != "" {
			r.visible = a
		}
		if loc, ok := m["query_location"].(float64); ok && loc >= 0 && loc < 1<<40 {
			r.at = int(loc)
		}
		if l, _ := m["column_name_alias"].([]any); len(l) > 0 {
			r.renamed = true
		}
		*out = append(*out, r)
	}
}

// plainStar reports whether m is a bare * or t.*: no COLUMNS(), no EXCLUDE, REPLACE or RENAME
// of the user's own (those choose their columns themselves).
func plainStar(m map[string]any) bool {
	if m["class"] != "STAR" || m["columns"] != false || m["expr"] != nil {
		return false
	}
	for _, k := range []string{"exclude_list", "replace_list", "qualified_exclude_list", "rename_list"} {
		if l, _ := m[k].([]any); len(l) > 0 {
			return false
		}
	}
	return true
}

// hideColumns returns p's text with every star over one of tables (lower-case name → the
// columns * must leave out) narrowed by an EXCLUDE list, and DESCRIBE of such a table showing
// the same columns. ok is false when it cannot tell what a star covers (a common table
// expression named like a table, a star whose place in the text is not known); the statement
// then runs as it is.
func hideColumns(p *parsed, tables map[string][]string) (string, bool) {
	text := p.text
	var edits []edit
	ok := true
	walkJSON(p.tree, func(m map[string]any) {
		if cte, isMap := m["cte_map"].(map[string]any); isMap {
			list, _ := cte["map"].([]any)
			for _, entry := range list {
				if em, _ := entry.(map[string]any); em != nil {
					if k, _ := em["key"].(string); tables[strings.ToLower(k)] != nil {
						ok = false
					}
				}
			}
		}
		if m["type"] == "SHOW_REF" && m["show_type"] == "DESCRIBE" {
			// DESCRIBE t is DESCRIBE SELECT * FROM t, with no place in the text for the star:
			// describe the narrowed star instead.
			q, _ := m["query"].(map[string]any)
			if q == nil || q["type"] != "SELECT_NODE" {
				return
			}
			sel, _ := q["select_list"].([]any)
			var refs []tableRef
			fromRefs(q["from_table"], tables, &refs)
			if len(sel) != 1 || len(refs) != 1 || refs[0].at < 0 || refs[0].renamed {
				return
			}
			star, _ := sel[0].(map[string]any)
			if star == nil || !plainStar(star) {
				return
			}
			if loc, _ := star["query_location"].(float64); loc >= 0 && loc < 1<<40 {
				return // a star of its own in the text: handled as any other star
			}
			r := refs[0]
			n := identifierLen(text[r.at:])
			if n == 0 || !strings.EqualFold(strings.Trim(text[r.at:r.at+n], `"`), r.table) {
				ok = false
				return
			}
			edits = append(edits, edit{at: r.at, del: n, ins: "SELECT * EXCLUDE (" + excludeList("", tables[r.table]) + ") FROM " + text[r.at:r.at+n]})
			q[described] = true // walkJSON visits it next: its star is dealt with
			return
		}
		if m["type"] != "SELECT_NODE" || m[described] == true {
			return
		}
		var refs []tableRef
		fromRefs(m["from_table"], tables, &refs)
		if len(refs) == 0 {
			return
		}
		sel, _ := m["select_list"].([]any)
		for _, s := range sel {
			star, _ := s.(map[string]any)
			if star == nil || star["class"] != "STAR" {
				continue
			}
			if !plainStar(star) {
				continue
			}
			rel, _ := star["relation_name"].(string)
			var list []string
			for _, r := range refs {
				switch {
				case rel == "":
					if r.renamed {
						continue
					}
					list = append(list, excludeList(r.visible, tables[r.table]))
				case strings.EqualFold(rel, r.visible):
					if !r.renamed {
						list = append(list, excludeList("", tables[r.table]))
					}
				}
			}
			if len(list) == 0 {
				continue
			}
			loc, _ := star["query_location"].(float64)
			if loc < 0 || loc >= float64(len(text)) {
				ok = false
				return
			}
			at := starAt(text, int(loc), rel != "")
			if at < 0 {
				ok = false
				return
			}
			edits = append(edits, edit{at: at + 1, ins: " EXCLUDE (" + strings.Join(list, ", ") + ")"})
		}
	})
	if !ok || len(edits) == 0 {
		return text, false
	}
	return applyEdits(text, edits)
}

// described marks, in a parse tree, the query of a DESCRIBE that hideColumns rewrote.
const described = "trailsql_described"

// excludeList renders columns, qualified with rel if it is not empty, for an EXCLUDE list.
func excludeList(rel string, columns []string) string {
	parts := make([]string, len(columns))
	for i, c := range columns {
		parts[i] = quoteIdent(c)
		if rel != "" {
			parts[i] = quoteIdent(rel) + "." + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// starAt returns the offset of the * of a star expression that starts at at (t.* when
// qualified), or -1.
func starAt(text string, at int, qualified bool) int {
	if qualified {
		n := identifierLen(text[at:])
		if n == 0 {
			return -1
		}
		at += n
		at += len(text[at:]) - len(strings.TrimLeft(text[at:], " \t\r\n"))
		if at >= len(text) || text[at] != '.' {
			return -1
		}
		at++
		at += len(text[at:]) - len(strings.TrimLeft(text[at:], " \t\r\n"))
	}
	if at >= len(text) || text[at] != '*' {
		return -1
	}
	return at
}
