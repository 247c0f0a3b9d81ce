package athena

// Athena names an output column it has no name for "_col" followed by the column's 0-based
// position (SELECT eventname, count(*) gives eventname and _col1), where DuckDB would name it
// after the expression text ("count_star()"). outputAliases finds those columns in the
// outermost select list so the rewriter can write " AS _colN" after them.
//
// An item is aliased when it certainly has no name of its own: it ends in a parenthesised or
// bracketed group, a literal, one of the words NULL, TRUE, FALSE, END or a niladic date/time
// function, or an identifier that follows an operator or a keyword (a + b, x AND y). An item
// ending in an identifier after nothing, ".", AS, a literal, a group or another identifier is a
// column, a field access or an aliased expression, and is left alone (so INTERVAL '1' DAY keeps
// DuckDB's name). Numbering stops at the first "*" or "t.*", whose width is unknown before the
// query runs.

// selectListEnd lists the words that end a select list at the top level of a statement.
var selectListEnd = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "order": true, "limit": true,
	"union": true, "intersect": true, "except": true, "window": true, "offset": true,
	"fetch": true, "into": true,
}

// valueWords are words that end an expression without naming it.
var valueWords = map[string]bool{
	"null": true, "true": true, "false": true, "end": true, "current_date": true,
	"current_timestamp": true, "current_time": true, "localtime": true, "localtimestamp": true,
}

// outputAliases returns, for the root nodes of a statement, the index of the last node of each
// unaliased, unnamed select item of the outermost SELECT, mapped to its Athena name.
func outputAliases(nodes []node) map[int]string {
	start := -1
	for i := range nodes {
		if isKeyword(&nodes[i], "select") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil
	}
	for start < len(nodes) && (!nodes[start].significant() || isKeyword(&nodes[start], "distinct") || isKeyword(&nodes[start], "all")) {
		start++
	}
	out := map[int]string{}
	col := 0
	var item []int // indexes of the significant nodes of the current item
	flush := func() bool {
		defer func() { item = item[:0]; col++ }()
		if len(item) == 0 {
			return false
		}
		last := &nodes[item[len(item)-1]]
		if !last.group && last.tok.text == "*" {
			return false
		}
		var before *node
		if len(item) >= 2 {
			before = &nodes[item[len(item)-2]]
		}
		named := false
		switch {
		case last.group:
		case last.tok.kind == tkString || last.tok.kind == tkNumber:
		case last.tok.kind == tkIdent && valueWords[last.tok.lower()]:
			named = isKeyword(before, "as") || before != nil && !before.group && before.tok.text == "."
		case before == nil || before.group || before.tok.text == "." || before.tok.kind == tkString ||
			before.tok.kind == tkNumber || before.tok.kind == tkQuoted || before.tok.is("as") ||
			before.tok.kind == tkIdent && !reserved[before.tok.lower()]:
			// A column (a, t.a), or an expression with an alias (x AS a, count(*) a, 'x' a).
			named = true
		}
		if !named {
			out[item[len(item)-1]] = "_col" + itoa(col)
		} else if last.tok.kind == tkIdent && before != nil && !before.group && before.tok.text == "." &&
			len(item) >= 3 && nodes[item[len(item)-3]].group {
			// A field of a computed row, (CAST(… AS ROW(x int, y varchar))).y or f(x).y: Trino
			// names the column after the field, DuckDB after the whole expression.
			out[item[len(item)-1]] = `"` + last.tok.lower() + `"`
		}
		return true
	}
	for i := start; i < len(nodes); i++ {
		n := &nodes[i]
		if !n.significant() {
			continue
		}
		if !n.group && n.tok.kind == tkIdent && selectListEnd[n.tok.lower()] {
			break
		}
		if !n.group && n.tok.kind == tkComma {
			if !flush() {
				return out
			}
			continue
		}
		item = append(item, i)
	}
	flush()
	return out
}
