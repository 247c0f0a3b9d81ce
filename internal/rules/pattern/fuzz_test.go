package pattern

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// fuzzEvent is the event fuzzed patterns are matched against.
const fuzzEvent = `{"eventName": "ConsoleLogin", "n": 404, "f": 1.5, "b": true, "z": null, "s": "250",
	"a": [1, "x", {"k": "v"}], "o": {"k": "v", "m": [null]}, "userIdentity": {"type": "Root"}}`

// FuzzParse: no input makes Parse panic; a pattern that parses prints (String) as text that
// parses back to the same pattern, which matches as the original does; SQL and Match never panic.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"testdata/cis.patterns", "testdata/features.patterns"} {
		fh, err := os.Open(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if _, text, ok := strings.Cut(sc.Text(), " "); ok && !strings.HasPrefix(sc.Text(), "#") {
				f.Add(text)
			}
		}
		fh.Close()
	}
	for _, s := range []string{``, `{}`, `{ $.a = "\*x\*" }`, `{ $.a = "**" }`, `{ $['a b'][0].* = %^a\d{2}$% }`,
		`{ ((($.a = 1)) || $.b IS NULL) && $.c NOT EXISTS }`, `{ $.a = "q\"\\" }`, `{ $.a = -1.5e+3 }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q): %T %v, want a *SyntaxError", text, err, err)
			}
			return
		}
		s := p.String()
		p2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", text, s, err)
		}
		if s2 := p2.String(); s2 != s {
			t.Fatalf("Parse(%q) = %s, read back as %s", text, s, s2)
		}
		m1, err1 := p.Match([]byte(fuzzEvent))
		m2, err2 := p2.Match([]byte(fuzzEvent))
		if m1 != m2 || err1 != nil || err2 != nil {
			t.Fatalf("%s: matches %v (%v), read back %v (%v)", s, m1, err1, m2, err2)
		}
		if sql, err := p.SQL(); err == nil && strings.Count(sql, "'")%2 != 0 {
			t.Fatalf("%s: unbalanced quotes in %s", s, sql)
		}
	})
}
