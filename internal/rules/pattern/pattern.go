// Package pattern reads CloudWatch Logs JSON filter patterns, the language the CIS AWS
// Foundations Benchmark monitoring controls and AWS Security Hub's CloudWatch.1–14 controls are
// written in, and evaluates them over CloudTrail events two ways: Match evaluates a pattern over
// the raw JSON of one event, as CloudWatch Logs does; SQL writes it as an Athena (Trino) boolean
// expression over one row of trailsql's table cloudtrail_logs.
//
// # Grammar
//
// The grammar is AWS's ("Filter pattern syntax", Using filter patterns to match terms in JSON log
// events, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):
//
//	pattern    = "{" expression "}"
//	expression = and { "||" and }                 && binds tighter than ||
//	and        = term { "&&" term }
//	term       = "(" expression ")" | condition
//	condition  = selector ( "=" | "!=" ) ( string | number | regex )
//	           | selector ( "<" | "<=" | ">" | ">=" ) number
//	           | selector "IS" ( "NULL" | "TRUE" | "FALSE" ) | selector "NOT" "EXISTS"
//	selector   = "$" { "." name | "[" digits "]" | ".*" | "[*]" | "['" name "']" }
//
// Names are letters, digits, '-' and '_' (a bracketed, quoted name may hold anything but its
// quote) and are matched case-sensitively, as JSON keys are. A selector holds at most one
// wildcard (.* or [*], which both stand for every member of an object and every element of an
// array), CloudWatch's quota. Strings are quoted ("…", with \ escaping the next character) or bare
// (letters, digits and _ . - + : / *). A '*' at the start or the end of a string is a wildcard (any
// text, possibly none); a '*' elsewhere, or escaped, is itself: CloudWatch's "Ev*ent only matches
// the string Ev*ent". A bare token that reads as a number (an integer or a decimal with an
// optional sign, optionally in scientific notation) is a number. A regex is %…% in CloudWatch's
// restricted syntax: letters, digits, space, the symbols : _ # = @ / ; , - and the operators
// ^ $ ? [ ] { } | \ * + . (no parentheses, no multi-byte characters), with the escapes \d \D \s \S
// \w \W \xhh and \ before a symbol or operator; at most two regexes in a pattern. Keywords (IS,
// NULL, TRUE, FALSE, NOT, EXISTS) are read in any case. IS NOT and EXISTS alone do not exist, as
// AWS says.
//
// # Semantics
//
// A selector points at the values its path reaches in the event: at most one, or several through
// a wildcard; a condition holds when one of them satisfies it. Where AWS's documentation is
// silent the choices below were made and are the contract of both Match and SQL:
//
//   - A comparison (=, !=, <, …, and regexes) holds only on a scalar: a missing field, a null, an
//     object or an array satisfies no comparison, != included. AWS says so for objects and arrays
//     ("both {$.users = 1} and {$.users != 1} fail to match a log event where users is an
//     array"), and its own CIS patterns test absence with NOT EXISTS
//     ($.userIdentity.invokedBy NOT EXISTS) rather than with !=.
//   - A string (with its wildcards) or a regex is compared with the text of a string, of a number
//     as the event writes it, or of a boolean (true, false); case-sensitively.
//   - A number is compared by value with a number, or with a string that is wholly a number in the
//     same syntax ("123456789012" = 123456789012): CloudTrail writes many numbers as strings.
//   - A regex matches anywhere in the text unless anchored with ^ or $.
//   - IS TRUE and IS FALSE hold on JSON booleans only (not the strings "true" and "false"); IS NULL
//     on a JSON null only; NOT EXISTS when the path reaches nothing (with a wildcard: when no
//     member or element has the rest of the path).
//   - An event that is not a JSON object matches no pattern.
//
// # SQL
//
// SQL evaluates the pattern over the event as the lake keeps it: CloudTrail's fields in their
// columns (matched by their exact spelling, e.g. $.userIdentity.sessionContext.sessionIssuer.arn is
// useridentity.sessioncontext.sessionissuer.arn), the JSON payloads (requestParameters,
// responseElements, additionalEventData, serviceEventDetails, …) through json_extract, and
// anything else, or any value a column could not hold as it was, in the residual JSON column. The
// lake stores a field that was null like a field that was absent, so on such a field NOT EXISTS
// also holds when it was null, and IS NULL cannot be told apart: SQL returns an error for it (as
// for a selector spelling one of CloudTrail's fields in another case, whose case the lake does not
// keep). The error wraps ErrNotExpressible. Two further departures, rare in CloudTrail: a number
// inside a JSON payload is compared as text the way the SQL engine writes it (1.50 as 1.5, 1e3 as
// 1000.0) where Match takes it as the event writes it; and the lake spells CloudTrail's own fields
// as CloudTrail does and derives eventTime from Logstash's @timestamp, so an event that spelt
// them otherwise, or lacked eventTime, is evaluated as the lake holds it.
package pattern

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a parsed JSON filter pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	root node
}

// node is a part of a pattern's expression: *orNode, *andNode or *cond.
type node interface{ isNode() }

// orNode holds when one of its terms holds.
type orNode struct{ terms []node }

// andNode holds when all of its terms hold.
type andNode struct{ terms []node }

// cond is one condition on a selector.
type cond struct {
	sel selector
	op  operator
	val value // the literal of a comparison; zero for IS … and NOT EXISTS
}

func (*orNode) isNode()  {}
func (*andNode) isNode() {}
func (*cond) isNode()    {}

// operator is the operator of a condition.
type operator int

// The operators of conditions.
const (
	opEq operator = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opIsNull
	opIsTrue
	opIsFalse
	opNotExists
)

// String returns the operator as a pattern writes it.
func (o operator) String() string {
	return [...]string{"=", "!=", "<", "<=", ">", ">=", "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"}[o]
}

// compares reports whether the operator compares the selected value with a literal.
func (o operator) compares() bool { return o <= opGe }

// selector is a property selector: the path from the event's root to the values a condition tests.
type selector struct {
	Segments []segment
}

// segKind tells the segments of a selector apart.
type segKind int

// The kinds of selector segments.
const (
	// segName is a member of an object: .name or ['name'].
	segName segKind = iota
	// segIndex is an element of an array: [n].
	segIndex
	// segWildcard is every member of an object or element of an array: .* or [*].
	segWildcard
)

// segment is one step of a selector.
type segment struct {
	Kind  segKind
	Name  string // segName
	Index int    // segIndex

	bracket bool // a wildcard written [*], kept for String
}

// valueKind tells the literals of comparisons apart.
type valueKind int

// The kinds of literals.
const (
	// valString is a string, with wildcards at its ends.
	valString valueKind = iota
	// valNumber is a number.
	valNumber
	// valRegex is a %regex%.
	valRegex
)

// value is the literal a comparison compares with.
type value struct {
	Kind valueKind
	// Text is a string's fixed part (without its wildcards), a number as written, or a regex's
	// source between the percent signs.
	Text string
	// Prefix and Suffix tell that a string starts or ends with a wildcard: it matches text that
	// ends with (Prefix), starts with (Suffix) or contains (both) Text.
	Prefix, Suffix bool
	// Num is a number's value.
	Num float64

	re *regexp.Regexp // a regex, compiled
}

// matchText reports whether a scalar's text matches a string or regex value.
func (v *value) matchText(s string) bool {
	switch {
	case v.Kind == valRegex:
		return v.re.MatchString(s)
	case v.Prefix && v.Suffix:
		return strings.Contains(s, v.Text)
	case v.Prefix:
		return strings.HasSuffix(s, v.Text)
	case v.Suffix:
		return strings.HasPrefix(s, v.Text)
	}
	return s == v.Text
}

// SyntaxError is a pattern that does not parse: where (Column, counted in characters from 1;
// Offset, in bytes from 0) and what is wrong.
type SyntaxError struct {
	Offset int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

// ErrNotExpressible is wrapped by the errors of SQL for patterns the lake's columns cannot
// evaluate exactly.
var ErrNotExpressible = errors.New("the pattern cannot be evaluated in SQL over the lake")

// SQLError says why a condition of a pattern cannot be written in SQL.
type SQLError struct {
	// Condition is the condition, as the pattern writes it.
	Condition string
	// Reason says why, and what to write instead when there is a way.
	Reason string
}

func (e *SQLError) Error() string {
	return fmt.Sprintf("%s: %s", e.Condition, e.Reason)
}

// Unwrap returns ErrNotExpressible.
func (e *SQLError) Unwrap() error { return ErrNotExpressible }
