package athena

import (
	"strings"
)

// mysqlSpecifiers maps the MySQL-style specifiers of Trino's date_parse and date_format
// (https://trino.io/docs/current/functions/datetime.html#mysql-date-functions) to strftime.
// Note %i is minutes and %s seconds there.
var mysqlSpecifiers = map[byte]string{
	'a': "%a", 'b': "%b", 'c': "%-m", 'd': "%d", 'e': "%-d", 'f': "%f", 'H': "%H", 'h': "%I",
	'I': "%I", 'i': "%M", 'j': "%j", 'k': "%-H", 'l': "%-I", 'M': "%B", 'm': "%m", 'p': "%p",
	'r': "%I:%M:%S %p", 'S': "%S", 's': "%S", 'T': "%H:%M:%S", 'W': "%A", 'w': "%w", 'Y': "%Y",
	'y': "%y", '%': "%%",
}

// mysqlToStrftime converts a MySQL-style format; on error it returns the byte offset of the
// offending specifier in the format.
func mysqlToStrftime(f string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		if i+1 >= len(f) {
			return "", i, errorString("format ends with a lone '%'")
		}
		i++
		s, ok := mysqlSpecifiers[f[i]]
		if !ok {
			// Trino rejects %D %U %u %V %v %X %x too; other letters stand for themselves in MySQL.
			if strings.IndexByte("DUuVvXx", f[i]) >= 0 || f[i] >= 0x80 {
				return "", i - 1, errorString("format specifier '%" + string(f[i]) + "' is not supported")
			}
			s = string(f[i])
		}
		b.WriteString(s)
	}
	return b.String(), 0, nil
}

// jodaToStrftime converts a Joda-Time pattern (format_datetime, parse_datetime:
// https://trino.io/docs/current/functions/datetime.html#java-date-functions) to strftime.
func jodaToStrftime(f string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(f); {
		ch := f[i]
		switch {
		case ch == '\'':
			// Quoted literal text; '' is a single quote.
			j := i + 1
			if j < len(f) && f[j] == '\'' {
				b.WriteByte('\'')
				i = j + 1
				continue
			}
			for ; ; j++ {
				if j >= len(f) {
					return "", i, errorString("unterminated quoted text in the pattern")
				}
				if f[j] == '\'' {
					if j+1 < len(f) && f[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				if f[j] == '%' {
					b.WriteString("%%")
				} else {
					b.WriteByte(f[j])
				}
			}
			i = j + 1
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			n := 1
			for i+n < len(f) && f[i+n] == ch {
				n++
			}
			s := jodaField(ch, n)
			if s == "" {
				return "", i, errorString("pattern letter '" + f[i:i+n] + "' is not supported")
			}
			b.WriteString(s)
			i += n
		case ch == '%':
			b.WriteString("%%")
			i++
		default:
			b.WriteByte(ch)
			i++
		}
	}
	return b.String(), 0, nil
}

// jodaField returns the strftime form of n repetitions of the Joda pattern letter ch, or "".
func jodaField(ch byte, n int) string {
	pad := func(short, long string) string {
		if n == 1 {
			return short
		}
		return long
	}
	switch ch {
	case 'y', 'Y', 'u':
		if n == 2 {
			return "%y"
		}
		return "%Y"
	case 'x':
		return "%G"
	case 'M':
		switch n {
		case 1:
			return "%-m"
		case 2:
			return "%m"
		case 3:
			return "%b"
		}
		return "%B"
	case 'd':
		return pad("%-d", "%d")
	case 'D':
		return pad("%-j", "%j")
	case 'H':
		return pad("%-H", "%H")
	case 'h':
		return pad("%-I", "%I")
	case 'm':
		return pad("%-M", "%M")
	case 's':
		return pad("%-S", "%S")
	case 'S':
		switch {
		case n <= 3:
			return "%g"
		case n <= 6:
			return "%f"
		}
		return "%n"
	case 'a':
		return "%p"
	case 'E':
		if n >= 4 {
			return "%A"
		}
		return "%a"
	case 'e':
		return "%u"
	case 'w':
		return "%V"
	case 'Z':
		return "%z"
	case 'z':
		return "%Z"
	}
	return ""
}

// convertJSONPath rewrites a Trino JSONPath into DuckDB's dialect: member names in brackets
// ($["a-b"], $['a']) become quoted members ($."a-b"). It returns the offset of an error.
func convertJSONPath(p string) (string, int, error) {
	if !strings.HasPrefix(p, "$") {
		return "", 0, errorString("a JSON path must start with '$'")
	}
	var b strings.Builder
	b.WriteByte('$')
	member := func(name string) {
		if plainWord(name) {
			b.WriteString("." + name)
			return
		}
		b.WriteString(`."` + name + `"`)
	}
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i+1 : j]
			if name == "" || strings.ContainsAny(name, `"*`) {
				return "", i, errorString("invalid member name")
			}
			if name[0] == '"' {
				return "", i, errorString("invalid member name")
			}
			member(name)
			i = j
		case '[':
			if i+1 < len(p) && (p[i+1] == '"' || p[i+1] == '\'') {
				q := p[i+1]
				end := strings.IndexByte(p[i+2:], q)
				if end < 0 || i+2+end+1 >= len(p) || p[i+2+end+1] != ']' {
					return "", i, errorString("unterminated member name in brackets")
				}
				name := p[i+2 : i+2+end]
				if strings.ContainsRune(name, '"') {
					return "", i, errorString("member names containing '\"' are not supported")
				}
				member(name)
				i = i + 2 + end + 2
				continue
			}
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return "", i, errorString("missing ']'")
			}
			idx := p[i+1 : i+end]
			if idx == "" || strings.Trim(idx, "0123456789") != "" {
				return "", i, errorString("array subscripts must be numbers")
			}
			b.WriteString("[" + idx + "]")
			i += end + 1
		default:
			return "", i, errorString("unexpected character '" + string(p[i]) + "'")
		}
	}
	return b.String(), 0, nil
}

// simpleTypes maps Trino scalar type names to DuckDB's.
var simpleTypes = map[string]string{
	"varchar": "VARCHAR", "char": "VARCHAR", "bigint": "BIGINT", "integer": "INTEGER", "int": "INTEGER",
	"smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE", "real": "REAL", "boolean": "BOOLEAN",
	"date": "DATE", "json": "JSON", "varbinary": "BLOB", "uuid": "UUID", "ipaddress": "VARCHAR",
	"string": "VARCHAR",
}

// convertType translates a Trino type written as the significant nodes ns.
func (r *rewriter) convertType(ns []node, at int) (string, error) {
	if len(ns) == 0 {
		return "", r.errorf(at, "missing type")
	}
	head := &ns[0]
	if !isWord(head) {
		return "", r.errorf(head.tok.pos, "mismatched input '%s': expecting a type", head.tok.text)
	}
	name := strings.ToLower(head.tok.name())
	rest := ns[1:]
	var params [][]node
	if len(rest) > 0 && rest[0].group && rest[0].tok.kind == tkLParen {
		params = splitArgs(rest[0].kids)
		rest = rest[1:]
	}
	var out string
	switch name {
	case "array":
		if len(params) != 1 {
			return "", r.errorf(head.tok.pos, "array needs one element type")
		}
		el, err := r.convertType(sigNodes(params[0]), head.tok.pos)
		if err != nil {
			return "", err
		}
		out = el + "[]"
	case "map":
		if len(params) != 2 {
			return "", r.errorf(head.tok.pos, "map needs a key type and a value type")
		}
		k, err := r.convertType(sigNodes(params[0]), head.tok.pos)
		if err != nil {
			return "", err
		}
		v, err := r.convertType(sigNodes(params[1]), head.tok.pos)
		if err != nil {
			return "", err
		}
		out = "MAP(" + k + ", " + v + ")"
	case "row":
		if len(params) == 0 {
			return "", r.errorf(head.tok.pos, "row needs fields")
		}
		var fields []string
		for k, p := range params {
			s := sigNodes(p)
			if len(s) == 0 {
				return "", r.errorf(head.tok.pos, "empty row field")
			}
			field := "field" + itoa(k)
			if len(s) >= 2 && isWord(&s[0]) && !(len(s) == 2 && s[1].group) {
				// "name type": the first word is the field name.
				field = quoteIdent(s[0].tok.name())
				s = s[1:]
			}
			t, err := r.convertType(s, head.tok.pos)
			if err != nil {
				return "", err
			}
			fields = append(fields, field+" "+t)
		}
		out = "STRUCT(" + strings.Join(fields, ", ") + ")"
	case "decimal", "numeric":
		out = "DECIMAL"
		if len(params) > 0 {
			var ps []string
			for _, p := range params {
				s := sigNodes(p)
				if len(s) != 1 || s[0].group || s[0].tok.kind != tkNumber {
					return "", r.errorf(head.tok.pos, "decimal precision and scale must be numbers")
				}
				ps = append(ps, s[0].tok.text)
			}
			out += "(" + strings.Join(ps, ", ") + ")"
		}
	case "timestamp", "time":
		out = strings.ToUpper(name)
		if len(rest) >= 3 && isKeyword(&rest[1], "time") && isKeyword(&rest[2], "zone") {
			if isKeyword(&rest[0], "with") {
				out += "TZ"
				rest = rest[3:]
			} else if isKeyword(&rest[0], "without") {
				rest = rest[3:]
			}
		}
	case "double":
		out = "DOUBLE"
		if len(rest) > 0 && isKeyword(&rest[0], "precision") {
			rest = rest[1:]
		}
	default:
		t, ok := simpleTypes[name]
		if !ok {
			return "", r.errorf(head.tok.pos, "unknown type: %s", head.tok.name())
		}
		out = t
	}
	if len(rest) > 0 {
		return "", r.errorf(rest[0].tok.pos, "mismatched input '%s' in type", rest[0].tok.text)
	}
	return out, nil
}

// quoteIdent writes name as a DuckDB identifier.
func quoteIdent(name string) string {
	if plainWord(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// jsonCalls are the functions whose result is JSON: casting it follows the JSON cast rules.
var jsonCalls = map[string]bool{"json_extract": true, "json_parse": true, "json_array_get": true}

// cast translates CAST and TRY_CAST, mapping Trino types to DuckDB's. Casting to JSON turns a
// value into its JSON text; casting a JSON value to VARCHAR gives the scalar's value, as in
// Trino (https://trino.io/docs/current/functions/json.html#cast-to-json).
func (c *call) cast() error {
	kids := c.g.kids
	as := -1
	for i := range kids {
		if isKeyword(&kids[i], "as") {
			as = i
		}
	}
	if as < 0 {
		return c.r.errorf(c.g.close.pos, "mismatched input ')': expecting AS in %s", strings.ToUpper(c.fname))
	}
	expr, typ := kids[:as], sigNodes(kids[as+1:])
	for len(expr) > 0 && expr[len(expr)-1].tok.kind == tkSpace && !expr[len(expr)-1].group {
		expr = expr[:len(expr)-1] // " AS " is written again below
	}
	t, err := c.r.convertType(typ, kids[as].tok.pos)
	if err != nil {
		return err
	}
	fn := "CAST"
	if c.fname == "try_cast" {
		fn = "TRY_CAST"
	}
	if len(sigNodes(expr)) == 0 {
		return c.r.errorf(kids[as].tok.pos, "mismatched input 'AS': expecting an expression")
	}
	write := func(before string, after string) error {
		c.lit(before)
		if err := c.r.seq(expr, false); err != nil {
			return err
		}
		c.lit(after)
		return nil
	}
	es := sigNodes(expr)
	fromJSON := len(es) == 2 && isWord(&es[0]) && es[1].group && es[1].tok.kind == tkLParen &&
		jsonCalls[strings.ToLower(es[0].tok.name())]
	if names, types, ok := structFields(t); ok {
		return write(rowCast(fn, names, types, fromJSON))
	}
	switch {
	case t == "JSON":
		return write(fn+"(to_json(", ") AS VARCHAR)")
	case fromJSON && t == "VARCHAR":
		return write("trino_json_to_varchar(", ")")
	case fromJSON:
		return write(fn+"(CAST(", " AS JSON) AS "+t+")")
	}
	return write(fn+"(", " AS "+t+")")
}

// rowCast returns the text around the value of a cast to ROW. Trino casts a row to a row by
// position (https://trino.io/docs/current/language/types.html#row), where DuckDB matches names
// and fails when none match; a JSON array to a row by position and a JSON object by field name,
// case-insensitively, keys the row does not name being ignored
// (https://trino.io/docs/current/functions/json.html#cast-from-json; io.trino.util.JsonUtil
// lower-cases both names), where DuckDB fails on a key it does not know. The value is written
// once, bound to a lambda parameter.
func rowCast(fn string, names, types []string, fromJSON bool) (before, after string) {
	pack := func(field func(k int) string) string {
		var b strings.Builder
		b.WriteString("struct_pack(")
		for k := range names {
			if k > 0 {
				b.WriteString(", ")
			}
			if fromJSON && types[k] == "VARCHAR" {
				b.WriteString(names[k] + " := trino_json_to_varchar(" + field(k) + ")") // a string's value
				continue
			}
			b.WriteString(names[k] + " := " + fn + "(" + field(k) + " AS " + types[k] + ")")
		}
		return b.String() + ")"
	}
	if !fromJSON {
		return "(list_transform([", "], lambda trino_r: CASE WHEN trino_r IS NULL THEN NULL ELSE " +
			pack(func(k int) string { return "struct_extract_at(trino_r, " + itoa(k+1) + ")" }) + " END)[1])"
	}
	byName := pack(func(k int) string {
		return "trino_m['" + strings.ReplaceAll(strings.ToLower(unquote(names[k])), "'", "''") + "']"
	})
	return "(list_transform([CAST(", " AS JSON)], lambda trino_j: CASE WHEN trino_j IS NULL OR json_type(trino_j) = 'NULL' THEN NULL " +
		"WHEN json_type(trino_j) = 'ARRAY' THEN " + pack(func(k int) string { return "json_extract(trino_j, " + itoa(k) + ")" }) +
		" ELSE list_transform([trino_json_lower_keys(trino_j)], lambda trino_m: " + byName + ")[1] END)[1])"
}

// structFields splits a DuckDB STRUCT type written by convertType into its field names and types.
func structFields(t string) (names, types []string, ok bool) {
	if !strings.HasPrefix(t, "STRUCT(") || !strings.HasSuffix(t, ")") {
		return nil, nil, false
	}
	body := t[len("STRUCT(") : len(t)-1]
	depth, quoted, start := 0, false, 0
	var parts []string
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, body[start:i])
			start = i + 1
		}
	}
	parts = append(parts, body[start:])
	for _, p := range parts {
		p = strings.TrimSpace(p)
		sp := len(p)
		if strings.HasPrefix(p, `"`) {
			sp = strings.Index(p[1:], `" `) + 2
		} else if i := strings.IndexByte(p, ' '); i > 0 {
			sp = i
		}
		if sp <= 0 || sp >= len(p) {
			return nil, nil, false
		}
		names = append(names, p[:sp])
		types = append(types, strings.TrimSpace(p[sp:]))
	}
	return names, types, true
}
