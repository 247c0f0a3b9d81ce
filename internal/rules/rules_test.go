package rules_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/testshared"
)

func builtin(t *testing.T) []*rules.Rule {
	t.Helper()
	rs, errs := rules.Builtin()
	if len(errs) > 0 {
		t.Fatalf("built-in rules: %v", errs)
	}
	rs, errs = rules.Check(rs)
	if len(errs) > 0 {
		t.Fatalf("built-in rules: %v", errs)
	}
	return rs
}

// testLake is the LakeFunc of the rule tests: the events ingested into a lake of their own.
func testLake(t *testing.T) rules.LakeFunc {
	return func(ctx context.Context, log string) (answer.QueryFunc, func(), error) {
		return answertest.Ingested(t, log), func() {}, nil
	}
}

// Every built-in rule fires on the events written for it and on no other event of its tests;
// every one has a test with an event it fires on and one it does not.
func TestBuiltinRules(t *testing.T) {
	rs := builtin(t)
	if len(rs) < 25 {
		t.Fatalf("%d built-in rules", len(rs))
	}
	results, err := rules.RunTests(context.Background(), "testdata/builtin.test.yml", rs, rules.LoadFiles, testLake(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		for _, f := range r.Failures {
			t.Errorf("%s:%d %s: %s", r.File, r.Line, r.Name, f)
		}
	}
	// Coverage: a rule under test in a case where it fires, and where some event does not fire it.
	tested := rules.Coverage("testdata/builtin.test.yml")
	for _, r := range rs {
		c := tested[r.ID]
		if c.Fires == 0 || c.Quiet == 0 {
			t.Errorf("rule %s: tested with %d events it fires on and %d it does not; want both", r.ID, c.Fires, c.Quiet)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"unknown key", "rules:\n  - id: a\n    title: t\n    severity: low\n    condtion: x\n", "bad.yml:5: rule a: field condtion not found in a rule"},
		{"no condition", "rules:\n  - id: a\n    title: t\n    severity: low\n", "bad.yml:2: rule a: give one of condition"},
		{"both", "rules:\n  - id: a\n    title: t\n    severity: low\n    condition: true\n    pattern: '{ $.a = 1 }'\n", "give one of condition"},
		{"severity", "rules:\n  - id: a\n    title: t\n    severity: urgent\n    condition: true\n", `severity "urgent"`},
		{"condition not an expression", "rules:\n  - id: a\n    title: t\n    severity: low\n    condition: true) OR (true\n", "condition: at offset 4"},
		{"statement", "rules:\n  - id: a\n    title: t\n    severity: low\n    condition: true; DELETE FROM x\n", "';' ends a statement"},
		{"pattern", "rules:\n  - id: a\n    title: t\n    severity: low\n    pattern: '{ $.a = }'\n", "bad.yml:2: rule a: pattern:"},
		{"threshold", "rules:\n  - id: a\n    title: t\n    severity: low\n    condition: true\n    threshold: {count: 5, window: soon}\n", `threshold window "soon"`},
		{"title", "rules:\n  - id: a\n    title: 'x {{ eventname'\n    severity: low\n    condition: true\n", "title: '{{' without '}}'"},
		{"id", "rules:\n  - id: 'a b'\n    title: t\n    severity: low\n    condition: true\n", `id "a b"`},
		{"not yaml", "rules: [\n", "bad.yml:"},
		{"empty", "", "no rules"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs := rules.Parse("bad.yml", []byte(c.text))
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
				t.Errorf("errors %v, want one saying %q", errs, c.want)
			}
		})
	}
	// One bad rule does not stop the others.
	rs, errs := rules.Parse("mixed.yml", []byte("rules:\n  - id: good\n    title: t\n    severity: low\n    condition: true\n  - id: bad\n    title: t\n    severity: low\n"))
	if len(rs) != 1 || rs[0].ID != "good" || rs[0].Line != 2 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "mixed.yml:6: rule bad") {
		t.Errorf("rules %v, errors %v", rs, errs)
	}
	_, errs = rules.Check([]*rules.Rule{{ID: "x", File: "a.yml", Line: 2}, {ID: "x", File: "b.yml", Line: 7}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "b.yml:7: rule x: the id is taken by the rule at a.yml:2") {
		t.Errorf("duplicate ids: %v", errs)
	}
}

// A rule the engine cannot evaluate is reported alone; the others still run in one scan.
func TestValidateIsolatesBadRules(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.json")
	os.WriteFile(log, []byte(`{"Records":[{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}}]}`), 0o644)
	query := answertest.Ingested(t, log)
	rs, errs := rules.Parse("r.yml", []byte(`rules:
  - id: good
    title: "{{ eventname }} by {{ useridentity.arn }}"
    severity: low
    condition: eventname = 'GetObject'
  - id: unknown-column
    title: t
    severity: low
    condition: nosuchcolumn = 'x'
  - id: bad-function
    title: t
    severity: low
    condition: nosuchfunction(eventname)
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx := context.Background()
	ok, problems := rules.Validate(ctx, query, rs)
	if len(ok) != 1 || ok[0].ID != "good" || len(problems) != 2 {
		t.Fatalf("valid %v, problems %v", ok, problems)
	}
	for _, p := range problems {
		if !strings.Contains(p.Error(), "r.yml:") {
			t.Errorf("problem %v does not say where the rule is", p)
		}
	}
	alerts, err := rules.Evaluate(ctx, query, ok, rules.Scope{})
	if err != nil || len(alerts) != 1 || alerts[0].Title != "GetObject by arn:aws:iam::111122223333:user/a" || alerts[0].EventID != "e1" {
		t.Fatalf("alerts %+v, %v", alerts, err)
	}
}

func TestCoverageCounts(t *testing.T) {
	c := rules.Coverage("testdata/builtin.test.yml")
	if got := c["failed-signin-burst"]; got.Fires != 1 || got.Quiet < 10 {
		t.Errorf("failed-signin-burst: %+v", got)
	}
	if !slices.Contains([]int{0}, c["no-such-rule"].Fires) {
		t.Error("a rule no test names has coverage")
	}
}

// SigmaHQ's AWS CloudTrail rules load unchanged, and every one that compiles is evaluated by the
// engine (none is refused there); the built-in rules too, all in one scan over the shared
// CloudTrail events.
func TestRulesEvaluateOverSharedEvents(t *testing.T) {
	dir := testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")
	loaded, err := rules.Load(rules.Sources{Sigma: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	sigmas := 0
	for _, r := range loaded.Rules {
		if r.Kind == rules.Sigma {
			sigmas++
			if r.Author == "" {
				t.Errorf("%s: no author (the DRL asks for attribution)", r.ID)
			}
		}
	}
	t.Logf("%d Sigma rules evaluate, %d cannot: %v", sigmas, len(loaded.Errors), loaded.Errors)
	if sigmas+len(loaded.Errors) != 57 || sigmas < 50 {
		t.Errorf("%d Sigma rules evaluate and %d are reported, of 57", sigmas, len(loaded.Errors))
	}
	events := testshared.Dir(t, "datasets/stratus-red-team")
	query := answertest.Ingested(t, events)
	ok, problems := rules.Validate(context.Background(), query, loaded.Rules)
	for _, p := range problems {
		t.Errorf("the engine cannot evaluate %v", p)
	}
	alerts, err := rules.Evaluate(context.Background(), query, ok, rules.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string]int{}
	for _, a := range alerts {
		fired[a.Rule]++
	}
	t.Logf("%d alerts from %d rules over the Stratus Red Team events", len(alerts), len(fired))
	if len(fired) < 10 {
		t.Errorf("only %d rules fired on 35 attack techniques", len(fired))
	}
}

// Coverage against real attacks: which rules fire on the events of each of Stratus Red Team's 35
// AWS techniques (the table is logged; go test -v -run TestStratusCoverage prints it).
func TestStratusCoverage(t *testing.T) {
	dir := testshared.Dir(t, "datasets/stratus-red-team")
	sigmaDir := testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")
	index, err := os.ReadFile(filepath.Join(dir, "technique_index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	technique := map[string]string{}
	var techniques []string
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			t.Fatalf("technique_index.csv: %q", line)
		}
		if !slices.Contains(techniques, f[1]) {
			techniques = append(techniques, f[1])
		}
		technique[f[2]] = f[1]
	}
	loaded, err := rules.Load(rules.Sources{Sigma: []string{sigmaDir}})
	if err != nil || len(loaded.Errors) > 0 {
		t.Fatal(err, loaded.Errors)
	}
	query := answertest.Ingested(t, filepath.Join(dir, "stratus_detonation_logs.json"))
	ok, problems := rules.Validate(context.Background(), query, loaded.Rules)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	alerts, err := rules.Evaluate(context.Background(), query, ok, rules.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string]map[string]bool{}
	for _, a := range alerts {
		tech := technique[a.EventID]
		if tech == "" {
			t.Errorf("alert %s on event %s, which no technique holds", a.Rule, a.EventID)
			continue
		}
		if fired[tech] == nil {
			fired[tech] = map[string]bool{}
		}
		fired[tech][a.Rule] = true
	}
	var b strings.Builder
	b.WriteString("| technique | rules that fire |\n|---|---|\n")
	for _, tech := range techniques {
		var ids []string
		for id := range fired[tech] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if len(ids) == 0 {
			ids = []string{"—"}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", tech, strings.Join(ids, ", "))
	}
	t.Logf("Stratus Red Team: %d of %d techniques detected, %d alerts from %d rules (built-in and Sigma)\n%s", len(fired), len(techniques), len(alerts), len(ok), b.String())
	if len(techniques) != 35 || len(fired) < 20 {
		t.Errorf("%d of %d techniques detected", len(fired), len(techniques))
	}
}

// A rule with an unknown key is reported at its line; the file's other rules still load.
func TestUnknownKeyKeepsOtherRules(t *testing.T) {
	rs, errs := rules.Parse("f.yml", []byte("rules:\n  - id: a\n    title: t\n    severity: low\n    condition: true\n  - id: b\n    title: t\n    severity: low\n    condtion: true\n  - id: c\n    title: t\n    severity: low\n    pattern: '{ $.eventName = \"x\" }'\n"))
	if len(rs) != 2 || rs[0].ID != "a" || rs[1].ID != "c" || rs[1].Line != 10 {
		t.Errorf("rules %v", rs)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "f.yml:9: rule b: field condtion not found") {
		t.Errorf("errors %v", errs)
	}
	_, errs = rules.Parse("f.yml", []byte("groups:\n  - x\n"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `f.yml:1: unknown key "groups"`) {
		t.Errorf("errors %v", errs)
	}
}

// The alerts' table declares the Parquet columns the store writes.
func TestAlertColumns(t *testing.T) {
	fields := parquet.SchemaOf(rules.Alert{}).Fields()
	if len(fields) != len(lake.AlertColumns) {
		t.Fatalf("Alert has %d Parquet columns, AlertColumns %d", len(fields), len(lake.AlertColumns))
	}
	for i, f := range fields {
		c := lake.AlertColumns[i]
		typ := "VARCHAR"
		if f.Type().Kind() == parquet.Int64 {
			typ = "BIGINT"
		}
		if f.Name() != c.Name || typ != c.Type {
			t.Errorf("column %d: Parquet %s %s, AlertColumns %s %s", i, f.Name(), typ, c.Name, c.Type)
		}
	}
}

// MinSeverity keeps the rules of that severity or higher, and counts those it leaves out; an
// unknown severity is an error.
func TestLoadMinSeverity(t *testing.T) {
	all, err := rules.Load(rules.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	high, err := rules.Load(rules.Sources{MinSeverity: rules.High})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range all.Rules {
		if r.Severity == rules.High || r.Severity == rules.Critical {
			want++
		}
	}
	for _, r := range high.Rules {
		if r.Severity != rules.High && r.Severity != rules.Critical {
			t.Errorf("%s (%s) kept", r.ID, r.Severity)
		}
	}
	if len(high.Rules) != want || high.BelowSeverity != len(all.Rules)-want || want == 0 || want == len(all.Rules) {
		t.Errorf("%d rules kept, %d left out; %d of %d are high or critical", len(high.Rules), high.BelowSeverity, want, len(all.Rules))
	}
	if _, err := rules.Load(rules.Sources{MinSeverity: "severe"}); err == nil || !strings.Contains(err.Error(), `severity "severe": give one of info, low`) {
		t.Errorf("unknown severity: %v", err)
	}
}
