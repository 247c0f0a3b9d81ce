package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/window"
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
	cmd.Flags().StringVar(&w.to, "to", "", "end of the window, excluded: a time or an age as for --from; a day is in the window (default: now)")
	cmd.Flags().StringVar(&w.account, "account", "", "only events in this account (12 digits; the lake's account partition)")
	cmd.Flags().StringVar(&w.region, "region", "", "only events in this region (e.g. eu-west-1)")
}

var (
	accountRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{12}$`) })
	regionRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`) })
)

// defaultWindowDays is the window of every command that answers about a period (ask, policy,
// unused) when neither --days nor --from is given: 90 days, the span of CloudTrail's event
// history and of IAM's "last accessed" reviews, so that a role used once a quarter is seen.
const defaultWindowDays = 90

// window returns [from, to) and checks the filters.
func (w *windowFlags) window(cmd *cobra.Command) (from, to time.Time, err error) {
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	spec := window.Spec{Days: w.days, DaysGiven: cmd.Flags().Changed("days"), From: w.from, To: w.to}
	if from, to, err = spec.Resolve(now()); err != nil {
		return from, to, windowError(err)
	}
	if w.account != "" && !accountRE().MatchString(w.account) {
		return from, to, fmt.Errorf("--account %q: an AWS account id is 12 digits", w.account)
	}
	if w.region != "" && !regionRE().MatchString(w.region) {
		return from, to, fmt.Errorf("--region %q: not an AWS region name (e.g. us-east-1)", w.region)
	}
	return from, to, nil
}

// windowError says a window's error in the flags' words.
func windowError(err error) error {
	var we *window.Error
	var empty *window.EmptyError
	switch {
	case errors.As(err, &empty):
		return fmt.Errorf("the window is empty: --from %s is not before --to %s", empty.From.Format(time.RFC3339), empty.To.Format(time.RFC3339))
	case errors.As(err, &we) && we.Field == "days" && we.Value == "":
		return fmt.Errorf("give --days or --from, not both")
	case errors.As(err, &we) && we.Field == "days":
		return fmt.Errorf("--days %s: %s", we.Value, we.Reason)
	case errors.As(err, &we):
		return fmt.Errorf("--%s %q: %s", we.Field, we.Value, we.Reason)
	}
	return err
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

// windowQuery opens the lake for an answer about [from, to): it says on stderr what the lake
// holds of the window (partial: what falls outside it means for the answer) and returns a
// QueryFunc whose statements all read one snapshot, and what closes it. On Athena (--engine
// athena) without a local lake, the snapshot is nil and nothing is said of the lake.
func (m *Main) windowQuery(cmd *cobra.Command, q *queryFlags, w *windowFlags, from, to time.Time, partial string) (answer.QueryFunc, *lake.Snapshot, func(), error) {
	query, lk, snap, done, err := m.answerQuery(cmd, q)
	if err != nil {
		return nil, nil, nil, err
	}
	if lk != nil {
		m.writeCoverage(lk, w, from, to, partial)
	}
	return query, snap, done, nil
}
