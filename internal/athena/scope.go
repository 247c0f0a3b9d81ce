package athena

import (
	"strings"
)

// Checks that need one SELECT's clauses: what its WHERE and HAVING may name, and the types of the
// CloudTrail table's columns they compare.
//
// A select-list alias is not a name in WHERE or HAVING in Trino ("Column 'e' cannot be resolved";
// https://trino.io/docs/current/sql/select.html: output names are visible in ORDER BY only);
// DuckDB binds it, and SELECT eventname AS e … WHERE e = 'x' quietly runs. When the SELECT reads a
// single relation, a reference to an alias in those clauses is written qualified by the relation's
// name, so DuckDB resolves it against the relation's columns only: a column of that name still
// answers (as in Trino), anything else fails and MapError says what Trino says.
//
// The partition columns and the text columns of the CloudTrail table are varchar; Trino refuses
// to compare a varchar with a number ("Cannot apply operator: varchar = integer"), DuckDB casts.

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

// selectClauses are the parts of one SELECT at one level of nesting, as node index ranges.
type selectClauses struct {
	aliases   map[string]bool // names given with AS in the select list
	relation  string          // the single relation's name or alias as written ("" if several)
	table     string          // the single relation's table name, lower case
	where     [][2]int        // WHERE and HAVING ranges
	hasSelect bool
}

// planScope runs the clause checks for the SELECT written directly in nodes, if any.
func (r *rewriter) planScope(nodes []node) error {
	sc := parseClauses(nodes)
	if !sc.hasSelect {
		return nil
	}
	for _, rg := range sc.where {
		if sc.relation != "" && len(sc.aliases) > 0 {
			r.qualifyAliases(nodes[rg[0]:rg[1]], sc)
		}
		if isCloudTrailTable(sc.table) {
			if err := r.checkVarcharCompare(nodes[rg[0]:rg[1]]); err != nil {
				return err
			}
		}
	}
	return nil
}

// isCloudTrailTable reports whether a table name is the CloudTrail table.
func isCloudTrailTable(name string) bool { return name == "cloudtrail_logs" }

// parseClauses finds the select-list aliases, the FROM relation and the WHERE/HAVING ranges.
func parseClauses(nodes []node) selectClauses {
	sc := selectClauses{aliases: map[string]bool{}}
	state := ""
	start := 0
	var from []int // significant node indexes of the FROM clause
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
			from = append(from, i)
		}
	}
	closeRange(len(nodes))
	// A single relation: name [AS] [alias], name being a word path or a parenthesised subquery.
	k := 0
	name := ""
	if k < len(from) && isWord(&nodes[from[k]]) && !isReserved(&nodes[from[k]]) {
		name = nodes[from[k]].tok.text
		sc.table = strings.ToLower(nodes[from[k]].tok.name())
		k++
		for k+1 < len(from) && nodes[from[k]].tok.text == "." && isWord(&nodes[from[k+1]]) {
			name = nodes[from[k+1]].tok.text
			sc.table = strings.ToLower(nodes[from[k+1]].tok.name())
			k += 2
		}
	} else if k < len(from) && nodes[from[k]].group && nodes[from[k]].tok.kind == tkLParen {
		k++
	} else {
		return sc
	}
	if k < len(from) && isKeyword(&nodes[from[k]], "as") {
		k++
	}
	if k < len(from) && isWord(&nodes[from[k]]) && !isReserved(&nodes[from[k]]) {
		name = nodes[from[k]].tok.text
		k++
	}
	if k == len(from) {
		sc.relation = name
	} else {
		sc.table = ""
	}
	return sc
}

// qualifyAliases marks the references to select-list aliases in a WHERE or HAVING range (and its
// parenthesised parts, not its subqueries or lambdas) to be written qualified.
func (r *rewriter) qualifyAliases(nodes []node, sc selectClauses) {
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
		if r.qualify == nil {
			r.qualify = map[int]string{}
		}
		r.qualify[n.tok.pos] = sc.relation
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
func (r *rewriter) checkVarcharCompare(nodes []node) error {
	s := sigNodes(nodes)
	for i := range s {
		n := &s[i]
		if n.group {
			if !isSubquery(n) {
				if err := r.checkVarcharCompare(n.kids); err != nil {
					return err
				}
			}
			continue
		}
		if n.tok.kind != tkOp || !comparisons[n.tok.text] {
			if isKeyword(n, "in") && i > 0 && i+1 < len(s) && s[i+1].group && !isSubquery(&s[i+1]) {
				if col, ok := varcharColumn(s[:i]); ok {
					for _, a := range splitArgs(s[i+1].kids) {
						if num, ok := numberLiteral(a); ok {
							return r.errorf(firstPos(a, n.tok.pos), "IN value and list items must be the same type: varchar; %s is a string column: write '%s'", col, num)
						}
					}
				}
			}
			continue
		}
		if col, ok := varcharColumn(s[:i]); ok {
			if num, ok := numberLiteral(s[i+1:]); ok {
				return r.errorf(n.tok.pos, "Cannot apply operator: varchar %s %s; %s is a string column: compare it with a string ('%s')",
					n.tok.text, numberTypeName(num), col, strings.TrimLeft(num, "+"))
			}
		}
		if num, ok := numberLiteralEnd(s[:i]); ok {
			if col, ok := varcharColumn(s[i+1:]); ok {
				return r.errorf(n.tok.pos, "Cannot apply operator: %s %s varchar; %s is a string column: compare it with a string ('%s')",
					numberTypeName(num), n.tok.text, col, strings.TrimLeft(num, "+"))
			}
		}
	}
	return nil
}

// varcharColumn reports whether the operand ending s is a varchar CloudTrail column (bare or
// qualified by a table alias) and names it.
func varcharColumn(s []node) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	last := &s[len(s)-1]
	if !isWord(last) || isReserved(last) || !cloudtrailVarchar[strings.ToLower(last.tok.name())] {
		return "", false
	}
	if len(s) >= 2 && !s[len(s)-2].group && s[len(s)-2].tok.text == "." {
		// t.year: a table alias, not a field of a row (a.b.year).
		if len(s) >= 4 && !s[len(s)-4].group && s[len(s)-4].tok.text == "." {
			return "", false
		}
	}
	if len(s) >= 2 && !s[len(s)-2].group && s[len(s)-2].tok.kind == tkOp && s[len(s)-2].tok.text != "." && !comparisons[s[len(s)-2].tok.text] {
		return "", false // an operand of arithmetic or ||
	}
	return strings.ToLower(last.tok.name()), true
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
