package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
)

// coverage is what a lake holds for an answer's partitions (all, or one account and region),
// read from the ledger's manifests: no data file is opened.
type coverage struct {
	Events int64  `json:"events"`
	First  string `json:"first_event,omitempty"` // eventTime text of the oldest event
	Last   string `json:"last_event,omitempty"`  // and of the newest
	Scope  string `json:"scope,omitempty"`       // "account 111122223333, region us-east-1", "" for all
}

// lakeCoverage sums the files of the snapshot in the account and region ("" for any). A file
// written without event times counts for its partition's whole day.
func lakeCoverage(snap *lake.Snapshot, account, region string) coverage {
	var c coverage
	var scope []string
	if account != "" {
		scope = append(scope, "account "+account)
	}
	if region != "" {
		scope = append(scope, "region "+region)
	}
	c.Scope = strings.Join(scope, ", ")
	for _, f := range snap.Files {
		p := f.Partition
		if account != "" && p.Account != account || region != "" && p.Region != region || f.Rows == 0 {
			continue
		}
		lo, hi := f.MinTime, f.MaxTime
		if lo == "" || hi == "" {
			day := p.Year + "-" + p.Month + "-" + p.Day
			lo, hi = day+"T00:00:00Z", day+"T23:59:59Z"
		}
		c.Events += f.Rows
		if c.First == "" || lo < c.First {
			c.First = lo
		}
		if hi > c.Last {
			c.Last = hi
		}
	}
	return c
}

// String says the coverage in words for answer headers.
func (c coverage) String() string {
	s := "no events"
	if c.Events > 0 {
		s = fmt.Sprintf("%d events from %s to %s", c.Events, c.First, c.Last)
	}
	if c.Scope != "" {
		s += " (" + c.Scope + ")"
	}
	return s
}

// windowWarnings says where a window (and a baseline before it, when baselineFrom is not zero)
// reaches outside what the lake holds, so that an answer about a period the lake does not cover
// is not read as "nothing happened". question names the question for wording that fits it.
func (c coverage) windowWarnings(question string, from, to, baselineFrom time.Time) []string {
	F, T := questions.TimeText(from), questions.TimeText(to)
	lakeHolds := "the lake holds " + c.String()
	if c.Events == 0 {
		return []string{lakeHolds + ": the answer is empty because there is nothing to look at"}
	}
	var out []string
	switch {
	case T <= c.First:
		out = append(out, fmt.Sprintf("the window %s to %s ends before the lake's first event (%s): the lake holds nothing in it; %s", F, T, c.First, lakeHolds))
	case c.Last < F:
		out = append(out, fmt.Sprintf("the window %s to %s starts after the lake's last event (%s): the lake holds nothing in it; %s", F, T, c.Last, lakeHolds))
	case F < c.First:
		w := fmt.Sprintf("the window starts at %s, %s before the lake's first event (%s): the answer covers only %s to %s", F, days(from, c.First), c.First, c.First, T)
		if question == "inactive-identities" {
			w += "; identities active only before " + c.First + " are reported inactive"
		}
		out = append(out, w)
	}
	if !baselineFrom.IsZero() {
		B := questions.TimeText(baselineFrom)
		switch {
		case F <= c.First:
			out = append(out, fmt.Sprintf("the baseline %s to %s is empty: the lake's first event is at %s, so every action in the window shows as new", B, F, c.First))
		case B < c.First:
			out = append(out, fmt.Sprintf("the baseline %s to %s is partial: the lake holds only %s to %s of it (%s missing), so actions last used before %s show as new", B, F, c.First, F, days(baselineFrom, c.First), c.First))
		}
	}
	return out
}

// days says the time from t to the eventTime text s in days (or hours, under two days).
func days(t time.Time, s string) string {
	u, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "some time"
	}
	d := u.Sub(t)
	if d < 48*time.Hour {
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}
