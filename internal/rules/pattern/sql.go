package pattern

import (
	"fmt"
	"strconv"
	"strings"
)

// SQL returns the pattern as an Athena (Trino) boolean expression over one row of trailsql's table
// cloudtrail_logs, true exactly when the event the row holds matches (never NULL), for use in a
// WHERE clause or a SELECT list. Values are written as SQL string literals, quotes doubled. A
// pattern the lake cannot evaluate exactly gives a *SQLError (wrapping ErrNotExpressible) saying
// why; see the package documentation.
func (p *Pattern) SQL() (string, error) {
	g := &sqlGen{}
	s, err := g.node(p.root)
	if err != nil {
		return "", err
	}
	return "coalesce(" + s + ", false)", nil
}

// sqlGen writes one pattern's SQL.
type sqlGen struct {
	lambdas int // lambda parameters named so far
}

func (g *sqlGen) node(n node) (string, error) {
	switch n := n.(type) {
	case *orNode, *andNode:
		terms, sep := []node(nil), " OR "
		if o, ok := n.(*orNode); ok {
			terms = o.terms
		} else {
			terms, sep = n.(*andNode).terms, " AND "
		}
		parts := make([]string, len(terms))
		for i, t := range terms {
			s, err := g.node(t)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, sep) + ")", nil
	case *cond:
		w := &walk{g: g, c: n, segs: n.sel.Segments, exists: n.op == opNotExists}
		s := w.fields(schema, "", 0)
		if w.err != nil {
			return "", w.err
		}
		if w.exists {
			return "NOT coalesce(" + s + ", false)", nil
		}
		return s, nil
	}
	return "", fmt.Errorf("unknown node %T", n)
}

// walk writes one condition: whether it holds or, for NOT EXISTS, whether its selector reaches a
// value (exists). The selector is followed through the lake's columns; what the columns do not
// hold as it was is read from the residual JSON.
type walk struct {
	g      *sqlGen
	c      *cond
	segs   []segment
	exists bool
	err    error
}

func (w *walk) fail(format string, args ...any) string {
	if w.err == nil {
		w.err = &SQLError{Condition: w.c.String(), Reason: fmt.Sprintf(format, args...)}
	}
	return "FALSE"
}

// droppedNull fails an IS NULL on a value a column holds: the lake stores a null as absent.
func (w *walk) droppedNull(at []segment) string {
	return w.fail("the lake stores a null %s like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)", selector{Segments: at})
}

// fields follows the selector from segment i through an object whose known members are fs, held
// in the ROW expression expr ("" at the top level).
func (w *walk) fields(fs []*field, expr string, i int) string {
	seg := w.segs[i]
	switch seg.Kind {
	case segName:
		for _, f := range fs {
			if f.name == seg.Name {
				return w.field(f, join(expr, f.col), i+1)
			}
		}
		for _, f := range fs {
			if strings.EqualFold(f.name, seg.Name) {
				return w.fail("CloudTrail spells this field %s; the lake matches its fields' names in any case and does not keep an event's spelling, so another case cannot be evaluated exactly", selector{Segments: append(append([]segment{}, w.segs[:i]...), segment{Kind: segName, Name: f.name})})
			}
		}
	case segWildcard:
		if w.c.op == opIsNull {
			return w.droppedNull(w.segs[:i+1])
		}
		// Every known member, and every member the residual holds.
		parts := []string{}
		for _, f := range fs {
			w2 := *w
			w2.segs = append(append(append([]segment{}, w.segs[:i]...), segment{Kind: segName, Name: f.name}), w.segs[i+1:]...)
			parts = append(parts, w2.field(f, join(expr, f.col), i+1))
			if w.err == nil {
				w.err = w2.err
			}
		}
		parts = append(parts, w.json("residual", w.segs))
		return or(parts...)
	}
	// An unknown member, or an index into an object: only the residual can hold it.
	return w.json("residual", w.segs)
}

func join(expr, col string) string {
	if expr == "" {
		return col
	}
	return expr + "." + col
}

// field follows the selector from segment i at field f, held in expr.
func (w *walk) field(f *field, expr string, i int) string {
	here := w.segs[:i]
	res := func() string { return w.json("residual", here) } // the original, when the residual holds it
	if i < len(w.segs) {
		switch f.kind {
		case kStruct:
			return w.fields(f.kids, expr, i)
		case kPayload:
			// The column holds an object or array as JSON text, unless the original was a string
			// (or another scalar), which the residual holds: then nothing is below it.
			return and(resAbsent(here), w.jsonAt(expr, w.segs[i:]))
		case kResources:
			return or(and(resAbsent(here), w.resources(expr, i)), w.json("residual", w.segs))
		case kMap:
			return or(and(resAbsent(here), w.mapValues(expr, i)), w.json("residual", w.segs))
		}
		// Below a scalar column: only a value the residual holds (an object or array) has members.
		return w.json("residual", w.segs)
	}
	if w.c.op == opIsNull && f.kind != kMap {
		return w.droppedNull(here)
	}
	if w.exists {
		switch f.kind {
		case kStr, kStrKept, kBoolText, kPayload:
			return notNull(expr) // the column holds something whenever the event had a value
		}
		return or(notNull(expr), res())
	}
	switch f.kind {
	case kStr:
		return w.strColumn(expr, here)
	case kStrKept:
		return or(and(resAbsent(here), w.text(expr)), res())
	case kBoolText:
		return or(and(resAbsent(here), w.boolText(expr)), res())
	case kBool:
		return or(and(resAbsent(here), w.boolText("CASE WHEN "+expr+" THEN 'true' WHEN NOT "+expr+" THEN 'false' END")), res())
	}
	// An object or array held in a column satisfies no comparison; a scalar is in the residual.
	return res()
}

// strColumn is a comparison on a kStr column. The column holds a string's value, or a number's or
// boolean's JSON text, which is the text CloudWatch compares; the JSON text of an object or array
// must be told apart through the residual, and booleans too for IS TRUE and IS FALSE.
func (w *walk) strColumn(expr string, here []segment) string {
	v := &w.c.val
	switch {
	case w.c.op == opIsTrue || w.c.op == opIsFalse:
		return w.json("residual", here)
	case v.Kind == valNumber:
		return w.text(expr) // the text of an object or array is no number
	case v.Kind == valString && w.c.op == opEq && !v.couldBeComposite():
		return w.text(expr)
	}
	return and(w.text(expr), "("+resAbsent(here)+" OR "+jsonScalar("residual", here)+" IS NOT NULL)")
}

// couldBeComposite reports whether text the value equals could be the JSON text of an object or
// array ({…} or […]).
func (v *value) couldBeComposite() bool {
	t := v.Text
	opens := t == "" || t[0] == '{' || t[0] == '['
	closes := t == "" || t[len(t)-1] == '}' || t[len(t)-1] == ']'
	switch {
	case v.Prefix && v.Suffix:
		return true
	case v.Prefix:
		return closes
	case v.Suffix:
		return opens
	}
	return opens
}

// resources follows the selector from segment i into the resources column (held in expr) when
// the residual does not hold the array.
func (w *walk) resources(expr string, i int) string {
	switch seg := w.segs[i]; seg.Kind {
	case segIndex:
		return w.resource(fmt.Sprintf("element_at(%s, %d)", expr, seg.Index+1), i+1)
	case segWildcard:
		x := w.g.lambda()
		return "any_match(" + expr + ", " + x + " -> " + w.resource(x, i+1) + ")"
	}
	return "FALSE" // an array has no named members
}

// resource follows the selector from segment i at one element of the resources column (a ROW
// expression). Elements there are objects with string members spelt as CloudTrail spells them.
func (w *walk) resource(elem string, i int) string {
	if i == len(w.segs) {
		if w.exists {
			return notNull(elem)
		}
		return "FALSE" // an object satisfies no comparison (a null element is in the residual)
	}
	switch seg := w.segs[i]; seg.Kind {
	case segName:
		for _, f := range resourceFields {
			if f.name == seg.Name {
				return w.leafText(elem+"."+f.col, i+1, false)
			}
		}
	case segWildcard:
		parts := []string{}
		for _, f := range resourceFields {
			parts = append(parts, w.leafText(elem+"."+f.col, i+1, false))
		}
		return or(parts...)
	}
	return "FALSE"
}

// mapValues follows the selector from segment i into a map column of strings (held in expr).
func (w *walk) mapValues(expr string, i int) string {
	switch seg := w.segs[i]; seg.Kind {
	case segName:
		return w.leafText("element_at("+expr+", "+lit(seg.Name)+")", i+1, true)
	case segWildcard:
		if i+1 < len(w.segs) {
			return "FALSE"
		}
		x := w.g.lambda()
		return "any_match(map_values(" + expr + "), " + x + " -> " + w.leafText(x, i+1, true) + ")"
	}
	return "FALSE"
}

// leafText is the condition on a string held in a column as it was (a resources element's member,
// a map's value) when the selector ends at segment i; below a string there is nothing. nullKept
// tells that a null there would have put the whole container in the residual.
func (w *walk) leafText(expr string, i int, nullKept bool) string {
	if i < len(w.segs) {
		return "FALSE"
	}
	if w.c.op == opIsNull {
		if nullKept {
			return "FALSE"
		}
		return w.droppedNull(w.segs[:i])
	}
	if w.exists {
		return notNull(expr)
	}
	return w.text(expr)
}

// text is the condition on a VARCHAR holding a scalar's text (never an object's or array's).
func (w *walk) text(x string) string {
	c := w.c
	switch c.op {
	case opIsNull, opIsTrue, opIsFalse:
		return "FALSE"
	}
	v := &c.val
	if v.Kind == valNumber {
		return "(TRY_CAST(" + x + " AS DOUBLE) " + sqlOp(c.op) + " " + number(v.Num) + " AND regexp_like(" + x + ", " + lit(numberRe().String()) + "))"
	}
	if v.Kind == valRegex {
		s := "regexp_like(" + x + ", " + lit(v.Text) + ")"
		if c.op == opNe {
			return "NOT " + s
		}
		return s
	}
	var s string
	switch {
	case v.Prefix && v.Text == "": // "*": any text
		if c.op == opNe {
			return "FALSE"
		}
		return notNull(x)
	case v.Prefix || v.Suffix:
		pat := likeEscape(v.Text)
		if v.Prefix {
			pat = "%" + pat
		}
		if v.Suffix {
			pat += "%"
		}
		s = x + " LIKE " + lit(pat) + " ESCAPE '\\'"
		if c.op == opNe {
			s = x + " NOT LIKE " + lit(pat) + " ESCAPE '\\'"
		}
	case c.op == opNe:
		s = x + " <> " + lit(v.Text)
	default:
		s = x + " = " + lit(v.Text)
	}
	return "(" + s + ")"
}

// boolText is the condition on a VARCHAR holding 'true' or 'false' for a JSON boolean.
func (w *walk) boolText(x string) string {
	switch w.c.op {
	case opIsTrue:
		return "(" + x + " = 'true')"
	case opIsFalse:
		return "(" + x + " = 'false')"
	}
	if w.c.val.Kind == valNumber {
		return "FALSE"
	}
	return w.text(x)
}

// json is the condition on the value at a selector's segments in a JSON document column (the
// residual), from its root.
func (w *walk) json(doc string, segs []segment) string {
	return w.jsonAt(doc, segs)
}

// jsonAt is the condition on the values segs reach in the JSON text doc, exact as JSON keeps
// every value as it was. A wildcard iterates the members of an object or the elements of an array.
func (w *walk) jsonAt(doc string, segs []segment) string {
	for k, seg := range segs {
		if seg.Kind != segWildcard {
			continue
		}
		x := "json_extract(" + doc + ", " + w.path(segs[:k]) + ")"
		elems := "coalesce(TRY_CAST(" + x + " AS ARRAY(JSON)), map_values(TRY_CAST(" + x + " AS MAP(VARCHAR, JSON))))"
		e := w.g.lambda()
		return "any_match(" + elems + ", " + e + " -> " + w.jsonAt(e, segs[k+1:]) + ")"
	}
	p := w.path(segs)
	x := "json_extract(" + doc + ", " + p + ")"
	if w.exists {
		return notNull(x)
	}
	switch w.c.op {
	case opIsNull:
		return "(json_format(" + x + ") = 'null')"
	case opIsTrue:
		return "(json_format(" + x + ") = 'true')"
	case opIsFalse:
		return "(json_format(" + x + ") = 'false')"
	}
	return w.text("json_extract_scalar(" + doc + ", " + p + ")")
}

// path writes segments (without wildcards) as a JSONPath literal.
func (w *walk) path(segs []segment) string {
	p, ok := jsonPath(segs)
	if !ok {
		w.fail(`a property name holding " or \ cannot be written in a JSON path`)
	}
	return p
}

// jsonPath writes segments (without wildcards) as a JSONPath literal; false when a name cannot be
// written in one.
func jsonPath(segs []segment) (string, bool) {
	var b strings.Builder
	b.WriteByte('$')
	ok := true
	for _, s := range segs {
		switch s.Kind {
		case segIndex:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case segName:
			if identifier(s.Name) {
				b.WriteString("." + s.Name)
				continue
			}
			ok = ok && !strings.ContainsAny(s.Name, `"\`)
			b.WriteString(`["` + s.Name + `"]`)
		}
	}
	return lit(b.String()), ok
}

// identifier reports whether a name can follow a dot in a JSON path everywhere (Trino's
// JSONPath and DuckDB's).
func identifier(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isLetter(c) || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// resAbsent is true when the residual holds nothing at segs (the path of a known field).
func resAbsent(segs []segment) string {
	p, _ := jsonPath(segs)
	return "(json_extract(residual, " + p + ") IS NULL)"
}

func jsonScalar(doc string, segs []segment) string {
	p, _ := jsonPath(segs)
	return "json_extract_scalar(" + doc + ", " + p + ")"
}

func (g *sqlGen) lambda() string {
	g.lambdas++
	return "x" + strconv.Itoa(g.lambdas)
}

func notNull(x string) string { return "(" + x + " IS NOT NULL)" }

func and(a, b string) string {
	if a == "FALSE" || b == "FALSE" {
		return "FALSE"
	}
	return "(" + a + " AND " + b + ")"
}

func or(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "FALSE" {
			keep = append(keep, p)
		}
	}
	switch len(keep) {
	case 0:
		return "FALSE"
	case 1:
		return keep[0]
	}
	return "(" + strings.Join(keep, " OR ") + ")"
}

func sqlOp(o operator) string {
	switch o {
	case opNe:
		return "<>"
	case opLt:
		return "<"
	case opLe:
		return "<="
	case opGt:
		return ">"
	case opGe:
		return ">="
	}
	return "="
}

// number writes a float as a SQL DOUBLE literal.
func number(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, "e.") {
		s += "e0"
	}
	return s
}

// lit writes a SQL string literal; a quote inside is doubled, so a value stays a value.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// likeEscape escapes LIKE's wildcards and its escape character.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
