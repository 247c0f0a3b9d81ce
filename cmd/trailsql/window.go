package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// windowFlags are the time window and partition filters of the commands that answer about a
// period: ask, policy, unused.
type windowFlags struct {
	days            int
	from, to        string
	account, region string
	now             func() time.Time
}

func (w *windowFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&w.days, "days", defaultWindowDays, "the window is the last N days (up to --to)")
	cmd.Flags().StringVar(&w.from, "from", "", "start of the window: 2026-01-31, 2026-01-31T12:00:00Z, or an age such as 7d or 12h; replaces --days")
	cmd.Flags().StringVar(&w.to, "to", "", "end of the window, excluded: a time or an age as for --from (default: now)")
	cmd.Flags().StringVar(&w.account, "account", "", "only events in this account (12 digits; the lake's account partition)")
	cmd.Flags().StringVar(&w.region, "region", "", "only events in this region (e.g. eu-west-1)")
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
)

// defaultWindowDays is the window of every command that answers about a period (ask, policy,
// unused) when neither --days nor --from is given: 90 days, the span of CloudTrail's event
// history and of IAM's "last accessed" reviews, so that a role used once a quarter is seen.
const defaultWindowDays = 90

// parseTime reads a time flag: a date (midnight UTC), an RFC 3339 time, or an age before now
// (7d, 12h, 90m), as 'ingest --from' takes them.
func parseTime(flag, s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if age, ok := parseAge(s); ok {
		return now.Add(-age), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: not a time; write 2026-01-31, 2026-01-31T12:00:00Z or an age such as 7d or 12h", flag, s)
}

// parseAge reads an age: a whole number of days ("7d") or a Go duration ("12h", "1h30m").
func parseAge(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err == nil && d >= 0 && d <= 100*366
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// window returns [from, to) and checks the filters.
func (w *windowFlags) window(cmd *cobra.Command) (from, to time.Time, err error) {
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	t0 := now().UTC().Truncate(time.Second).Add(time.Second)
	to = t0
	if w.to != "" {
		if to, err = parseTime("to", w.to, t0); err != nil {
			return
		}
	}
	switch {
	case w.from != "" && cmd.Flags().Changed("days"):
		return from, to, fmt.Errorf("give --days or --from, not both")
	case w.from != "":
		if from, err = parseTime("from", w.from, t0); err != nil {
			return
		}
	case w.days <= 0:
		return from, to, fmt.Errorf("--days %d: give a positive number of days", w.days)
	case w.days > 100*366:
		return from, to, fmt.Errorf("--days %d: more than a century", w.days)
	default:
		from = to.Add(-time.Duration(w.days) * 24 * time.Hour)
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("the window is empty: --from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if w.account != "" && !accountRE.MatchString(w.account) {
		return from, to, fmt.Errorf("--account %q: an AWS account id is 12 digits", w.account)
	}
	if w.region != "" && !regionRE.MatchString(w.region) {
		return from, to, fmt.Errorf("--region %q: not an AWS region name (e.g. us-east-1)", w.region)
	}
	return from, to, nil
}

// describe says the window in words for headers.
func (w *windowFlags) describe(from, to time.Time) string {
	s := from.Format(time.RFC3339) + " to " + to.Format(time.RFC3339)
	var f []string
	if w.account != "" {
		f = append(f, "account "+w.account)
	}
	if w.region != "" {
		f = append(f, "region "+w.region)
	}
	if len(f) > 0 {
		s += ", " + strings.Join(f, ", ")
	}
	return s
}

// writeCoverage writes on stderr the header of an answer whose output is a document (policy,
// unused): the window, what the lake holds for it, and where the window reaches outside that;
// partial says what a window starting before the lake's first event means for the answer.
func (m *Main) writeCoverage(lk *openedLake, w *windowFlags, from, to time.Time, partial string) {
	c := lk.Snap.Coverage(w.account, w.region)
	fmt.Fprintf(m.Stderr, "window: %s\nlake: %s\n", w.describe(from, to), c.String())
	for _, wn := range c.WindowWarnings(from, to, time.Time{}, partial) {
		fmt.Fprintln(m.Stderr, "warning: "+wn)
	}
}
