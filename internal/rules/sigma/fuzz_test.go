package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// balancedSQL reports whether s closes every string literal and parenthesis it opens: the
// compiler must never let a value escape its literal, whatever the rule says.
func balancedSQL(s string) bool {
	depth, in := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
			} else {
				in = false
			}
		case in:
		case c == '\'':
			in = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return !in && depth == 0
}

func checkRule(t *testing.T, data []byte) {
	r, err := Parse("fuzz.yml", data)
	if err != nil {
		if _, ok := err.(*LoadError); !ok {
			t.Fatalf("Parse error is %T, not *LoadError: %v", err, err)
		}
		return
	}
	sql, err := r.SQL()
	if err != nil {
		if _, ok := err.(*UnsupportedError); !ok {
			t.Fatalf("SQL error is %T, not *UnsupportedError: %v", err, err)
		}
		return
	}
	if sql == "" || !balancedSQL(sql) {
		t.Fatalf("unbalanced SQL %q from\n%s", sql, data)
	}
}

// FuzzParse parses arbitrary rule files: no panic, errors of the documented types, balanced SQL.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/bad", "testdata/unsupported", "testdata/ok"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: &x [1, *x]}, condition: s}\n"))
	f.Add([]byte("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s: [&m {a: 1, b: 2}, *m, *m]\n  condition: s\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRule(t, data) })
}

// FuzzItem compiles one "key: value" search with one condition, all three arbitrary text, so
// that field names, modifiers, values and conditions are explored beyond YAML's syntax.
func FuzzItem(f *testing.F) {
	f.Add("eventName|contains|all", "Create*Us?r", "sel")
	f.Add("requestParameters.a-b.c|re|i", `^x\.(y|z)+$`, "not sel")
	f.Add("sourceIPAddress|cidr", "10.0.0.0/8", "1 of s*")
	f.Add("userIdentity.arn|fieldref|endswith", "requestParameters.userName", "all of them")
	f.Add("x|base64offset|contains", "it's", "sel or (sel and not sel)")
	f.Add("|all", "'; DROP TABLE x; --", "2 of them")
	f.Add("eventTime|hour|gte", "22", "sel | count() > 3")
	f.Fuzz(func(t *testing.T, key, value, cond string) {
		s := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
		doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			s("title"), s("fuzz"),
			s("logsource"), {Kind: yaml.MappingNode, Content: []*yaml.Node{s("product"), s("aws"), s("service"), s("cloudtrail")}},
			s("detection"), {Kind: yaml.MappingNode, Content: []*yaml.Node{
				s("sel"), {Kind: yaml.MappingNode, Content: []*yaml.Node{s(key), s(value)}},
				s("condition"), s(cond),
			}},
		}}
		data, err := yaml.Marshal(doc)
		if err != nil {
			return
		}
		checkRule(t, data)
	})
}
