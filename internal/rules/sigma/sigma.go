// Package sigma reads Sigma detection rules (https://github.com/SigmaHQ/sigma-specification) as
// they are published, unchanged, and compiles each AWS CloudTrail rule (logsource product aws,
// service cloudtrail) into an Athena (Trino) SQL boolean expression over one row of the table
// cloudtrail_logs. The expression is true exactly when Sigma's semantics say the event matches.
//
// What a rule means here:
//
//   - Fields are CloudTrail's JSON names. A name whose first element is a column (eventName,
//     userIdentity.sessionContext.sessionIssuer.type, tlsDetails.tlsVersion, …) reads that column,
//     matched case-insensitively as Athena does. Below a JSON payload column (requestParameters,
//     responseElements, additionalEventData, serviceEventDetails, edgeDeviceDetails,
//     insightDetails, userIdentity.inScopeOf) the rest of the name is a JSON path, matched
//     case-sensitively as CloudTrail writes it; an array met on the path matches when any of its
//     elements does (requestParameters.layers, requestParameters.containerDefinitions.command).
//     The payload column itself is its JSON text, with the quotes of JSON documents nested in
//     strings unescaped (a policy document in requestParameters reads "Effect":"Allow", as a
//     rule's author expects). resources.ARN (accountId, type) matches when
//     any element does. A field no column holds (Sigma's custom or misspelt fields) is read from
//     the residual JSON, where the lake keeps every field no column holds; Notes says so.
//   - Values match case-insensitively unless the cased modifier is given; * and ? are wildcards,
//     escaped with a backslash as the specification says. Numbers and booleans compare as their
//     text, so a YAML true matches a JSON true and the string 'true' alike.
//   - Modifiers: contains, startswith, endswith, all, cased, exists, neq (the field is present
//     and differs), re with its i, m and s
//     sub-modifiers (RE2 syntax, unanchored), cidr (IPv4), fieldref (alone or with contains,
//     startswith, endswith), lt, lte, gt, gte, the time parts minute, hour, day, week, month and
//     year of a date, windash, base64, base64offset, utf16le, utf16be, utf16 and wide. expand
//     (placeholders) and IPv6 cidr are reported as not supported.
//   - null matches a missing field or a JSON null; a field that is missing never matches a value,
//     so "not filter" holds for an event without the filter's field, as in Sigma.
//   - Keywords (a search identifier that is a list of plain values) match when the value occurs
//     anywhere in the event's text: every string column, the JSON text of the payloads, the
//     resources and the residual, case-insensitively unless cased.
//   - Conditions: and, or, not, parentheses, "1 of", "any of", "all of", "N of" a pattern or
//     them (identifiers starting with _ left out), and a list of conditions joined by or.
//     Aggregations (| count() …), near and timeframe correlate events and are not supported.
//
// Every leaf is wrapped so that it is never NULL: the expression is two-valued and may be
// negated, combined and used in a WHERE clause or a select list as it is. Within a selection the
// column comparisons come first, and a costly test (a JSON path, a regular expression, the
// resources, a keyword) after a cheap one is written CASE WHEN cheap THEN costly ELSE false END,
// so that a pass computing every rule in one select list evaluates it only on the rows that need
// it. fieldref reads a JSON path as it is, without looking into arrays.
//
// Rules keep their author, references and licence: Sigma rules from SigmaHQ are under the
// Detection Rule License 1.1, which requires that attribution wherever a rule is shown.
package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotCloudTrail is wrapped by the UnsupportedError of a rule written for another log source.
var ErrNotCloudTrail = errors.New("not an AWS CloudTrail rule")

// Rule is one Sigma rule as read from its file, with its compiled condition.
type Rule struct {
	ID, Name, Title, Status, Level, Description string
	// Author, References and License are the attribution the Detection Rule License requires to
	// be shown with the rule.
	Author, License                  string
	References, Tags, FalsePositives []string
	Date, Modified                   string
	Logsource                        Logsource
	// File is the rule's file as given to Load or Parse; Line is the line of its first key.
	File string
	Line int

	sql         string
	unsupported *UnsupportedError
	notes       []string
}

// Logsource is a rule's logsource section.
type Logsource struct {
	Category, Product, Service, Definition string
}

// SQL returns the rule as an Athena SQL boolean expression over one row of cloudtrail_logs, or an
// *UnsupportedError saying why the rule cannot be evaluated (wrapping ErrNotCloudTrail for a
// rule of another log source).
func (r *Rule) SQL() (string, error) {
	if r.unsupported != nil {
		return "", r.unsupported
	}
	return r.sql, nil
}

// Notes are remarks on a rule that compiles but may not do what its author meant: fields that
// CloudTrail events do not carry (read from the residual JSON), values that look like field
// names without the fieldref modifier.
func (r *Rule) Notes() []string { return r.notes }

// String names the rule for messages: its id and title.
func (r *Rule) String() string {
	switch {
	case r.ID != "" && r.Title != "":
		return fmt.Sprintf("%q (%s)", r.Title, r.ID)
	case r.Title != "":
		return fmt.Sprintf("%q", r.Title)
	}
	return r.ID
}

// LoadError is a rule file that cannot be read or is not a well-formed Sigma rule: a YAML syntax
// error, a detection of the wrong shape, an unknown modifier, a condition that does not parse or
// names an undefined search identifier. Line and Column are 1-based, 0 when unknown.
type LoadError struct {
	File         string
	Line, Column int
	Msg          string
	Err          error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any (an I/O error).
func (e *LoadError) Unwrap() error { return e.Err }

// UnsupportedError says why a well-formed rule cannot be evaluated over cloudtrail_logs.
type UnsupportedError struct {
	// Rule names the rule: its title and id.
	Rule string
	File string
	Line int
	// Reason is what the rule uses that cannot be evaluated, and why.
	Reason string
	// Err is ErrNotCloudTrail for a rule of another log source, nil otherwise.
	Err error
}

func (e *UnsupportedError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("%s: rule %s cannot be evaluated: %s", loc, e.Rule, e.Reason)
}

// Unwrap returns ErrNotCloudTrail for a rule of another log source.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// Load reads the Sigma rules of a .yml or .yaml file, or of every such file under a folder
// (folders whose names start with a dot are skipped), in path order. Files that are not
// well-formed rules are returned as errors; the other rules still load.
func Load(path string) ([]*Rule, []*LoadError) {
	var files []string
	info, err := os.Stat(path)
	if err != nil {
		return nil, []*LoadError{{File: path, Msg: "cannot read the rules", Err: err}}
	}
	var errs []*LoadError
	if !info.IsDir() {
		files = []string{path}
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, &LoadError{File: p, Msg: "cannot read", Err: err})
				return nil
			}
			if d.IsDir() {
				if p != path && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(p)); ext == ".yml" || ext == ".yaml" {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &LoadError{File: path, Msg: "cannot list the rules", Err: err})
		}
	}
	sort.Strings(files)
	var rules []*Rule
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &LoadError{File: f, Msg: "cannot read", Err: err})
			continue
		}
		r, err := Parse(f, data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				le = &LoadError{File: f, Msg: err.Error()}
			}
			errs = append(errs, le)
			continue
		}
		rules = append(rules, r)
	}
	return rules, errs
}
