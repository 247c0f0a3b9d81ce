package roweval

import (
	"math"
	"strings"
	"unsafe"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// node is a compiled expression.
type node interface {
	eval(e *env) (value, error)
	typ() vtype
}

// env is one evaluation: the row, the lambda parameters' values and the JSON documents parsed
// so far (a payload column read by several json_extract calls is parsed once).
type env struct {
	row   *Row
	vars  []value
	docs  []doc
	stack []value
}

type doc struct {
	p  *byte
	n  int
	j  *jnode
	ok bool
}

// json parses v as the engine's JSON functions do: a JSON value as it is, text as a document;
// ok is false for NULL and text that is not valid JSON.
func (e *env) json(v value) (*jnode, bool) {
	switch v.k {
	case kJSON:
		return v.j, true
	case kStr:
	default:
		return nil, false
	}
	p, n := unsafe.StringData(v.s), len(v.s)
	for _, d := range e.docs {
		if d.p == p && d.n == n {
			return d.j, d.ok
		}
	}
	j, ok := parseJSON(v.s)
	e.docs = append(e.docs, doc{p: p, n: n, j: j, ok: ok})
	return j, ok
}

type litNode struct {
	v value
	t vtype
}

func (n *litNode) eval(*env) (value, error) { return n.v, nil }
func (n *litNode) typ() vtype               { return n.t }

type colNode struct {
	name string
	c    column
}

func (n *colNode) eval(e *env) (value, error) { return n.c.get(e.row), nil }
func (n *colNode) typ() vtype                 { return n.c.t }

type varNode struct {
	slot int
	t    vtype
}

func (n *varNode) eval(e *env) (value, error) { return e.vars[n.slot], nil }
func (n *varNode) typ() vtype                 { return n.t }

// logicNode is AND (or OR) over its kids with SQL's three-valued logic: FALSE (TRUE) wins over
// NULL.
type logicNode struct {
	or   bool
	kids []node
}

func (n *logicNode) typ() vtype { return yBool }
func (n *logicNode) eval(e *env) (value, error) {
	sawNull := false
	for _, k := range n.kids {
		v, err := k.eval(e)
		if err != nil {
			return null, err
		}
		if v.k == kNull {
			sawNull = true
			continue
		}
		if v.b == n.or {
			return v, nil
		}
	}
	if sawNull {
		return null, nil
	}
	return boolVal(!n.or), nil
}

type notNode struct{ x node }

func (n *notNode) typ() vtype { return yBool }
func (n *notNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k == kNull {
		return null, err
	}
	return boolVal(!v.b), nil
}

// compare orders two non-NULL values of comparable types: strings by their bytes (the engine's
// binary collation), numbers by value, false before true.
func compare(a, b value) int {
	switch {
	case a.k == kStr || a.k == kJSON:
		return strings.Compare(a.text(), b.text())
	case a.k == kBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case a.k == kInt && b.k == kInt:
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	x, y := a.f, b.f
	if a.k == kInt {
		x = float64(a.i)
	}
	if b.k == kInt {
		y = float64(b.i)
	}
	// The engine orders NaN after every number and equal to itself.
	switch xn, yn := math.IsNaN(x), math.IsNaN(y); {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func equal(a, b value) bool {
	if a.k == kStr && b.k == kStr {
		return a.s == b.s
	}
	return compare(a, b) == 0
}

// lowerEqNode is lower(x) = 'lit' (or <>), the shape Sigma's case-insensitive matches take,
// compared without building lower(x).
type lowerEqNode struct {
	x   node
	lit string
	not bool
}

func (n *lowerEqNode) typ() vtype { return yBool }
func (n *lowerEqNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k == kNull {
		return null, err
	}
	return boolVal(lowerEquals(v.text(), n.lit) != n.not), nil
}

type cmpNode struct {
	op   string
	l, r node
}

func (n *cmpNode) typ() vtype { return yBool }
func (n *cmpNode) eval(e *env) (value, error) {
	a, err := n.l.eval(e)
	if err != nil || a.k == kNull {
		return null, err
	}
	b, err := n.r.eval(e)
	if err != nil || b.k == kNull {
		return null, err
	}
	switch n.op {
	case "=":
		return boolVal(equal(a, b)), nil
	case "<>":
		return boolVal(!equal(a, b)), nil
	}
	c := compare(a, b)
	switch n.op {
	case "<":
		return boolVal(c < 0), nil
	case "<=":
		return boolVal(c <= 0), nil
	case ">":
		return boolVal(c > 0), nil
	}
	return boolVal(c >= 0), nil
}

type isNullNode struct {
	x   node
	not bool
}

func (n *isNullNode) typ() vtype { return yBool }
func (n *isNullNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil {
		return null, err
	}
	return boolVal((v.k == kNull) != n.not), nil
}

// inNode is x [NOT] IN (list): NULL when x is NULL, or when no item equals x and one is NULL.
type inNode struct {
	x    node
	list []node
	not  bool
}

func (n *inNode) typ() vtype { return yBool }
func (n *inNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k == kNull {
		return null, err
	}
	sawNull := false
	for _, it := range n.list {
		w, err := it.eval(e)
		if err != nil {
			return null, err
		}
		if w.k == kNull {
			sawNull = true
			continue
		}
		if equal(v, w) {
			return boolVal(!n.not), nil
		}
	}
	if sawNull {
		return null, nil
	}
	return boolVal(n.not), nil
}

type betweenNode struct {
	x, lo, hi node
	not       bool
}

func (n *betweenNode) typ() vtype { return yBool }
func (n *betweenNode) eval(e *env) (value, error) {
	// x BETWEEN lo AND hi is x >= lo AND x <= hi, with AND's three-valued logic.
	ge := &cmpNode{op: ">=", l: n.x, r: n.lo}
	le := &cmpNode{op: "<=", l: n.x, r: n.hi}
	v, err := (&logicNode{kids: []node{ge, le}}).eval(e)
	if err != nil || v.k == kNull || !n.not {
		return v, err
	}
	return boolVal(!v.b), nil
}

// concatNode is a || b || …: NULL when any part is NULL.
type concatNode struct{ args []node }

func (n *concatNode) typ() vtype { return yStr }
func (n *concatNode) eval(e *env) (value, error) {
	var b strings.Builder
	for _, a := range n.args {
		v, err := a.eval(e)
		if err != nil || v.k == kNull {
			return null, err
		}
		b.WriteString(v.text())
	}
	return strVal(b.String()), nil
}

type caseNode struct {
	operand      node
	whens, thens []node
	els          node
	t            vtype
}

func (n *caseNode) typ() vtype { return n.t }
func (n *caseNode) eval(e *env) (value, error) {
	var op value
	if n.operand != nil {
		var err error
		if op, err = n.operand.eval(e); err != nil {
			return null, err
		}
	}
	for i, w := range n.whens {
		v, err := w.eval(e)
		if err != nil {
			return null, err
		}
		hit := v.k == kBool && v.b
		if n.operand != nil {
			hit = op.k != kNull && v.k != kNull && equal(op, v)
		}
		if hit {
			return n.thens[i].eval(e)
		}
	}
	if n.els != nil {
		return n.els.eval(e)
	}
	return null, nil
}

type arrayNode struct {
	elems []node
	elem  vtype
}

func (n *arrayNode) typ() vtype { return yList }
func (n *arrayNode) eval(e *env) (value, error) {
	l := make([]value, len(n.elems))
	for i, x := range n.elems {
		v, err := x.eval(e)
		if err != nil {
			return null, err
		}
		l[i] = v
	}
	return value{k: kList, l: l}, nil
}

// elemType is the type of the elements of a list-valued node (yNull when unknown).
func elemType(n node) vtype {
	switch x := n.(type) {
	case *arrayNode:
		return x.elem
	case *castNode:
		if x.to == yList {
			return yJSON
		}
	case *callNode:
		if x.fn == "map_values" {
			if x.args[0].typ() == yMap {
				if _, ok := x.args[0].(*colNode); ok {
					return yStr // the attributes column: VARCHAR values
				}
				return yJSON
			}
		}
		if x.fn == "coalesce" {
			for _, a := range x.args {
				if t := elemType(a); t != yNull {
					return t
				}
			}
		}
	case *caseNode:
		for _, b := range append(append([]node{}, x.thens...), x.els) {
			if b != nil {
				if t := elemType(b); t != yNull {
					return t
				}
			}
		}
	case *colNode:
		if x.name == "resources" {
			return yRes
		}
	}
	return yNull
}

// lambdaNode is x -> body; its parent binds the parameter and evaluates the body.
type lambdaNode struct {
	slot int
	body node
}

func (n *lambdaNode) typ() vtype { return yNull }
func (n *lambdaNode) eval(*env) (value, error) {
	return null, errorf("a lambda outside a function")
}

func (n *lambdaNode) apply(e *env, v value) (value, error) {
	for len(e.vars) <= n.slot {
		e.vars = append(e.vars, null)
	}
	old := e.vars[n.slot]
	e.vars[n.slot] = v
	out, err := n.body.eval(e)
	e.vars[n.slot] = old
	return out, err
}

// fieldNode is a field of an element of resources: r.arn, element_at(resources, 1).type.
type fieldNode struct {
	x   node
	get func(r *cloudtrail.Resource) *string
}

func newField(x node, name string) (node, error) {
	if x.typ() != yRes {
		return nil, unsupportedf("the field %s of a %s", name, x.typ())
	}
	get, ok := resourceFields[name]
	if !ok {
		return nil, errorf("no field %s in an element of resources (arn, accountid, type)", name)
	}
	return &fieldNode{x: x, get: get}, nil
}

func (n *fieldNode) typ() vtype { return yStr }
func (n *fieldNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k != kRes {
		return null, err
	}
	return strPtr(n.get(v.r)), nil
}
