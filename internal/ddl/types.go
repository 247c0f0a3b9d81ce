package ddl

import (
	"fmt"
	"strings"
)

// Type is a column type as a tree: a scalar (string, boolean), an array, a map or a struct. It
// is read from DuckDB's spelling (cloudtrail.Columns: STRUCT(a VARCHAR), VARCHAR[],
// MAP(VARCHAR, VARCHAR)) and from Hive's (Athena's DDL: struct<a:string>, array<…>,
// map<string,string>), and written in each engine's.
type Type struct {
	Kind   string // "string", "boolean", "array", "map", "struct"
	Elem   *Type  // array: the element; map: the value
	Key    *Type  // map
	Fields []Field
}

// Field is a struct's field; its name is lower case.
type Field struct {
	Name string
	Type *Type
}

// ParseType reads a type in DuckDB's or Hive's spelling, case-insensitively.
func ParseType(s string) (*Type, error) {
	p := &typeParser{s: s}
	t, err := p.typ()
	if err != nil {
		return nil, fmt.Errorf("type %q: %w", s, err)
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) skip() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\r\n", rune(p.s[p.i])) {
		p.i++
	}
}

// word reads a name: letters, digits, underscores, or a `quoted` or "quoted" name.
func (p *typeParser) word() string {
	p.skip()
	if p.i < len(p.s) && (p.s[p.i] == '`' || p.s[p.i] == '"') {
		q := p.s[p.i]
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return ""
		}
		w := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return strings.ToLower(w)
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			p.i++
			continue
		}
		break
	}
	return strings.ToLower(p.s[start:p.i])
}

// punct consumes c if it comes next.
func (p *typeParser) punct(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *typeParser) expect(c byte) error {
	if !p.punct(c) {
		return fmt.Errorf("expected %q at offset %d", c, p.i)
	}
	return nil
}

func (p *typeParser) typ() (*Type, error) {
	name := p.word()
	var t *Type
	switch name {
	case "varchar", "string":
		t = &Type{Kind: "string"}
	case "boolean":
		t = &Type{Kind: "boolean"}
	case "array", "map", "struct", "row":
		p.skip()
		if p.i >= len(p.s) || (p.s[p.i] != '<' && p.s[p.i] != '(') {
			return nil, fmt.Errorf("%s without its element types at offset %d", name, p.i)
		}
		closer := byte('>')
		if p.s[p.i] == '(' {
			closer = ')'
		}
		p.i++
		var err error
		if t, err = p.nested(name); err != nil {
			return nil, err
		}
		if err := p.expect(closer); err != nil {
			return nil, err
		}
	case "":
		return nil, fmt.Errorf("expected a type at offset %d", p.i)
	default:
		return nil, fmt.Errorf("type %s is not one of the lake's (string, boolean, array, map, struct)", name)
	}
	// DuckDB's lists: T[].
	for {
		save := p.i
		if p.punct('[') && p.punct(']') {
			t = &Type{Kind: "array", Elem: t}
			continue
		}
		p.i = save
		return t, nil
	}
}

// nested reads what is between the brackets of array, map and struct (row).
func (p *typeParser) nested(kind string) (*Type, error) {
	switch kind {
	case "array":
		elem, err := p.typ()
		return &Type{Kind: "array", Elem: elem}, err
	case "map":
		key, err := p.typ()
		if err != nil {
			return nil, err
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		val, err := p.typ()
		return &Type{Kind: "map", Key: key, Elem: val}, err
	}
	t := &Type{Kind: "struct"}
	for {
		name := p.word()
		if name == "" {
			return nil, fmt.Errorf("expected a field name at offset %d", p.i)
		}
		p.punct(':') // Hive writes name:type, DuckDB and Trino name type
		ft, err := p.typ()
		if err != nil {
			return nil, err
		}
		t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		if !p.punct(',') {
			return t, nil
		}
	}
}

// Hive writes t as Athena's and Spark's DDL spell it: STRING, ARRAY<…>, MAP<…>, STRUCT<a:…>.
func (t *Type) Hive() string {
	switch t.Kind {
	case "array":
		return "ARRAY<" + t.Elem.Hive() + ">"
	case "map":
		return "MAP<" + t.Key.Hive() + "," + t.Elem.Hive() + ">"
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.Hive()
		}
		return "STRUCT<" + strings.Join(parts, ",") + ">"
	}
	return strings.ToUpper(t.Kind)
}

// Trino writes t as Trino's Hive connector spells it: VARCHAR, ARRAY(…), MAP(…), ROW(a …).
func (t *Type) Trino() string {
	switch t.Kind {
	case "string":
		return "VARCHAR"
	case "array":
		return "ARRAY(" + t.Elem.Trino() + ")"
	case "map":
		return "MAP(" + t.Key.Trino() + ", " + t.Elem.Trino() + ")"
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = `"` + f.Name + `" ` + f.Type.Trino()
		}
		return "ROW(" + strings.Join(parts, ", ") + ")"
	}
	return strings.ToUpper(t.Kind)
}

// Covers says whether t holds everything of u: the same kind, and for structs every field of u
// (by name) with a type t's field covers. It answers whether a table declared with u (Athena's
// own CloudTrail DDL) reads the same values from the lake as one declared with t; where it does
// not, the first difference is returned.
func (t *Type) Covers(u *Type) (bool, string) {
	if t.Kind != u.Kind {
		return false, fmt.Sprintf("%s, not %s", strings.ToLower(u.Hive()), strings.ToLower(t.Hive()))
	}
	switch t.Kind {
	case "array":
		return t.Elem.Covers(u.Elem)
	case "map":
		if ok, why := t.Key.Covers(u.Key); !ok {
			return false, "map key: " + why
		}
		return t.Elem.Covers(u.Elem)
	case "struct":
		for _, uf := range u.Fields {
			tf := t.field(uf.Name)
			if tf == nil {
				return false, "field " + uf.Name + " is missing"
			}
			if ok, why := tf.Type.Covers(uf.Type); !ok {
				return false, uf.Name + ": " + why
			}
		}
	}
	return true, ""
}

func (t *Type) field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}
