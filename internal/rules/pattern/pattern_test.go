package pattern

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

func TestParse(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{ $.eventType = "UpdateTrail" }`, `{ $.eventType = "UpdateTrail" }`},
		{`{$.eventName=ConsoleLogin}`, `{ $.eventName = "ConsoleLogin" }`},
		{`{ $.sourceIPAddress != 123.123.* }`, `{ $.sourceIPAddress != "123.123.*" }`},
		{`{ $.arrayKey[0] = "value" }`, `{ $.arrayKey[0] = "value" }`},
		{`{ $.objectList[1].id = 2 }`, `{ $.objectList[1].id = 2 }`},
		{`{ $.SomeObject IS NULL }`, `{ $.SomeObject IS NULL }`},
		{`{ $.SomeOtherObject NOT EXISTS }`, `{ $.SomeOtherObject NOT EXISTS }`},
		{`{ $.ThisFlag IS TRUE }`, `{ $.ThisFlag IS TRUE }`},
		{`{ $.flag is false }`, `{ $.flag IS FALSE }`},
		{`{ $.x not exists }`, `{ $.x NOT EXISTS }`},
		{`{ $.latency >= 500 }`, `{ $.latency >= 500 }`},
		{`{ $.numbers[0] < 10e-3 }`, `{ $.numbers[0] < 10e-3 }`},
		{`{ $.latency > +1000 }`, `{ $.latency > +1000 }`},
		{`{ $.processes[4].averageRuntime <= 55.5 }`, `{ $.processes[4].averageRuntime <= 55.5 }`},
		{`{ $.a = -.5 }`, `{ $.a = -.5 }`},
		{`{ $.a = %^[hc]at\d{1,3}$% }`, `{ $.a = %^[hc]at\d{1,3}$% }`},
		{`{ $.a != %\x3A|\.% }`, `{ $.a != %\x3A|\.% }`},
		{`{ $.* = "x" }`, `{ $.* = "x" }`},
		{`{ $.a[*].b = "x" }`, `{ $.a[*].b = "x" }`},
		{`{ $.a.*.b = "x" }`, `{ $.a.*.b = "x" }`},
		{`{ $.['cluster.name'] = "c" }`, `{ $['cluster.name'] = "c" }`},
		{`{ $["it's"] = "c" }`, `{ $["it's"] = "c" }`},
		{`{ $['plain'] = "c" }`, `{ $.plain = "c" }`},
		{`{ $.x-y_z.0 = "c" }`, `{ $.x-y_z.0 = "c" }`},
		// Wildcards at the ends; inner and escaped stars are literal.
		{`{ $.a = "*" }`, `{ $.a = "*" }`},
		{`{ $.a = * }`, `{ $.a = "*" }`},
		{`{ $.a = "**" }`, `{ $.a = "**" }`},
		{`{ $.a = "*x*" }`, `{ $.a = "*x*" }`},
		{`{ $.a = "Ev*ent" }`, `{ $.a = "Ev*ent" }`},
		{`{ $.a = "\*x\*" }`, `{ $.a = "\*x\*" }`},
		{`{ $.a = "\*" }`, `{ $.a = "\*" }`},
		{`{ $.a = "" }`, `{ $.a = "" }`},
		{`{ $.a = "q\"uo\\te" }`, `{ $.a = "q\"uo\\te" }`},
		{`{ $.a = "\d" }`, `{ $.a = "d" }`},
		{`{ $.a = "café" }`, `{ $.a = "café" }`},
		{`{ $.a = 4* }`, `{ $.a = "4*" }`},
		{`{ $.a = 1.2.3.4 }`, `{ $.a = "1.2.3.4" }`},
		{`{ $.a = true }`, `{ $.a = "true" }`},
		// Precedence: && binds tighter than ||; parentheses kept only where needed.
		{`{ $.a = 1 || $.b = 2 && $.c = 3 }`, `{ $.a = 1 || $.b = 2 && $.c = 3 }`},
		{`{ ($.a = 1 || $.b = 2) && $.c = 3 }`, `{ ($.a = 1 || $.b = 2) && $.c = 3 }`},
		{`{ (($.a = 1)) && ($.b = 2 && ($.c = 3)) }`, `{ $.a = 1 && $.b = 2 && $.c = 3 }`},
		{`{ ($.a = 1 || ($.b = 2 || $.c = 3)) }`, `{ $.a = 1 || $.b = 2 || $.c = 3 }`},
		{" \n{\t$.a\n=\t1 }\n", `{ $.a = 1 }`},
	}
	for _, c := range cases {
		p, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := p.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %s, want %s", c.in, got, c.want)
		}
		if p2, err := Parse(p.String()); err != nil || p2.String() != p.String() {
			t.Errorf("%s does not read back: %v", p, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{``, `column 1: empty pattern: a JSON filter pattern is a condition in braces, e.g. { $.eventName = "ConsoleLogin" }`},
		{`ERROR`, `column 1: expected '{', found "ERROR": a JSON filter pattern is written in braces (term and space-delimited patterns match the text of log lines, not CloudTrail's JSON fields)`},
		{`[ip, user]`, `column 1: expected '{', found "[ip,": a JSON filter pattern is written in braces (term and space-delimited patterns match the text of log lines, not CloudTrail's JSON fields)`},
		{`{}`, `column 2: empty braces: write a condition, e.g. { $.eventName = "ConsoleLogin" }`},
		{`{ $.a = 1`, `column 10: missing '}' at the end of the pattern`},
		{`{ $.a = 1 } x`, `column 13: unexpected "x" after the closing '}'`},
		{`{ $.a = 1 $.b = 2 }`, `column 11: expected &&, || or '}', found "$.b"`},
		{`{ a = 1 }`, `column 3: expected a selector such as $.eventName or '(', found "a"`},
		{`{ $.a = 1 && }`, `column 14: expected a selector such as $.eventName or '(', found "}"`},
		{`{ ($.a = 1 }`, `column 12: expected ')' to close the '(' at column 3, found "}"`},
		{`{ $ = 1 }`, `column 3: expected a property after '$', as in $.eventName, found "="`},
		{`{ $eventName = 1 }`, `column 3: expected a property after '$', as in $.eventName, found "eventName"`},
		{`{ $.a..b = 1 }`, `column 7: expected a property name after '.', found ".b" (names are letters, digits, '-' and '_'; write other names as ['name'])`},
		{`{ $.@timestamp = 1 }`, `column 5: expected a property name after '.', found "@timestamp" (names are letters, digits, '-' and '_'; write other names as ['name'])`},
		{`{ $.a[x] = 1 }`, `column 7: expected an array index, '*' or a quoted name after '[', found "x]"`},
		{`{ $.a[1 = 1 }`, `column 8: expected ']' to close the '[' at column 6, found "="`},
		{`{ $.a[99999999999] = 1 }`, `column 7: array index 99999999999 is too large`},
		{`{ $.a['b = 1 }`, `column 7: unterminated name: the ' at column 7 has no closing '`},
		{`{ $.*[*] = 1 }`, `column 6: a selector may hold only one wildcard (CloudWatch's quota)`},
		{`{ $.a.[0] = 1 }`, `column 6: '.[' must be followed by a quoted name, as in $.['a.b']; write [0] without the '.'`},
		{`{ $.a == 1 }`, `column 7: '==' is not an operator: write '='`},
		{`{ $.a ~ 1 }`, `column 7: expected an operator (=, !=, <, <=, >, >=), IS NULL, IS TRUE, IS FALSE or NOT EXISTS after the selector, found "~"`},
		{`{ $.a }`, `column 7: expected an operator (=, !=, <, <=, >, >=), IS NULL, IS TRUE, IS FALSE or NOT EXISTS after the selector, found "}"`},
		{`{ $.a IS MAYBE }`, `column 10: IS must be followed by NULL, TRUE or FALSE, found "MAYBE"`},
		{`{ $.a IS NOT NULL }`, `column 10: IS NOT is not supported by CloudWatch: to require a value, compare it (e.g. $.a = "*")`},
		{`{ $.a EXISTS }`, `column 7: EXISTS is not supported by CloudWatch (only NOT EXISTS): to require a value, compare it (e.g. $.a = "*")`},
		{`{ $.a NOT NULL }`, `column 11: NOT must be followed by EXISTS, found "NULL"`},
		{`{ $.a = }`, `column 9: expected a value after =, found "}" (quote strings that hold characters other than letters, digits and _ . - + : / *)`},
		{`{ $.a = `, `column 9: expected a value after =, found the end of the pattern`},
		{`{ $.a = "x }`, `column 9: unterminated string: the '"' at column 9 has no closing quote`},
		{`{ $.a = "x\`, `column 9: unterminated string: the '"' at column 9 has no closing quote`},
		{`{ $.a = a@b }`, `column 10: unexpected "@b" in the value a: quote values that hold characters other than letters, digits and _ . - + : / *`},
		{`{ $.a = café }`, `column 12: unexpected "é" in the value caf: quote values that hold characters other than letters, digits and _ . - + : / *`},
		{`{ $.a = é }`, `column 9: expected a value after =, found "é" (quote strings that hold characters other than letters, digits and _ . - + : / *)`},
		{`{ $.a < "5" }`, `column 9: < compares numbers: "5" is not a number`},
		{`{ $.a >= abc }`, `column 10: >= compares numbers: abc is not a number`},
		{`{ $.a > %5% }`, `column 9: > compares numbers: a regex can only follow = or !=`},
		{`{ $.a = 1e999 }`, `column 9: the number 1e999 is out of range`},
		{`{ $.a = %abc }`, `column 9: unterminated regex: the '%' at column 9 has no closing '%'`},
		{`{ $.a = %% }`, `column 9: empty regex %%`},
		{`{ $.a = %a(b)% }`, `column 11: parentheses are not supported in a CloudWatch regex (it has no sub-patterns); use | between whole alternatives`},
		{`{ $.a = %something!% }`, `column 19: '!' is not allowed in a CloudWatch regex (letters, digits, space, :_#=@/;,- and the operators ^$?[]{}|\*+.)`},
		{`{ $.a = %café% }`, `column 13: multi-byte characters are not supported in a CloudWatch regex`},
		{`{ $.a = %\p% }`, `column 10: \p is not an escape CloudWatch supports (\d \D \s \S \w \W \xhh, or \ before one of ^$?[]{}|\*+.:_#=@/;,-)`},
		{`{ $.a = %\x4% }`, `column 10: \x must be followed by two hexadecimal digits`},
		{`{ $.a = %a{3, 5}% }`, `column 11: '{' starts a repetition {m}, {m,} or {m,n}; write \{ for the character`},
		{`{ $.a = %[a-z% }`, `column 10: invalid regex: missing closing ]`},
		{`{ $.a = %x% || $.b = %y% || $.c = %z% }`, `column 35: a pattern may hold at most 2 regexes (CloudWatch's quota)`},
		{`{ ((($.a = 1) }`, `column 15: expected ')' to close the '(' at column 4, found "}"`},
		{"{ " + strings.Repeat("(", 201) + "$.a = 1" + strings.Repeat(")", 201) + " }", `column 203: parentheses nested more than 200 deep`},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", c.in, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

// The JSON examples of AWS's filter pattern documentation, with the outcomes it states, and the
// choices this package made where it is silent (see the package documentation).
func TestMatch(t *testing.T) {
	const doc = `{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
		"arrayKey": ["value", "another value"],
		"objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
		"SomeObject": null, "ThisFlag": true, "cluster.name": "c"}`
	const compound = `{"user": {"id": 1, "email": "John.Stiles@example.com"},
		"users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
		"actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}`
	const typed = `{"n": 404, "f": 1.50, "e": 1e3, "s": "250", "t": "true", "b": false, "neg": -2,
		"acct": "012345678901", "word": "many", "star": "*x", "inner": "Ev*ent", "q": "it's \"q\"",
		"empty": "", "u": "café", "arr": [1, "two", null, {"k": "v"}], "obj": {"k": "v"}, "nul": null}`
	cases := []struct {
		event, pattern string
		want           bool
	}{
		{doc, `{ $.eventType = "UpdateTrail" }`, true},
		{doc, `{ $.eventType = UpdateTrail }`, true},
		{doc, `{ $.eventType = "updatetrail" }`, false},
		{doc, `{ $.sourceIPAddress != 123.123.* }`, true},
		{doc, `{ $.sourceIPAddress != 111.111.* }`, false},
		{doc, `{ $.arrayKey[0] = "value" }`, true},
		{doc, `{ $.arrayKey[1] = "value" }`, false},
		{doc, `{ $.arrayKey[5] != "value" }`, false},
		{doc, `{ $.objectList[1].id = 2 }`, true},
		{doc, `{ $.objectList[*].name = "b" }`, true},
		{doc, `{ $.objectList.*.name = "c" }`, false},
		{doc, `{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, true},
		{doc, `{ $.eventType = %Trail% }`, true},
		{doc, `{ $.eventType = %^Trail% }`, false},
		{doc, `{ $.['cluster.name'] = "c" }`, true},
		{doc, `{ $.SomeObject IS NULL }`, true},
		{doc, `{ $.eventType IS NULL }`, false},
		{doc, `{ $.Missing IS NULL }`, false},
		{doc, `{ $.SomeOtherObject NOT EXISTS }`, true},
		{doc, `{ $.SomeObject NOT EXISTS }`, false},
		{doc, `{ $.ThisFlag IS TRUE }`, true},
		{doc, `{ $.ThisFlag IS FALSE }`, false},
		{doc, `{ $.SomeObject = "*" }`, false},
		{doc, `{ $.SomeObject != "x" }`, false},
		{doc, `{ $.arrayKey = "value" }`, false},
		{doc, `{ $.arrayKey != "value" }`, false},
		{doc, `{ $.objectList[0] != "x" }`, false},
		{doc, `{ $.missing != "x" }`, false},
		{doc, `{ $.eventType.sub NOT EXISTS }`, true},
		{doc, `{ $.arrayKey[*] NOT EXISTS }`, false},
		{`{"a": []}`, `{ $.a[*] NOT EXISTS }`, true},
		{compound, `{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, true},
		{compound, `{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, false},
		{compound, `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, true},
		{compound, `{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, false},
		{compound, `{ $.coordinates[1][2] = 6 }`, true},
		{compound, `{ $.users[*].id >= 3 }`, true},
		{compound, `{ $.users[*].id > 3 }`, false},
		// Numbers compare by value, numbers and numeric strings alike; text compares as written.
		{typed, `{ $.n = 404 }`, true},
		{typed, `{ $.n = 404.0 }`, true},
		{typed, `{ $.n = 4.04e2 }`, true},
		{typed, `{ $.n = "404" }`, true},
		{typed, `{ $.n = 4* }`, true},
		{typed, `{ $.n = %^4\d4$% }`, true},
		{typed, `{ $.n != 404 }`, false},
		{typed, `{ $.n < 405 && $.n <= 404 && $.n > 403 && $.n >= 404 }`, true},
		{typed, `{ $.f = 1.5 }`, true},
		{typed, `{ $.f = "1.5" }`, false},
		{typed, `{ $.f = "1.50" }`, true},
		{typed, `{ $.e = 1000 }`, true},
		{typed, `{ $.s = 250 }`, true},
		{typed, `{ $.s > 249.5 }`, true},
		{typed, `{ $.acct = 12345678901 }`, true},
		{typed, `{ $.acct = "12345678901" }`, false},
		{typed, `{ $.word > 0 }`, false},
		{typed, `{ $.word != 0 }`, false},
		{typed, `{ $.t = "true" }`, true},
		{typed, `{ $.t IS TRUE }`, false},
		{typed, `{ $.b IS FALSE }`, true},
		{typed, `{ $.b = false }`, true},
		{typed, `{ $.b = 0 }`, false},
		{typed, `{ $.neg > -2.5 }`, true},
		{typed, `{ $.neg = -2 }`, true},
		{typed, `{ $.star = "*x" }`, true},
		{typed, `{ $.star = "\*x" }`, true},
		{typed, `{ $.star = "\*" }`, false},
		{typed, `{ $.inner = "Ev*ent" }`, true},
		{typed, `{ $.inner = "Event" }`, false},
		{typed, `{ $.q = "it's \"q\"" }`, true},
		{typed, `{ $.empty = "" }`, true},
		{typed, `{ $.empty = "*" }`, true},
		{typed, `{ $.empty != "*" }`, false},
		{typed, `{ $.u = "caf*" }`, true},
		{typed, `{ $.arr[*] = "two" }`, true},
		{typed, `{ $.arr[*] = 1 }`, true},
		{typed, `{ $.arr[*] IS NULL }`, true},
		{typed, `{ $.arr[*].k = "v" }`, true},
		{typed, `{ $.arr[3] = "*" }`, false},
		{typed, `{ $.obj = "*" }`, false},
		{typed, `{ $.obj.* = "v" }`, true},
		{typed, `{ $.obj[*] = "v" }`, true},
		{typed, `{ $.nul = "*" }`, false},
		{typed, `{ $.nul IS NULL }`, true},
		{typed, `{ $.nul.x NOT EXISTS }`, true},
		// Events that are not objects match nothing.
		{`[{"a": 1}]`, `{ $.a NOT EXISTS }`, false},
		{`"text"`, `{ $.a NOT EXISTS }`, false},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		got, err := p.Match([]byte(c.event))
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got != c.want {
			t.Errorf("%s over %.40s…: got %v, want %v", c.pattern, c.event, got, c.want)
		}
	}
	p, _ := Parse(`{ $.a = 1 }`)
	for _, bad := range []string{``, `{`, `{"a": 1} x`, `{"a": 1}{}`} {
		if _, err := p.Match([]byte(bad)); err == nil {
			t.Errorf("Match(%q): want an error", bad)
		}
	}
}

func TestSQLNotExpressible(t *testing.T) {
	cases := []struct{ pattern, want string }{
		{`{ $.errorCode IS NULL }`, `$.errorCode IS NULL: the lake stores a null $.errorCode like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)`},
		{`{ $.requestParameters IS NULL }`, `$.requestParameters IS NULL: the lake stores a null $.requestParameters like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)`},
		{`{ $.eventName = "x" || $.userIdentity.sessionContext.attributes.mfaAuthenticated IS NULL }`, `$.userIdentity.sessionContext.attributes.mfaAuthenticated IS NULL: the lake stores a null $.userIdentity.sessionContext.attributes.mfaAuthenticated like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)`},
		{`{ $.resources[0].ARN IS NULL }`, `$.resources[0].ARN IS NULL: the lake stores a null $.resources[0].ARN like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)`},
		{`{ $.userIdentity.* IS NULL }`, `$.userIdentity.* IS NULL: the lake stores a null $.userIdentity.* like an absent one, so IS NULL cannot be told from NOT EXISTS there (NOT EXISTS holds for both)`},
		{`{ $.eventname = "ConsoleLogin" }`, `$.eventname = "ConsoleLogin": CloudTrail spells this field $.eventName; the lake matches its fields' names in any case and does not keep an event's spelling, so another case cannot be evaluated exactly`},
		{`{ $.userIdentity.Type = "Root" }`, `$.userIdentity.Type = "Root": CloudTrail spells this field $.userIdentity.type; the lake matches its fields' names in any case and does not keep an event's spelling, so another case cannot be evaluated exactly`},
		{`{ $.requestParameters['a"b'] = 1 }`, `$.requestParameters['a"b'] = 1: a property name holding " or \ cannot be written in a JSON path`},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		_, err = p.SQL()
		var se *SQLError
		if !errors.As(err, &se) || !errors.Is(err, ErrNotExpressible) {
			t.Errorf("%s: got %v, want a *SQLError wrapping ErrNotExpressible", c.pattern, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.pattern, err, c.want)
		}
	}
	// IS NULL is exact where JSON keeps nulls: inside the payloads, in the residual.
	for _, ok := range []string{`{ $.requestParameters.filter IS NULL }`, `{ $.customField IS NULL }`,
		`{ $.userIdentity.sessionContext.webIdFederationData.attributes.x IS NULL }`, `{ $.resources[0] IS NULL }`} {
		p, _ := Parse(ok)
		if _, err := p.SQL(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// Values are SQL string literals with quotes doubled: a quote in a value never ends it. (The
// dataset test runs such values through the engine.)
func TestSQLLiterals(t *testing.T) {
	p, err := Parse(`{ $.eventName = "x' OR 1=1 --" || $.requestParameters["it's"] = "a%b_c\\*" || $.eventName = %'% }`)
	if err == nil {
		t.Fatalf("a regex may not hold a quote, yet %s parsed", p)
	}
	p, err = Parse(`{ $.eventName = "x' OR 1=1 --" || $.requestParameters["it's"] = "a%b_c\\*" }`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.SQL()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`eventname = 'x'' OR 1=1 --'`, `'$["it''s"]'`, `LIKE 'a\%b\_c\\%' ESCAPE '\'`} {
		if !strings.Contains(s, want) {
			t.Errorf("SQL lacks %s:\n%s", want, s)
		}
	}
	if strings.Count(s, "'")%2 != 0 {
		t.Errorf("unbalanced quotes in %s", s)
	}
}

// The schema SQL follows is internal/cloudtrail's: every column and field of the table is in it,
// under the name CloudTrail gives it (the one Rebuild writes).
func TestSchemaIsCloudTrails(t *testing.T) {
	var mine []string
	var walk func(prefix string, fs []*field)
	walk = func(prefix string, fs []*field) {
		for _, f := range fs {
			if f.kind == kStruct {
				walk(prefix+f.col+".", f.kids)
				continue
			}
			mine = append(mine, prefix+f.col)
		}
	}
	walk("", schema)
	var theirs []string
	for _, c := range cloudtrail.Columns() {
		if c.Name == "residual" || c.Type == "VARCHAR" && c.Doc == "partition" {
			continue
		}
		for _, f := range cloudtrail.Fields(c.Name) {
			theirs = append(theirs, f.Name)
		}
	}
	sort.Strings(mine)
	sort.Strings(theirs)
	if !reflect.DeepEqual(mine, theirs) {
		t.Fatalf("schema differs from cloudtrail's columns:\n mine   %v\n theirs %v", mine, theirs)
	}

	// Fill every string of a record with its column's name, rebuild it, and find each value at
	// the path the schema spells.
	rec := &cloudtrail.Record{}
	fill(reflect.ValueOf(rec).Elem(), "")
	var ev map[string]any
	if err := json.Unmarshal(cloudtrail.Rebuild(rec), &ev); err != nil {
		t.Fatal(err)
	}
	var check func(prefix string, path []segment, fs []*field)
	check = func(prefix string, path []segment, fs []*field) {
		for _, f := range fs {
			p := append(append([]segment{}, path...), segment{Kind: segName, Name: f.name})
			switch f.kind {
			case kStruct:
				check(prefix+f.col+".", p, f.kids)
				continue
			case kResources:
				p = append(p, segment{Kind: segIndex}, segment{Kind: segName, Name: "ARN"})
			case kMap:
				p = append(p, segment{Kind: segName, Name: "k"})
			case kBool, kBoolText:
				continue
			}
			vals := resolve(selector{Segments: p}, ev)
			if len(vals) != 1 {
				t.Errorf("%s: nothing at %s in the rebuilt record", prefix+f.col, selector{Segments: p})
			}
		}
	}
	check("", nil, schema)
}

// fill sets every string of v to its path, every slice to one element and every map to {k: path}.
func fill(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path)
	case reflect.String:
		v.SetString(path)
		if strings.HasSuffix(path, "parameters") || strings.HasSuffix(path, "elements") || strings.HasSuffix(path, "data") ||
			strings.HasSuffix(path, "details") || strings.HasSuffix(path, "inscopeof") {
			v.SetString(`{"k": "v"}`)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if path == "" && v.Type().Field(i).Name == "Residual" {
				continue
			}
			fill(v.Field(i), path+"."+strings.ToLower(v.Type().Field(i).Name))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), path)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf(path))
	}
}
