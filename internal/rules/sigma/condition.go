package sigma

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// condToken is one token of a condition: a word or a parenthesis, at a byte offset.
type condToken struct {
	text string
	at   int
}

// condParser parses a condition (operator precedence, least binding first: or, and, not,
// "x of", parentheses) into SQL, asking sql for each search identifier's expression.
type condParser struct {
	c     *compiler
	node  *yaml.Node
	toks  []condToken
	i     int
	names []string // the detection's identifiers, in file order
	sql   func(name string) (sqlExpr, error)
}

// conditionSQL compiles one condition string.
func (c *compiler) conditionSQL(n *yaml.Node, names []string, sql func(string) (sqlExpr, error)) (sqlExpr, error) {
	p := &condParser{c: c, node: n, names: names, sql: sql}
	if err := p.lex(n.Value); err != nil {
		return sqlExpr{}, err
	}
	if len(p.toks) == 0 {
		return sqlExpr{}, p.errAt(0, "the condition is empty; name a search identifier, e.g. condition: selection")
	}
	out, err := p.or()
	if err != nil {
		return sqlExpr{}, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.text == ")" {
			return sqlExpr{}, p.errAt(t.at, "unmatched ')'")
		}
		return sqlExpr{}, p.errAt(t.at, "unexpected %q; join the parts with and/or", t.text)
	}
	return out, nil
}

// errAt is a malformed-condition error at byte offset at of the condition text.
func (p *condParser) errAt(at int, format string, args ...any) error {
	e := &LoadError{File: p.c.file, Line: p.node.Line, Msg: "condition: " + fmt.Sprintf(format, args...)}
	if !strings.Contains(p.node.Value[:min(at, len(p.node.Value))], "\n") {
		e.Column = p.node.Column + at
		if p.node.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			e.Column++
		}
	}
	return e
}

func (p *condParser) unsupported(reason string) error {
	return &UnsupportedError{Line: p.node.Line, Reason: reason}
}

func isCondWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '*' || b == '-' || b == '.'
}

func (p *condParser) lex(s string) error {
	for i := 0; i < len(s); {
		switch b := s[i]; {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			i++
		case b == '(' || b == ')':
			p.toks = append(p.toks, condToken{s[i : i+1], i})
			i++
		case b == '|':
			return p.unsupported("the condition aggregates events (" + strings.TrimSpace(s[i:]) + "): a correlation over many events, while trailsql evaluates one event at a time")
		case isCondWordByte(b):
			j := i
			for j < len(s) && isCondWordByte(s[j]) {
				j++
			}
			p.toks = append(p.toks, condToken{s[i:j], i})
			i = j
		default:
			return p.errAt(i, "unexpected character %q", string(rune(b)))
		}
	}
	return nil
}

func (p *condParser) peek() (condToken, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return condToken{at: len(p.node.Value)}, false
}

func (p *condParser) keyword(word string) bool {
	t, ok := p.peek()
	if ok && strings.EqualFold(t.text, word) {
		p.i++
		return true
	}
	return false
}

func (p *condParser) or() (sqlExpr, error) {
	var parts []sqlExpr
	for {
		s, err := p.and()
		if err != nil {
			return sqlExpr{}, err
		}
		parts = append(parts, s)
		if !p.keyword("or") {
			break
		}
	}
	return disj(parts), nil
}

func (p *condParser) and() (sqlExpr, error) {
	var parts []sqlExpr
	for {
		s, err := p.not()
		if err != nil {
			return sqlExpr{}, err
		}
		parts = append(parts, s)
		if !p.keyword("and") {
			break
		}
	}
	return conj(parts), nil
}

func (p *condParser) not() (sqlExpr, error) {
	if p.keyword("not") {
		s, err := p.not()
		if err != nil {
			return sqlExpr{}, err
		}
		return sqlExpr{"NOT " + s.sql, s.cost}, nil
	}
	return p.atom()
}

// join joins SQL operands, parenthesised when there are several.
func join(parts []string, op string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, op) + ")"
}

// sqlExpr is a two-valued SQL test and an estimate of what it costs per row.
type sqlExpr struct {
	sql  string
	cost int
}

// cheapCost is the cost up to which a test is evaluated on every row: a comparison of a column.
// JSON paths, regular expressions, resources and keywords cost more.
const cheapCost = 2

// conj joins tests with AND. A costly test after the first is evaluated only on the rows that
// pass the tests before it: CASE is lazy in Trino and DuckDB alike, where DuckDB evaluates every
// operand of an AND in a select list (a rules pass computes every rule's test in one select).
func conj(parts []sqlExpr) sqlExpr {
	var cheap []string
	cost := 0
	for i, p := range parts {
		if i > 0 && p.cost > cheapCost {
			rest := conj(parts[i:])
			return sqlExpr{"CASE WHEN " + join(cheap, " AND ") + " THEN " + rest.sql + " ELSE false END", max(cost, rest.cost)}
		}
		cheap = append(cheap, p.sql)
		cost = max(cost, p.cost)
	}
	return sqlExpr{join(cheap, " AND "), cost}
}

// disj joins tests with OR.
func disj(parts []sqlExpr) sqlExpr {
	var sqls []string
	cost := 0
	for _, p := range parts {
		sqls = append(sqls, p.sql)
		cost = max(cost, p.cost)
	}
	return sqlExpr{join(sqls, " OR "), cost}
}

var reserved = map[string]bool{"and": true, "or": true, "not": true, "of": true, "them": true, "near": true}

func (p *condParser) atom() (sqlExpr, error) {
	t, ok := p.peek()
	if !ok {
		return sqlExpr{}, p.errAt(t.at, "the condition ends where a search identifier, 'not', 'x of' or '(' is expected")
	}
	if t.text == "(" {
		p.i++
		s, err := p.or()
		if err != nil {
			return sqlExpr{}, err
		}
		if c, ok := p.peek(); !ok || c.text != ")" {
			return sqlExpr{}, p.errAt(t.at, "'(' is not closed")
		}
		p.i++
		return sqlExpr{"(" + s.sql + ")", s.cost}, nil
	}
	if t.text == ")" {
		return sqlExpr{}, p.errAt(t.at, "unexpected ')'")
	}
	if p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "of") {
		return p.quantified()
	}
	low := strings.ToLower(t.text)
	if low == "near" {
		return sqlExpr{}, p.unsupported("the condition uses near, a correlation of several events")
	}
	if reserved[low] {
		return sqlExpr{}, p.errAt(t.at, "unexpected %q where a search identifier is expected", t.text)
	}
	p.i++
	if strings.Contains(t.text, "*") {
		return sqlExpr{}, p.errAt(t.at, "%q is a pattern; write '1 of %s' or 'all of %s'", t.text, t.text, t.text)
	}
	if !p.defined(t.text) {
		return sqlExpr{}, p.errAt(t.at, "the search identifier %q is not defined in detection (defined: %s)", t.text, strings.Join(p.names, ", "))
	}
	return p.sql(t.text)
}

func (p *condParser) defined(name string) bool {
	for _, n := range p.names {
		if n == name {
			return true
		}
	}
	return false
}

// quantified parses "1|any|all|N of pattern|them".
func (p *condParser) quantified() (sqlExpr, error) {
	q := p.toks[p.i]
	p.i += 2 // quantifier, "of"
	target, ok := p.peek()
	if !ok || target.text == "(" || target.text == ")" {
		return sqlExpr{}, p.errAt(target.at, "'%s of' must be followed by a pattern of search identifiers or 'them'", q.text)
	}
	p.i++
	var names []string
	if strings.EqualFold(target.text, "them") {
		for _, n := range p.names {
			if !strings.HasPrefix(n, "_") {
				names = append(names, n)
			}
		}
	} else {
		for _, n := range p.names {
			if globMatch(target.text, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return sqlExpr{}, p.errAt(target.at, "%q matches no search identifier (defined: %s)", target.text, strings.Join(p.names, ", "))
	}
	var parts []sqlExpr
	for _, n := range names {
		s, err := p.sql(n)
		if err != nil {
			return sqlExpr{}, err
		}
		parts = append(parts, s)
	}
	switch low := strings.ToLower(q.text); low {
	case "1", "any":
		return disj(parts), nil
	case "all":
		return conj(parts), nil
	default:
		n, err := strconv.Atoi(low)
		if err != nil || n < 1 {
			return sqlExpr{}, p.errAt(q.at, "%q before 'of' must be 1, any, all or a count", q.text)
		}
		if n > len(parts) {
			return sqlExpr{}, p.errAt(q.at, "'%d of %s' can never hold: only %d identifiers match", n, target.text, len(parts))
		}
		if n == len(parts) {
			return conj(parts), nil
		}
		sum := disj(parts) // for the cost
		var terms []string
		for _, s := range parts {
			terms = append(terms, "CASE WHEN "+s.sql+" THEN 1 ELSE 0 END")
		}
		return sqlExpr{"(" + strings.Join(terms, " + ") + " >= " + strconv.Itoa(n) + ")", sum.cost}, nil
	}
}

// globMatch matches name against a pattern where * stands for any run of characters.
func globMatch(pattern, name string) bool {
	star := strings.Split(pattern, "*")
	if len(star) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, star[0]) {
		return false
	}
	name = name[len(star[0]):]
	last := star[len(star)-1]
	for _, mid := range star[1 : len(star)-1] {
		i := strings.Index(name, mid)
		if i < 0 {
			return false
		}
		name = name[i+len(mid):]
	}
	return len(name) >= len(last) && strings.HasSuffix(name, last)
}
