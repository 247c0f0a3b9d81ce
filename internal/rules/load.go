package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailsql/trailsql/internal/rules/sigma"
)

// Sources says which rules to load: every front end (detect, ingest, rules, the server) loads
// them through Load.
type Sources struct {
	// NoBuiltin leaves the built-in rules out.
	NoBuiltin bool
	// Files are native rule files or folders of them.
	Files []string
	// Sigma are Sigma rule files or folders of them (a clone of SigmaHQ's rules: the rules that
	// are not for AWS CloudTrail are skipped, and counted).
	Sigma []string
	// Only keeps the rules with these ids ("" none: every rule).
	Only []string
	// MinSeverity, when set, keeps the rules of that severity or higher: SigmaHQ's low rules are
	// hunting leads (its "AWS STS AssumeRole Misuse" fires on every assumed role's call).
	MinSeverity Severity
}

// Loaded is what Load found.
type Loaded struct {
	Rules []*Rule
	// Errors are rules and files that cannot be used: malformed files, rules with an error, and
	// Sigma rules that cannot be evaluated, each with its file, line and reason.
	Errors []error
	// OtherLogSources counts the Sigma rules skipped for being about another log source.
	OtherLogSources int
	// BelowSeverity counts the rules left out for a severity below Sources.MinSeverity.
	BelowSeverity int
}

// Load reads the rules of sources; what cannot be used is reported in Loaded.Errors, the rest
// loads.
func Load(src Sources) (*Loaded, error) {
	if src.MinSeverity != "" && src.MinSeverity.Rank() < 0 {
		return nil, fmt.Errorf("severity %q: give one of %s", src.MinSeverity, severityNames())
	}
	out := &Loaded{}
	if !src.NoBuiltin {
		rs, errs := Builtin()
		out.Rules, out.Errors = append(out.Rules, rs...), append(out.Errors, errs...)
	}
	if len(src.Files) > 0 {
		rs, errs := LoadFiles(src.Files...)
		out.Rules, out.Errors = append(out.Rules, rs...), append(out.Errors, errs...)
	}
	for _, p := range src.Sigma {
		rs, errs, other := LoadSigma(p)
		out.Rules, out.Errors = append(out.Rules, rs...), append(out.Errors, errs...)
		out.OtherLogSources += other
	}
	var dup []error
	out.Rules, dup = Check(out.Rules)
	out.Errors = append(out.Errors, dup...)
	if len(src.Only) > 0 {
		byID := map[string]*Rule{}
		for _, r := range out.Rules {
			byID[r.ID] = r
		}
		var kept []*Rule
		for _, id := range src.Only {
			r := byID[id]
			if r == nil {
				return nil, fmt.Errorf("no rule %s (trailsql rules list shows them)", id)
			}
			kept = append(kept, r)
		}
		out.Rules = kept
	}
	if src.MinSeverity != "" {
		n := len(out.Rules)
		out.Rules = slices.DeleteFunc(out.Rules, func(r *Rule) bool { return r.Severity.Rank() < src.MinSeverity.Rank() })
		out.BelowSeverity = n - len(out.Rules)
	}
	return out, nil
}

// severityNames lists the severities, lowest first.
func severityNames() string {
	names := make([]string, len(severities))
	for i, s := range severities {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// sigmaSeverity maps Sigma's levels to severities.
var sigmaSeverity = map[string]Severity{"informational": Info, "low": Low, "medium": Medium, "high": High, "critical": Critical}

// LoadSigma reads the Sigma rules of a file or folder: the AWS CloudTrail rules that can be
// evaluated, an error for each that cannot (with the reason), and the count of rules for other
// log sources, skipped.
func LoadSigma(path string) ([]*Rule, []error, int) {
	srs, lerrs := sigma.Load(path)
	var out []*Rule
	var errs []error
	for _, e := range lerrs {
		errs = append(errs, e)
	}
	other := 0
	for _, s := range srs {
		cond, err := s.SQL()
		if errors.Is(err, sigma.ErrNotCloudTrail) {
			other++
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sev := sigmaSeverity[strings.ToLower(s.Level)]
		if sev == "" {
			sev = Medium
		}
		id := s.ID
		if id == "" {
			id = s.Name
		}
		r := &Rule{ID: "sigma:" + id, Title: strings.NewReplacer("{{", "{ {", "}}", "} }").Replace(s.Title), Severity: sev,
			Description: strings.TrimSpace(s.Description), Tags: s.Tags, Kind: Sigma, Text: s.File, Condition: cond,
			Author: s.Author, References: s.References, File: s.File, Line: s.Line}
		if len(s.FalsePositives) > 0 {
			r.Runbook = "False positives: " + strings.Join(s.FalsePositives, "; ")
		}
		out = append(out, r)
	}
	return out, errs, other
}
