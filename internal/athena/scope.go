package athena

import (
	"strings"
)

// Checks that need one SELECT's clauses: what its WHERE and HAVING may name, and the types of the
// CloudTrail table's columns they compare.
//
// A select-list alias is not a name in WHERE or HAVING in Trino ("Column 'e' cannot be resolved";
// https://trino.io/docs/current/sql/select.html: output names are visible in ORDER BY only);
// DuckDB binds it, and SELECT eventname AS e … WHERE e = 'x' quietly runs. A reference to an alias
// in those clauses is written qualified by the name of the relation of the FROM list (tables,
// joins, UNNEST) it can only belong to, so DuckDB resolves it against that relation's columns
// only: a column of that name still answers (as in Trino), anything else fails and MapError says
// what Trino says. Where two relations whose columns are not known here could hold it, it is left.
//
// The partition columns and the text columns of the CloudTrail table are varchar; Trino refuses
// to compare a varchar with a number ("Cannot apply operator: varchar = integer"), DuckDB casts;
// the check applies to a column that surely is the CloudTrail table's.

// cloudtrailVarchar are the top-level varchar columns of the Athena CloudTrail table.
var cloudtrailVarchar = map[string]bool{
	"eventversion": true, "eventtime": true, "eventsource": true, "eventname": true,
	"awsregion": true, "sourceipaddress": true, "useragent": true, "errorcode": true,
	"errormessage": true, "requestparameters": true, "responseelements": true,
	"additionaleventdata": true, "requestid": true, "eventid": true, "readonly": true,
	"eventtype": true, "apiversion": true, "recipientaccountid": true, "serviceeventdetails": true,
	"sharedeventid": true, "vpcendpointid": true, "vpcendpointaccountid": true,
	"eventcategory": true, "sessioncredentialfromconsole": true, "edgedevicedetails": true,
	"account": true, "region": true, "year": true, "month": true, "day": true,
}

// cloudtrailOther are the CloudTrail table's columns that are not varchar, and the lake's own
// (managementevent, insightdetails, residual): with cloudtrailVarchar, every column a relation
// reading the table has.
var cloudtrailOther = map[string]bool{
	"useridentity": true, "resources": true, "addendum": true, "tlsdetails": true,
	"managementevent": true, "insightdetails": true, "residual": true,
}

// relation is one item of a FROM list: a table, a subquery or an UNNEST.
type relation struct {
	name  string          // the name it is referred to by, as written ("" if none)
	table string          // the table name, lower case ("" for a subquery or UNNEST)
	cols  map[string]bool // its columns, lower case; nil when they are not known here
}

// has reports whether the relation is known to have column col.
func (rel *relation) has(col string) bool { return rel.cols[col] }

// selectClauses are the parts of one SELECT at one level of nesting, as node index ranges.
type selectClauses struct {
	aliases   map[string]bool // names given with AS in the select list
	rels      []relation      // the FROM list; nil when it could not be read
	where     [][2]int        // WHERE and HAVING ranges
	hasSelect bool
}

// planScope runs the clause checks for the SELECT written directly in nodes, if any, and
// returns its clauses (nil when nodes hold no SELECT): the calls of the select list are checked
// against the types of its relations' columns (see varcharOperand).
func (r *rewriter) planScope(nodes []node) (*selectClauses, error) {
	sc := parseClauses(nodes)
	if !sc.hasSelect {
		return nil, nil
	}
	for _, rg := range sc.where {
		if len(sc.aliases) > 0 {
			r.qualifyAliases(nodes[rg[0]:rg[1]], &sc)
		}
		if err := r.checkVarcharCompare(nodes[rg[0]:rg[1]], &sc); err != nil {
			return nil, err
		}
	}
	return &sc, nil
}

// isCloudTrailTable reports whether a table name is the CloudTrail table.
func isCloudTrailTable(name string) bool { return name == "cloudtrail_logs" }

// parseClauses finds the select-list aliases, the FROM relations and the WHERE/HAVING ranges.
func parseClauses(nodes []node) selectClauses {
	sc := selectClauses{aliases: map[string]bool{}}
	state := ""
	start := 0
	var from []node // significant nodes of the FROM clause
	closeRange := func(end int) {
		if state == "where" || state == "having" {
			sc.where = append(sc.where, [2]int{start, end})
		}
	}
	for i := range nodes {
		n := &nodes[i]
		if !n.significant() {
			continue
		}
		if !n.group && n.tok.kind == tkIdent {
			w := n.tok.lower()
			switch {
			case w == "select" && !sc.hasSelect:
				sc.hasSelect, state = true, "select"
				continue
			case w == "select" || w == "union" || w == "intersect" || w == "except":
				closeRange(i)
				state = "other" // a second SELECT of a set operation: left alone
				continue
			case w == "from" && state == "select":
				state = "from"
				continue
			case w == "where" || w == "having":
				closeRange(i)
				state, start = w, i+1
				continue
			case selectListEnd[w] && state != "select":
				closeRange(i)
				state = "other"
				continue
			}
		}
		switch state {
		case "select":
			if isKeyword(n, "as") {
				if k := nextSig(nodes, i); k >= 0 && isWord(&nodes[k]) {
					sc.aliases[strings.ToLower(nodes[k].tok.name())] = true
				}
			}
		case "from":
			from = append(from, *n)
		}
	}
	closeRange(len(nodes))
	sc.rels = parseRelations(from)
	return sc
}

// joinWords are the words that start a join of the next relation.
var joinWords = map[string]bool{
	"join": true, "cross": true, "inner": true, "left": true, "right": true, "full": true,
	"outer": true, "natural": true,
}

// parseRelations reads a FROM list (its significant nodes): relations separated by commas or
// joins, each a table name, a parenthesised subquery, UNNEST(…) or LATERAL (…), with an optional
// alias and column names. It returns nil when the list is not of that shape.
func parseRelations(s []node) []relation {
	var rels []relation
	k := 0
	for k < len(s) {
		var rel relation
		switch {
		case isKeyword(&s[k], "unnest") && k+1 < len(s) && s[k+1].group:
			rel.cols = map[string]bool{} // its columns have no names unless the alias gives them
			k += 2
			if k+1 < len(s) && isKeyword(&s[k], "with") && isKeyword(&s[k+1], "ordinality") {
				k += 2
			}
		case isKeyword(&s[k], "lateral") && k+1 < len(s) && s[k+1].group:
			k += 2
		case s[k].group && s[k].tok.kind == tkLParen:
			k++
		case isWord(&s[k]) && !isReserved(&s[k]):
			rel.name, rel.table = s[k].tok.text, strings.ToLower(s[k].tok.name())
			k++
			for k+1 < len(s) && !s[k].group && s[k].tok.text == "." && isWord(&s[k+1]) {
				rel.name, rel.table = s[k+1].tok.text, strings.ToLower(s[k+1].tok.name())
				k += 2
			}
			if isCloudTrailTable(rel.table) {
				rel.cols = map[string]bool{}
				for c := range cloudtrailVarchar {
					rel.cols[c] = true
				}
				for c := range cloudtrailOther {
					rel.cols[c] = true
				}
			}
		default:
			return nil
		}
		if k < len(s) && isKeyword(&s[k], "as") {
			k++
		}
		if k < len(s) && isWord(&s[k]) && !isReserved(&s[k]) && !isKeyword(&s[k], "unnest") {
			rel.name = s[k].tok.text
			k++
			if k < len(s) && s[k].group && s[k].tok.kind == tkLParen {
				rel.cols = map[string]bool{}
				for _, a := range splitArgs(s[k].kids) {
					if w := sigNodes(a); len(w) == 1 && isWord(&w[0]) {
						rel.cols[strings.ToLower(w[0].tok.name())] = true
					}
				}
				k++
			}
		}
		rels = append(rels, rel)
		if k == len(s) {
			return rels
		}
		// ON condition or USING (…), then a comma or the next join.
		for k < len(s) && !(!s[k].group && s[k].tok.kind == tkComma) && !(s[k].tok.kind == tkIdent && !s[k].group && joinWords[s[k].tok.lower()]) {
			k++
		}
		for k < len(s) && (!s[k].group && s[k].tok.kind == tkComma || isWord(&s[k]) && joinWords[s[k].tok.lower()]) {
			k++
		}
	}
	if len(rels) == 0 {
		return nil
	}
	return rels
}

// aliasRelation names the relation a reference to a select alias in WHERE or HAVING is to be
// qualified by, so that DuckDB resolves it against that relation's columns only: the one
// relation whose columns are not known, or, when all are known and none has the name, the
// CloudTrail table (or the first relation), where the reference fails as it does in Trino.
// ok is false when a relation has a column of that name (the reference names the column) or
// when the name could belong to more than one relation.
func (sc *selectClauses) aliasRelation(name string) (string, bool) {
	var unknown []string
	for i := range sc.rels {
		rel := &sc.rels[i]
		if rel.has(name) {
			return "", false
		}
		if rel.cols == nil {
			unknown = append(unknown, rel.name)
		}
	}
	switch {
	case len(unknown) == 1:
		return unknown[0], unknown[0] != ""
	case len(unknown) > 1:
		return "", false
	}
	for i := range sc.rels {
		if isCloudTrailTable(sc.rels[i].table) && sc.rels[i].name != "" {
			return sc.rels[i].name, true
		}
	}
	for i := range sc.rels {
		if sc.rels[i].name != "" {
			return sc.rels[i].name, true
		}
	}
	return "", false
}

// cloudtrailVarcharRef reports whether a column reference, bare (qual == "") or qualified by a
// relation's name, surely is a varchar column of the CloudTrail table: a bare name must belong
// to a CloudTrail relation and to no other relation that has it or may have it.
func (sc *selectClauses) cloudtrailVarcharRef(qual, col string) bool {
	if sc == nil || !cloudtrailVarchar[col] {
		return false
	}
	found := false
	for i := range sc.rels {
		rel := &sc.rels[i]
		if qual != "" {
			if strings.EqualFold(unquote(rel.name), qual) {
				return isCloudTrailTable(rel.table)
			}
			continue
		}
		switch {
		case isCloudTrailTable(rel.table) && !found:
			found = true
		case rel.cols == nil || rel.has(col):
			return false
		}
	}
	return found
}

// unquote is the name an identifier as written stands for.
func unquote(text string) string {
	if strings.HasPrefix(text, `"`) {
		return token{kind: tkQuoted, text: text}.name()
	}
	return text
}

// qualifyAliases marks the references to select-list aliases in a WHERE or HAVING range (and its
// parenthesised parts, not its subqueries or lambdas) to be written qualified.
func (r *rewriter) qualifyAliases(nodes []node, sc *selectClauses) {
	for i := range nodes {
		n := &nodes[i]
		if n.group {
			if !isSubquery(n) && !hasLambda(n.kids) {
				r.qualifyAliases(n.kids, sc)
			}
			continue
		}
		if !isWord(n) || isReserved(n) || !sc.aliases[strings.ToLower(n.tok.name())] {
			continue
		}
		if p := prevSig(nodes, i); p >= 0 && !nodes[p].group && nodes[p].tok.text == "." {
			continue
		}
		if q := nextSig(nodes, i); q >= 0 && (nodes[q].group && nodes[q].tok.kind == tkLParen ||
			!nodes[q].group && (nodes[q].tok.text == "." || nodes[q].tok.text == "->")) {
			continue
		}
		rel, ok := sc.aliasRelation(strings.ToLower(n.tok.name()))
		if !ok {
			continue
		}
		if r.qualify == nil {
			r.qualify = map[int]string{}
		}
		r.qualify[n.tok.pos] = rel
		r.qualified = append(r.qualified, strings.ToLower(n.tok.name()))
	}
}

// isSubquery reports whether a group holds a query.
func isSubquery(n *node) bool {
	for i := range n.kids {
		if n.kids[i].significant() {
			return isKeyword(&n.kids[i], "select") || isKeyword(&n.kids[i], "with") || isKeyword(&n.kids[i], "values")
		}
	}
	return false
}

// hasLambda reports whether nodes hold a lambda arrow at their level.
func hasLambda(nodes []node) bool {
	for i := range nodes {
		if !nodes[i].group && nodes[i].tok.text == "->" {
			return true
		}
	}
	return false
}

// comparisons are the operators Trino refuses between varchar and a number.
var comparisons = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true}

// checkVarcharCompare refuses a varchar column of the CloudTrail table compared with a number.
func (r *rewriter) checkVarcharCompare(nodes []node, sc *selectClauses) error {
	s := sigNodes(nodes)
	for i := range s {
		n := &s[i]
		if n.group {
			if !isSubquery(n) {
				if err := r.checkVarcharCompare(n.kids, sc); err != nil {
					return err
				}
			}
			continue
		}
		if n.tok.kind != tkOp || !comparisons[n.tok.text] {
			if isKeyword(n, "in") && i > 0 && i+1 < len(s) && s[i+1].group && !isSubquery(&s[i+1]) {
				if col, ok := sc.varcharColumn(s[:i]); ok {
					for _, a := range splitArgs(s[i+1].kids) {
						if num, ok := numberLiteral(a); ok {
							return r.errorf(firstPos(a, n.tok.pos), "IN value and list items must be the same type: varchar; %s is a string column: write '%s'", col, num)
						}
					}
				}
			}
			continue
		}
		if col, ok := sc.varcharColumn(s[:i]); ok {
			if num, ok := numberLiteral(s[i+1:]); ok {
				return r.errorf(n.tok.pos, "Cannot apply operator: varchar %s %s; %s is a string column: compare it with a string ('%s')",
					n.tok.text, numberTypeName(num), col, strings.TrimLeft(num, "+"))
			}
		}
		if num, ok := numberLiteralEnd(s[:i]); ok {
			if col, ok := sc.varcharColumn(s[i+1:]); ok {
				return r.errorf(n.tok.pos, "Cannot apply operator: %s %s varchar; %s is a string column: compare it with a string ('%s')",
					numberTypeName(num), n.tok.text, col, strings.TrimLeft(num, "+"))
			}
		}
	}
	return nil
}

// varcharColumn reports whether the operand ending s is a varchar CloudTrail column (bare or
// qualified by a relation's name) and names it.
func (sc *selectClauses) varcharColumn(s []node) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	last := &s[len(s)-1]
	if !isWord(last) || isReserved(last) || !cloudtrailVarchar[strings.ToLower(last.tok.name())] {
		return "", false
	}
	qual := ""
	if len(s) >= 2 && !s[len(s)-2].group && s[len(s)-2].tok.text == "." {
		// t.year: a table alias, not a field of a row (a.b.year).
		if len(s) < 3 || !isWord(&s[len(s)-3]) || len(s) >= 4 && !s[len(s)-4].group && s[len(s)-4].tok.text == "." {
			return "", false
		}
		qual = s[len(s)-3].tok.name()
	}
	if len(s) >= 2 && !s[len(s)-2].group && s[len(s)-2].tok.kind == tkOp && s[len(s)-2].tok.text != "." && !comparisons[s[len(s)-2].tok.text] {
		return "", false // an operand of arithmetic or ||
	}
	col := strings.ToLower(last.tok.name())
	return col, sc.cloudtrailVarcharRef(qual, col)
}

// numberLiteral reports whether the operand starting s is a numeric literal standing alone.
func numberLiteral(s []node) (string, bool) {
	s = firstSig(s, 3)
	sign := ""
	if len(s) > 0 && !s[0].group && (s[0].tok.text == "-" || s[0].tok.text == "+") {
		sign, s = s[0].tok.text, s[1:]
	}
	if len(s) == 0 || s[0].group || s[0].tok.kind != tkNumber {
		return "", false
	}
	if len(s) > 1 {
		if nx := &s[1]; nx.group || nx.tok.kind == tkOp && !comparisons[nx.tok.text] {
			return "", false // 2024 + x, 2024 || x
		}
	}
	return sign + s[0].tok.text, true
}

// numberLiteralEnd reports whether the operand ending s is a numeric literal.
func numberLiteralEnd(s []node) (string, bool) {
	if len(s) == 0 || s[len(s)-1].group || s[len(s)-1].tok.kind != tkNumber {
		return "", false
	}
	if len(s) >= 2 && !s[len(s)-2].group && s[len(s)-2].tok.kind == tkOp && !comparisons[s[len(s)-2].tok.text] {
		if s[len(s)-2].tok.text == "-" && (len(s) < 3 || !termEnd(&s[len(s)-3])) {
			return "-" + s[len(s)-1].tok.text, true
		}
		return "", false
	}
	return s[len(s)-1].tok.text, true
}

// numberTypeName is Trino's type of a numeric literal, as its error messages name it.
func numberTypeName(lit string) string {
	t := literalType(lit)
	switch t.kind {
	case numDecimal:
		return "decimal(" + itoa(t.prec) + "," + itoa(t.scale) + ")"
	case numDouble:
		return "double"
	}
	if t == tyBigint {
		return "bigint"
	}
	return "integer"
}

// firstSig returns the first n significant nodes of s (fewer if s has fewer), without copying the
// rest: comparisons are checked at every operator of a WHERE clause.
func firstSig(s []node, n int) []node {
	var out []node
	for i := range s {
		if len(out) == n {
			break
		}
		if s[i].significant() {
			out = append(out, s[i])
		}
	}
	return out
}

// checkConcat refuses a number concatenated with a string literal, nodes[i] being the ||: Trino
// reads a || b as concat(a, b), which takes strings, arrays or varbinary only
// (https://trino.io/docs/current/functions/string.html#concatenation-operator; the parser's
// AstBuilder.visitConcatenation), where DuckDB casts the number. Only operands whose types the
// translator knows are checked: a numeric literal or a call of known numeric result next to a
// string literal.
func (r *rewriter) checkConcat(nodes []node, i int) error {
	p, q := prevSig(nodes, i), nextSig(nodes, i)
	if p < 0 || q < 0 {
		return nil
	}
	s := primaryStart(nodes, p)
	if s < 0 {
		return nil
	}
	left := sigNodes(nodes[s : p+1])
	right := sigNodes(nodes[q : q+1])
	if k := nextSig(nodes, q); k >= 0 && isWord(&nodes[q]) && nodes[k].group && nodes[k].tok.kind == tkLParen {
		right = sigNodes(nodes[q : k+1])
	}
	lt, rt, ls, rs := r.termType(left), r.termType(right), stringLiteral(left), stringLiteral(right)
	var a, b string
	switch {
	case isNumber(lt) && rs != "":
		a, b = typeName(lt), rs
	case ls != "" && isNumber(rt):
		a, b = ls, typeName(rt)
	default:
		return nil
	}
	return r.errorf(nodes[i].tok.pos, "Unexpected parameters (%s, %s) for function concat. Expected: concat(varchar), concat(array(E)), concat(varbinary); "+
		"cast the number to varchar: CAST(x AS varchar) || '…'", a, b)
}

// isNumber reports whether an inferred type is numeric.
func isNumber(t numType) bool {
	return t.kind == numInteger || t.kind == numDecimal || t.kind == numDouble
}

// typeName is Trino's name of an inferred numeric type.
func typeName(t numType) string {
	switch {
	case t.kind == numDecimal:
		return "decimal(" + itoa(t.prec) + "," + itoa(t.scale) + ")"
	case t.kind == numDouble:
		return "double"
	case t.prec > 10:
		return "bigint"
	}
	return "integer"
}

// stringLiteral is the Trino type of a lone string literal (varchar(n)), or "".
func stringLiteral(s []node) string {
	if len(s) != 1 || s[0].group || s[0].tok.kind != tkString {
		return ""
	}
	return "varchar(" + itoa(len([]rune(s[0].tok.stringValue()))) + ")"
}

// varcharColumnArg reports whether a function argument is only a column reference (col or
// rel.col) that surely is a varchar column of the CloudTrail table in the SELECT being written,
// and returns it as written.
func (r *rewriter) varcharColumnArg(arg []node) (string, bool) {
	if len(r.scopes) == 0 {
		return "", false
	}
	s := sigNodes(arg)
	qual := ""
	switch {
	case len(s) == 1 && isWord(&s[0]) && !isReserved(&s[0]):
	case len(s) == 3 && isWord(&s[0]) && !s[1].group && s[1].tok.text == "." && isWord(&s[2]):
		qual = s[0].tok.name()
	default:
		return "", false
	}
	last := &s[len(s)-1]
	if !r.scopes[len(r.scopes)-1].cloudtrailVarcharRef(qual, strings.ToLower(last.tok.name())) {
		return "", false
	}
	text := last.tok.text
	if qual != "" {
		text = s[0].tok.text + "." + text
	}
	return text, true
}
