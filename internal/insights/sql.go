package insights

import (
	"regexp"
	"strconv"
	"strings"
)

// DefaultLimit is the number of results a query without limit returns, as Logs Insights does
// ("If you omit limit, the query defaults to returning up to 10,000 log events").
const DefaultLimit = 10000

// MaxLimit is the largest limit Logs Insights accepts.
const MaxLimit = 100000

// stage is one SELECT of the translation: the events (or, after stats, the rows of the stats
// before it) with the filters, sort, dedup and limit the commands put on them.
type stage struct {
	from   string
	base   bool           // from is cloudtrail_logs: names resolve to its columns
	names  map[string]val // names made by fields … as, parse, or (after stats) the stats' columns
	cols   []string       // after stats: its columns, in order
	where  []string
	out    []item // the columns fields and parse added
	fields bool   // a fields command was seen
	disp   []item // the last display
	order  []item
	sorted bool
	dedup  []item
	limit  int
	nested int // how many stats came before
}

// translator writes one query's SQL.
type translator struct {
	q      *Query
	schema schema
}

// SQL returns the query as one Athena (Trino) SELECT statement over the table cloudtrail_logs;
// see the package documentation for how each command and field is translated. Errors are
// *Error, pointing into the query.
func (q *Query) SQL() (string, error) {
	return q.translate(false)
}

// EventsSQL returns the SQL of the events the query returns as whole rows of cloudtrail_logs
// (SELECT *, the columns fields and display choose left aside), as query --original needs to
// rebuild the records. A query with stats or dedup, whose results are no events, gives an *Error.
func (q *Query) EventsSQL() (string, error) {
	return q.translate(true)
}

func (q *Query) translate(whole bool) (string, error) {
	t := &translator{q: q, schema: newSchema()}
	st := &stage{from: "cloudtrail_logs", base: true, names: map[string]val{}}
	for i, c := range q.commands {
		if len(st.dedup) > 0 && c.name != "limit" {
			return "", t.fail(c.pos, "only limit may follow dedup, as in Logs Insights")
		}
		if st.limit > 0 && c.name != "limit" {
			return "", t.fail(c.pos, "only another limit may follow limit here: put %s before it", c.name)
		}
		var err error
		switch c.name {
		case "fields":
			st.fields = true
			for _, it := range c.items {
				v, err := t.value(st, it.x)
				if err != nil {
					return "", err
				}
				if it.alias != "" || !isField(it.x) {
					st.names[it.name()] = v
				}
				st.out = append(st.out, it)
			}
		case "display":
			st.disp = c.items
		case "filter":
			var v val
			if v, err = t.cond(st, c.cond); err == nil {
				st.where = append(st.where, v.sql)
			}
		case "parse":
			err = t.parse(st, c)
		case "sort":
			st.order, st.sorted = c.items, true
		case "dedup":
			if whole {
				return "", t.fail(c.pos, "dedup is not translated for whole events: leave out --original")
			}
			st.dedup = c.items
		case "limit":
			if st.limit == 0 || c.limit < st.limit {
				st.limit = c.limit
			}
		case "stats":
			if whole {
				return "", t.fail(c.pos, "stats returns no events to print whole: leave out --original")
			}
			if i == 0 && len(c.items) == 0 {
				return "", t.fail(c.pos, "stats needs an aggregate such as count(*)")
			}
			st, err = t.stats(st, c)
		}
		if err != nil {
			return "", err
		}
	}
	if whole {
		st.disp = []item{{x: &field{path: "*"}, text: "*"}}
	}
	return t.final(st)
}

func isField(x expr) bool { _, ok := x.(*field); return ok }

func (t *translator) fail(pos int, format string, args ...any) *Error {
	return errAt(t.q.src, pos, format, args...)
}

// final writes the last stage's SELECT: its columns, filters, order, dedup and limit.
func (t *translator) final(st *stage) (string, error) {
	var cols []item
	switch {
	case len(st.disp) > 0:
		cols = st.disp
	case !st.base:
		for _, n := range st.cols {
			cols = append(cols, item{x: &field{path: n}, text: n})
		}
		cols = append(cols, st.out...)
	default:
		if !st.fields {
			cols = []item{{x: &field{path: "@timestamp"}, text: "@timestamp"}, {x: &field{path: "@message"}, text: "@message"}}
		}
		cols = append(cols, st.out...)
	}
	var sel, names []string // names: the columns' quoted names
	seen := map[string]bool{}
	for _, it := range cols {
		if seen[it.name()] {
			continue
		}
		seen[it.name()] = true
		if it.text == "*" { // EventsSQL: whole rows
			sel = append(sel, "*")
			continue
		}
		v, err := t.value(st, it.x)
		if err != nil {
			return "", err
		}
		if made, ok := st.names[it.alias]; ok && it.alias != "" {
			v = made // fields x + 1 as y: the value made
		}
		sel = append(sel, v.sql+" AS "+ident(it.name()))
		names = append(names, ident(it.name()))
	}
	order, err := t.orderBy(st)
	if err != nil {
		return "", err
	}
	limit := st.limit
	if limit == 0 {
		limit = DefaultLimit
	}
	where := ""
	if len(st.where) > 0 {
		where = "\nWHERE " + strings.Join(st.where, "\n  AND ")
	}
	if len(st.dedup) == 0 {
		return "SELECT " + strings.Join(sel, ", ") + "\nFROM " + st.from + where +
			"\nORDER BY " + strings.Join(order, ", ") + "\nLIMIT " + strconv.Itoa(limit), nil
	}
	// dedup: the first row of each key in the sort order; a row with a null key is kept.
	var keys, keep []string
	for i, it := range st.dedup {
		v, err := t.value(st, it.x)
		if err != nil {
			return "", err
		}
		keys = append(keys, v.sql)
		sel = append(sel, v.sql+" AS "+ident("#dedup"+strconv.Itoa(i)))
		keep = append(keep, "d."+ident("#dedup"+strconv.Itoa(i))+" IS NULL")
	}
	var outer, outerOrder []string
	for _, n := range names {
		outer = append(outer, "d."+n)
	}
	for i, o := range order {
		name := ident("#sort" + strconv.Itoa(i))
		cut := strings.LastIndexByte(o, ' ') // "expression ASC|DESC"
		sel = append(sel, o[:cut]+" AS "+name)
		outerOrder = append(outerOrder, "d."+name+o[cut:])
	}
	inner := "SELECT " + strings.Join(sel, ", ") + ",\n  row_number() OVER (PARTITION BY " + strings.Join(keys, ", ") +
		" ORDER BY " + strings.Join(order, ", ") + ") AS \"#row\"\nFROM " + st.from + where
	return "SELECT " + strings.Join(outer, ", ") + "\nFROM (" + inner + ") AS d\nWHERE d.\"#row\" = 1 OR " +
		strings.Join(keep, " OR ") + "\nORDER BY " + strings.Join(outerOrder, ", ") + "\nLIMIT " + strconv.Itoa(limit), nil
}

// orderBy is the stage's ORDER BY: its sort, else (on events) newest first, as Logs Insights
// returns events; after stats, by the stats' columns. Events sort on eventid last, so that a
// limit cuts them in one way.
func (t *translator) orderBy(st *stage) ([]string, error) {
	var out []string
	items := st.order
	if !st.sorted && st.base {
		items = []item{{x: &field{path: "@timestamp"}, desc: true}}
	}
	for _, it := range items {
		v, err := t.value(st, it.x)
		if err != nil {
			return nil, err
		}
		dir := "ASC"
		if it.desc {
			dir = "DESC"
		}
		out = append(out, v.sql+" "+dir)
	}
	if st.base {
		out = append(out, "eventid ASC")
	} else {
		for _, n := range st.cols { // stats' rows are told apart by all their columns
			out = append(out, st.names[n].sql+" ASC")
		}
	}
	if len(out) == 0 {
		out = []string{"1 ASC"}
	}
	return out, nil
}

// stats writes the stage's aggregation and returns the stage over its rows.
func (t *translator) stats(st *stage, c command) (*stage, error) {
	if len(st.disp) > 0 || st.sorted {
		return nil, t.fail(c.pos, "stats after sort or display: put the stats before them")
	}
	var sel, group, cols []string
	names := map[string]val{}
	n := st.nested + 1
	alias := "s" + strconv.Itoa(n)
	add := func(it item, v val) error {
		name := it.name()
		if _, dup := names[name]; dup {
			return t.fail(it.x.at(), "stats has two columns named %s: name one with as", name)
		}
		cols = append(cols, name)
		names[name] = val{alias + "." + ident(name), v.kind}
		sel = append(sel, v.sql+" AS "+ident(name))
		return nil
	}
	for _, it := range c.by {
		v, err := t.value(st, it.x)
		if err != nil {
			return nil, err
		}
		group = append(group, v.sql)
		if err := add(it, v); err != nil {
			return nil, err
		}
	}
	for _, it := range c.items {
		v, err := t.aggregate(st, it.x)
		if err != nil {
			return nil, err
		}
		if err := add(it, v); err != nil {
			return nil, err
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + "\n  FROM " + st.from
	if len(st.where) > 0 {
		q += "\n  WHERE " + strings.Join(st.where, "\n    AND ")
	}
	if len(group) > 0 {
		q += "\n  GROUP BY " + strings.Join(group, ", ")
	}
	return &stage{from: "(" + q + ") AS " + alias, names: names, cols: cols, nested: n}, nil
}

// aggregate writes a stats function.
func (t *translator) aggregate(st *stage, x expr) (val, error) {
	c, ok := x.(*call)
	if !ok {
		return val{}, t.fail(x.at(), "stats takes aggregate functions: count, count_distinct, sum, avg, min, max")
	}
	if c.star || c.name == "count" && len(c.args) == 0 {
		if c.name != "count" {
			return val{}, t.fail(c.pos, "only count takes *")
		}
		return val{"count(*)", kNum}, nil
	}
	fn, ok := map[string]string{"count": "count", "count_distinct": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max",
		"stddev": "stddev", "pct": "approx_percentile", "earliest": "min_by", "latest": "max_by"}[c.name]
	if !ok {
		return val{}, t.fail(c.pos, "%s is not an aggregate this translation has: count, count_distinct, sum, avg, min, max, stddev, pct, earliest, latest", c.name)
	}
	if n := map[bool]int{true: 2, false: 1}[c.name == "pct"]; len(c.args) != n {
		return val{}, t.fail(c.pos, "%s takes %d argument%s", c.name, n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	v, err := t.value(st, c.args[0])
	if err != nil {
		return val{}, err
	}
	switch c.name {
	case "count":
		return val{"count(" + v.sql + ")", kNum}, nil
	case "count_distinct":
		return val{"count(DISTINCT " + v.sql + ")", kNum}, nil
	case "earliest", "latest":
		ts, err := t.timestamp(st, c)
		if err != nil {
			return val{}, err
		}
		return val{fn + "(" + v.sql + ", " + ts.sql + ")", v.kind}, nil
	case "pct":
		f := -1.0
		if p, ok := c.args[1].(*literal); ok && p.tok.kind == tkNumber {
			f, _ = strconv.ParseFloat(p.tok.text, 64)
		}
		if f < 0 || f > 100 {
			return val{}, t.fail(c.args[1].at(), "pct takes a percentile from 0 to 100: pct(x, 95)")
		}
		return val{"approx_percentile(" + number(v).sql + ", " + numberLit(f/100) + ")", kNum}, nil
	}
	if v.kind == kStr {
		v = number(v)
	}
	return val{fn + "(" + v.sql + ")", v.kind}, nil
}

// parse adds the fields a parse command extracts from its field.
func (t *translator) parse(st *stage, c command) error {
	src, err := t.value(st, c.src)
	if err != nil {
		return err
	}
	var re string
	var names []item
	if c.glob != nil {
		parts := strings.Split(*c.glob, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re = strings.Join(parts, "(.*?)")
		if strings.HasSuffix(*c.glob, "*") {
			re = strings.Join(parts[:len(parts)-1], "(.*?)") + "(.*)"
		}
		names = c.names
	} else {
		var groups []string
		re, groups, err = namedGroups(c.re.text)
		if err != nil {
			return t.fail(c.re.pos, "%v", err)
		}
		for i, g := range groups {
			if g != "" {
				names = append(names, item{x: &field{pos: c.re.pos, path: g}, text: g, alias: strconv.Itoa(i + 1)})
			}
		}
		if len(names) == 0 {
			return t.fail(c.re.pos, "this regex names no group: parse extracts (?<name>…) groups")
		}
	}
	if _, err := regexp.Compile(re); err != nil {
		return t.fail(c.pos, "the pattern does not compile: %v", err)
	}
	for i, it := range names {
		group := i + 1
		if it.alias != "" {
			group, _ = strconv.Atoi(it.alias)
		}
		name := it.text
		st.names[name] = val{"regexp_extract(" + src.sql + ", " + lit(re) + ", " + strconv.Itoa(group) + ")", kStr}
		st.out = append(st.out, item{x: &field{pos: it.x.at(), path: name}, text: name})
	}
	return nil
}

// namedGroups rewrites a regex's named groups, (?<name>…) or (?P<name>…), as plain groups, and
// returns the name of each capturing group in order ("" for unnamed ones).
func namedGroups(re string) (string, []string, error) {
	var b strings.Builder
	var names []string
	inClass := false
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\' && i+1 < len(re):
			b.WriteString(re[i : i+2])
			i++
			continue
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(' && strings.HasPrefix(re[i:], "(?<") && !strings.HasPrefix(re[i:], "(?<=") && !strings.HasPrefix(re[i:], "(?<!"),
			c == '(' && strings.HasPrefix(re[i:], "(?P<"):
			start := strings.IndexByte(re[i:], '<') + i + 1
			end := strings.IndexByte(re[start:], '>')
			if end < 0 {
				return "", nil, errNoClose
			}
			names = append(names, re[start:start+end])
			b.WriteByte('(')
			i = start + end
			continue
		case c == '(' && !strings.HasPrefix(re[i:], "(?"):
			names = append(names, "")
		}
		b.WriteByte(c)
	}
	return b.String(), names, nil
}

type regexError string

func (e regexError) Error() string { return string(e) }

const errNoClose = regexError("a named group's name has no closing >")
