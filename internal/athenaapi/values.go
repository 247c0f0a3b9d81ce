package athenaapi

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Literals writes positional parameters as the SQL literals ExecutionParameters take: strings
// quoted, numbers and booleans bare, times as TIMESTAMP literals (UTC).
func Literals(args []any) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case int:
			out[i] = strconv.Itoa(v)
		case int32:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("parameter %d: %v has no SQL literal", i+1, v)
			}
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			out[i] = strconv.FormatBool(v)
		case json.Number:
			out[i] = v.String()
		case time.Time:
			out[i] = "TIMESTAMP '" + v.UTC().Format("2006-01-02 15:04:05.000") + "'"
		case nil:
			out[i] = "NULL"
		default:
			return nil, fmt.Errorf("parameter %d: a %T cannot be sent to Athena (give a string, number, boolean or time)", i+1, a)
		}
	}
	return out, nil
}

// convert turns a value as Athena returns it (text; nil for NULL) into the Go value the local
// engine returns for a column of that type.
func convert(s *string, typ string) (any, error) {
	if s == nil {
		return nil, nil
	}
	v := *s
	switch strings.ToLower(typ) {
	case "tinyint", "smallint", "integer", "int", "bigint":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %q is not an integer", typ, v)
		}
		return n, nil
	case "double", "float", "real":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %q is not a number", typ, v)
		}
		return f, nil
	case "decimal":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("decimal value %q is not a number", v)
		}
		return json.Number(v), nil
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("boolean value %q is not true or false", v)
		}
		return b, nil
	case "date":
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, fmt.Errorf("date value %q: %w", v, err)
		}
		return t, nil
	case "timestamp":
		t, err := time.Parse("2006-01-02 15:04:05.999999999", v)
		if err != nil {
			return nil, fmt.Errorf("timestamp value %q: %w", v, err)
		}
		return t, nil
	case "timestamp with time zone":
		return timestampTZ(v)
	case "array", "map", "row":
		n, err := parseComplex(v)
		if err != nil {
			return nil, fmt.Errorf("%s value %q: %w", typ, v, err)
		}
		return n.value(), nil
	}
	return v, nil
}

// timestampTZ reads "2024-01-02 03:04:05.000 UTC" or "… Europe/Paris".
func timestampTZ(v string) (any, error) {
	i := strings.LastIndexByte(v, ' ')
	if i < 0 {
		return nil, fmt.Errorf("timestamp with time zone value %q has no zone", v)
	}
	loc, err := time.LoadLocation(v[i+1:])
	if err != nil {
		return nil, fmt.Errorf("timestamp with time zone value %q: %w", v, err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", v[:i], loc)
	if err != nil {
		return nil, fmt.Errorf("timestamp with time zone value %q: %w", v, err)
	}
	return t, nil
}

// node is a nested value as Athena's text gives it, its fields in order.
type node struct {
	kind   byte // '[' array, '{' row or map, 's' text, 0 null
	text   string
	keys   []string
	values []*node
}

// value is the Go value the local engine returns: []any, map[string]any, string or nil.
func (n *node) value() any {
	switch n.kind {
	case '[':
		out := make([]any, len(n.values))
		for i, v := range n.values {
			out[i] = v.value()
		}
		return out
	case '{':
		out := make(map[string]any, len(n.values))
		for i, v := range n.values {
			out[n.keys[i]] = v.value()
		}
		return out
	case 's':
		return n.text
	}
	return nil
}

// shape is the type a nested value shows, in DuckDB's spelling; nil for NULL (unknown).
type shape struct {
	kind   byte // '[', '{', 's'
	elem   *shape
	keys   []string
	fields []*shape
}

func (n *node) shape() *shape {
	switch n.kind {
	case '[':
		s := &shape{kind: '['}
		for _, v := range n.values {
			s.elem = merge(s.elem, v.shape())
		}
		return s
	case '{':
		s := &shape{kind: '{', keys: n.keys}
		for _, v := range n.values {
			s.fields = append(s.fields, v.shape())
		}
		return s
	case 's':
		return &shape{kind: 's'}
	}
	return nil
}

// merge combines what two values of a column show: a NULL field takes the other's type, a
// struct's fields are the union, in the order first seen.
func merge(a, b *shape) *shape {
	switch {
	case a == nil:
		return b
	case b == nil || a.kind != b.kind:
		return a
	case a.kind == '[':
		return &shape{kind: '[', elem: merge(a.elem, b.elem)}
	case a.kind == '{':
		out := &shape{kind: '{', keys: append([]string(nil), a.keys...), fields: append([]*shape(nil), a.fields...)}
		for j, k := range b.keys {
			if i := slices.Index(out.keys, k); i >= 0 {
				out.fields[i] = merge(out.fields[i], b.fields[j])
			} else {
				out.keys, out.fields = append(out.keys, k), append(out.fields, b.fields[j])
			}
		}
		return out
	}
	return a
}

// duckType spells s as DuckDB does (STRUCT(a VARCHAR), VARCHAR[]); top is the column's
// Athena type, which says whether {…} is a row or a map.
func (s *shape) duckType(top string) string {
	if s == nil {
		return "VARCHAR"
	}
	switch s.kind {
	case '[':
		return s.elem.duckType("") + "[]"
	case '{':
		if top == "map" {
			var val *shape
			for _, f := range s.fields {
				val = merge(val, f)
			}
			return "MAP(VARCHAR, " + val.duckType("") + ")"
		}
		parts := make([]string, len(s.keys))
		for i, k := range s.keys {
			parts[i] = k + " " + s.fields[i].duckType("")
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return "VARCHAR"
}

// duckTypes names Athena's scalar types as DuckDB does, so that a result renders the same
// from either engine.
var duckTypes = map[string]string{
	"varchar": "VARCHAR", "char": "VARCHAR", "json": "VARCHAR", "tinyint": "TINYINT", "smallint": "SMALLINT",
	"integer": "INTEGER", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "float": "DOUBLE", "real": "FLOAT",
	"boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
}

// parseComplex reads Athena's text of an array ([a, b]), row ({arn=…, type=…}) or map
// ({k=v, …}). Athena's text does not quote its values, so a nested value holding ", " or "="
// reads ambiguously: statements that return such values nested should return them as JSON
// (json_format(CAST(x AS JSON))), as the rules do.
func parseComplex(s string) (*node, error) {
	p := &complexParser{s: s}
	n := p.value(true)
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return n, nil
}

type complexParser struct {
	s string
	i int
}

func (p *complexParser) value(top bool) *node {
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '[':
			p.i++
			n := &node{kind: '['}
			if p.eat(']') {
				return n
			}
			for {
				n.values = append(n.values, p.value(false))
				if !p.eat(',') {
					p.eat(']')
					return n
				}
				p.eat(' ')
			}
		case '{':
			p.i++
			n := &node{kind: '{'}
			if p.eat('}') {
				return n
			}
			for {
				n.keys = append(n.keys, p.until("="))
				p.eat('=')
				n.values = append(n.values, p.value(false))
				if !p.eat(',') {
					p.eat('}')
					return n
				}
				p.eat(' ')
			}
		}
	}
	if top {
		s := p.s[p.i:]
		p.i = len(p.s)
		return &node{kind: 's', text: s}
	}
	s := p.until(",]}")
	if s == "null" {
		return &node{}
	}
	return &node{kind: 's', text: s}
}

func (p *complexParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// until reads up to the next of stops; a comma stops only as Athena's separator ", ".
func (p *complexParser) until(stops string) string {
	start := p.i
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		if strings.IndexByte(stops, c) >= 0 && (c != ',' || p.i+1 < len(p.s) && p.s[p.i+1] == ' ') {
			break
		}
	}
	return p.s[start:p.i]
}
