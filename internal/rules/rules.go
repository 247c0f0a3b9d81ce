// Package rules is trailsql's detection engine: rules written as Athena SQL conditions,
// CloudWatch Logs filter patterns or SigmaHQ rules, each a boolean over one row of
// cloudtrail_logs, evaluated together in one scan — over a window (a backtest) or over the rows of
// the lake's new commits, once each (see Detector) — with thresholds counted per group in a
// sliding window. Matches become alerts, stored beside the lake.
//
// A rule file is strict YAML (after Prometheus's rulefmt): unknown keys are errors naming the
// file and line, and one bad rule does not stop the others from loading.
package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/rules/pattern"
)

// Severity ranks what a rule finds.
type Severity string

// The severities, lowest first.
const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

var severities = []Severity{Info, Low, Medium, High, Critical}

// Rank orders severities: info 0 … critical 4; -1 for an unknown one.
func (s Severity) Rank() int { return slices.Index(severities, s) }

// Kind is the language a rule was written in.
type Kind string

// The kinds of rule.
const (
	SQL     Kind = "sql"     // an Athena SQL condition
	Pattern Kind = "pattern" // a CloudWatch Logs filter pattern
	Sigma   Kind = "sigma"   // a SigmaHQ rule
)

// Rule is one detection.
type Rule struct {
	ID    string
	Title string // a template: {{ expr }} is an Athena SQL expression over the row
	// Severity is info, low, medium, high or critical.
	Severity    Severity
	Description string
	Runbook     string
	// Tags are MITRE ATT&CK ids (attack.t1078) and other labels.
	Tags []string
	Kind Kind
	// Text is the rule's condition as written: SQL, a filter pattern, or a Sigma file's
	// detection.
	Text string
	// Condition is the Athena SQL boolean expression over one row of cloudtrail_logs that the
	// rule compiles to.
	Condition string
	// Threshold, when set, makes the rule fire when Count matching events of one group fall
	// within Window, rather than on every match.
	Threshold *Threshold
	// Dedup are SQL expressions over the row: alerts with the same values are one (default:
	// the event itself).
	Dedup []string
	// Author and References credit a Sigma rule's authors (DRL 1.1).
	Author     string
	References []string
	// File and Line locate the rule; Builtin marks the rules shipped with trailsql.
	File    string
	Line    int
	Builtin bool
}

// Threshold is a count of matching events within a sliding window, per group.
type Threshold struct {
	Count  int
	Window time.Duration
	// GroupBy are SQL expressions over the row; events with the same values are counted
	// together (none: all events of the rule).
	GroupBy []string
}

// Where locates the rule for messages: file:line, or "built-in".
func (r *Rule) Where() string {
	if r.File == "" {
		return "built-in"
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// Error is a rule (or a rule file) that cannot be used: its file, line and what is wrong.
type Error struct {
	File string
	Line int
	ID   string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, ": rule %s", e.ID)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

type ruleYAML struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Severity    string   `yaml:"severity"`
	Description string   `yaml:"description"`
	Runbook     string   `yaml:"runbook"`
	Tags        []string `yaml:"tags"`
	Condition   string   `yaml:"condition"`
	Pattern     string   `yaml:"pattern"`
	Threshold   *struct {
		Count   int      `yaml:"count"`
		Window  string   `yaml:"window"`
		GroupBy []string `yaml:"group_by"`
	} `yaml:"threshold"`
	Dedup []string `yaml:"dedup"`
}

var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`) })

// Parse reads a native rule file: its rules, and an error for each rule that cannot be used
// (a file that is not valid YAML, or has unknown keys, gives one error and no rules).
func Parse(file string, data []byte) ([]*Rule, []error) {
	format := func(err error) error {
		return fmt.Errorf("%s (see 'trailsql rules --help' for the format)", yamlMessage(err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{&Error{File: file, Line: yamlLine(err), Err: format(err)}}
	}
	nodes, line, err := ruleNodes(&doc)
	if err != nil {
		return nil, []error{&Error{File: file, Line: line, Err: err}}
	}
	var out []*Rule
	var errs []error
	for _, n := range nodes {
		// Each rule is decoded on its own, strictly: an unknown key is an error of that rule,
		// at its line, and the file's other rules still load.
		var ry ruleYAML
		if err := strictDecode(n, &ry); err != nil {
			line := n.Line
			if l := yamlLine(err); l > 0 {
				line = n.Line + l - 1
			}
			errs = append(errs, &Error{File: file, Line: line, ID: idOf(n), Err: format(err)})
			continue
		}
		r, err := ry.rule(file, n.Line)
		if err != nil {
			errs = append(errs, &Error{File: file, Line: n.Line, ID: ry.ID, Err: err})
			continue
		}
		out = append(out, r)
	}
	if len(nodes) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{File: file, Err: errors.New("no rules: a rule file holds 'rules:', a list of rules")})
	}
	return out, errs
}

// strictDecode decodes a node into v, refusing keys v has no field for. The node is written out
// again and read by a strict decoder (yaml.Node.Decode cannot be strict); error lines are
// relative to the node.
func strictDecode(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// idOf is the id a rule's node gives, "" when none.
func idOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func (ry *ruleYAML) rule(file string, line int) (*Rule, error) {
	r := &Rule{ID: ry.ID, Title: strings.TrimSpace(ry.Title), Severity: Severity(strings.ToLower(ry.Severity)), Description: strings.TrimSpace(ry.Description),
		Runbook: strings.TrimSpace(ry.Runbook), Tags: ry.Tags, Dedup: ry.Dedup, File: file, Line: line}
	switch {
	case ry.ID == "":
		return nil, errors.New("no id")
	case !idRE().MatchString(ry.ID):
		return nil, fmt.Errorf("id %q: use letters, digits and . _ : - (at most 128)", ry.ID)
	case r.Title == "":
		return nil, errors.New("no title")
	case r.Severity == "":
		return nil, errors.New("no severity (info, low, medium, high or critical)")
	case r.Severity.Rank() < 0:
		return nil, fmt.Errorf("severity %q: give info, low, medium, high or critical", ry.Severity)
	case (ry.Condition == "") == (ry.Pattern == ""):
		return nil, errors.New("give one of condition (Athena SQL over one row of cloudtrail_logs) and pattern (a CloudWatch Logs filter pattern)")
	}
	if ry.Condition != "" {
		r.Kind, r.Text, r.Condition = SQL, strings.TrimSpace(ry.Condition), strings.TrimSpace(ry.Condition)
		if err := athena.CheckExpression(r.Condition); err != nil {
			return nil, fmt.Errorf("condition: %w", err)
		}
	} else {
		p, err := pattern.Parse(ry.Pattern)
		if err != nil {
			return nil, fmt.Errorf("pattern: %w", err)
		}
		sql, err := p.SQL()
		if err != nil {
			return nil, fmt.Errorf("pattern: %w", err)
		}
		r.Kind, r.Text, r.Condition = Pattern, strings.TrimSpace(ry.Pattern), sql
	}
	if t := ry.Threshold; t != nil {
		if t.Count < 1 {
			return nil, fmt.Errorf("threshold count %d: give a count of at least 1", t.Count)
		}
		w, err := time.ParseDuration(t.Window)
		if err != nil || w <= 0 {
			return nil, fmt.Errorf("threshold window %q: give a duration such as 10m or 1h", t.Window)
		}
		r.Threshold = &Threshold{Count: t.Count, Window: w, GroupBy: t.GroupBy}
		for _, g := range t.GroupBy {
			if err := athena.CheckExpression(g); err != nil {
				return nil, fmt.Errorf("threshold group_by %q: %w", g, err)
			}
		}
	}
	for _, d := range r.Dedup {
		if err := athena.CheckExpression(d); err != nil {
			return nil, fmt.Errorf("dedup %q: %w", d, err)
		}
	}
	if _, err := parseTitle(r.Title); err != nil {
		return nil, fmt.Errorf("title: %w", err)
	}
	return r, nil
}

// ruleNodes returns the rules of a file: the items of its 'rules' list; any other top-level key
// is an error.
func ruleNodes(doc *yaml.Node) ([]*yaml.Node, int, error) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, 0, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, m.Line, errors.New("a rule file is a mapping with one key, rules: a list of rules")
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value != "rules" {
			return nil, k.Line, fmt.Errorf("unknown key %q (a rule file has one key, rules)", k.Value)
		}
		if v.Kind != yaml.SequenceNode {
			return nil, v.Line, errors.New("rules is a list of rules")
		}
		out = append(out, v.Content...)
	}
	return out, 0, nil
}

var (
	yamlLineRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)`) })
	yamlLinePrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line \d+: `) })
)

// yamlLine is the first line a YAML error names.
func yamlLine(err error) int {
	var n int
	if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &n)
	}
	return n
}

// yamlMessage words a YAML decoding error without the library's prefixes.
func yamlMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	s = strings.ReplaceAll(s, "in type rules.ruleYAML", "in a rule")
	s = strings.ReplaceAll(s, "in type rules.fileYAML", "at the top of the file")
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = yamlLinePrefix().ReplaceAllString(strings.TrimSpace(lines[i]), "")
	}
	return strings.Join(lines, "; ")
}

// LoadFiles reads native rule files, or every *.yml and *.yaml file of the folders given.
func LoadFiles(paths ...string) ([]*Rule, []error) {
	var out []*Rule
	var errs []error
	for _, f := range expand(paths, &errs) {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &Error{File: f, Err: err})
			continue
		}
		rs, es := Parse(f, data)
		out, errs = append(out, rs...), append(errs, es...)
	}
	return out, errs
}

// expand lists the YAML files of paths: files as given, folders walked.
func expand(paths []string, errs *[]error) []string {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			*errs = append(*errs, &Error{File: p, Err: fmt.Errorf("%w (give a rule file or a folder of them)", err)})
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			*errs = append(*errs, &Error{File: p, Err: err})
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files
}

// Check refuses a set of rules that holds two rules with one id (the second is reported), and
// returns the others.
func Check(rs []*Rule) ([]*Rule, []error) {
	seen := map[string]*Rule{}
	var out []*Rule
	var errs []error
	for _, r := range rs {
		if prev := seen[r.ID]; prev != nil {
			errs = append(errs, &Error{File: r.File, Line: r.Line, ID: r.ID, Err: fmt.Errorf("the id is taken by the rule at %s", prev.Where())})
			continue
		}
		seen[r.ID] = r
		out = append(out, r)
	}
	return out, errs
}
