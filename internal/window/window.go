// Package window reads the time windows every front end takes (the CLI's --days, --from and
// --to; later the server's parameters and the rules' look-backs), with one rule for all: a
// window is [From, To), a moment is a day, an RFC 3339 time or an age before now, and a day
// given as the end of a window is in it (the window ends at the next midnight, UTC).
package window

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDays bounds a window given in days: a century.
const MaxDays = 100 * 366

// Error says which part of a window could not be read (Field: "from", "to" or "days"), the
// value given, and why. Front ends name the field in their own words (the CLI's flags).
type Error struct {
	Field, Value, Reason string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Reason
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Now is the end of a window that ends now: the start of the next second, so that the events of
// this second are in it.
func Now(now time.Time) time.Time { return now.UTC().Truncate(time.Second).Add(time.Second) }

// ParseTime reads a moment: a day (2026-01-31: its midnight, UTC; as the end of a window, the
// next midnight, so that the day is in the window), an RFC 3339 time (2026-01-31T12:00:00Z,
// also without seconds or zone, then UTC), or an age before now (7d, 12h, 90m, 1h30m). field
// names it in errors.
func ParseTime(field, s string, now time.Time, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24 * time.Hour)
		}
		return t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if age, ok := parseAge(s); ok {
		return now.Add(-age), nil
	}
	return time.Time{}, &Error{Field: field, Value: s, Reason: "not a time; write 2026-01-31, 2026-01-31T12:00:00Z or an age such as 7d or 12h"}
}

// parseAge reads an age: a whole number of days ("7d") or a Go duration ("12h", "1h30m").
func parseAge(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err == nil && d >= 0 && d <= MaxDays
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// Spec is a window as a person gives it: the last Days days up to To, or From to To; To empty
// is now.
type Spec struct {
	Days int
	// DaysGiven says Days was given, not defaulted: it then conflicts with From.
	DaysGiven bool
	From, To  string
}

// Resolve returns the window [from, to) of s at the time now.
func (s Spec) Resolve(now time.Time) (from, to time.Time, err error) {
	t0 := Now(now)
	to = t0
	if s.To != "" {
		if to, err = ParseTime("to", s.To, t0, true); err != nil {
			return
		}
	}
	switch {
	case s.From != "" && s.DaysGiven:
		return from, to, &Error{Field: "days", Reason: "give days or a start (from), not both"}
	case s.From != "":
		if from, err = ParseTime("from", s.From, t0, false); err != nil {
			return
		}
	case s.Days <= 0:
		return from, to, &Error{Field: "days", Value: strconv.Itoa(s.Days), Reason: "give a positive number of days"}
	case s.Days > MaxDays:
		return from, to, &Error{Field: "days", Value: strconv.Itoa(s.Days), Reason: "more than a century"}
	default:
		from = to.Add(-time.Duration(s.Days) * 24 * time.Hour)
	}
	if !from.Before(to) {
		return from, to, &EmptyError{From: from, To: to}
	}
	return from, to, nil
}

// EmptyError is a window whose start is not before its end.
type EmptyError struct{ From, To time.Time }

func (e *EmptyError) Error() string {
	return fmt.Sprintf("the window is empty: its start %s is not before its end %s", e.From.Format(time.RFC3339), e.To.Format(time.RFC3339))
}
