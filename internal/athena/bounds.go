package athena

import (
	"slices"
	"strings"
)

// Bounds are restrictions that a statement places on every row it reads from the table: found
// only in the top-level AND of the WHERE clause that filters the table's single reference, so
// that reading only the files that can hold such rows never changes the answer.
type Bounds boundsFields

// boundsFields are the fields of Bounds: an alias of a struct type that engine.Bounds aliases
// too, so that the dialect hands its Bounds to the engine as they are (see EngineDialect).
type boundsFields = struct {
	// Partitions maps a partition column (account, region, year, month, day, or "$path") to the
	// values its rows may have.
	Partitions map[string][]string
	// TimeMin and TimeMax bound eventtime as text (string comparison with a literal); empty is
	// unbounded. Rows with a NULL eventtime match neither.
	TimeMin, TimeMax string
	// TSMin and TSMax are DuckDB expressions bounding from_iso8601_timestamp(eventtime); empty
	// is unbounded. They hold no column reference, so they can be evaluated on their own.
	TSMin, TSMax string
	// TimeMinArg and TimeMaxArg bound eventtime as text by a positional parameter: the 1-based
	// index of the '?' whose bound value is the bound (0: none).
	TimeMinArg, TimeMaxArg int
	// PartitionArgs maps a partition column compared for equality with a positional parameter
	// to the 1-based index of that parameter.
	PartitionArgs map[string]int
	// Table is the table the bounds are on (lower case), the one reference among the names
	// FindBounds was given.
	Table string
	// Derived holds conditions on the table's derived columns (a user's table's partition
	// columns, computed from the lake's partitions), in conjunctive form: every row satisfies
	// at least one condition of each clause.
	Derived [][]Cond
	// Facets holds conditions on the columns whose distinct values the lake may record per file
	// (lake.FacetColumns: useridentity.type, eventsource, eventname, errorcode), in the same
	// conjunctive form. Op is =, <>, in, not in, like, not like or is not null; literals are
	// strings.
	Facets [][]Cond
}

// Cond compares a derived column with literals: Op is =, <>, <, <=, >, >=, like (one value),
// between (two) or in (any number). Number is true when the literals are numbers, false when
// they are strings.
// It is an alias of a struct type, identical in every package that declares it, so that one
// package's Bounds convert to the other's as they are.
type Cond = struct {
	Column string
	Op     string
	Values []string
	Number bool
}

// Empty reports whether the bounds restrict nothing.
func (b *Bounds) Empty() bool {
	return b == nil || len(b.Partitions) == 0 && b.TimeMin == "" && b.TimeMax == "" && b.TSMin == "" && b.TSMax == "" && b.TimeMinArg == 0 && b.TimeMaxArg == 0 && len(b.PartitionArgs) == 0 && len(b.Derived) == 0 && len(b.Facets) == 0
}

// partitionColumns are the columns whose values the lake knows per file: the Hive partition
// columns, and "$path", the file itself.
var partitionColumns = map[string]bool{"account": true, "region": true, "year": true, "month": true, "day": true, "$path": true}

// constFuncs may appear in a bound expression: they depend on no row.
var constFuncs = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "date_add": true,
	"from_iso8601_timestamp": true, "from_iso8601_date": true, "date_parse": true, "date_trunc": true,
	"interval": true, "from_unixtime": true, "cast": true, "as": true, "timestamp": true, "date": true,
	"varchar": true, "day": true, "hour": true, "minute": true, "second": true, "month": true,
	"week": true, "year": true, "with": true, "time": true, "zone": true, "localtimestamp": true,
}

// FindBounds returns the bounds a statement puts on the lake, read through one of tables
// (lower-case name → the names of its derived columns; nil for the lake's own table and its
// aliases), or nil when it reads those tables more than once or not at all, or places no bound
// the engine can use. A derived column is never taken for the lake's partition of the same
// name: a user's integer month is not the lake's month string.
func FindBounds(sql string, tables map[string][]string) *Bounds {
	all, err := lex(sql)
	if err != nil {
		return nil
	}
	var toks []token
	params := map[int]int{} // byte offset of a '?' → its 1-based position
	for _, t := range all {
		if t.kind == tkOp && t.text == "?" {
			params[t.pos] = len(params) + 1
		}
		if !t.trivia() {
			toks = append(toks, t)
		}
	}
	isTable := func(i int) bool {
		if toks[i].kind != tkIdent && toks[i].kind != tkQuoted {
			return false
		}
		// db.table: the last part names the table.
		if i+1 < len(toks) && toks[i+1].text == "." {
			return false
		}
		if _, ok := tables[strings.ToLower(toks[i].name())]; ok {
			return i > 0 && (toks[i-1].is("from") || toks[i-1].is("join") || toks[i-1].text == "," || toks[i-1].text == ".")
		}
		return false
	}
	ref := -1
	for i := range toks {
		if isTable(i) {
			if ref >= 0 {
				return nil // read twice: a bound on one reference says nothing of the other
			}
			ref = i
		}
	}
	if ref < 0 {
		return nil
	}
	// The depth of the reference; its WHERE is the next WHERE at the same depth.
	depth := 0
	for i := 0; i < ref; i++ {
		depth += parenDelta(toks[i])
	}
	qualifiers := map[string]bool{strings.ToLower(toks[ref].name()): true}
	if j := ref + 1; j < len(toks) {
		if toks[j].is("as") {
			j++
		}
		if j < len(toks) && (toks[j].kind == tkIdent || toks[j].kind == tkQuoted) && !isClauseKeyword(toks[j]) {
			qualifiers[strings.ToLower(toks[j].name())] = true
		}
	}
	d := depth
	start := -1
	for i := ref + 1; i < len(toks); i++ {
		d += parenDelta(toks[i])
		if d < depth {
			return nil
		}
		if d == depth && toks[i].is("where") {
			start = i + 1
			break
		}
		if d == depth && (toks[i].is("group") || toks[i].is("order") || toks[i].is("limit") || toks[i].is("union") || toks[i].is("having")) {
			return nil
		}
	}
	if start < 0 {
		return nil
	}
	end := len(toks)
	d = depth
	for i := start; i < len(toks); i++ {
		d += parenDelta(toks[i])
		if d < depth || d == depth && (isClauseKeyword(toks[i]) || toks[i].kind == tkSemicolon) {
			end = i
			break
		}
	}
	table := strings.ToLower(toks[ref].name())
	b := &Bounds{Partitions: map[string][]string{}, Table: table}
	derived := map[string]bool{}
	for _, c := range tables[table] {
		derived[c] = true
	}
	// The conditions every row meets: the top-level AND's, and those of the ANDs nested in it
	// (in parentheses, coalesce(X, false), CASE WHEN A THEN B ELSE false END); a top-level OR
	// is one clause.
	for _, c := range positiveConjuncts(toks[start:end]) {
		b.add(c, qualifiers, params, derived)
	}
	if b.Empty() {
		return nil
	}
	return b
}

func parenDelta(t token) int {
	switch t.kind {
	case tkLParen:
		return 1
	case tkRParen:
		return -1
	}
	return 0
}

func isClauseKeyword(t token) bool {
	for _, kw := range []string{"where", "group", "order", "limit", "having", "union", "intersect", "except", "cross", "join", "left", "right", "inner", "full", "on", "window", "offset", "fetch"} {
		if t.is(kw) {
			return true
		}
	}
	return false
}

// conjuncts splits a condition at its top-level ANDs (the AND of BETWEEN … AND … excepted).
func conjuncts(toks []token) [][]token {
	var out [][]token
	d, start, between := 0, 0, false
	for i, t := range toks {
		d += parenDelta(t)
		if d != 0 {
			continue
		}
		if t.is("or") {
			return nil // a top-level OR: nothing is certain
		}
		if t.is("between") {
			between = true
		}
		if t.is("and") {
			if between {
				between = false
				continue
			}
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}

// column returns the column a (possibly qualified) reference at the start of c names, and how
// many tokens it takes.
func column(c []token, qualifiers map[string]bool) (string, int) {
	if len(c) >= 3 && c[1].text == "." && (c[0].kind == tkIdent || c[0].kind == tkQuoted) {
		if !qualifiers[strings.ToLower(c[0].name())] {
			return "", 0
		}
		c = c[2:]
		if len(c) > 0 && (c[0].kind == tkIdent || c[0].kind == tkQuoted) {
			return strings.ToLower(c[0].name()), 3
		}
		return "", 0
	}
	if len(c) > 0 && (c[0].kind == tkIdent || c[0].kind == tkQuoted) {
		return strings.ToLower(c[0].name()), 1
	}
	return "", 0
}

func (b *Bounds) add(c []token, qualifiers map[string]bool, params map[int]int, derived map[string]bool) {
	c = unwrap(c)
	if len(c) == 0 {
		return
	}
	if len(derived) > 0 {
		// A clause on derived columns: one condition, or conditions joined by OR.
		var clause []Cond
		for _, d := range disjuncts(c) {
			cond, ok := derivedCond(unwrap(d), qualifiers, derived)
			if !ok {
				clause = nil
				break
			}
			clause = append(clause, cond)
		}
		if clause != nil {
			b.Derived = append(b.Derived, clause)
			return
		}
		if col, _ := column(c, qualifiers); derived[col] {
			return // not understood: no bound, and surely none on the lake's column of that name
		}
	}
	if clause, ok := facetClause(c, qualifiers); ok {
		b.Facets = append(b.Facets, clause)
		return
	}
	if len(disjuncts(c)) > 1 {
		return
	}
	// from_iso8601_timestamp(eventtime) op expr
	if c[0].is("from_iso8601_timestamp") && len(c) > 4 && c[1].kind == tkLParen {
		col, n := column(c[2:], qualifiers)
		if col != "eventtime" || len(c) < 2+n+2 || c[2+n].kind != tkRParen {
			return
		}
		rest := c[3+n:]
		if len(rest) < 2 || rest[0].kind != tkOp {
			return
		}
		expr, ok := constExpr(rest[1:])
		if !ok {
			return
		}
		setBound(rest[0].text, expr, &b.TSMin, &b.TSMax)
		return
	}
	col, n := column(c, qualifiers)
	if col == "" {
		return
	}
	rest := c[n:]
	switch {
	case partitionColumns[col] && len(rest) == 2 && rest[0].text == "=" && rest[1].kind == tkString:
		b.Partitions[col] = []string{rest[1].stringValue()}
	case partitionColumns[col] && len(rest) == 2 && rest[0].text == "=" && rest[1].text == "?" && params[rest[1].pos] > 0:
		if b.PartitionArgs == nil {
			b.PartitionArgs = map[string]int{}
		}
		b.PartitionArgs[col] = params[rest[1].pos]
	case partitionColumns[col] && len(rest) >= 3 && rest[0].is("in") && rest[1].kind == tkLParen:
		var vals []string
		for i := 2; i < len(rest); i++ {
			switch {
			case rest[i].kind == tkString:
				vals = append(vals, rest[i].stringValue())
			case rest[i].kind == tkComma:
			case rest[i].kind == tkRParen && i == len(rest)-1:
				b.Partitions[col] = vals
				return
			default:
				return
			}
		}
	case col == "eventtime" && len(rest) == 2 && rest[0].kind == tkOp && rest[1].kind == tkString:
		setBound(rest[0].text, rest[1].stringValue(), &b.TimeMin, &b.TimeMax)
	case col == "eventtime" && len(rest) == 2 && rest[0].kind == tkOp && rest[1].text == "?" && params[rest[1].pos] > 0:
		setBound(rest[0].text, params[rest[1].pos], &b.TimeMinArg, &b.TimeMaxArg)
	case col == "eventtime" && len(rest) == 4 && rest[0].is("between") && rest[1].kind == tkString && rest[2].is("and") && rest[3].kind == tkString:
		b.TimeMin, b.TimeMax = rest[1].stringValue(), rest[3].stringValue()
	}
}

// unwrap removes parentheses around the whole of c.
func unwrap(c []token) []token {
	for len(c) >= 2 && c[0].kind == tkLParen && c[len(c)-1].kind == tkRParen {
		d := 0
		for i, t := range c {
			d += parenDelta(t)
			if d == 0 && i < len(c)-1 {
				return c // the first parenthesis closes before the end
			}
		}
		c = c[1 : len(c)-1]
	}
	return c
}

// disjuncts splits a condition at its top-level ORs.
func disjuncts(toks []token) [][]token {
	var out [][]token
	d, start := 0, 0
	for i, t := range toks {
		d += parenDelta(t)
		if d == 0 && t.is("or") {
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}

// derivedCond reads c as a comparison of a derived column with literals of one kind, or
// reports false.
func derivedCond(c []token, qualifiers, derived map[string]bool) (Cond, bool) {
	col, n := column(c, qualifiers)
	if !derived[col] {
		return Cond{}, false
	}
	rest := c[n:]
	cond := Cond{Column: col}
	lit := func(t token) bool {
		switch {
		case t.kind == tkString && !cond.Number:
			cond.Values = append(cond.Values, t.stringValue())
		case t.kind == tkNumber && (cond.Number || len(cond.Values) == 0):
			cond.Number = true
			cond.Values = append(cond.Values, t.text)
		default:
			return false
		}
		return true
	}
	switch {
	case len(rest) == 2 && rest[0].kind == tkOp && slices.Contains([]string{"=", "<>", "!=", "<", "<=", ">", ">="}, rest[0].text):
		cond.Op = rest[0].text
		if cond.Op == "!=" {
			cond.Op = "<>"
		}
		return cond, lit(rest[1])
	case len(rest) == 2 && rest[0].is("like") && rest[1].kind == tkString:
		cond.Op = "like"
		return cond, lit(rest[1])
	case len(rest) == 4 && rest[0].is("between") && rest[2].is("and"):
		cond.Op = "between"
		return cond, lit(rest[1]) && lit(rest[3])
	case len(rest) >= 4 && rest[0].is("in") && rest[1].kind == tkLParen && rest[len(rest)-1].kind == tkRParen:
		cond.Op = "in"
		for i, t := range rest[2 : len(rest)-1] {
			if i%2 == 1 && t.kind != tkComma || i%2 == 0 && !lit(t) {
				return Cond{}, false
			}
		}
		return cond, len(rest)%2 == 0
	}
	return Cond{}, false
}

// constExpr translates a bound expression that depends on no row, or reports false.
func constExpr(toks []token) (string, bool) {
	var parts []string
	for _, t := range toks {
		if t.kind == tkIdent && !constFuncs[t.lower()] {
			return "", false
		}
		if t.kind == tkQuoted || t.kind == tkSemicolon {
			return "", false
		}
		parts = append(parts, t.text)
	}
	out, err := Translate(strings.Join(parts, " "))
	if err != nil {
		return "", false
	}
	return out, true
}

// setBound records v as a lower and/or upper bound, as the comparison op says. Strict and
// non-strict comparisons bound alike: the file selection only has to be conservative.
func setBound[T any](op string, v T, lo, hi *T) {
	switch op {
	case ">", ">=":
		*lo = v
	case "<", "<=":
		*hi = v
	case "=":
		*lo, *hi = v, v
	}
}

// facetColumns are the columns whose distinct values the lake may record per file
// (lake.FacetColumns), by their lower-case path.
var facetColumns = map[string]bool{"useridentity.type": true, "eventsource": true, "eventname": true, "errorcode": true}

// facetClause reads c as a clause of conditions on facet columns joined by OR. A disjunct that
// ANDs several conditions stands for one of them that is on a facet column (or an OR of such
// conditions): every row that satisfies the disjunct satisfies it, so the clause holds for
// every row c holds for. ok is false when some disjunct has no such condition.
func facetClause(c []token, qualifiers map[string]bool) ([]Cond, bool) {
	var clause []Cond
	for _, d := range disjuncts(unwrap(c)) {
		d = unwrap(d)
		if len(disjuncts(d)) > 1 {
			sub, ok := facetClause(d, qualifiers)
			if !ok {
				return nil, false
			}
			clause = append(clause, sub...)
			continue
		}
		// Of the disjunct's conditions, the one on the column that usually leaves fewest rows.
		var best []Cond
		for _, x := range positiveConjuncts(d) {
			var cand []Cond
			if cond, ok := facetCond(x, qualifiers); ok {
				cand = []Cond{cond}
			} else if len(disjuncts(x)) > 1 {
				if sub, ok := facetClause(x, qualifiers); ok {
					cand = sub
				}
			}
			if cand != nil && (best == nil || FacetRank(cand) < FacetRank(best)) {
				best = cand
			}
		}
		if best == nil {
			return nil, false
		}
		clause = append(clause, best...)
	}
	return clause, len(clause) > 0
}

// positiveConjuncts splits c at its top-level ANDs, and goes on into the conditions that hold
// whenever c holds: those of coalesce(X, false) (X), and of CASE WHEN A THEN B ELSE false END
// (A and B), as the Sigma and CloudWatch pattern translations write them.
func positiveConjuncts(c []token) [][]token {
	var out [][]token
	cs := conjuncts(unwrap(c))
	if cs == nil {
		return [][]token{unwrap(c)} // a top-level OR
	}
	for _, x := range cs {
		x = unwrap(x)
		switch {
		case len(cs) > 1 && len(conjuncts(x)) > 1:
			out = append(out, positiveConjuncts(x)...) // (A AND B) AND C
		case len(x) > 5 && x[0].is("coalesce") && x[1].kind == tkLParen && x[len(x)-1].kind == tkRParen &&
			x[len(x)-2].is("false") && x[len(x)-3].kind == tkComma && closes(x[1:len(x)-3]):
			out = append(out, positiveConjuncts(x[2:len(x)-3])...)
		case len(x) > 7 && x[0].is("case") && x[1].is("when") && x[len(x)-1].is("end") && x[len(x)-2].is("false") && x[len(x)-3].is("else"):
			then := -1
			d := 0
			for i := 2; i < len(x)-3; i++ {
				d += parenDelta(x[i])
				if d == 0 && (x[i].is("case") || x[i].is("when") && i > 2) {
					break // a nested CASE or several WHENs: keep to what is simple
				}
				if d == 0 && x[i].is("then") {
					then = i
					break
				}
			}
			if then < 0 {
				out = append(out, x)
				continue
			}
			out = append(out, positiveConjuncts(x[2:then])...)
			out = append(out, positiveConjuncts(x[then+1:len(x)-3])...)
		default:
			out = append(out, x)
		}
	}
	return out
}

// closes reports whether toks is '(' … with its parentheses balanced and the first not closed
// before the end: the argument list of a call with its closing parenthesis cut off.
func closes(toks []token) bool {
	d := 0
	for _, t := range toks {
		d += parenDelta(t)
		if d <= 0 {
			return false
		}
	}
	return d == 1
}

// facetOrder ranks the facet columns by how few rows a condition on them usually leaves.
var facetOrder = map[string]int{"eventname": 0, "eventsource": 1, "errorcode": 2, "useridentity.type": 3}

// FacetRank ranks a disjunction of conditions on facet columns by how few rows it usually leaves
// (its worst condition's): a condition naming values (=, IN, LIKE, IS NOT NULL) by its column —
// event names first, then event sources, error codes, identity types —, and after all of those,
// one excluding values (<>, NOT IN, NOT LIKE), which leaves nearly every row.
func FacetRank(conds []Cond) int {
	r := 0
	for _, c := range conds {
		rank := facetOrder[c.Column]
		switch strings.TrimPrefix(c.Op, "lower ") {
		case "<>", "not in", "not like":
			rank += len(facetOrder)
		}
		r = max(r, rank)
	}
	return r
}

// facetCond reads c as one comparison of a facet column, or of its lower(), with string
// literals. A comparison of lower(column) has an Op starting with "lower " ("lower =",
// "lower in", "lower like" …): what the Sigma translation writes for case-insensitive matches.
func facetCond(c []token, qualifiers map[string]bool) (Cond, bool) {
	lower := false
	col, i := facetColumn(c, qualifiers)
	if col == "" && len(c) > 3 && c[0].is("lower") && c[1].kind == tkLParen {
		col, i = facetColumn(c[2:], qualifiers)
		if col == "" || 2+i >= len(c) || c[2+i].kind != tkRParen {
			return Cond{}, false
		}
		i, lower = i+3, true
	}
	if col == "" {
		return Cond{}, false
	}
	cond, ok := facetComparison(col, c[i:])
	if ok && lower {
		cond.Op = "lower " + cond.Op
	}
	return cond, ok
}

// facetColumn reads a facet column at the start of c: name(.name)*, maybe after the table's
// name or alias. It returns the column's lower-case path and the tokens it took, or "".
func facetColumn(c []token, qualifiers map[string]bool) (string, int) {
	var path []string
	i := 0
	for i < len(c) && (c[i].kind == tkIdent || c[i].kind == tkQuoted) {
		path = append(path, strings.ToLower(c[i].name()))
		i++
		if i+1 < len(c) && c[i].text == "." && (c[i+1].kind == tkIdent || c[i+1].kind == tkQuoted) {
			i++
			continue
		}
		break
	}
	if len(path) > 1 && qualifiers[path[0]] && facetColumns[strings.Join(path[1:], ".")] {
		path = path[1:]
	}
	col := strings.Join(path, ".")
	if !facetColumns[col] {
		return "", 0
	}
	return col, i
}

// facetComparison reads rest, what follows a facet column, as its comparison with literals.
func facetComparison(col string, rest []token) (Cond, bool) {
	cond := Cond{Column: col}
	list := func(toks []token) bool {
		if len(toks) < 3 || toks[0].kind != tkLParen || toks[len(toks)-1].kind != tkRParen {
			return false
		}
		for j, t := range toks[1 : len(toks)-1] {
			switch {
			case j%2 == 0 && t.kind == tkString:
				cond.Values = append(cond.Values, t.stringValue())
			case j%2 == 1 && t.kind == tkComma:
			default:
				return false
			}
		}
		return len(toks)%2 == 1
	}
	switch {
	case len(rest) == 2 && rest[1].kind == tkString && (rest[0].text == "=" || rest[0].text == "<>" || rest[0].text == "!="):
		cond.Op, cond.Values = rest[0].text, []string{rest[1].stringValue()}
		if cond.Op == "!=" {
			cond.Op = "<>"
		}
	case len(rest) == 2 && rest[0].is("like") && rest[1].kind == tkString:
		cond.Op, cond.Values = "like", []string{rest[1].stringValue()}
	case len(rest) == 4 && rest[0].is("like") && rest[1].kind == tkString && rest[2].is("escape") && rest[3].kind == tkString && rest[3].stringValue() == `\`:
		cond.Op, cond.Values = "like escape", []string{rest[1].stringValue()}
	case len(rest) == 3 && rest[0].is("not") && rest[1].is("like") && rest[2].kind == tkString:
		cond.Op, cond.Values = "not like", []string{rest[2].stringValue()}
	case len(rest) >= 4 && rest[0].is("in") && list(rest[1:]):
		cond.Op = "in"
	case len(rest) >= 5 && rest[0].is("not") && rest[1].is("in") && list(rest[2:]):
		cond.Op = "not in"
	case len(rest) == 3 && rest[0].is("is") && rest[1].is("not") && rest[2].is("null"):
		cond.Op = "is not null"
	default:
		return Cond{}, false
	}
	return cond, true
}
