package sigma

import (
	"fmt"
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// testCase is one entry of testdata/cases.yml.
type testCase struct {
	Name      string           `yaml:"name"`
	Detection yaml.Node        `yaml:"detection"`
	Match     []map[string]any `yaml:"match"`
	NoMatch   []map[string]any `yaml:"nomatch"`
}

// ruleOf writes a Sigma rule for AWS CloudTrail around a detection, keeping its YAML as written.
func ruleOf(t *testing.T, name string, det *yaml.Node) []byte {
	t.Helper()
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "title"}, {Kind: yaml.ScalarNode, Value: name},
		{Kind: yaml.ScalarNode, Value: "logsource"}, {Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "product"}, {Kind: yaml.ScalarNode, Value: "aws"},
			{Kind: yaml.ScalarNode, Value: "service"}, {Kind: yaml.ScalarNode, Value: "cloudtrail"},
		}},
		{Kind: yaml.ScalarNode, Value: "detection"}, det,
	}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCases runs the hand-written cases of testdata/cases.yml on trailsql's engine: wildcards,
// escapes, cased, all, re and its flags, cidr, not over missing fields, precedence, quantifiers,
// null, exists, fieldref, JSON booleans and numbers, arrays, the residual, keywords, encodings.
func TestCases(t *testing.T) {
	data, err := os.ReadFile("testdata/cases.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	type expect struct {
		name, sql      string
		match, noMatch []string
	}
	var records []map[string]any
	var expects []expect
	for i, c := range cases {
		r, err := Parse(fmt.Sprintf("cases.yml[%d]", i), ruleOf(t, c.Name, &c.Detection))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		sql, err := r.SQL()
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		e := expect{name: c.Name, sql: sql}
		for j, ev := range c.Match {
			id := fmt.Sprintf("c%02d-match-%d", i, j)
			records = append(records, withBase(ev, id))
			e.match = append(e.match, id)
		}
		for j, ev := range c.NoMatch {
			id := fmt.Sprintf("c%02d-nomatch-%d", i, j)
			records = append(records, withBase(ev, id))
			e.noMatch = append(e.noMatch, id)
		}
		if len(e.match) == 0 || len(e.noMatch) == 0 {
			t.Errorf("%s: a case needs events that match and events that do not", c.Name)
		}
		expects = append(expects, e)
	}
	q := lakeOf(t, records)
	for _, e := range expects {
		got := matching(t, q, e.sql)
		for _, id := range e.match {
			if !got[id] {
				t.Errorf("%s: %s does not match\n  SQL: %s", e.name, id, e.sql)
			}
		}
		for _, id := range e.noMatch {
			if got[id] {
				t.Errorf("%s: %s matches\n  SQL: %s", e.name, id, e.sql)
			}
		}
	}
	t.Logf("%d cases, %d events", len(expects), len(records))
}
