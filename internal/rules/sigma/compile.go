package sigma

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// compiler turns a rule's detection into SQL.
type compiler struct {
	file  string
	cols  map[string]*column
	notes []string
	vars  int
	// pos is the YAML node being compiled, for messages.
	pos *yaml.Node
}

func (c *compiler) malformed(format string, args ...any) error {
	e := &LoadError{File: c.file, Msg: fmt.Sprintf(format, args...)}
	if c.pos != nil {
		e.Line, e.Column = c.pos.Line, c.pos.Column
	}
	return e
}

func (c *compiler) unsupportedf(format string, args ...any) error {
	e := &UnsupportedError{Reason: fmt.Sprintf(format, args...)}
	if c.pos != nil {
		e.Line = c.pos.Line
	}
	return e
}

func (c *compiler) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !slices.Contains(c.notes, s) {
		c.notes = append(c.notes, s)
	}
}

// newVar names a lambda parameter, unique within the rule.
func (c *compiler) newVar() string {
	c.vars++
	return "sigma_" + strconv.Itoa(c.vars)
}

// compile returns the detection's SQL. Every search identifier is compiled, so that a malformed
// one is reported even when the condition does not use it; an unsupported one only matters when
// the condition uses it.
func (c *compiler) compile(d *detection) (string, error) {
	c.cols = tableColumns()
	type compiled struct {
		sql sqlExpr
		err error
	}
	done := map[string]compiled{}
	var unsupported error
	for _, name := range d.names {
		sql, err := c.search(d.searches[name])
		var ue *UnsupportedError
		if err != nil && !errors.As(err, &ue) {
			return "", err
		}
		done[name] = compiled{sql, err}
	}
	var parts []sqlExpr
	for _, n := range d.conds {
		c.pos = n
		s, err := c.conditionSQL(n, d.names, func(name string) (sqlExpr, error) {
			return done[name].sql, done[name].err
		})
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			if unsupported == nil {
				unsupported = err
			}
			continue
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	if d.timeframe != nil {
		c.pos = d.timeframe
		return "", c.unsupportedf("timeframe: relates several events over time, while trailsql evaluates one event at a time")
	}
	if unsupported != nil {
		return "", unsupported
	}
	return disj(parts).sql, nil
}

// search compiles one search identifier: OR over its maps of AND over their items, the cheap
// items first.
func (c *compiler) search(s *search) (sqlExpr, error) {
	var ors []sqlExpr
	for _, m := range s.maps {
		var ands []sqlExpr
		for _, it := range m {
			sql, cost, err := c.item(it)
			if err != nil {
				return sqlExpr{}, err
			}
			ands = append(ands, sqlExpr{sql, cost})
		}
		sort.SliceStable(ands, func(i, j int) bool { return ands[i].cost < ands[j].cost })
		ors = append(ors, conj(ands))
	}
	return disj(ors), nil
}

// mods is an item's modifier chain, checked.
type mods struct {
	op       string   // "", re, cidr, exists, fieldref, lt, lte, gt, gte
	anchor   string   // "", contains, startswith, endswith
	chain    []string // value transformations in order: anchors, encodings, windash
	all      bool
	cased    bool
	neq      bool
	reFlags  string
	timePart string
	expand   bool
}

var opModifiers = map[string]bool{"re": true, "cidr": true, "exists": true, "fieldref": true, "lt": true, "lte": true, "gt": true, "gte": true}

var encodings = map[string]bool{"wide": true, "utf16le": true, "utf16be": true, "utf16": true, "base64": true, "base64offset": true, "windash": true}

var timeParts = map[string]string{"minute": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}

const knownModifiers = "contains, startswith, endswith, all, cased, neq, exists, re (with i, m, s), cidr, fieldref, lt, lte, gt, gte, minute, hour, day, week, month, year, windash, base64, base64offset, utf16le, utf16be, utf16, wide, expand"

func (c *compiler) modifiers(it *item) (*mods, error) {
	m := &mods{}
	for _, mod := range it.mods {
		low := strings.ToLower(mod)
		switch {
		case low == "contains" || low == "startswith" || low == "endswith":
			if m.anchor != "" {
				return nil, c.malformed("%q: %s and %s cannot be combined", it.key.Value, m.anchor, low)
			}
			m.anchor = low
			m.chain = append(m.chain, low)
		case low == "all":
			m.all = true
		case low == "cased":
			m.cased = true
		case low == "neq":
			m.neq = true
		case low == "expand":
			m.expand = true
		case low == "i" || low == "m" || low == "s":
			if m.op != "re" {
				return nil, c.malformed("%q: %s is a sub-modifier of re; write %s|re|%s", it.key.Value, low, it.field, low)
			}
			if !strings.Contains(m.reFlags, low) {
				m.reFlags += low
			}
		case opModifiers[low]:
			if m.op != "" {
				return nil, c.malformed("%q: %s and %s cannot be combined", it.key.Value, m.op, low)
			}
			m.op = low
		case encodings[low]:
			m.chain = append(m.chain, low)
		case timeParts[low] != "":
			if m.timePart != "" {
				return nil, c.malformed("%q: %s and %s cannot be combined", it.key.Value, m.timePart, low)
			}
			m.timePart = low
		default:
			return nil, c.malformed("%q: unknown modifier %q (Sigma's modifiers: %s)", it.key.Value, mod, knownModifiers)
		}
	}
	transformed := len(m.chain) > 0 && (m.anchor == "" || len(m.chain) > 1) // a transformation besides the anchor
	switch m.op {
	case "re", "cidr", "exists":
		if len(m.chain) > 0 {
			return nil, c.malformed("%q: %s cannot be combined with %s", it.key.Value, m.op, strings.Join(m.chain, ", "))
		}
		if m.timePart != "" {
			return nil, c.malformed("%q: %s cannot be combined with %s", it.key.Value, m.op, m.timePart)
		}
	case "fieldref":
		if transformed || m.timePart != "" {
			return nil, c.malformed("%q: fieldref compares two fields and takes no value transformation", it.key.Value)
		}
	case "lt", "lte", "gt", "gte":
		if len(m.chain) > 0 {
			return nil, c.malformed("%q: %s compares numbers and cannot be combined with %s", it.key.Value, m.op, strings.Join(m.chain, ", "))
		}
	}
	if m.timePart != "" && len(m.chain) > 0 {
		return nil, c.malformed("%q: %s takes a number and cannot be combined with %s", it.key.Value, m.timePart, strings.Join(m.chain, ", "))
	}
	for i, mod := range m.chain {
		if mod == "wide" || strings.HasPrefix(mod, "utf16") {
			if !slices.Contains(m.chain[i:], "base64") && !slices.Contains(m.chain[i:], "base64offset") {
				return nil, c.unsupportedf("%q: %s gives UTF-16 bytes, which no column holds as text; follow it with base64 or base64offset", it.key.Value, mod)
			}
		}
	}
	if m.expand {
		return nil, c.unsupportedf("%q uses the expand modifier: its placeholders need value lists that trailsql does not have; replace the placeholder with the values", it.key.Value)
	}
	return m, nil
}

// item compiles one "field|modifiers: values" entry; cost orders the items of a map.
func (c *compiler) item(it *item) (string, int, error) {
	c.pos = it.key
	m, err := c.modifiers(it)
	if err != nil {
		return "", 0, err
	}
	acc, err := c.resolve(it.field)
	if err != nil {
		return "", 0, err
	}
	cost := map[accKind]int{accText: 1, accWhole: 1, accResources: 3, accJSON: 4}[acc.kind]
	if acc.whole {
		cost = 3
	}
	if acc.keyword {
		cost = 6
		if m.op != "" && m.op != "re" {
			return "", 0, c.malformed("%q: a keyword search has no field, so %s cannot apply", it.key.Value, m.op)
		}
	}
	var sql string
	switch m.op {
	case "exists":
		sql, err = c.exists(acc, it)
	case "fieldref":
		sql, err = c.fieldref(acc, m, it)
	case "re":
		sql, err = c.regex(acc, m, it)
		cost += 2
	case "cidr":
		sql, err = c.cidr(acc, m, it)
		cost += 2
	case "lt", "lte", "gt", "gte":
		sql, err = c.compare(acc, m, it)
	default:
		if m.timePart != "" {
			sql, err = c.compare(acc, m, it)
		} else {
			sql, err = c.match(acc, m, it)
		}
	}
	if err != nil {
		return "", 0, err
	}
	if m.neq && m.op != "fieldref" {
		p, err := c.present(acc)
		if err != nil {
			return "", 0, err
		}
		sql = "(" + p + " AND NOT " + sql + ")"
	}
	return sql, cost, nil
}

// apply makes a two-valued test of a field from pred, a test of one text value (which may be
// NULL when the value is): for a JSON path any value the path reaches through arrays, for
// resources any element.
func (c *compiler) apply(acc *access, pred func(x string) string) (string, error) {
	switch acc.kind {
	case accText:
		return "coalesce(" + pred(acc.expr) + ", false)", nil
	case accResources:
		v := c.newVar()
		return "coalesce(any_match(" + acc.expr + ", " + v + " -> " + pred(v+"."+acc.elem) + "), false)", nil
	case accJSON:
		return "coalesce(" + c.jsonAny(acc.expr, acc.keys, pred) + ", false)", nil
	}
	return "", c.unsupportedf("the field %q is a whole object, map or list; compare one of its fields (e.g. %s.…), or test it with exists or null", acc.name, acc.name)
}

// jsonAny tests the values a JSON path reaches from j: at each step an array stands for each of
// its elements, so requestParameters.items.name reaches the name of every element of items.
func (c *compiler) jsonAny(j string, keys []string, pred func(x string) string) string {
	if len(keys) == 0 {
		return pred("json_extract_scalar(" + j + ", '$')")
	}
	x := "json_extract(" + j + ", " + quote(jsonPath(keys[:1])) + ")"
	v := c.newVar()
	return "any_match(CASE WHEN json_array_length(" + x + ") IS NULL THEN ARRAY[" + x + "] ELSE CAST(" + x + " AS ARRAY(JSON)) END, " +
		v + " -> " + c.jsonAny(v, keys[1:], pred) + ")"
}

// scalar is a field's value as one text expression, for fieldref: JSON paths are read as they
// are, without looking into arrays.
func (c *compiler) scalar(acc *access) (string, error) {
	switch acc.kind {
	case accText:
		if acc.keyword {
			return "", c.malformed("fieldref needs a field; a keyword search has none")
		}
		return acc.expr, nil
	case accJSON:
		return "json_extract_scalar(" + acc.expr + ", " + quote(jsonPath(acc.keys)) + ")", nil
	}
	return "", c.unsupportedf("fieldref with %q: it is not a single value (resources and whole objects are not)", acc.name)
}

// present is true when the field exists (even if null).
func (c *compiler) present(acc *access) (string, error) {
	switch acc.kind {
	case accText, accWhole:
		if acc.keyword {
			return "true", nil
		}
		return acc.expr + " IS NOT NULL", nil
	case accResources:
		v := c.newVar()
		return "coalesce(any_match(" + acc.expr + ", " + v + " -> " + v + "." + acc.elem + " IS NOT NULL), false)", nil
	}
	return "json_extract(" + acc.expr + ", " + quote(jsonPath(acc.keys)) + ") IS NOT NULL", nil
}

// isNull is true when the field is missing or null (for JSON: also an empty object or list).
func (c *compiler) isNull(acc *access) (string, error) {
	switch acc.kind {
	case accText, accWhole:
		if acc.keyword {
			return "", c.malformed("a keyword cannot be null")
		}
		return acc.expr + " IS NULL", nil
	case accResources:
		v := c.newVar()
		return "coalesce(none_match(" + acc.expr + ", " + v + " -> " + v + "." + acc.elem + " IS NOT NULL), true)", nil
	}
	p := quote(jsonPath(acc.keys))
	return "(json_extract_scalar(" + acc.expr + ", " + p + ") IS NULL AND coalesce(json_size(" + acc.expr + ", " + p + "), 0) = 0)", nil
}

// combine joins the tests of the values: any of them, or all of them with the all modifier.
func combine(all bool, parts []string) string {
	if all {
		return join(parts, " AND ")
	}
	return join(parts, " OR ")
}

func isNullNode(v *yaml.Node) bool { return v.Tag == "!!null" }

// scalarText is a YAML value as text: an integer in decimal, other scalars as written.
func scalarText(v *yaml.Node) string {
	if v.Tag == "!!int" {
		if n, err := strconv.ParseInt(strings.ReplaceAll(v.Value, "_", ""), 0, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	if v.Tag == "!!bool" {
		return strings.ToLower(v.Value)
	}
	return v.Value
}

var fieldLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(requestParameters|responseElements|additionalEventData|serviceEventDetails|userIdentity)(\.[A-Za-z0-9_]+)+$`)
})

// match compiles a comparison with string values (wildcards, contains, startswith, endswith, the
// encodings, windash) and null.
func (c *compiler) match(acc *access, m *mods, it *item) (string, error) {
	var nulls []string
	var valueAlts [][]pattern
	for _, v := range it.values {
		c.pos = v
		if isNullNode(v) {
			if len(m.chain) > 0 {
				return "", c.malformed("%q: null takes no modifier (%s)", it.key.Value, strings.Join(m.chain, ", "))
			}
			s, err := c.isNull(acc)
			if err != nil {
				return "", err
			}
			nulls = append(nulls, s)
			continue
		}
		p := plain(scalarText(v))
		if v.Tag == "!!str" || v.Tag == "" {
			p = sigmaString(v.Value)
			if fieldLike().MatchString(v.Value) {
				c.note("the value %q of %q looks like a field name; without the fieldref modifier Sigma compares it as text", v.Value, it.key.Value)
			}
		}
		alts, err := c.transform(p, m.chain, it)
		if err != nil {
			return "", err
		}
		if acc.keyword {
			for i := range alts {
				alts[i] = alts[i].around(true, true)
			}
		}
		valueAlts = append(valueAlts, alts)
	}
	c.pos = it.key
	var parts []string
	if m.all {
		for _, alts := range valueAlts {
			s, err := c.apply(acc, func(x string) string { return patternsPred(x, alts, m.cased) })
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
	} else if len(valueAlts) > 0 {
		alts := slices.Concat(valueAlts...)
		s, err := c.apply(acc, func(x string) string { return patternsPred(x, alts, m.cased) })
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return combine(m.all, append(parts, nulls...)), nil
}

// transform applies the value modifiers in the order written.
func (c *compiler) transform(p pattern, chain []string, it *item) ([]pattern, error) {
	alts := []pattern{p}
	for _, mod := range chain {
		var next []pattern
		for _, a := range alts {
			switch mod {
			case "contains":
				next = append(next, a.around(true, true))
			case "startswith":
				next = append(next, a.around(false, true))
			case "endswith":
				next = append(next, a.around(true, false))
			case "wide", "utf16le":
				next = append(next, a.mapText(func(s string) string { return utf16Bytes(s, true) }))
			case "utf16be":
				next = append(next, a.mapText(func(s string) string { return utf16Bytes(s, false) }))
			case "utf16":
				le := a.mapText(func(s string) string { return utf16Bytes(s, true) })
				next = append(next, append(pattern{{segText, "\xff\xfe"}}, le...))
			case "base64", "base64offset":
				if a.wild() {
					return nil, c.malformed("%q: %s cannot encode wildcards; put contains/startswith/endswith after it (field|%s|contains)", it.key.Value, mod, mod)
				}
				if mod == "base64" {
					next = append(next, plain(base64.StdEncoding.EncodeToString([]byte(a.text()))))
					continue
				}
				for _, s := range base64Offsets(a.text()) {
					next = append(next, plain(s))
				}
			case "windash":
				w, ok := windash(a, 1024)
				if !ok {
					return nil, c.unsupportedf("%q: windash on a value with this many dashes gives more than 1024 variants", it.key.Value)
				}
				next = append(next, w...)
			}
		}
		alts = next
	}
	return alts, nil
}

// patternsPred tests x against any of the patterns.
func patternsPred(x string, alts []pattern, cased bool) string {
	lx := x
	if !cased {
		lx = "lower(" + x + ")"
	}
	var exact, parts []string
	for _, p := range alts {
		switch {
		case p.anyText():
			parts = append(parts, x+" IS NOT NULL")
		case !p.wild():
			exact = append(exact, literal(p.text(), cased))
		default:
			parts = append(parts, lx+" LIKE "+literal(p.like(), cased)+` ESCAPE '\'`)
		}
	}
	switch len(exact) {
	case 0:
	case 1:
		parts = append([]string{lx + " = " + exact[0]}, parts...)
	default:
		parts = append([]string{lx + " IN (" + strings.Join(exact, ", ") + ")"}, parts...)
	}
	return join(parts, " OR ")
}

// literal writes s as SQL text, lower-cased unless cased (in Go for ASCII, by SQL's lower
// otherwise, so that both sides are lowered alike).
func literal(s string, cased bool) string {
	if cased {
		return quote(s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "lower(" + quote(s) + ")"
		}
	}
	return quote(strings.ToLower(s))
}

func (c *compiler) exists(acc *access, it *item) (string, error) {
	if len(it.values) != 1 || it.values[0].Tag != "!!bool" {
		c.pos = it.values[0]
		return "", c.malformed("%q: exists takes one value, true or false", it.key.Value)
	}
	p, err := c.present(acc)
	if err != nil {
		return "", err
	}
	if strings.EqualFold(it.values[0].Value, "true") {
		return p, nil
	}
	return "NOT (" + p + ")", nil
}

func (c *compiler) fieldref(acc *access, m *mods, it *item) (string, error) {
	a, err := c.scalar(acc)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, v := range it.values {
		c.pos = v
		if v.Tag != "!!str" || v.Value == "" {
			return "", c.malformed("%q: fieldref takes the name of another field", it.key.Value)
		}
		other, err := c.resolve(v.Value)
		if err != nil {
			return "", err
		}
		b, err := c.scalar(other)
		if err != nil {
			return "", err
		}
		la, lb := a, b
		if !m.cased {
			la, lb = "lower("+a+")", "lower("+b+")"
		}
		var test string
		switch m.anchor {
		case "contains":
			test = "strpos(" + la + ", " + lb + ") > 0"
		case "startswith":
			test = "strpos(" + la + ", " + lb + ") = 1"
		case "endswith":
			test = "strpos(reverse(" + la + "), reverse(" + lb + ")) = 1"
		default:
			test = la + " = " + lb
		}
		test = "coalesce(" + test + ", false)"
		if m.neq {
			test = "(" + a + " IS NOT NULL AND " + b + " IS NOT NULL AND NOT " + test + ")"
		}
		parts = append(parts, test)
	}
	return combine(m.all, parts), nil
}

// regexFlagged is a re value with its sub-modifiers as inline flags, checked against RE2 (the
// syntax DuckDB runs; Trino's engine takes it too).
func (c *compiler) regexFlagged(v *yaml.Node, m *mods, it *item) (string, error) {
	if isNullNode(v) {
		return "", c.malformed("%q: re takes a regular expression, not null", it.key.Value)
	}
	re := v.Value
	if m.reFlags != "" {
		re = "(?" + m.reFlags + ")" + re
	}
	if _, err := regexp.Compile(re); err != nil {
		return "", c.unsupportedf("%q: the regular expression %q is not RE2 syntax (%v); Sigma allows only . ^ $ * + ? {n,m} [] () and |", it.key.Value, v.Value, err)
	}
	return re, nil
}

func (c *compiler) regex(acc *access, m *mods, it *item) (string, error) {
	var res []string
	for _, v := range it.values {
		c.pos = v
		re, err := c.regexFlagged(v, m, it)
		if err != nil {
			return "", err
		}
		res = append(res, re)
	}
	c.pos = it.key
	test := func(res []string) func(x string) string {
		return func(x string) string {
			var parts []string
			for _, re := range res {
				parts = append(parts, "regexp_like("+x+", "+quote(re)+")")
			}
			return join(parts, " OR ")
		}
	}
	if !m.all {
		return c.apply(acc, test(res))
	}
	var parts []string
	for _, re := range res {
		s, err := c.apply(acc, test([]string{re}))
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return join(parts, " AND "), nil
}

// ipv4Octets matches a dotted-quad IPv4 address.
const ipv4Octets = `^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$`

func (c *compiler) cidr(acc *access, m *mods, it *item) (string, error) {
	type span struct{ lo, hi uint32 }
	var spans []span
	for _, v := range it.values {
		c.pos = v
		pfx, err := netip.ParsePrefix(v.Value)
		if err != nil || isNullNode(v) {
			return "", c.malformed("%q: %q is not a CIDR block such as 10.0.0.0/8", it.key.Value, v.Value)
		}
		if !pfx.Addr().Is4() {
			return "", c.unsupportedf("%q: IPv6 CIDR %s is not supported (CloudTrail writes IPv6 addresses in several textual forms)", it.key.Value, v.Value)
		}
		b := pfx.Masked().Addr().As4()
		lo := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		hi := lo | uint32(uint64(1)<<(32-pfx.Bits())-1)
		spans = append(spans, span{lo, hi})
	}
	c.pos = it.key
	test := func(spans []span) func(x string) string {
		return func(x string) string {
			num := "TRY_CAST(split_part(" + x + ", '.', 1) AS BIGINT) * 16777216 + TRY_CAST(split_part(" + x + ", '.', 2) AS BIGINT) * 65536 + " +
				"TRY_CAST(split_part(" + x + ", '.', 3) AS BIGINT) * 256 + TRY_CAST(split_part(" + x + ", '.', 4) AS BIGINT)"
			var parts []string
			for _, s := range spans {
				parts = append(parts, fmt.Sprintf("%s BETWEEN %d AND %d", num, s.lo, s.hi))
			}
			return "(regexp_like(" + x + ", " + quote(ipv4Octets) + ") AND " + join(parts, " OR ") + ")"
		}
	}
	if !m.all {
		return c.apply(acc, test(spans))
	}
	var parts []string
	for _, s := range spans {
		p, err := c.apply(acc, test([]span{s}))
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	return join(parts, " AND "), nil
}

var compareOps = map[string]string{"": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// compare compiles lt, lte, gt, gte and the time parts: numbers compared as numbers.
func (c *compiler) compare(acc *access, m *mods, it *item) (string, error) {
	var parts []string
	for _, v := range it.values {
		c.pos = v
		if v.Tag != "!!int" && v.Tag != "!!float" {
			what := m.op
			if what == "" {
				what = m.timePart
			}
			return "", c.malformed("%q: %s takes a number, not %s", it.key.Value, what, kindName(v))
		}
		n, err := strconv.ParseFloat(scalarText(v), 64)
		if err != nil {
			return "", c.malformed("%q: %q is not a number", it.key.Value, v.Value)
		}
		num := strconv.FormatFloat(n, 'g', -1, 64)
		c.pos = it.key
		s, err := c.apply(acc, func(x string) string {
			val := "TRY_CAST(" + x + " AS DOUBLE)"
			if m.timePart != "" {
				val = "try(" + m.timePart + "(from_iso8601_timestamp(" + x + ")))"
			}
			return val + " " + compareOps[m.op] + " " + num
		})
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return combine(m.all, parts), nil
}
