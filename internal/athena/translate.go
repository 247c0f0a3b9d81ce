// Package athena translates Amazon Athena (Trino) SQL into DuckDB SQL with the same meaning.
//
// The translation works on tokens, never on raw text: a lexer splits the statement into tokens
// that remember their byte offsets, the tokens are grouped by matching parentheses and brackets,
// and a rewriter walks the groups, replacing the Trino functions and constructs DuckDB does not
// take as they are (see the function table in functions.go) and copying everything else,
// including comments and whitespace, unchanged. Some rewrites call macros prefixed "trino_"
// that Setup defines; Setup must run on every DuckDB connection before translated SQL does.
//
// Untranslatable SQL yields an *Error that points at the offending token in the user's original
// statement; Translation.Position maps an offset in the translated SQL back to the original.
//
// Two rewrites are structural: unnamed expressions of the outermost select list get Athena's
// names _col0, _col1, … (see colnames.go), and database or catalog qualifiers on table names in
// FROM and JOIN are dropped, since the lake is a single database.
//
// Known departures from Trino, each a choice of the nearest DuckDB behaviour: types are not
// known at translation time, so rewrites that depend on them (cardinality of a map, date_add and
// date_trunc keeping a DATE) look at the argument's syntax; from_iso8601_timestamp gives NULL
// instead of failing on text that is not ISO 8601; approx_distinct is exact; regular expressions
// run on RE2, not Java; UNNEST of an array of rows or of a map into several columns, lambdas
// beyond transform/filter/*_match, reduce, map_agg, listagg, sha512 and the hmac_* functions are
// not translated. DECIMAL division (decimal.go) and values with a time zone (timezone.go) depend
// on types the translator infers from the syntax; where it cannot, DuckDB's behaviour remains.
// Division by zero is NULL (DuckDB's), where Trino fails the query.
// What Trino refuses is refused with Trino's message (reject.go, scope.go, exact.go): names not
// in Trino's function list, a trailing comma, a select alias in WHERE or HAVING, a varchar column
// of the CloudTrail table compared with a number, an array subscript out of range.
package athena

import (
	"errors"
	"sort"
	"strings"
)

// node is a token or a bracketed group of nodes. For a group, tok is the opening bracket.
type node struct {
	tok   token
	group bool
	kids  []node
	close token
}

// significant reports whether the node carries meaning (is not whitespace or a comment).
func (n *node) significant() bool { return n.group || !n.tok.trivia() }

// span records that the output text starting at out came from the original offset orig;
// n is the length copied verbatim (0 for synthesized text, which maps to orig itself).
type span struct {
	out, orig, n int
}

// Translation is the result of translating one statement, with the offset map needed to point
// DuckDB's errors at the user's original SQL.
type Translation struct {
	// SQL is the DuckDB statement.
	SQL       string
	original  string
	spans     []span
	qualified []string // select aliases written qualified in WHERE/HAVING (see planScope)
}

// Position maps a byte offset in t.SQL to the 1-based line and column of the original SQL that
// produced it. Text synthesized by the translation maps to the start of the construct it replaced.
func (t *Translation) Position(offset int) (line, column int) {
	i := sort.Search(len(t.spans), func(i int) bool { return t.spans[i].out > offset }) - 1
	if i < 0 {
		return lineCol(t.original, 0)
	}
	s := t.spans[i]
	orig := s.orig
	if d := offset - s.out; d < s.n {
		orig += d
	}
	return lineCol(t.original, orig)
}

// Translate rewrites one Athena/Trino SQL statement into DuckDB SQL with the same meaning.
// A trailing semicolon is dropped; more than one statement is an error.
func Translate(sql string) (string, error) {
	t, err := TranslateMapped(sql)
	if err != nil {
		return "", err
	}
	return t.SQL, nil
}

// TranslateMapped is Translate that also returns the offset map of the translation.
// Its error, when not nil, is an *Error.
func TranslateMapped(sql string) (*Translation, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	toks, err = dropTrailingSemicolon(sql, toks)
	if err != nil {
		return nil, err
	}
	if err := checkTrailingCommas(sql, toks); err != nil {
		return nil, err
	}
	nodes, err := parseGroups(sql, toks)
	if err != nil {
		return nil, err
	}
	r := &rewriter{src: sql, top: nodes, aliases: outputAliases(nodes)}
	if err := r.seq(nodes, false); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, errorAt(sql, 0, "%s", err.Error())
	}
	return &Translation{SQL: r.out.String(), original: sql, spans: r.spans, qualified: r.qualified}, nil
}

// dropTrailingSemicolon removes the statement terminator and rejects a second statement.
func dropTrailingSemicolon(sql string, toks []token) ([]token, error) {
	for i, t := range toks {
		if t.kind != tkSemicolon {
			continue
		}
		for _, u := range toks[i+1:] {
			if !u.trivia() {
				if u.kind == tkSemicolon {
					continue
				}
				return nil, errorAt(sql, u.pos, "only one statement can be run at a time")
			}
		}
		out := append([]token(nil), toks[:i]...)
		for _, u := range toks[i+1:] {
			if u.trivia() {
				out = append(out, u)
			}
		}
		return out, nil
	}
	return toks, nil
}

// parseGroups nests the tokens by matching ( ) and [ ].
func parseGroups(sql string, toks []token) ([]node, error) {
	type frame struct {
		open  token
		nodes []node
	}
	stack := []frame{{}}
	for _, t := range toks {
		switch t.kind {
		case tkLParen, tkLBracket:
			stack = append(stack, frame{open: t})
		case tkRParen, tkRBracket:
			top := stack[len(stack)-1]
			want := tkLParen
			if t.kind == tkRBracket {
				want = tkLBracket
			}
			if len(stack) == 1 || top.open.kind != want {
				return nil, errorAt(sql, t.pos, "mismatched input '%s'", t.text)
			}
			stack = stack[:len(stack)-1]
			parent := &stack[len(stack)-1]
			parent.nodes = append(parent.nodes, node{tok: top.open, group: true, kids: top.nodes, close: t})
		default:
			top := &stack[len(stack)-1]
			top.nodes = append(top.nodes, node{tok: t})
		}
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1].open
		closer := ")"
		if open.kind == tkLBracket {
			closer = "]"
		}
		return nil, errorAt(sql, open.pos, "missing '%s' for this '%s'", closer, open.text)
	}
	return stack[0].nodes, nil
}

// rewriter writes the translated SQL and the offset map.
type rewriter struct {
	src   string
	out   strings.Builder
	spans []span

	top     []node         // the statement's root nodes
	aliases map[int]string // root node index → the _colN alias written after it (see outputAliases)

	aliasTy, aliasSeen map[string]numType // types of the statement's AS aliases (see aliasTypes)

	opens     map[int]string   // text to write before the token at an offset (see planPostfix)
	post      map[int]postfix  // postfix rewrites by the offset of their first token
	zoneModes map[int]zoneMode // forms of zoned values, by the offset of AT or the function name

	qualify   map[int]string   // alias references to write qualified, by offset (see planScope)
	qualified []string         // the alias names so written
	scopes    []*selectClauses // the SELECTs being written, innermost last (see planScope)
}

// alias writes the Athena output name given to the unaliased expression that ends at root node i.
func (r *rewriter) alias(nodes []node, i int) {
	if len(r.aliases) == 0 || len(nodes) == 0 || len(r.top) == 0 || &nodes[0] != &r.top[0] {
		return
	}
	if a, ok := r.aliases[i]; ok {
		at := nodes[i].tok.pos
		if nodes[i].group {
			at = nodes[i].close.pos
		}
		r.synth(" AS "+a, at)
	}
}

// tok copies an original token.
func (r *rewriter) tok(t token) {
	r.spans = append(r.spans, span{out: r.out.Len(), orig: t.pos, n: len(t.text)})
	r.out.WriteString(t.text)
}

// synth writes text the translation made up, attributed to the original offset at.
func (r *rewriter) synth(s string, at int) {
	r.spans = append(r.spans, span{out: r.out.Len(), orig: at})
	r.out.WriteString(s)
}

// errorf returns an *Error positioned at the original offset at.
func (r *rewriter) errorf(at int, format string, args ...any) error {
	return errorAt(r.src, at, format, args...)
}

// verbatim copies nodes unchanged.
func (r *rewriter) verbatim(nodes []node) {
	for i := range nodes {
		n := &nodes[i]
		r.tok(n.tok)
		if n.group {
			r.verbatim(n.kids)
			r.tok(n.close)
		}
	}
}

// group writes a bracketed group, translating its content.
func (r *rewriter) group(n *node, noTuple bool) error {
	r.tok(n.tok)
	if err := r.seq(n.kids, noTuple); err != nil {
		return err
	}
	r.tok(n.close)
	return nil
}

// reserved lists the words that may stand before "(" without naming a function.
var reserved = map[string]bool{
	"select": true, "from": true, "where": true, "and": true, "or": true, "not": true, "on": true,
	"in": true, "exists": true, "as": true, "by": true, "having": true, "join": true, "using": true,
	"values": true, "when": true, "then": true, "else": true, "case": true, "distinct": true,
	"all": true, "any": true, "some": true, "union": true, "intersect": true, "except": true,
	"with": true, "over": true, "partition": true, "order": true, "group": true, "limit": true,
	"like": true, "between": true, "is": true, "lateral": true, "table": true, "into": true,
	"set": true, "end": true, "escape": true, "return": true, "sets": true, "window": true,
	"ordinality": true, "offset": true, "fetch": true, "only": true, "rows": true,
	"asc": true, "desc": true, "first": true, "last": true, "nulls": true, "cross": true,
	"inner": true, "left": true, "right": true, "full": true, "outer": true, "natural": true,
	"recursive": true, "explain": true, "describe": true, "show": true, "zone": true, "for": true,
	"both": true, "leading": true, "trailing": true, "preceding": true, "following": true,
}

// noTupleAfter lists the words after which a parenthesised list is not a ROW value.
var noTupleAfter = map[string]bool{
	"in": true, "values": true, "using": true, "as": true, "by": true, "over": true, "sets": true,
	"exists": true, "lateral": true, "table": true, "into": true, "window": true,
}

// isWord reports whether n is a bare or quoted identifier token.
func isWord(n *node) bool {
	return !n.group && (n.tok.kind == tkIdent || n.tok.kind == tkQuoted)
}

// isKeyword reports whether n is the bare word kw.
func isKeyword(n *node, kw string) bool { return n != nil && !n.group && n.tok.is(kw) }

// nextSig returns the index of the first significant node after i, or -1.
func nextSig(nodes []node, i int) int {
	for j := i + 1; j < len(nodes); j++ {
		if nodes[j].significant() {
			return j
		}
	}
	return -1
}

// seq translates a sequence of sibling nodes. noTuple stops parenthesised lists directly in
// the sequence from being read as ROW values.
func (r *rewriter) seq(nodes []node, noTuple bool) error {
	r.planPostfix(nodes)
	sc, err := r.planScope(nodes)
	if err != nil {
		return err
	}
	if sc != nil {
		r.scopes = append(r.scopes, sc)
		defer func() { r.scopes = r.scopes[:len(r.scopes)-1] }()
	}
	var prev *node // the previous significant node
	values := false
	sawSelect, inFrom := false, false
	for i := 0; i < len(nodes); i++ {
		n := &nodes[i]
		if !n.significant() {
			r.tok(n.tok)
			continue
		}
		if sawSelect && !n.group && (n.tok.is("from") || n.tok.is("join") || inFrom && n.tok.kind == tkComma) {
			inFrom = inFrom || n.tok.is("from")
			if last, ok := qualifiedTable(nodes, i); ok {
				// Athena's database (and catalog) qualifiers name nothing here: the lake is one
				// database, so "FROM mydb.cloudtrail_logs" reads cloudtrail_logs.
				r.tok(n.tok)
				k := i + 1
				for ; !nodes[k].significant(); k++ {
					r.tok(nodes[k].tok)
				}
				r.tok(nodes[last].tok)
				prev, i = &nodes[last], last
				continue
			}
		}
		if !n.group && n.tok.kind == tkOp && n.tok.text == "||" {
			if err := r.checkConcat(nodes, i); err != nil {
				return err
			}
		}
		switch {
		case isKeyword(n, "select"):
			sawSelect, inFrom = true, false
		case !n.group && n.tok.kind == tkIdent && fromEnd[n.tok.lower()]:
			inFrom = false
		}
		// A decimal division chain, else what planPostfix opened here and a postfix.
		last, ok, err := r.divisionChain(nodes, i, prev)
		if err == nil && !ok {
			r.writeOpens(n)
			last, ok, err = r.writePostfix(nodes, i)
		}
		if err != nil {
			return err
		}
		if ok {
			prev, i = &nodes[last], last
			values = false
			r.alias(nodes, i)
			continue
		}
		j := nextSig(nodes, i)
		var next *node
		if j >= 0 {
			next = &nodes[j]
		}
		switch {
		case isWord(n) && !isReserved(n) && next != nil && next.group && next.tok.kind == tkLParen:
			if aliasPosition(prev) || isCTEName(nodes, j) {
				// A table alias with column names (t(a, b)) or FILTER (WHERE ...).
				r.tok(n.tok)
				r.verbatim(nodes[i+1 : j])
				if err := r.group(next, true); err != nil {
					return err
				}
			} else {
				c := &call{r: r, name: n.tok, fname: strings.ToLower(n.tok.name()), between: nodes[i+1 : j], g: next}
				// A table function (FROM range(3)) or a statement word (COPY (…)) is the engine's
				// to accept or refuse, not a scalar function of Athena's list.
				c.notScalar = prev == nil && len(r.top) > 0 && &nodes[0] == &r.top[0] ||
					isKeyword(prev, "from") || isKeyword(prev, "join") || statementWords[c.fname] ||
					prev != nil && !prev.group && statementWords[prev.tok.lower()]
				c.args = splitArgs(next.kids)
				if err := c.translate(); err != nil {
					return err
				}
			}
			prev, i = next, j
			values = false
			r.alias(nodes, i)
			continue
		case n.group && n.tok.kind == tkLParen:
			if !noTuple && !values && tupleAllowed(prev) && isTuple(n) && !(next != nil && !next.group && next.tok.text == "->") {
				if err := r.structPack(n.tok.pos, splitArgs(n.kids), n.close); err != nil {
					return err
				}
			} else if err := r.group(n, isKeyword(prev, "sets")); err != nil {
				return err
			}
		case n.group:
			if err := r.group(n, false); err != nil {
				return err
			}
		case isKeyword(n, "decimal") && next != nil && !next.group && next.tok.kind == tkString:
			// DECIMAL '1.10' is decimal(3, 2); DuckDB reads it as its default decimal(18, 3).
			if t := decimalLiteralType(next.tok.stringValue()); t.kind == numDecimal {
				r.synth("CAST(", n.tok.pos)
				r.tok(next.tok)
				r.synth(" AS DECIMAL("+itoa(t.prec)+","+itoa(t.scale)+"))", next.tok.pos)
				prev, i = next, j
				r.alias(nodes, i)
				continue
			}
			r.tok(n.tok)
		default:
			if q, ok := r.qualify[n.tok.pos]; ok {
				r.synth(q+".", n.tok.pos)
				delete(r.qualify, n.tok.pos)
			}
			r.tok(n.tok)
		}
		switch {
		case isKeyword(n, "values"):
			values = true
		case n.group || n.tok.kind == tkComma:
		default:
			values = false
		}
		prev = n
		r.alias(nodes, i)
	}
	return nil
}

// isReserved reports whether n is a bare reserved word.
func isReserved(n *node) bool { return !n.group && n.tok.kind == tkIdent && reserved[n.tok.lower()] }

// aliasPosition reports whether a word after prev followed by "(" is not a function call: a word
// right after AS, after a ")" or after another identifier (an alias with column names).
func aliasPosition(prev *node) bool {
	if prev == nil {
		return false
	}
	if prev.group {
		return true // UNNEST(x) t(c), count(*) FILTER (WHERE ...), f(x) OVER (...)
	}
	if isKeyword(prev, "as") {
		return true
	}
	if prev.tok.kind == tkQuoted || prev.tok.kind == tkIdent && !reserved[prev.tok.lower()] {
		return true // FROM tbl t(a, b)
	}
	return false
}

// tupleAllowed reports whether a parenthesised list after prev is a ROW value.
func tupleAllowed(prev *node) bool {
	if prev == nil {
		return true
	}
	if prev.group {
		return false
	}
	switch prev.tok.kind {
	case tkIdent:
		return reserved[prev.tok.lower()] && !noTupleAfter[prev.tok.lower()]
	case tkOp, tkComma:
		return true
	}
	return false
}

// isTuple reports whether group n is a list of two or more expressions (not a subquery).
func isTuple(n *node) bool {
	for i := range n.kids {
		k := &n.kids[i]
		if !k.significant() {
			continue
		}
		if isKeyword(k, "select") || isKeyword(k, "with") || isKeyword(k, "values") {
			return false
		}
		break
	}
	return len(splitArgs(n.kids)) >= 2
}

// splitArgs splits a group's content at its top-level commas. An empty or blank group has no
// arguments.
func splitArgs(kids []node) [][]node {
	blank := true
	for i := range kids {
		if kids[i].significant() {
			blank = false
			break
		}
	}
	if blank {
		return nil
	}
	var args [][]node
	start := 0
	for i := range kids {
		if !kids[i].group && kids[i].tok.kind == tkComma {
			args = append(args, kids[start:i])
			start = i + 1
		}
	}
	return append(args, kids[start:])
}

// structPack writes a ROW value with fields named field0, field1, … so that every field has a
// name (DuckDB's unnamed structs cannot be scanned by the Go driver).
func (r *rewriter) structPack(at int, args [][]node, close token) error {
	r.synth("struct_pack(", at)
	for k, a := range args {
		if k > 0 {
			r.synth(",", at)
		}
		r.synth(" field"+itoa(k)+" := ", firstPos(a, at))
		if err := r.seq(a, false); err != nil {
			return err
		}
	}
	r.tok(token{kind: tkRParen, text: ")", pos: close.pos})
	return nil
}

// firstPos returns the offset of the first significant token of nodes, or def.
func firstPos(nodes []node, def int) int {
	for i := range nodes {
		if nodes[i].significant() {
			return nodes[i].tok.pos
		}
	}
	return def
}

// sigNodes returns the significant nodes of nodes.
func sigNodes(nodes []node) []node {
	var out []node
	for i := range nodes {
		if nodes[i].significant() {
			out = append(out, nodes[i])
		}
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

// fromEnd lists the words that end a FROM list.
var fromEnd = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true, "union": true,
	"intersect": true, "except": true, "window": true, "offset": true, "fetch": true, "on": true,
	"using": true,
}

// qualifiedTable reports whether the significant nodes after nodes[i] start with a qualified
// table name (db.table or catalog.db.table, the parts written together) and returns the index of
// its last part. Names in information_schema keep their qualifier.
func qualifiedTable(nodes []node, i int) (int, bool) {
	k := nextSig(nodes, i)
	if k < 0 || !isWord(&nodes[k]) || isReserved(&nodes[k]) {
		return 0, false
	}
	parts := []int{k}
	for k+2 < len(nodes) && !nodes[k+1].group && nodes[k+1].tok.text == "." && isWord(&nodes[k+2]) {
		k += 2
		parts = append(parts, k)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	if strings.EqualFold(nodes[parts[len(parts)-2]].tok.name(), "information_schema") {
		return 0, false
	}
	if next := nextSig(nodes, k); next >= 0 && nodes[next].group && nodes[next].tok.kind == tkLParen {
		return 0, false // a table function
	}
	return k, true
}
