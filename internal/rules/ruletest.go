package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/trailsql/trailsql/internal/answer"
)

// A rule test file (after promtool's alert_rule_test): events, and the alerts the rules must
// give on them, no more and no fewer.
//
//	rule_files: [my-rules.yml]        # native or Sigma rule files, relative to the test file
//	tests:
//	  - name: a root sign-in fires
//	    rules: [root-activity]        # the rules under test (default: every rule loaded)
//	    events:                       # CloudTrail records, as in a log file's Records
//	      - {"eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z", …, "eventID": "e1"}
//	    alerts:                       # every alert of the rules under test
//	      - {rule: root-activity, event_id: e1}
type testFile struct {
	RuleFiles []string   `yaml:"rule_files"`
	Tests     []testCase `yaml:"tests"`
}

type testCase struct {
	Name   string           `yaml:"name"`
	Rules  []string         `yaml:"rules"`
	Events []map[string]any `yaml:"events"`
	Alerts []struct {
		Rule    string `yaml:"rule"`
		EventID string `yaml:"event_id"`
		Title   string `yaml:"title"`
	} `yaml:"alerts"`
	line int
}

// LakeFunc builds a lake from a CloudTrail log file and returns a QueryFunc over it and what
// releases it.
type LakeFunc func(ctx context.Context, logFile string) (answer.QueryFunc, func(), error)

// TestResult is the outcome of one test of a file.
type TestResult struct {
	File, Name string
	Line       int
	// Failures say what differed: alerts missing, alerts not expected, rules that did not load.
	Failures []string
}

// Loader loads the rule files a test file names (native or Sigma).
type Loader func(paths ...string) ([]*Rule, []error)

// RunTests runs the tests of a rule test file: each test's events in a lake of their own
// (lake), the rules of the file's rule_files and builtin evaluated over them.
func RunTests(ctx context.Context, file string, builtin []*Rule, load Loader, lake LakeFunc) ([]TestResult, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var tf testFile
	if err := dec.Decode(&tf); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Line: yamlLine(err), Err: errors.New(yamlMessage(err))}
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc)
	lines := testLines(&doc)
	for i := range tf.Tests {
		if i < len(lines) {
			tf.Tests[i].line = lines[i]
		}
	}
	all := slices.Clone(builtin)
	var paths []string
	for _, p := range tf.RuleFiles {
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(file), p)
		}
		paths = append(paths, p)
	}
	var loadErrs []error
	if len(paths) > 0 {
		rs, errs := load(paths...)
		all, loadErrs = append(all, rs...), errs
	}
	all, dup := Check(all)
	loadErrs = append(loadErrs, dup...)
	byID := map[string]*Rule{}
	for _, r := range all {
		byID[r.ID] = r
	}
	var out []TestResult
	for _, tc := range tf.Tests {
		res := TestResult{File: file, Name: tc.Name, Line: tc.line}
		for _, e := range loadErrs {
			res.Failures = append(res.Failures, "rule file: "+e.Error())
		}
		under := all
		if len(tc.Rules) > 0 {
			under = nil
			for _, id := range tc.Rules {
				if r := byID[id]; r != nil {
					under = append(under, r)
				} else {
					res.Failures = append(res.Failures, fmt.Sprintf("no rule %s is loaded", id))
				}
			}
		}
		got, err := runCase(ctx, tc, under, lake)
		if err != nil {
			res.Failures = append(res.Failures, err.Error())
			out = append(out, res)
			continue
		}
		want := map[string]bool{}
		titles := map[string]string{}
		for _, a := range tc.Alerts {
			k := a.Rule + " on " + a.EventID
			want[k] = true
			if a.Title != "" {
				titles[k] = a.Title
			}
		}
		have := map[string]bool{}
		for _, a := range got {
			k := a.Rule + " on " + a.EventID
			have[k] = true
			if t, ok := titles[k]; ok && t != a.Title {
				res.Failures = append(res.Failures, fmt.Sprintf("alert %s: title %q, want %q", k, a.Title, t))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if !have[k] {
				res.Failures = append(res.Failures, "missing alert: "+k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(have)) {
			if !want[k] {
				res.Failures = append(res.Failures, "unexpected alert: "+k)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func runCase(ctx context.Context, tc testCase, under []*Rule, lake LakeFunc) ([]*Alert, error) {
	if len(tc.Events) == 0 {
		return nil, errors.New("no events")
	}
	dir, err := os.MkdirTemp("", "trailsql-ruletest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b, err := json.Marshal(map[string]any{"Records": tc.Events})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	log := filepath.Join(dir, "events.json")
	if err := os.WriteFile(log, b, 0o644); err != nil {
		return nil, err
	}
	query, release, err := lake(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer release()
	ok, problems := Validate(ctx, query, under)
	if len(problems) > 0 {
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.Error())
		}
		return nil, fmt.Errorf("rules that cannot be evaluated: %s", strings.Join(msgs, "; "))
	}
	return Evaluate(ctx, query, ok, Scope{})
}

func testLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "tests" && m.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, n := range m.Content[i+1].Content {
				out = append(out, n.Line)
			}
			return out
		}
	}
	return nil
}
