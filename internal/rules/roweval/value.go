package roweval

import (
	"strconv"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// kind is the kind of a value at run time.
type kind uint8

const (
	kNull kind = iota
	kBool
	kInt
	kFloat
	kStr
	kJSON // a JSON value: in the engine, VARCHAR holding its JSON text
	kList
	kRes    // an element of the resources column
	kMap    // a map: JSON object members (j) or the attributes column (m)
	kStruct // a struct column as a whole: only tested for NULL
)

// value is one SQL value.
type value struct {
	k kind
	b bool
	i int64
	f float64
	s string
	j *jnode
	l []value
	r *cloudtrail.Resource
	m map[string]string
}

var null = value{}

func boolVal(b bool) value   { return value{k: kBool, b: b} }
func strVal(s string) value  { return value{k: kStr, s: s} }
func intVal(i int64) value   { return value{k: kInt, i: i} }
func jsonVal(n *jnode) value { return value{k: kJSON, j: n} }
func strPtr(s *string) value {
	if s == nil {
		return null
	}
	return value{k: kStr, s: *s}
}

// text is the VARCHAR a string-like value holds (a JSON value's JSON text).
func (v value) text() string {
	if v.k == kJSON {
		return v.j.text()
	}
	return v.s
}

// vtype is a value's type as Compile infers it.
type vtype uint8

const (
	yNull vtype = iota // the literal NULL: fits any type
	yBool
	yInt
	yFloat
	yStr
	yJSON
	yList
	yRes    // ROW(arn, accountid, type): an element of resources
	yMap    // MAP(VARCHAR, JSON) or the attributes MAP(VARCHAR, VARCHAR)
	yStruct // a struct column as a whole
)

func (t vtype) String() string {
	return [...]string{"unknown", "boolean", "bigint", "double", "varchar", "json", "array", "row", "map", "struct"}[t]
}

// stringy reports whether values of t compare and combine as VARCHAR (JSON is VARCHAR in the
// engine).
func (t vtype) stringy() bool { return t == yStr || t == yJSON }
func (t vtype) numeric() bool { return t == yInt || t == yFloat }

// textOf is CAST(v AS VARCHAR) for the values Text prints.
func textOf(v value) (string, bool, error) {
	switch v.k {
	case kNull:
		return "", false, nil
	case kStr:
		return v.s, true, nil
	case kJSON:
		return v.j.text(), true, nil
	case kBool:
		if v.b {
			return "true", true, nil
		}
		return "false", true, nil
	case kInt:
		return strconv.FormatInt(v.i, 10), true, nil
	}
	return "", false, unsupportedf("printing a %s value", kindName(v.k))
}

func kindName(k kind) string {
	return [...]string{"NULL", "boolean", "bigint", "double", "varchar", "json", "array", "row", "map", "struct"}[k]
}
