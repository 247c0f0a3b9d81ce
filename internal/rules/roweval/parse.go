package roweval

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// parser reads one expression into a tree of nodes, inferring each node's type; what is valid
// SQL outside the subset gives an error wrapping ErrUnsupported.
type parser struct {
	src  string
	toks []token
	i    int
	// lambda parameters in scope, innermost last, and the slots they use
	params    []string
	slots     []int
	slotTypes []vtype
	nslots    int
	cols      map[string]bool
}

func (p *parser) peek() token { return p.ahead(0) }

// ahead is the token k after the next; the end of input when there is none.
func (p *parser) ahead(k int) token {
	if p.i+k >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+k]
}

func (p *parser) next() token {
	t := p.peek()
	if t.k != tEOF {
		p.i++
	}
	return t
}

// kw reports whether the next token is the keyword w, and takes it if so.
func (p *parser) kw(w string) bool {
	if t := p.peek(); t.k == tIdent && t.text == w {
		p.i++
		return true
	}
	return false
}

func (p *parser) isKw(w string, ahead int) bool {
	t := p.ahead(ahead)
	return t.k == tIdent && t.text == w
}

func (p *parser) op(o string) bool {
	if t := p.peek(); t.k == tOp && t.text == o {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(o string) error {
	if !p.op(o) {
		return p.errAt("expected '%s'", o)
	}
	return nil
}

func (p *parser) errAt(format string, args ...any) error {
	t := p.peek()
	found := t.text
	if t.k == tEOF {
		found = "end of input"
	}
	return errorf("at %d (%s): "+format, append([]any{t.pos + 1, found}, args...)...)
}

// reserved are the words that cannot be a column name here.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "is": true, "null": true, "in": true, "like": true, "escape": true,
	"between": true, "case": true, "when": true, "then": true, "else": true, "end": true, "cast": true,
	"try_cast": true, "true": true, "false": true, "array": true, "distinct": true, "from": true,
	"exists": true, "select": true, "as": true, "interval": true,
}

func (p *parser) expr() (node, error) { return p.or() }

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []node{l}
	for p.kw("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return l, nil
	}
	if err := wantBools("OR", kids...); err != nil {
		return nil, err
	}
	return &logicNode{or: true, kids: cheapestFirst(kids)}, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	kids := []node{l}
	for p.kw("and") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return l, nil
	}
	if err := wantBools("AND", kids...); err != nil {
		return nil, err
	}
	return &logicNode{kids: cheapestFirst(kids)}, nil
}

func (p *parser) not() (node, error) {
	if p.kw("not") {
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		if err := wantBools("NOT", x); err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	}
	return p.predicate()
}

func wantBools(op string, ns ...node) error {
	for _, n := range ns {
		if t := n.typ(); t != yBool && t != yNull {
			return unsupportedf("%s over %s", op, t)
		}
	}
	return nil
}

// comparable reports whether values of a and b compare without a cast.
func comparable(a, b vtype) bool {
	switch {
	case a == yNull || b == yNull:
		return true
	case a.stringy() && b.stringy():
		return true
	case a.numeric() && b.numeric():
		return true
	}
	return a == b && a == yBool
}

func (p *parser) predicate() (node, error) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.k == tOp {
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			p.i++
			r, err := p.concat()
			if err != nil {
				return nil, err
			}
			if !comparable(l.typ(), r.typ()) {
				return nil, unsupportedf("comparing %s with %s", l.typ(), r.typ())
			}
			op := t.text
			if op == "!=" {
				op = "<>"
			}
			if c, ok := l.(*callNode); ok && c.fn == "lower" && (op == "=" || op == "<>") {
				if lit, ok := literalString(r); ok {
					return &lowerEqNode{x: c.args[0], lit: lit, not: op == "<>"}, nil
				}
			}
			return &cmpNode{op: op, l: l, r: r}, nil
		}
	}
	if p.kw("is") {
		not := p.kw("not")
		if !p.kw("null") {
			return nil, unsupportedf("IS %s", p.peek().text)
		}
		return &isNullNode{x: l, not: not}, nil
	}
	not := false
	if p.isKw("not", 0) && (p.isKw("in", 1) || p.isKw("like", 1) || p.isKw("between", 1)) {
		p.i++
		not = true
	}
	switch {
	case p.kw("in"):
		if err := p.expect("("); err != nil {
			return nil, err
		}
		if p.isKw("select", 0) {
			return nil, unsupportedf("IN (SELECT …)")
		}
		var list []node
		for {
			x, err := p.concat()
			if err != nil {
				return nil, err
			}
			if !comparable(l.typ(), x.typ()) {
				return nil, unsupportedf("IN comparing %s with %s", l.typ(), x.typ())
			}
			list = append(list, x)
			if !p.op(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return &inNode{x: l, list: list, not: not}, nil
	case p.kw("like"):
		pat, err := p.concat()
		if err != nil {
			return nil, err
		}
		var esc node
		if p.kw("escape") {
			if esc, err = p.concat(); err != nil {
				return nil, err
			}
		}
		return newLike(l, pat, esc, not)
	case p.kw("between"):
		lo, err := p.concat()
		if err != nil {
			return nil, err
		}
		if !p.kw("and") {
			return nil, p.errAt("expected AND in BETWEEN")
		}
		hi, err := p.concat()
		if err != nil {
			return nil, err
		}
		if !comparable(l.typ(), lo.typ()) || !comparable(l.typ(), hi.typ()) {
			return nil, unsupportedf("BETWEEN over %s, %s and %s", l.typ(), lo.typ(), hi.typ())
		}
		return &betweenNode{x: l, lo: lo, hi: hi, not: not}, nil
	}
	return l, nil
}

func (p *parser) concat() (node, error) {
	l, err := p.arith()
	if err != nil {
		return nil, err
	}
	for p.op("||") {
		r, err := p.arith()
		if err != nil {
			return nil, err
		}
		for _, x := range []node{l, r} {
			if t := x.typ(); !t.stringy() && t != yNull {
				return nil, unsupportedf("|| over %s", t)
			}
		}
		l = &concatNode{args: []node{l, r}}
	}
	return l, nil
}

func (p *parser) arith() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.k == tOp && strings.Contains("+-*/%", t.text) && len(t.text) == 1 {
		return nil, unsupportedf("arithmetic (%s)", t.text)
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.op("-") {
		t := p.peek()
		if t.k != tNumber {
			return nil, unsupportedf("unary minus")
		}
		p.i++
		return numberNode("-" + t.text)
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for x.typ() == yRes && p.op(".") {
		f := p.next()
		if f.k != tIdent && f.k != tQuoted {
			return nil, p.errAt("expected a field name")
		}
		if x, err = newField(x, f.text); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.k == tOp && (t.text == "[" || t.text == "." || t.text == "::") {
		return nil, unsupportedf("%s after an expression", t.text)
	}
	return x, nil
}

func numberNode(text string) (node, error) {
	if !strings.ContainsAny(text, ".eE") {
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, unsupportedf("the number %s (beyond bigint)", text)
		}
		return &litNode{v: intVal(i), t: yInt}, nil
	}
	// 1e3 is a DOUBLE; 1.5 a DECIMAL, which compares with numbers as its value does.
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, errorf("invalid number %s", text)
	}
	return &litNode{v: value{k: kFloat, f: f}, t: yFloat}, nil
}

func (p *parser) primary() (node, error) {
	t := p.peek()
	switch t.k {
	case tString:
		p.i++
		return &litNode{v: strVal(t.text), t: yStr}, nil
	case tNumber:
		p.i++
		return numberNode(t.text)
	case tOp:
		if t.text == "(" {
			p.i++
			if p.isKw("select", 0) {
				return nil, unsupportedf("a subquery")
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if p.peek().text == "," {
				return nil, unsupportedf("a row constructor")
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
		if t.text == "?" {
			return nil, unsupportedf("a parameter")
		}
		return nil, p.errAt("expected an expression")
	case tQuoted:
		return p.name()
	case tEOF:
		return nil, p.errAt("expected an expression")
	}
	switch t.text {
	case "null":
		p.i++
		return &litNode{v: null, t: yNull}, nil
	case "true", "false":
		p.i++
		return &litNode{v: boolVal(t.text == "true"), t: yBool}, nil
	case "case":
		p.i++
		return p.caseExpr()
	case "cast", "try_cast":
		if p.ahead(1).text == "(" {
			p.i++
			return p.cast(t.text == "try_cast")
		}
	case "array":
		if p.ahead(1).text == "[" {
			p.i += 2
			return p.array()
		}
	case "exists", "interval", "date", "timestamp", "time", "current_timestamp", "current_date", "localtimestamp":
		return nil, unsupportedf("%s", strings.ToUpper(t.text))
	}
	if reserved[t.text] {
		return nil, p.errAt("unexpected %s", strings.ToUpper(t.text))
	}
	if p.ahead(1).k == tOp && p.ahead(1).text == "(" {
		p.i += 2
		return p.call(t.text)
	}
	return p.name()
}

// name reads a column, a struct field path or a lambda parameter.
func (p *parser) name() (node, error) {
	t := p.next()
	parts := []string{t.text}
	for p.peek().k == tOp && p.peek().text == "." {
		p.i++
		n := p.next()
		if n.k != tIdent && n.k != tQuoted {
			return nil, p.errAt("expected a field name")
		}
		parts = append(parts, n.text)
	}
	for k := len(p.params) - 1; k >= 0; k-- {
		if p.params[k] == parts[0] {
			var x node = &varNode{slot: p.slots[k], t: p.slotTypes[p.slots[k]]}
			for _, f := range parts[1:] {
				var err error
				if x, err = newField(x, f); err != nil {
					return nil, err
				}
			}
			return x, nil
		}
	}
	path := strings.Join(parts, ".")
	if len(parts) > 1 && parts[0] == "cloudtrail_logs" {
		path = strings.Join(parts[1:], ".")
	}
	c, ok := columns[path]
	if !ok {
		if known(path) {
			return nil, unsupportedf("the column %s (a struct, array or map)", path)
		}
		return nil, errorf("no column %s in cloudtrail_logs", path)
	}
	p.cols[path] = true
	return &colNode{name: path, c: c}, nil
}

// known reports whether path names a column of cloudtrail_logs that the evaluator does not read.
func known(path string) bool { return path == "$path" }

func (p *parser) caseExpr() (node, error) {
	c := &caseNode{}
	if !p.isKw("when", 0) {
		op, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.operand = op
	}
	for p.kw("when") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c.operand != nil {
			if !comparable(c.operand.typ(), w.typ()) {
				return nil, unsupportedf("CASE comparing %s with %s", c.operand.typ(), w.typ())
			}
		} else if err := wantBools("WHEN", w); err != nil {
			return nil, err
		}
		if !p.kw("then") {
			return nil, p.errAt("expected THEN")
		}
		th, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.whens, c.thens = append(c.whens, w), append(c.thens, th)
	}
	if len(c.whens) == 0 {
		return nil, p.errAt("expected WHEN")
	}
	if p.kw("else") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.els = e
	}
	if !p.kw("end") {
		return nil, p.errAt("expected END")
	}
	results := append([]node{}, c.thens...)
	if c.els != nil {
		results = append(results, c.els)
	}
	t, err := commonType("CASE", results)
	if err != nil {
		return nil, err
	}
	c.t = t
	return c, nil
}

// commonType is the type of values that may come from any of ns (CASE, coalesce).
func commonType(what string, ns []node) (vtype, error) {
	t := yNull
	for _, n := range ns {
		nt := n.typ()
		switch {
		case nt == yNull:
		case t == yNull:
			t = nt
		case t == nt:
		case t.stringy() && nt.stringy():
			t = yStr // mixing JSON text and VARCHAR: VARCHAR
		default:
			return 0, unsupportedf("%s mixing %s and %s", what, t, nt)
		}
	}
	return t, nil
}

func (p *parser) cast(try bool) (node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	start := p.i
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	// CAST(json_extract(...) AS VARCHAR) is the scalar's value; the engine decides that from the
	// text: a direct call, not one in parentheses.
	direct := p.toks[start].k == tIdent && p.toks[start+1].text == "("
	fromJSON := false
	if c, ok := x.(*callNode); ok && direct && c.fn == "json_extract" {
		fromJSON = true
	}
	if !p.kw("as") {
		return nil, p.errAt("expected AS")
	}
	var words []string
	depth := 0
	for {
		t := p.peek()
		if t.k == tEOF {
			return nil, p.errAt("expected ')'")
		}
		if t.k == tOp && t.text == ")" {
			if depth == 0 {
				break
			}
			depth--
		}
		if t.k == tOp && t.text == "(" {
			depth++
		}
		words = append(words, t.text)
		p.i++
	}
	p.i++
	typ := strings.Join(words, "")
	if strings.HasPrefix(typ, "varchar(") {
		typ = "varchar"
	}
	return newCast(x, typ, try, fromJSON)
}

func (p *parser) array() (node, error) {
	a := &arrayNode{}
	if !p.op("]") {
		for {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			a.elems = append(a.elems, x)
			if !p.op(",") {
				break
			}
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
	}
	t, err := commonType("ARRAY", a.elems)
	if err != nil {
		return nil, err
	}
	if t == yList {
		return nil, unsupportedf("an array of arrays")
	}
	a.elem = t
	return a, nil
}

// call reads a function call's arguments (after "(") and builds the call.
func (p *parser) call(name string) (node, error) {
	var args []node
	if p.isKw("distinct", 0) || p.peek().text == "*" {
		return nil, unsupportedf("the aggregate %s", name)
	}
	if !p.op(")") {
		for {
			var x node
			var err error
			if p.peek().k == tIdent && p.ahead(1).text == "->" {
				et := yNull
				if len(args) > 0 {
					et = elemType(args[0])
				}
				x, err = p.lambda(et)
			} else {
				x, err = p.expr()
			}
			if err != nil {
				return nil, err
			}
			args = append(args, x)
			if !p.op(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	if p.isKw("over", 0) || p.isKw("filter", 0) {
		return nil, unsupportedf("a window or aggregate function (%s)", name)
	}
	return newCall(name, args)
}

func (p *parser) lambda(et vtype) (node, error) {
	name := p.next().text
	p.i++ // ->
	slot := p.nslots
	p.nslots++
	p.slotTypes = append(p.slotTypes, et)
	p.params, p.slots = append(p.params, name), append(p.slots, slot)
	body, err := p.expr()
	p.params, p.slots = p.params[:len(p.params)-1], p.slots[:len(p.slots)-1]
	if err != nil {
		return nil, err
	}
	return &lambdaNode{slot: slot, body: body}, nil
}

// regexpOf compiles a pattern as the engine's RE2 would; a pattern Go's RE2 reads differently or
// not at all is outside the subset.
func regexpOf(n node) (*regexp.Regexp, error) {
	l, ok := n.(*litNode)
	if !ok || l.v.k != kStr {
		return nil, unsupportedf("a regular expression that is not a literal")
	}
	re, err := regexp.Compile(l.v.s)
	if err != nil {
		return nil, unsupportedf("the regular expression %q (%v)", l.v.s, err)
	}
	return re, nil
}

// requiredLiteral returns the longest text that every match of the regular expression holds
// ("" when none is known): a string without it cannot match, which strings.Contains tells much
// sooner than the matcher (a rule testing every row's ARN against '.+:assumed-role/aws:.+').
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	var best string
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			if re.Flags&syntax.FoldCase == 0 && len(string(re.Rune)) > len(best) {
				best = string(re.Rune)
			}
		case syntax.OpConcat:
			for _, sub := range re.Sub {
				walk(sub)
			}
		case syntax.OpCapture, syntax.OpPlus:
			walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min > 0 {
				walk(re.Sub[0])
			}
		}
	}
	walk(re)
	return best
}
