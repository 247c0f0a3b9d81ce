package render

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// A result's values lose part of their type on the way out of DuckDB: a DATE, a TIMESTAMP and a
// TIMESTAMP WITH TIME ZONE are all a time.Time, a ROW is a map whose fields have no order. The
// column's DuckDB type name (as the engine reports it) says how Trino prints the value:
//
//	DATE                      2026-12-01
//	TIMESTAMP                 2026-12-01 10:11:12.000
//	TIMESTAMP WITH TIME ZONE  2026-12-01 10:11:12.000 UTC
//	TIME                      10:11:12.000
//	ROW                       {b=1, a=x}   fields in declared order
//
// (trino.io/docs/current/language/types.html; Athena's console and CSV print values as Trino's
// CLI does.)

// colType is a parsed DuckDB type name.
type colType struct {
	name   string     // upper-case base name: DATE, STRUCT, MAP, LIST, DECIMAL, …
	fields []colField // STRUCT
	elem   *colType   // LIST, ARRAY
	key    *colType   // MAP
	value  *colType   // MAP
}

type colField struct {
	name string
	typ  *colType
}

// parseType parses a type name as DuckDB's Go driver writes it (INTEGER, DECIMAL(10,2),
// VARCHAR[], STRUCT("a" INTEGER, "b" DATE[]), MAP(VARCHAR, INTEGER), INTEGER[3]). It returns nil
// for a name it cannot read: values then print without their type.
func parseType(s string) *colType {
	p := typeParser{s: s}
	t := p.parse()
	if t == nil || p.i != len(p.s) {
		return nil
	}
	return t
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word reads a bare word or a double-quoted name.
func (p *typeParser) word() (string, bool) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for j := p.i + 1; j < len(p.s); j++ {
			if p.s[j] == '"' {
				if j+1 < len(p.s) && p.s[j+1] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				p.i = j + 1
				return b.String(), true
			}
			b.WriteByte(p.s[j])
		}
		return "", false
	}
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	w := p.s[p.i:j]
	p.i = j
	return w, w != ""
}

func (p *typeParser) parse() *colType {
	name, ok := p.word()
	if !ok {
		return nil
	}
	t := &colType{name: strings.ToUpper(name)}
	if p.eat('(') {
		switch t.name {
		case "STRUCT", "UNION":
			for {
				fname, ok := p.word()
				if !ok {
					return nil
				}
				ft := p.parse()
				if ft == nil {
					return nil
				}
				t.fields = append(t.fields, colField{fname, ft})
				if !p.eat(',') {
					break
				}
			}
		case "MAP":
			if t.key = p.parse(); t.key == nil || !p.eat(',') {
				return nil
			}
			if t.value = p.parse(); t.value == nil {
				return nil
			}
		default: // DECIMAL(w,s) and the like: arguments that are not types
			depth := 1
			for p.i < len(p.s) && depth > 0 {
				switch p.s[p.i] {
				case '(':
					depth++
				case ')':
					depth--
				}
				p.i++
			}
			if depth != 0 {
				return nil
			}
			p.i-- // the closing parenthesis is eaten below
		}
		if !p.eat(')') {
			return nil
		}
	}
	for p.eat('[') {
		name := "LIST"
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			name = "ARRAY"
		}
		if !p.eat(']') {
			return nil
		}
		t = &colType{name: name, elem: t}
	}
	return t
}

// textOf renders v, of type t (nil: unknown), as Athena prints it; NULL is the empty string.
func textOf(v any, t *colType) string {
	if v == nil {
		return ""
	}
	if t == nil {
		return Text(v)
	}
	switch x := v.(type) {
	case time.Time:
		if f := timeLayout(t.name); f != "" {
			return x.UTC().Format(f)
		}
	case []any:
		if t.elem != nil {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = nested(e, t.elem)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
	case map[string]any:
		switch {
		case t.name == "STRUCT" && len(t.fields) == len(x):
			parts := make([]string, len(t.fields))
			for i, f := range t.fields {
				parts[i] = f.name + "=" + nested(x[f.name], f.typ)
			}
			return "{" + strings.Join(parts, ", ") + "}"
		case t.name == "MAP":
			keys := sortedKeys(x)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + nested(x[k], t.value)
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
	}
	return Text(v)
}

func nested(v any, t *colType) string {
	if v == nil {
		return "null"
	}
	return textOf(v, t)
}

// timeLayout is how Trino prints a value of a DuckDB date or time type ("" for other types).
func timeLayout(name string) string {
	switch name {
	case "DATE":
		return "2006-01-02"
	case "TIME":
		return "15:04:05.000"
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return "2006-01-02 15:04:05.000"
	case "TIMESTAMPTZ":
		return "2006-01-02 15:04:05.000 UTC"
	}
	return ""
}

// Typed converts the values of a result's columns as the json formats write them, by the
// columns' DuckDB type names: for front ends that write JSON of their own shape (the server).
type Typed struct{ types []*colType }

// NewTyped returns the converter for columns of these types ("" or a missing type: unknown).
func NewTyped(types []string) *Typed {
	t := &Typed{types: make([]*colType, len(types))}
	for i, s := range types {
		t.types[i] = parseType(s)
	}
	return t
}

// JSON converts v, the value of column i, into what encoding/json writes.
func (t *Typed) JSON(i int, v any) any {
	if i < len(t.types) {
		return jsonOf(v, t.types[i])
	}
	return JSONValue(v)
}

// Object returns a row as a JSON object whose members keep the columns' order, each value
// converted as JSON does.
func (t *Typed) Object(columns []string, row []any) json.Marshaler {
	o := make(orderedObject, len(row))
	for i, v := range row {
		o[i] = member{columns[i], t.JSON(i, v)}
	}
	return o
}

// jsonOf converts v, of type t (nil: unknown), into what encoding/json writes: dates as
// "2026-12-01", times as Text prints them but in RFC 3339 for timestamps, rows as objects
// with their fields in declared order.
func jsonOf(v any, t *colType) any {
	if v == nil || t == nil {
		return JSONValue(v)
	}
	switch x := v.(type) {
	case time.Time:
		switch t.name {
		case "DATE":
			return x.UTC().Format("2006-01-02")
		case "TIME":
			return x.UTC().Format("15:04:05.999999")
		case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
			return x.UTC().Format("2006-01-02T15:04:05.999999999")
		}
	case []any:
		if t.elem != nil {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = jsonOf(e, t.elem)
			}
			return out
		}
	case map[string]any:
		switch {
		case t.name == "STRUCT" && len(t.fields) == len(x):
			o := make(orderedObject, len(t.fields))
			for i, f := range t.fields {
				o[i] = member{f.name, jsonOf(x[f.name], f.typ)}
			}
			return o
		case t.name == "MAP":
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = jsonOf(e, t.value)
			}
			return out
		}
	}
	return JSONValue(v)
}

// orderedObject is a JSON object whose members keep their order.
type orderedObject []member

type member struct {
	key   string
	value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b = append(b, k...)
		b = append(b, ':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
