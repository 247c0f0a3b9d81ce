package athena

import "strings"

// NamedParameters rewrites the named parameters of a statement (:name, as Datasette's API
// takes them) into positional ones (?), and returns the names in the order of the placeholders
// (a name used twice is listed twice). Text in string literals, quoted identifiers and comments
// is left alone. A statement with no named parameter comes back unchanged, with no names.
func NamedParameters(sql string) (string, []string, error) {
	toks, err := lex(sql)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	var names []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tkOp && t.text == ":" && i+1 < len(toks) && toks[i+1].kind == tkIdent {
			names = append(names, toks[i+1].text)
			b.WriteByte('?')
			i++
			continue
		}
		b.WriteString(t.text)
	}
	if len(names) == 0 {
		return sql, nil, nil
	}
	return b.String(), names, nil
}
