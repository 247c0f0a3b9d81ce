package insights

import (
	"strconv"
	"strings"
)

// Query is a parsed Logs Insights query: its commands in order. It is immutable.
type Query struct {
	src      string
	commands []command
}

// command is one command of a query, between pipes.
type command struct {
	name string // fields, display, filter, stats, sort, limit, dedup, parse
	pos  int

	items []item  // fields, display, stats' aggregates, sort, dedup
	by    []item  // stats … by
	cond  expr    // filter
	limit int     // limit
	src   expr    // parse: the field parsed
	glob  *string // parse: a glob pattern
	re    *token  // parse: a regex
	names []item  // parse: the names of a glob's parts (as …)
}

// item is an expression of a command, with its alias (as name) and the user's text of it (which
// names a column that has no alias, as Insights does); desc for sort.
type item struct {
	x     expr
	alias string
	text  string
	desc  bool
}

// name is the name of the item's column in the results.
func (it item) name() string {
	if it.alias != "" {
		return it.alias
	}
	return it.text
}

// expr is a node of an expression.
type expr interface{ at() int }

type (
	// field is a field path: eventName, userIdentity.userName, @timestamp, a name made earlier.
	field struct {
		pos  int
		path string
	}
	// literal is a string or number.
	literal struct {
		pos int
		tok token
	}
	// regexLit is a /regex/.
	regexLit struct {
		pos int
		re  string
	}
	// list is [a, b, …] after in.
	list struct {
		pos   int
		elems []expr
	}
	// unary is not x or -x.
	unary struct {
		pos int
		op  string
		x   expr
	}
	// binary is x op y: and, or, comparisons, like, =~, in, not like, not in, arithmetic.
	binary struct {
		pos  int
		op   string
		l, r expr
	}
	// call is f(args); star for count(*).
	call struct {
		pos  int
		name string // lower case
		args []expr
		star bool
		text string // as the query writes it, which names stats' column: count(*)
	}
)

func (x *field) at() int    { return x.pos }
func (x *literal) at() int  { return x.pos }
func (x *regexLit) at() int { return x.pos }
func (x *list) at() int     { return x.pos }
func (x *unary) at() int    { return x.pos }
func (x *binary) at() int   { return x.pos }
func (x *call) at() int     { return x.pos }

// Parse reads a Logs Insights query. Errors are *Error, pointing into the query.
func Parse(src string) (*Query, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	q := &Query{src: src}
	for {
		if p.peek().kind == tkEOF {
			if len(q.commands) == 0 {
				return nil, p.fail(p.peek(), "an empty query: write a command such as fields, filter or stats")
			}
			return nil, p.fail(p.peek(), "a command must follow |")
		}
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		q.commands = append(q.commands, c)
		t := p.next()
		if t.kind == tkEOF {
			return q, nil
		}
		if !t.is("|") {
			return nil, p.fail(t, "%s: expected | before the next command", describe(t))
		}
	}
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) fail(t token, format string, args ...any) *Error {
	return errAt(p.src, t.pos, format, args...)
}

// describe names a token in an error.
func describe(t token) string {
	switch t.kind {
	case tkEOF:
		return "the end of the query"
	case tkString:
		return "string " + strconv.Quote(t.text)
	case tkRegex:
		return "regex /" + t.text + "/"
	}
	return strconv.Quote(t.text)
}

// commands are the commands this package translates.
var commands = map[string]bool{"fields": true, "display": true, "filter": true, "where": true, "stats": true, "sort": true, "limit": true, "dedup": true, "parse": true}

func (p *parser) command() (command, error) {
	t := p.next()
	name := strings.ToLower(t.text)
	if t.kind != tkIdent || t.quoted || !commands[name] {
		if t.kind == tkIdent && !t.quoted {
			switch name {
			case "pattern", "diff", "anomaly", "unmask", "filterindex", "source", "unnest", "lookup":
				return command{}, p.fail(t, "the command %s is not translated to SQL; use fields, display, filter, stats, sort, limit, dedup or parse", t.text)
			}
		}
		return command{}, p.fail(t, "%s: expected a command (fields, display, filter, stats, sort, limit, dedup, parse)", describe(t))
	}
	if name == "where" {
		name = "filter"
	}
	c := command{name: name, pos: t.pos}
	var err error
	switch name {
	case "fields":
		c.items, err = p.items(true, false)
	case "display", "dedup":
		c.items, err = p.items(false, false)
		for _, it := range c.items {
			if _, ok := it.x.(*field); !ok && err == nil {
				err = p.fail(token{pos: it.x.at()}, "%s takes field names", name)
			}
		}
	case "filter":
		c.cond, err = p.expr()
	case "stats":
		if c.items, err = p.items(true, false); err != nil {
			return c, err
		}
		if p.peek().is("by") {
			p.next()
			c.by, err = p.items(true, false)
		}
	case "sort":
		c.items, err = p.items(false, true)
	case "limit":
		n := p.next()
		if n.kind != tkNumber || strings.Contains(n.text, ".") {
			return c, p.fail(n, "%s: limit takes a whole number of results", describe(n))
		}
		c.limit, err = strconv.Atoi(n.text)
		if err != nil || c.limit < 1 || c.limit > MaxLimit {
			return c, p.fail(n, "limit takes a number from 1 to %d", MaxLimit)
		}
	case "parse":
		err = p.parseCommand(&c)
	}
	return c, err
}

// items reads expr [as name] {, expr [as name]}, or expr [asc|desc] for sort.
func (p *parser) items(alias, order bool) ([]item, error) {
	var out []item
	for {
		start := p.peek()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		it := item{x: x, text: strings.TrimSpace(p.src[start.pos:p.toks[p.i-1].end])}
		if f, ok := x.(*field); ok && start.quoted {
			it.text = f.path // `odd-name` names its column odd-name
		}
		if alias && p.peek().is("as") {
			p.next()
			n := p.next()
			if n.kind != tkIdent {
				return nil, p.fail(n, "%s: expected a name after as", describe(n))
			}
			it.alias = n.text
		}
		if order {
			switch {
			case p.peek().is("desc"):
				p.next()
				it.desc = true
			case p.peek().is("asc"):
				p.next()
			}
		}
		out = append(out, it)
		if !p.peek().is(",") {
			return out, nil
		}
		p.next()
	}
}

// parseCommand reads parse field "glob" as a, b … or parse field /regex/.
func (p *parser) parseCommand(c *command) error {
	f := p.next()
	if f.kind != tkIdent {
		return p.fail(f, "%s: parse takes the field to parse first (e.g. @message)", describe(f))
	}
	c.src = &field{pos: f.pos, path: f.text}
	pat := p.next()
	switch pat.kind {
	case tkRegex:
		c.re = &pat
		return nil
	case tkString:
		c.glob = &pat.text
	default:
		return p.fail(pat, "%s: expected a glob string (\"…*…\") or a /regex/ with named groups", describe(pat))
	}
	if !p.peek().is("as") {
		return p.fail(p.peek(), "%s: a glob pattern names its parts: parse %s \"…\" as name1, name2", describe(p.peek()), f.text)
	}
	p.next()
	for {
		n := p.next()
		if n.kind != tkIdent {
			return p.fail(n, "%s: expected a name", describe(n))
		}
		c.names = append(c.names, item{x: &field{pos: n.pos, path: n.text}, text: n.text})
		if !p.peek().is(",") {
			break
		}
		p.next()
	}
	if got, want := len(c.names), strings.Count(*c.glob, "*"); got != want {
		return p.fail(pat, "the glob has %d * but %d names follow as", want, got)
	}
	return nil
}

// Expressions, loosest first: or, and, not, comparison, + -, * / %, unary minus, primary.

func (p *parser) expr() (expr, error) { return p.or() }

func (p *parser) or() (expr, error)  { return p.level(p.and, "or") }
func (p *parser) and() (expr, error) { return p.level(p.not, "and") }

// level reads operands of the next tighter level joined, left to right, by one of ops.
func (p *parser) level(operand func() (expr, error), ops ...string) (expr, error) {
	l, err := operand()
	for err == nil {
		t := p.peek()
		op := ""
		for _, o := range ops {
			if t.is(o) {
				op = strings.ToLower(o)
			}
		}
		if op == "" {
			break
		}
		p.next()
		var r expr
		if r, err = operand(); err == nil {
			l = &binary{pos: t.pos, op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (expr, error) {
	if t := p.peek(); t.is("not") {
		p.next()
		x, err := p.not()
		return &unary{pos: t.pos, op: "not", x: x}, err
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	op := ""
	switch {
	case t.kind == tkOp && strings.Contains(" = != < <= > >= =~ ", " "+t.text+" "):
		op = t.text
	case t.is("like"), t.is("in"):
		op = strings.ToLower(t.text)
	case t.is("not") && (p.toks[p.i+1].is("like") || p.toks[p.i+1].is("in")):
		p.next()
		op = "not " + strings.ToLower(p.peek().text)
	default:
		return l, nil
	}
	p.next()
	var r expr
	switch op {
	case "=~":
		r, err = p.regexOperand(op)
	case "like", "not like":
		if p.peek().kind == tkString {
			s := p.next()
			r = &literal{pos: s.pos, tok: s}
		} else {
			r, err = p.regexOperand(op)
		}
	case "in", "not in":
		r, err = p.list()
	default:
		r, err = p.additive()
	}
	if err != nil {
		return nil, err
	}
	return &binary{pos: t.pos, op: op, l: l, r: r}, nil
}

func (p *parser) regexOperand(op string) (expr, error) {
	t := p.next()
	if t.kind != tkRegex {
		return nil, p.fail(t, "%s: %s takes a /regex/", describe(t), op)
	}
	return &regexLit{pos: t.pos, re: t.text}, nil
}

func (p *parser) list() (expr, error) {
	open := p.next()
	if !open.is("[") && !open.is("(") {
		return nil, p.fail(open, "%s: in takes a list: [\"a\", \"b\"]", describe(open))
	}
	closer := "]"
	if open.is("(") {
		closer = ")"
	}
	l := &list{pos: open.pos}
	for {
		x, err := p.additive()
		if err != nil {
			return nil, err
		}
		l.elems = append(l.elems, x)
		t := p.next()
		if t.is(closer) {
			return l, nil
		}
		if !t.is(",") {
			return nil, p.fail(t, "%s: expected , or %s in the list", describe(t), closer)
		}
	}
}

func (p *parser) additive() (expr, error) { return p.level(p.multiplicative, "+", "-") }
func (p *parser) multiplicative() (expr, error) {
	return p.level(p.unaryMinus, "*", "/", "%")
}

func (p *parser) unaryMinus() (expr, error) {
	if t := p.peek(); t.is("-") {
		p.next()
		x, err := p.unaryMinus()
		return &unary{pos: t.pos, op: "-", x: x}, err
	}
	return p.power()
}

// power is primary [ "^" unary ]: 2 ^ 3 ^ 2 is 2 ^ (3 ^ 2), -2 ^ 2 is -(2 ^ 2).
func (p *parser) power() (expr, error) {
	l, err := p.primary()
	if err == nil && p.peek().is("^") {
		t := p.next()
		var r expr
		if r, err = p.unaryMinus(); err == nil {
			l = &binary{pos: t.pos, op: "^", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkNumber, tkString, tkDuration:
		return &literal{pos: t.pos, tok: t}, nil
	case tkRegex:
		return nil, p.fail(t, "a /regex/ goes after like or =~")
	case tkIdent:
		if !t.quoted && p.peek().is("(") {
			p.next()
			c := &call{pos: t.pos, name: strings.ToLower(t.text)}
			if p.peek().is("*") && p.toks[p.i+1].is(")") {
				p.next()
				c.star = true
			}
			if p.peek().is(")") {
				c.text = p.src[t.pos:p.next().end]
				return c, nil
			}
			for {
				x, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, x)
				n := p.next()
				if n.is(")") {
					c.text = p.src[t.pos:n.end]
					return c, nil
				}
				if !n.is(",") {
					return nil, p.fail(n, "%s: expected , or ) in the arguments of %s", describe(n), t.text)
				}
			}
		}
		if !t.quoted && (strings.HasPrefix(t.text, ".") || strings.HasSuffix(t.text, ".") || strings.Contains(t.text, "..")) {
			return nil, p.fail(t, "%s: a field path has a name between each pair of dots", describe(t))
		}
		return &field{pos: t.pos, path: t.text}, nil
	case tkOp:
		if t.is("(") {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if c := p.next(); !c.is(")") {
				return nil, p.fail(c, "%s: expected )", describe(c))
			}
			return x, nil
		}
	}
	return nil, p.fail(t, "%s: expected a field, a value or a function", describe(t))
}
