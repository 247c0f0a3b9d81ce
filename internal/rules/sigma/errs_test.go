package sigma

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestMalformed loads testdata/bad: each file is an error naming the file, the line (and the
// column where one is known) and what is wrong, and no rule of that folder loads.
func TestMalformed(t *testing.T) {
	want := map[string]struct {
		line, col int
		msg       string
	}{
		"bad_cidr.yml":                {9, 31, `"10.0.0.0/33" is not a CIDR block`},
		"base64_of_wildcards.yml":     {9, 46, "base64 cannot encode wildcards"},
		"condition_character.yml":     {10, 26, `condition: unexpected character "&"`},
		"contains_and_startswith.yml": {9, 9, "contains and startswith cannot be combined"},
		"detection_is_list.yml":       {6, 5, "detection is a list"},
		"duplicate_key.yml":           {8, 5, `detection has the key "selection" twice`},
		"exists_not_bool.yml":         {9, 27, "exists takes one value, true or false"},
		"gt_not_number.yml":           {9, 37, `gt takes a number, not the value "many"`},
		"mixed_list.yml":              {10, 11, "mixes mappings and plain values"},
		"nested_value.yml":            {11, 15, `a value of "eventName" is a mapping`},
		"no_condition.yml":            {8, 5, "detection has no condition"},
		"no_title.yml":                {1, 1, "the rule has no title"},
		"pattern_matches_nothing.yml": {10, 21, `"filter_*" matches no search identifier`},
		"sub_modifier_without_re.yml": {9, 9, "i is a sub-modifier of re; write userAgent|re|i"},
		"two_documents.yml":           {9, 0, "a second YAML document"},
		"unclosed_paren.yml":          {10, 16, "'(' is not closed"},
		"undefined_identifier.yml":    {10, 34, `the search identifier "filter" is not defined`},
		"unknown_modifier.yml":        {10, 9, `unknown modifier "containz"`},
		"yaml_syntax.yml":             {7, 0, "invalid YAML"},
	}
	rules, errs := Load("testdata/bad")
	for _, r := range rules {
		t.Errorf("%s loaded; it is malformed", r.File)
	}
	seen := map[string]bool{}
	for _, e := range errs {
		base := filepath.Base(e.File)
		seen[base] = true
		w, ok := want[base]
		if !ok {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		if e.Line != w.line || e.Column != w.col || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("%s: got %d:%d %q, want %d:%d containing %q", base, e.Line, e.Column, e.Msg, w.line, w.col, w.msg)
		}
		if !strings.HasPrefix(e.Error(), e.File+":") {
			t.Errorf("%s: the message does not start with the file: %v", base, e)
		}
	}
	for f := range want {
		if !seen[f] {
			t.Errorf("%s: no error", f)
		}
	}
}

// TestUnsupported loads testdata/unsupported: each rule loads, and SQL says why it cannot be
// evaluated, naming the file and line.
func TestUnsupported(t *testing.T) {
	want := map[string]struct {
		line int
		msg  string
	}{
		"aggregation.yml":          {10, "the condition aggregates events"},
		"correlation.yml":          {2, "it is a correlation rule"},
		"expand.yml":               {9, "uses the expand modifier"},
		"ipv6_cidr.yml":            {9, "IPv6 CIDR 2001:db8::/32 is not supported"},
		"lookahead.yml":            {9, "is not RE2 syntax"},
		"resources_field.yml":      {9, "the elements of resources have only ARN, accountId and type"},
		"timeframe.yml":            {10, "timeframe: relates several events"},
		"utf16_without_base64.yml": {9, "wide gives UTF-16 bytes"},
		"whole_object.yml":         {9, `the field "userIdentity" is a whole object`},
		"windows_rule.yml":         {1, "its logsource is category process_creation, product windows"},
	}
	rules, errs := Load("testdata/unsupported")
	for _, e := range errs {
		t.Errorf("load: %v", e)
	}
	if len(rules) != len(want) {
		t.Errorf("loaded %d rules, want %d", len(rules), len(want))
	}
	for _, r := range rules {
		base := filepath.Base(r.File)
		w := want[base]
		sql, err := r.SQL()
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%s: SQL gives %q, %v; want an *UnsupportedError", base, sql, err)
			continue
		}
		if ue.File != r.File || ue.Line != w.line || !strings.Contains(ue.Reason, w.msg) || !strings.Contains(ue.Error(), r.Title) {
			t.Errorf("%s: got %v, want line %d and %q", base, ue, w.line, w.msg)
		}
		if got := errors.Is(err, ErrNotCloudTrail); got != (base == "windows_rule.yml") {
			t.Errorf("%s: errors.Is(ErrNotCloudTrail) = %v", base, got)
		}
	}
}

// TestCustomAttributes: keys the specification does not define are a rule's own business.
func TestCustomAttributes(t *testing.T) {
	rules, errs := Load("testdata/ok/custom_attributes.yml")
	if len(errs) > 0 || len(rules) != 1 {
		t.Fatalf("rules %v, errors %v", rules, errs)
	}
	if _, err := rules[0].SQL(); err != nil {
		t.Fatal(err)
	}
}

// TestAliasBomb: a small file whose aliases repeat a mapping a million times is refused.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    - &m {")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "f%d: v", i)
	}
	b.WriteString("}\n")
	for range 1000 {
		b.WriteString("    - *m\n")
	}
	b.WriteString("  condition: s\n")
	_, err := Parse("bomb.yml", []byte(b.String()))
	var le *LoadError
	if !errors.As(err, &le) || !strings.Contains(le.Msg, "more than") {
		t.Fatalf("Parse = %v, want a size error", err)
	}
}
