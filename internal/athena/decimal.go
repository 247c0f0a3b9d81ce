package athena

import (
	"strings"
)

// Trino's DECIMAL arithmetic (https://trino.io/docs/current/language/types.html#decimal and
// https://trino.io/docs/current/functions/decimal.html): a literal with a point is a DECIMAL
// (100.0 is decimal(4,1)), integers take part in decimal arithmetic as decimal(10,0) (integer)
// or decimal(19,0) (bigint), and x / y of decimal(p1,s1) and decimal(p2,s2) is
// decimal(min(38, p1 + s2 + max(s2 - s1, 0)), max(s1, s2)), rounded HALF_UP. So
// count(*) * 100.0 / total is 6.3 in Athena where DuckDB, whose decimal division gives a DOUBLE,
// says 6.329113924050633; and round(x, n) keeps the type of a decimal x (DuckDB lowers its scale).
//
// DuckDB's "+", "-" and "*" already follow the same scale rules; its "/" on decimals does not, and
// DuckDB cannot choose a result type at run time, so the translator infers the types it can see
// (literals, casts, counts, sums and the aliases given to them in the same statement) and writes
// the division of two exact numbers, at least one of them a decimal, as an exact integer division
// rounded HALF_UP to Trino's scale. A division whose operand types it cannot see keeps DuckDB's
// (DOUBLE) result: a departure, named in the package documentation.

// numKind classifies the static type of an expression, as far as the translator can tell.
type numKind int

const (
	numUnknown numKind = iota
	numInteger         // tinyint, smallint, integer, bigint: a decimal of precision prec, scale 0
	numDecimal
	numDouble // double or real: approximate, no decimal rewrite
	numOther  // not a number (varchar, boolean, date, …)
)

// numType is an inferred type: kind, and for exact kinds the precision and scale Trino gives it.
type numType struct {
	kind        numKind
	prec, scale int
}

func (t numType) exact() bool { return t.kind == numInteger || t.kind == numDecimal }

var (
	tyUnknown = numType{}
	tyInteger = numType{numInteger, 10, 0}
	tyBigint  = numType{numInteger, 19, 0}
	tyDouble  = numType{kind: numDouble}
)

// bigintFuncs return BIGINT whatever their arguments (aggregate.html, datetime.html, array.html,
// string.html).
var bigintFuncs = map[string]bool{
	"count": true, "count_if": true, "approx_distinct": true, "cardinality": true, "length": true,
	"strpos": true, "year": true, "month": true, "day": true, "hour": true, "minute": true,
	"second": true, "millisecond": true, "day_of_week": true, "dow": true, "day_of_year": true,
	"doy": true, "week": true, "week_of_year": true, "quarter": true, "date_diff": true,
	"row_number": true, "rank": true, "dense_rank": true, "ntile": true, "json_array_length": true,
	"json_size": true, "array_position": true, "regexp_count": true, "levenshtein_distance": true,
	"codepoint": true, "day_of_month": true, "year_of_week": true, "yow": true,
}

// doubleFuncs return DOUBLE (math.html, aggregate.html).
var doubleFuncs = map[string]bool{
	"to_unixtime": true, "stddev": true, "stddev_samp": true, "stddev_pop": true, "variance": true,
	"var_samp": true, "var_pop": true, "sqrt": true, "ln": true, "log2": true, "log10": true,
	"exp": true, "power": true, "pow": true, "rand": true, "random": true, "percent_rank": true,
	"cume_dist": true, "corr": true, "pi": true, "e": true, "cbrt": true, "degrees": true,
	"radians": true,
}

// sameTypeFuncs return the type of their first argument (math.html: abs, round, ceil, floor,
// truncate keep decimal types; min, max, arbitrary, any_value keep any type).
var sameTypeFuncs = map[string]bool{
	"abs": true, "round": true, "ceil": true, "ceiling": true, "floor": true, "truncate": true,
	"min": true, "max": true, "arbitrary": true, "any_value": true, "coalesce": true,
	"lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

// inferType returns the static type of an expression (its nodes, trivia included).
func (r *rewriter) inferType(nodes []node) numType {
	s := sigNodes(nodes)
	if len(s) == 0 {
		return tyUnknown
	}
	// Additive level: split at binary + and -.
	var parts [][]node
	var ops []string
	start := 0
	for i := 1; i < len(s); i++ {
		if !s[i].group && s[i].tok.kind == tkOp && (s[i].tok.text == "+" || s[i].tok.text == "-") && termEnd(&s[i-1]) {
			parts = append(parts, s[start:i])
			ops = append(ops, s[i].tok.text)
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	t := r.chainType(parts[0])
	for k, p := range parts[1:] {
		t = combine(t, ops[k], r.chainType(p))
	}
	return t
}

// termEnd reports whether n can end an operand, so that a following + or - is binary.
func termEnd(n *node) bool { return endsPrimary(n) || isKeyword(n, "end") }

// chainType infers the type of a multiplicative chain (terms joined by *, / and %).
func (r *rewriter) chainType(s []node) numType {
	terms, ops, ok := splitChain(s)
	if !ok {
		return tyUnknown
	}
	t := r.termType(terms[0])
	for k, term := range terms[1:] {
		t = combine(t, ops[k], r.termType(term))
	}
	return t
}

// splitChain splits significant nodes at top-level *, / and %.
func splitChain(s []node) (terms [][]node, ops []string, ok bool) {
	start := 0
	for i := range s {
		if !s[i].group && s[i].tok.kind == tkOp && strings.Contains("*/%", s[i].tok.text) && len(s[i].tok.text) == 1 {
			if i == start {
				return nil, nil, false
			}
			terms = append(terms, s[start:i])
			ops = append(ops, s[i].tok.text)
			start = i + 1
		}
	}
	if start >= len(s) {
		return nil, nil, false
	}
	return append(terms, s[start:]), ops, true
}

// combine gives the type of a op b by Trino's rules.
func combine(a numType, op string, b numType) numType {
	if a.kind == numUnknown || b.kind == numUnknown || a.kind == numOther || b.kind == numOther {
		return tyUnknown
	}
	if a.kind == numDouble || b.kind == numDouble {
		return tyDouble
	}
	if a.kind == numInteger && b.kind == numInteger {
		if a.prec >= b.prec {
			return a
		}
		return b
	}
	p1, s1, p2, s2 := a.prec, a.scale, b.prec, b.scale
	switch op {
	case "+", "-":
		return decimalType(max(p1-s1, p2-s2)+max(s1, s2)+1, max(s1, s2))
	case "*":
		return decimalType(p1+p2, s1+s2)
	case "/":
		return decimalType(p1+s2+max(s2-s1, 0), max(s1, s2))
	case "%":
		return decimalType(min(p2-s2, p1-s1)+max(s1, s2), max(s1, s2))
	}
	return tyUnknown
}

func decimalType(p, s int) numType { return numType{numDecimal, min(p, 38), s} }

// termType infers the type of one operand.
func (r *rewriter) termType(s []node) numType {
	for len(s) > 1 && !s[0].group && s[0].tok.kind == tkOp && (s[0].tok.text == "-" || s[0].tok.text == "+") {
		s = s[1:] // unary sign
	}
	if len(s) == 0 {
		return tyUnknown
	}
	// A window function: f(...) OVER (...) has the type of f(...).
	if len(s) == 4 && isKeyword(&s[2], "over") && s[3].group {
		s = s[:2]
	}
	n := &s[0]
	switch {
	case len(s) == 1 && !n.group && n.tok.kind == tkNumber:
		return literalType(n.tok.text)
	case len(s) == 1 && !n.group && n.tok.kind == tkString:
		return numType{kind: numOther}
	case len(s) == 2 && isKeyword(n, "decimal") && !s[1].group && s[1].tok.kind == tkString:
		return decimalLiteralType(s[1].tok.stringValue())
	case len(s) == 2 && (isKeyword(n, "double") || isKeyword(n, "real")) && !s[1].group && s[1].tok.kind == tkString:
		return tyDouble
	case len(s) == 1 && n.group && n.tok.kind == tkLParen:
		k := sigNodes(n.kids)
		if len(k) > 0 && isKeyword(&k[0], "select") {
			return r.subqueryType(n.kids)
		}
		return r.inferType(n.kids)
	case len(s) == 2 && isWord(n) && s[1].group && s[1].tok.kind == tkLParen:
		return r.callType(strings.ToLower(n.tok.name()), s[1].kids)
	case isWord(n):
		// A column or alias, maybe qualified (t.total): the type of the aliased expression.
		for i := 1; i < len(s); i += 2 {
			if i+1 >= len(s) || s[i].group || s[i].tok.text != "." || !isWord(&s[i+1]) {
				return tyUnknown
			}
		}
		if t, ok := r.aliasTypes()[strings.ToLower(s[len(s)-1].tok.name())]; ok {
			return t
		}
	}
	return tyUnknown
}

// literalType is the type of a numeric literal: an integer literal is an integer (a bigint when
// it does not fit 32 bits), one with a point a decimal with as many digits, one with an exponent
// a double (https://trino.io/docs/current/language/types.html#decimal).
// decimalLiteralType is the type of DECIMAL 'text': decimal(p, s), s the digits after the point
// and p all the digits (https://trino.io/docs/current/language/types.html#decimal: DECIMAL '1.10'
// is decimal(3, 2)); tyUnknown when text is not a decimal number.
func decimalLiteralType(text string) numType {
	text = strings.TrimSpace(text)
	if !strings.Contains(text, ".") {
		text += "."
	}
	if t := literalType(text); t.kind == numDecimal {
		return t
	}
	return tyUnknown
}

func literalType(text string) numType {
	text = strings.ReplaceAll(strings.TrimLeft(text, "+-"), "_", "")
	if strings.ContainsAny(text, "eE") {
		return tyDouble
	}
	whole, frac, dot := strings.Cut(text, ".")
	if whole == "" && frac == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return tyUnknown
	}
	if !dot {
		if len(whole) > 10 || len(whole) == 10 && whole > "2147483647" {
			return tyBigint
		}
		return tyInteger
	}
	p := len(whole) + len(frac)
	if p == 0 {
		p = 1
	}
	if p > 38 {
		return tyDouble // Trino reads a longer literal as a double
	}
	return numType{numDecimal, p, len(frac)}
}

// callType infers the result type of a function call.
func (r *rewriter) callType(name string, kids []node) numType {
	args := splitArgs(kids)
	switch {
	case name == "cast" || name == "try_cast":
		for i := len(kids) - 1; i >= 0; i-- {
			if isKeyword(&kids[i], "as") {
				return typeNamed(sigNodes(kids[i+1:]))
			}
		}
	case bigintFuncs[name]:
		return tyBigint
	case doubleFuncs[name]:
		return tyDouble
	case name == "sum" && len(args) == 1:
		switch t := r.inferType(args[0]); t.kind {
		case numInteger:
			return tyBigint
		case numDecimal:
			return decimalType(38, t.scale)
		default:
			return t
		}
	case name == "avg" && len(args) == 1:
		if t := r.inferType(args[0]); t.kind == numDecimal {
			return t
		} else if t.kind == numInteger || t.kind == numDouble {
			return tyDouble
		}
	case sameTypeFuncs[name] && len(args) >= 1:
		return r.inferType(args[0])
	}
	return tyUnknown
}

// typeNamed is the numType of a Trino type written as significant nodes.
func typeNamed(ns []node) numType {
	if len(ns) == 0 || !isWord(&ns[0]) {
		return tyUnknown
	}
	switch strings.ToLower(ns[0].tok.name()) {
	case "tinyint":
		return numType{numInteger, 3, 0}
	case "smallint":
		return numType{numInteger, 5, 0}
	case "integer", "int":
		return tyInteger
	case "bigint":
		return tyBigint
	case "double", "real":
		return tyDouble
	case "decimal", "numeric":
		p, s := 38, 0
		if len(ns) > 1 && ns[1].group {
			ps := splitArgs(ns[1].kids)
			if len(ps) >= 1 {
				p = atoiNodes(ps[0], 38)
			}
			if len(ps) >= 2 {
				s = atoiNodes(ps[1], 0)
			}
		}
		return numType{numDecimal, p, s}
	}
	return numType{kind: numOther}
}

// atoiNodes reads a number literal written as nodes, or def.
func atoiNodes(ns []node, def int) int {
	s := sigNodes(ns)
	if len(s) != 1 || s[0].group || s[0].tok.kind != tkNumber {
		return def
	}
	n := 0
	for _, c := range s[0].tok.text {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// subqueryType is the type of a scalar subquery's only select item.
func (r *rewriter) subqueryType(kids []node) numType {
	s := sigNodes(kids)
	var item []node
	for i := 1; i < len(s); i++ {
		if isKeyword(&s[i], "from") || !s[i].group && s[i].tok.kind == tkComma {
			break
		}
		item = append(item, s[i])
	}
	return r.inferType(stripAlias(item))
}

// stripAlias drops a trailing "AS name" from a select item.
func stripAlias(item []node) []node {
	if n := len(item); n >= 2 && isKeyword(&item[n-2], "as") {
		return item[:n-2]
	}
	return item
}

// aliasTypes maps the names given with AS to expressions anywhere in the statement to those
// expressions' types; a name given to expressions of different types maps to unknown.
func (r *rewriter) aliasTypes() map[string]numType {
	if r.aliasTy != nil {
		return r.aliasTy
	}
	r.aliasTy = map[string]numType{}
	r.collectAliases(r.top)
	return r.aliasTy
}

// collectAliases records "expr AS name" in nodes and their groups; expr runs back to the
// previous comma or SELECT/DISTINCT of the same level.
func (r *rewriter) collectAliases(nodes []node) {
	s := sigNodes(nodes)
	start := 0
	for i := range s {
		if s[i].group {
			r.collectAliases(s[i].kids)
			continue
		}
		if s[i].tok.kind == tkComma || isKeyword(&s[i], "select") || isKeyword(&s[i], "distinct") {
			start = i + 1
			continue
		}
		if isKeyword(&s[i], "as") && i+1 < len(s) && isWord(&s[i+1]) && i > start {
			name := strings.ToLower(s[i+1].tok.name())
			r.aliasTy[name] = tyUnknown // no recursion through itself
			t := r.inferType(s[start:i])
			if old, seen := r.aliasSeen[name]; seen && old != t {
				t = tyUnknown
			}
			if r.aliasSeen == nil {
				r.aliasSeen = map[string]numType{}
			}
			r.aliasSeen[name] = t
			r.aliasTy[name] = t
		}
	}
}

// divisionChain emits the multiplicative chain starting at significant node index i of nodes
// when it holds a division Trino computes in DECIMAL, and returns the index of its last node.
// ok is false (nothing written) when the chain needs no rewrite.
func (r *rewriter) divisionChain(nodes []node, i int, prev *node) (last int, ok bool, err error) {
	if prev != nil && (termEnd(prev) && !isReserved(prev) || !prev.group && prev.tok.kind == tkOp && strings.Contains("*/%", prev.tok.text)) {
		return 0, false, nil // not the start of an operand chain
	}
	if prev != nil && !prev.group && prev.tok.kind == tkOp && prev.tok.text == "." {
		return 0, false, nil
	}
	// Collect the terms: runs of nodes between *, / and % up to a boundary.
	type term struct{ from, to int } // node index range [from, to)
	var terms []term
	var ops []int // node index of each operator
	from := i
	j := i
	for ; j < len(nodes); j++ {
		n := &nodes[j]
		if !n.significant() {
			continue
		}
		if !n.group && n.tok.kind == tkOp && len(n.tok.text) == 1 && strings.Contains("*/%", n.tok.text) {
			if j == from {
				return 0, false, nil
			}
			terms = append(terms, term{from, j})
			ops = append(ops, j)
			from = j + 1
			continue
		}
		if chainBoundary(nodes, j, from) {
			break
		}
	}
	end := j
	for end > from && !nodes[end-1].significant() {
		end-- // trailing trivia stays with the caller
	}
	terms = append(terms, term{from, end})
	hasDiv := false
	for _, o := range ops {
		hasDiv = hasDiv || nodes[o].tok.text == "/"
	}
	if !hasDiv {
		return 0, false, nil
	}
	// Types left to right, and which divisions are decimal ones.
	left, right := make([]numType, len(ops)), make([]numType, len(ops))
	acc := r.termType(sigNodes(nodes[terms[0].from:terms[0].to]))
	rewrite := make([]bool, len(ops))
	any := false
	for k, o := range ops {
		rt := r.termType(sigNodes(nodes[terms[k+1].from:terms[k+1].to]))
		left[k], right[k] = acc, rt
		if nodes[o].tok.text == "/" && acc.exact() && rt.exact() && (acc.kind == numDecimal || rt.kind == numDecimal) {
			rewrite[k] = true
			any = true
		}
		acc = combine(acc, nodes[o].tok.text, rt)
	}
	if !any {
		return 0, false, nil
	}
	// Write: the wrappers of the rewritten divisions open before the first term.
	at := nodes[i].tok.pos
	for k := len(ops) - 1; k >= 0; k-- {
		if rewrite[k] {
			r.synth("trino_decimal_divide(", at)
		}
	}
	if err := r.seq(nodes[terms[0].from:terms[0].to], false); err != nil {
		return 0, false, err
	}
	for k, o := range ops {
		rnodes := nodes[terms[k+1].from:terms[k+1].to]
		if !rewrite[k] {
			r.tok(nodes[o].tok)
			if err := r.seq(rnodes, false); err != nil {
				return 0, false, err
			}
			continue
		}
		b := right[k]
		res := combine(left[k], "/", b)
		r.synth(",", nodes[o].tok.pos)
		if err := r.seq(rnodes, false); err != nil {
			return 0, false, err
		}
		// trino_decimal_divide(a, b, 10^(s+s2), 10^s2, 10^-s) AS DECIMAL(p, s)
		r.synth(", "+pow10(res.scale+b.scale)+", "+pow10(b.scale)+", "+unitAtScale(res.scale)+
			")::DECIMAL("+itoa(res.prec)+","+itoa(res.scale)+")", nodes[o].tok.pos)
	}
	return end - 1, true, nil
}

// chainBoundary reports whether node j ends an operand chain that started at from: a comma, an
// operator other than * / %, or a reserved word (AND, THEN, AS, FROM, …) outside a term's own
// syntax (CAST's AS is inside its group, so never seen here).
func chainBoundary(nodes []node, j, from int) bool {
	n := &nodes[j]
	if n.group {
		return false
	}
	switch n.tok.kind {
	case tkComma, tkSemicolon:
		return true
	case tkOp:
		if n.tok.text == "." {
			return false
		}
		if (n.tok.text == "-" || n.tok.text == "+") && firstSigIndex(nodes, from, j) < 0 {
			return false // unary sign at the start of a term
		}
		return true
	case tkIdent:
		if isKeyword(n, "over") || isKeyword(n, "decimal") || isKeyword(n, "double") || isKeyword(n, "real") {
			return false
		}
		return reserved[n.tok.lower()] || n.tok.is("at")
	}
	return false
}

// firstSigIndex returns the index of the first significant node in nodes[from:to], or -1.
func firstSigIndex(nodes []node, from, to int) int {
	for k := from; k < to; k++ {
		if nodes[k].significant() {
			return k
		}
	}
	return -1
}

// pow10 writes 10^n as a HUGEINT literal.
func pow10(n int) string { return "CAST(1" + strings.Repeat("0", n) + " AS HUGEINT)" }

// unitAtScale writes 10^-s as a decimal literal of scale s (1 for s = 0).
func unitAtScale(s int) string {
	if s == 0 {
		return "1"
	}
	return "0." + strings.Repeat("0", s-1) + "1"
}
