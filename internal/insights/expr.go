package insights

import (
	"regexp"
	"strconv"
	"strings"
)

// maxExprBytes bounds the SQL of one expression: names made by fields … as are written out where
// they are used, so a chain of them (fields a+a as a | fields a+a as a …) doubles it each time.
const maxExprBytes = 256 << 10

// value writes an expression as SQL in the stage's scope.
func (t *translator) value(st *stage, x expr) (val, error) {
	v, err := t.value1(st, x)
	if err == nil && len(v.sql) > maxExprBytes {
		return val{}, t.fail(x.at(), "this expression becomes more than %d KiB of SQL (names made with as are written out where they are used): simplify it", maxExprBytes>>10)
	}
	return v, err
}

func (t *translator) value1(st *stage, x expr) (val, error) {
	switch x := x.(type) {
	case *field:
		if v, ok := st.names[x.path]; ok {
			return v, nil
		}
		if !st.base {
			return val{}, t.fail(x.pos, "no field %s after stats: its results have %s", x.path, strings.Join(st.cols, ", "))
		}
		if strings.ContainsAny(x.path, `"\\`) {
			return val{}, t.fail(x.pos, `a field name holding " or \ cannot be written in a JSON path`)
		}
		v, ok := t.schema.column(x.path)
		if !ok {
			return val{}, t.fail(x.pos, "%s is not a field of CloudTrail events in the lake (@timestamp and @message are)", x.path)
		}
		return v, nil
	case *literal:
		switch x.tok.kind {
		case tkString:
			return val{lit(x.tok.text), kStr}, nil
		case tkNumber:
			f, err := strconv.ParseFloat(x.tok.text, 64)
			if err != nil {
				return val{}, t.fail(x.pos, "%s is not a number", x.tok.text)
			}
			return val{numberLit(f), kNum}, nil
		}
		return val{}, t.fail(x.pos, "a duration such as %s goes in bin()", x.tok.text)
	case *unary:
		v, err := t.value(st, x.x)
		if err != nil {
			return val{}, err
		}
		if x.op == "-" {
			return val{"(-" + number(v).sql + ")", kNum}, nil
		}
		return t.cond(st, x)
	case *binary:
		switch x.op {
		case "+", "-", "*", "/", "%", "^":
			l, r, err := t.both(st, x, t.value)
			if err != nil {
				return val{}, err
			}
			if x.op == "^" {
				return val{"power(" + number(l).sql + ", " + number(r).sql + ")", kNum}, nil
			}
			return val{"(" + number(l).sql + " " + x.op + " " + number(r).sql + ")", kNum}, nil
		}
		return t.cond(st, x)
	case *call:
		if v, ok := st.names[x.text]; ok { // a column of stats: sort count(*) desc
			return v, nil
		}
		return t.function(st, x)
	case *regexLit:
		return val{}, t.fail(x.pos, "a /regex/ goes after like or =~")
	case *list:
		return val{}, t.fail(x.pos, "a list goes after in")
	}
	return val{}, t.fail(x.at(), "unknown expression")
}

// both writes a binary expression's operands with f (value or cond).
func (t *translator) both(st *stage, x *binary, f func(*stage, expr) (val, error)) (val, val, error) {
	l, err := f(st, x.l)
	if err != nil {
		return val{}, val{}, err
	}
	r, err := f(st, x.r)
	return l, r, err
}

// number makes a value numeric: CloudTrail's fields are text, compared and computed on as numbers
// where they read as one (else NULL).
func number(v val) val {
	if v.kind == kNum {
		return v
	}
	return val{"TRY_CAST(" + v.sql + " AS DOUBLE)", kNum}
}

// numberLit writes a float as a SQL DOUBLE literal.
func numberLit(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, "e.") {
		s += "e0"
	}
	return s
}

// cond writes a condition, never NULL: a comparison on an absent field is false, as in Logs
// Insights, where an event without the field is not matched.
func (t *translator) cond(st *stage, x expr) (val, error) {
	switch x := x.(type) {
	case *binary:
		switch x.op {
		case "and", "or":
			l, r, err := t.both(st, x, t.cond)
			if err != nil {
				return val{}, err
			}
			return val{"(" + l.sql + " " + strings.ToUpper(x.op) + " " + r.sql + ")", kBool}, nil
		case "=", "!=", "<", "<=", ">", ">=":
			l, r, err := t.both(st, x, t.value)
			if err != nil {
				return val{}, err
			}
			l, r = comparable(l, r)
			op := x.op
			if op == "!=" {
				op = "<>"
			}
			return val{"coalesce(" + l.sql + " " + op + " " + r.sql + ", false)", kBool}, nil
		case "like", "not like", "=~":
			l, err := t.value(st, x.l)
			if err != nil {
				return val{}, err
			}
			var s string
			switch r := x.r.(type) {
			case *regexLit:
				if _, err := regexp.Compile(r.re); err != nil {
					return val{}, t.fail(r.pos, "the regex does not compile: %v", err)
				}
				s = "regexp_like(" + text(l) + ", " + lit(r.re) + ")"
			case *literal:
				s = "strpos(" + text(l) + ", " + lit(r.tok.text) + ") > 0"
			}
			s = "coalesce(" + s + ", false)"
			if x.op == "not like" {
				s = "NOT " + s
			}
			return val{"(" + s + ")", kBool}, nil
		case "in", "not in":
			l, err := t.value(st, x.l)
			if err != nil {
				return val{}, err
			}
			var elems []string
			for _, e := range x.r.(*list).elems {
				v, err := t.value(st, e)
				if err != nil {
					return val{}, err
				}
				var lv val
				lv, v = comparable(l, v)
				if len(elems) == 0 {
					l = lv
				}
				elems = append(elems, v.sql)
			}
			s := "coalesce(" + l.sql + " IN (" + strings.Join(elems, ", ") + "), false)"
			if x.op == "not in" {
				s = "NOT " + s
			}
			return val{"(" + s + ")", kBool}, nil
		}
	case *unary:
		if x.op == "not" {
			v, err := t.cond(st, x.x)
			if err != nil {
				return val{}, err
			}
			return val{"(NOT " + v.sql + ")", kBool}, nil
		}
	case *call:
		v, err := t.function(st, x)
		if err != nil {
			return val{}, err
		}
		if v.kind == kBool {
			return val{"coalesce(" + v.sql + ", false)", kBool}, nil
		}
		return val{}, t.fail(x.pos, "%s(…) is not a condition", x.name)
	case *field:
		v, err := t.value(st, x)
		if err != nil {
			return val{}, err
		}
		if v.kind == kBool {
			return val{"coalesce(" + v.sql + ", false)", kBool}, nil
		}
		return val{"coalesce(" + v.sql + " = 'true', false)", kBool}, nil
	}
	return val{}, t.fail(x.at(), "not a condition: compare a field with =, !=, <, like, in, or use ispresent(field)")
}

// comparable makes two values comparable: a number with a text field compares numerically, a
// timestamp with text reads the text as an ISO 8601 time.
func comparable(l, r val) (val, val) {
	switch {
	case l.kind == kNum || r.kind == kNum:
		return number(l), number(r)
	case l.kind == kTime && r.kind == kStr:
		return l, val{"from_iso8601_timestamp(" + r.sql + ")", kTime}
	case r.kind == kTime && l.kind == kStr:
		return val{"from_iso8601_timestamp(" + l.sql + ")", kTime}, r
	case l.kind == kBool && r.kind == kStr:
		return val{"CAST(" + l.sql + " AS VARCHAR)", kStr}, r
	case r.kind == kBool && l.kind == kStr:
		return l, val{"CAST(" + r.sql + " AS VARCHAR)", kStr}
	}
	return l, r
}

// text is a value as VARCHAR, for like and regexes.
func text(v val) string {
	if v.kind == kStr {
		return v.sql
	}
	return "CAST(" + v.sql + " AS VARCHAR)"
}

// units are bin()'s period units in seconds.
var units = map[string]float64{"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}

// function writes a function call that is not an aggregate.
func (t *translator) function(st *stage, c *call) (val, error) {
	args := make([]val, len(c.args))
	for i, a := range c.args {
		if d, ok := a.(*literal); !ok || d.tok.kind != tkDuration { // a period is read where taken
			v, err := t.value(st, a)
			if err != nil {
				return val{}, err
			}
			args[i] = v
		}
	}
	want := func(n int) error {
		if len(args) != n || c.star {
			return t.fail(c.pos, "%s takes %d argument%s", c.name, n, map[bool]string{true: "", false: "s"}[n == 1])
		}
		return nil
	}
	switch c.name {
	case "ispresent":
		if err := want(1); err != nil {
			return val{}, err
		}
		return val{"(" + args[0].sql + " IS NOT NULL)", kBool}, nil
	case "isempty":
		if err := want(1); err != nil {
			return val{}, err
		}
		return val{"(" + args[0].sql + " IS NULL OR " + text(args[0]) + " = '')", kBool}, nil
	case "isblank":
		if err := want(1); err != nil {
			return val{}, err
		}
		return val{"(" + args[0].sql + " IS NULL OR trim(" + text(args[0]) + ") = '')", kBool}, nil
	case "tolower", "toupper", "trim", "ltrim", "rtrim", "strlen":
		if err := want(1); err != nil {
			return val{}, err
		}
		fn := map[string]string{"tolower": "lower", "toupper": "upper", "trim": "trim", "ltrim": "ltrim", "rtrim": "rtrim", "strlen": "length"}[c.name]
		k := kStr
		if c.name == "strlen" {
			k = kNum
		}
		return val{fn + "(" + text(args[0]) + ")", k}, nil
	case "concat", "coalesce", "greatest", "least":
		if len(args) == 0 {
			return val{}, t.fail(c.pos, "%s takes at least one argument", c.name)
		}
		k, parts := kStr, make([]string, len(args))
		for i, a := range args {
			parts[i] = text(a)
			if c.name == "greatest" || c.name == "least" {
				k, parts[i] = kNum, number(a).sql
			}
		}
		return val{c.name + "(" + strings.Join(parts, ", ") + ")", k}, nil
	case "abs", "floor", "ceil", "log", "sqrt":
		if err := want(1); err != nil {
			return val{}, err
		}
		fn := c.name
		if fn == "log" {
			fn = "ln" // Insights' log is the natural logarithm
		}
		return val{fn + "(" + number(args[0]).sql + ")", kNum}, nil
	case "tomillis":
		if err := want(1); err != nil {
			return val{}, err
		}
		ts := args[0]
		if ts.kind != kTime {
			ts = val{"from_iso8601_timestamp(" + text(ts) + ")", kTime}
		}
		return val{"CAST(floor(to_unixtime(" + ts.sql + ") * 1000) AS BIGINT)", kNum}, nil
	case "frommillis":
		if err := want(1); err != nil {
			return val{}, err
		}
		return val{"from_unixtime(" + number(args[0]).sql + " / 1000)", kTime}, nil
	case "strcontains":
		if err := want(2); err != nil {
			return val{}, err
		}
		return val{"(strpos(" + text(args[0]) + ", " + text(args[1]) + ") > 0)", kBool}, nil
	case "replace":
		if err := want(3); err != nil {
			return val{}, err
		}
		return val{"replace(" + text(args[0]) + ", " + text(args[1]) + ", " + text(args[2]) + ")", kStr}, nil
	case "bin":
		if len(c.args) != 1 {
			return val{}, t.fail(c.pos, "bin takes a period such as 5m")
		}
		ts, err := t.timestamp(st, c)
		if err != nil {
			return val{}, err
		}
		return t.floorTime(ts, c.args[0], "floor")
	case "datefloor", "dateceil":
		if len(c.args) != 2 {
			return val{}, t.fail(c.pos, "%s takes a time and a period: %s(@timestamp, 1h)", c.name, c.name)
		}
		ts, err := t.value(st, c.args[0])
		if err != nil {
			return val{}, err
		}
		if ts.kind != kTime {
			ts = val{"from_iso8601_timestamp(" + text(ts) + ")", kTime}
		}
		return t.floorTime(ts, c.args[1], strings.TrimPrefix(c.name, "date"))
	case "count", "count_distinct", "sum", "avg", "min", "max", "stddev", "pct", "earliest", "latest":
		if !st.base {
			return val{}, t.fail(c.pos, "%s is not a column of the stats before: its columns are %s", c.text, strings.Join(st.cols, ", "))
		}
		return val{}, t.fail(c.pos, "%s aggregates: it goes in stats", c.name)
	}
	return val{}, t.fail(c.pos, "the function %s is not translated to SQL", c.name)
}

// timestamp is @timestamp in the stage, which bin() and earliest/latest read.
func (t *translator) timestamp(st *stage, c *call) (val, error) {
	if v, ok := st.names["@timestamp"]; ok {
		return v, nil
	}
	if !st.base {
		return val{}, t.fail(c.pos, "%s needs @timestamp, which the results of stats do not have", c.name)
	}
	ts, _ := t.schema.column("@timestamp")
	return ts, nil
}

// floorTime rounds a time down (floor) or up (ceil) to a multiple of a period such as 5m.
func (t *translator) floorTime(ts val, period expr, round string) (val, error) {
	d, ok := period.(*literal)
	if !ok || d.tok.kind != tkDuration {
		return val{}, t.fail(period.at(), "a period is a number and a unit (ms, s, m, h, d, w), e.g. 5m")
	}
	n, unit := splitDuration(d.tok.text)
	f, err := strconv.ParseFloat(n, 64)
	u, ok := units[strings.ToLower(unit)]
	if err != nil || !ok || f <= 0 || f*u > 1e10 {
		return val{}, t.fail(d.pos, "%s: a period is a positive number and a unit (ms, s, m, h, d, w)", d.tok.text)
	}
	secs := numberLit(f * u)
	return val{"from_unixtime(" + round + "(to_unixtime(" + ts.sql + ") / " + secs + ") * " + secs + ")", kTime}, nil
}

func splitDuration(s string) (string, string) {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
	return s[:i], s[i:]
}
