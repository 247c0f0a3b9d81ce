package rules

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/questions"
)

// Alert is one firing of a rule: an event that matched it, or for a threshold rule the event
// that made the count.
type Alert struct {
	Rule     string   `json:"rule" parquet:"rule"`
	Severity Severity `json:"severity" parquet:"severity"`
	Title    string   `json:"title" parquet:"title"`
	// The event: its id and time, what it was and who made it.
	EventID     string `json:"event_id" parquet:"event_id"`
	EventTime   string `json:"event_time" parquet:"event_time"`
	EventSource string `json:"event_source" parquet:"event_source"`
	EventName   string `json:"event_name" parquet:"event_name"`
	Principal   string `json:"principal" parquet:"principal"`
	SourceIP    string `json:"source_ip" parquet:"source_ip"`
	// Account, Region and Day are the event's partition (Day as yyyy-mm-dd).
	Account string `json:"account" parquet:"account"`
	Region  string `json:"region" parquet:"region"`
	Day     string `json:"day" parquet:"day"`
	// Dedup is the alert's deduplication key: the rule's dedup values, or the event's identity.
	Dedup string `json:"dedup" parquet:"dedup"`
	// Count is the events behind the alert: 1, or a threshold rule's count; FirstTime is the
	// first of them.
	Count     int64  `json:"count" parquet:"count"`
	FirstTime string `json:"first_time" parquet:"first_time"`
	// Commit is the lake commit whose events fired it (0 in a backtest).
	Commit int64 `json:"commit" parquet:"commit"`
}

// key identifies an alert for exactly-once storage: one per rule and event (or, for a
// threshold, per rule, group and the event that made the count).
func (a *Alert) key() string { return a.Rule + "\x00" + a.Dedup }

// Scope is the rows a scan reads: a window of event time, and optionally only some lake files.
type Scope struct {
	From, To time.Time // eventtime in [From, To); zero: unbounded
	// Account and Region, when set, keep one partition account and region.
	Account, Region string
	// Files are "$path" values (the files the local engine reads, the S3 objects Athena reads);
	// nil: every file.
	Files []string
}

// the columns of the scan every alert takes, in order.
var baseColumns = []string{
	"eventid", "eventtime", "eventsource", "eventname",
	"coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.principalid, useridentity.invokedby)",
	"sourceipaddress", "account", "region", "concat(year, '-', month, '-', day)",
}

// compiled is a rule's place in the scan.
type compiled struct {
	r     *Rule
	title []titlePart
	match int   // the column of its match
	exprs []int // the columns of its title expressions, then dedup, then group_by
	nt    int   // how many of exprs are the title's
	nd    int   // how many are dedup's
}

// plan is the scan of a set of rules: one statement computing every rule's match for each row
// any of them matches.
type plan struct {
	rules []*compiled
	cols  []string
}

func newPlan(rs []*Rule) *plan {
	p := &plan{cols: append([]string(nil), baseColumns...)}
	for _, r := range rs {
		title, _ := parseTitle(r.Title) // checked when the rule was read
		c := &compiled{r: r, title: title, match: len(p.cols)}
		p.cols = append(p.cols, "coalesce(("+"\n"+r.Condition+"\n"+"), false)")
		for _, t := range title {
			if t.expr != "" {
				c.exprs = append(c.exprs, len(p.cols))
				p.cols = append(p.cols, "CAST((\n"+t.expr+"\n) AS VARCHAR)")
				c.nt++
			}
		}
		for _, d := range r.Dedup {
			c.exprs = append(c.exprs, len(p.cols))
			p.cols = append(p.cols, "CAST((\n"+d+"\n) AS VARCHAR)")
			c.nd++
		}
		if r.Threshold != nil {
			for _, g := range r.Threshold.GroupBy {
				c.exprs = append(c.exprs, len(p.cols))
				p.cols = append(p.cols, "CAST((\n"+g+"\n) AS VARCHAR)")
			}
		}
		p.rules = append(p.rules, c)
	}
	return p
}

// sql is the plan's statement over scope, with its arguments.
func (p *plan) sql(scope Scope) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range p.cols {
		if i > 0 {
			b.WriteString(",\n  ")
		}
		fmt.Fprintf(&b, "%s AS c%d", c, i)
	}
	b.WriteString("\nFROM cloudtrail_logs\nWHERE ")
	var args []any
	var where []string
	if !scope.From.IsZero() {
		where = append(where, "eventtime >= ?")
		args = append(args, questions.TimeText(scope.From))
	}
	if !scope.To.IsZero() {
		where = append(where, "eventtime < ?")
		args = append(args, questions.TimeText(scope.To))
	}
	if scope.Account != "" {
		where = append(where, "account = ?")
		args = append(args, scope.Account)
	}
	if scope.Region != "" {
		where = append(where, "region = ?")
		args = append(args, scope.Region)
	}
	if scope.Files != nil {
		lits := make([]string, len(scope.Files))
		for i, f := range scope.Files {
			lits[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
		}
		if len(lits) == 0 {
			lits = []string{"NULL"}
		}
		where = append(where, `"$path" IN (`+strings.Join(lits, ", ")+")")
	}
	var any []string
	for _, c := range p.rules {
		any = append(any, "("+"\n"+c.r.Condition+"\n"+")")
	}
	where = append(where, "("+strings.Join(any, "\n OR ")+")")
	b.WriteString(strings.Join(where, "\n  AND "))
	return b.String(), args
}

// match is an event a rule matched, before thresholds.
type match struct {
	alert Alert
	group string
}

// Problem is a rule that could not be evaluated, and why.
type Problem struct {
	Rule *Rule
	Err  error
}

func (p Problem) Error() string { return fmt.Sprintf("%s (%s): %v", p.Rule.ID, p.Rule.Where(), p.Err) }

// Validate runs each rule's expressions over no row, so that a rule the engine cannot evaluate
// (an unknown column or function, a type error) is found alone: it returns the rules that can
// be evaluated and a Problem for each that cannot.
func Validate(ctx context.Context, query answer.QueryFunc, rs []*Rule) ([]*Rule, []Problem) {
	var ok []*Rule
	var problems []Problem
	for _, r := range rs {
		p := newPlan([]*Rule{r})
		sql := "SELECT " + strings.Join(p.cols[len(baseColumns):], ", ") + "\nFROM cloudtrail_logs\nWHERE false AND (\n" + r.Condition + "\n)"
		if _, err := query(ctx, sql); err != nil {
			if ctx.Err() != nil {
				problems = append(problems, Problem{r, ctx.Err()})
				continue
			}
			problems = append(problems, Problem{r, err})
			continue
		}
		ok = append(ok, r)
	}
	return ok, problems
}

// Evaluate runs the rules over scope in one scan and returns their alerts, by event time. The
// rules must have passed Validate.
func Evaluate(ctx context.Context, query answer.QueryFunc, rs []*Rule, scope Scope) ([]Alert, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	p := newPlan(rs)
	sql, args := p.sql(scope)
	res, err := query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("evaluate %d rules: %w", len(rs), err)
	}
	byRule := map[*compiled][]match{}
	for _, row := range res.Rows {
		for _, c := range p.rules {
			if m, _ := row[c.match].(bool); !m {
				continue
			}
			byRule[c] = append(byRule[c], c.matchOf(row))
		}
	}
	var out []Alert
	for _, c := range p.rules {
		ms := byRule[c]
		if c.r.Threshold == nil {
			for _, m := range ms {
				out = append(out, m.alert)
			}
			continue
		}
		out = append(out, thresholdAlerts(c.r.Threshold, ms)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].EventTime != out[j].EventTime {
			return out[i].EventTime < out[j].EventTime
		}
		return out[i].Rule < out[j].Rule
	})
	return out, nil
}

func (c *compiled) matchOf(row []any) match {
	s := func(i int) string { return answer.String(row[i]) }
	a := Alert{Rule: c.r.ID, Severity: c.r.Severity, EventID: s(0), EventTime: s(1), EventSource: s(2), EventName: s(3),
		Principal: s(4), SourceIP: s(5), Account: s(6), Region: s(7), Day: s(8), Count: 1}
	a.FirstTime = a.EventTime
	vals := make([]any, len(c.exprs))
	for i, col := range c.exprs {
		vals[i] = row[col]
	}
	a.Title = renderTitle(c.title, vals[:c.nt])
	if c.nd > 0 {
		a.Dedup = joinValues(vals[c.nt : c.nt+c.nd])
	} else {
		a.Dedup = a.EventID + "|" + a.EventTime + "|" + a.EventSource
	}
	return match{alert: a, group: joinValues(vals[c.nt+c.nd:])}
}

func joinValues(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, "|")
}

// thresholdAlerts counts a threshold rule's matches per group in a sliding window: when Count
// of them fall within Window, the one that made the count fires an alert holding them all, and
// counting starts again after it.
func thresholdAlerts(t *Threshold, ms []match) []Alert {
	groups := map[string][]match{}
	var order []string
	for _, m := range ms {
		if _, ok := groups[m.group]; !ok {
			order = append(order, m.group)
		}
		groups[m.group] = append(groups[m.group], m)
	}
	var out []Alert
	for _, g := range order {
		ev := groups[g]
		sort.SliceStable(ev, func(i, j int) bool { return ev[i].alert.EventTime < ev[j].alert.EventTime })
		start := 0
		for i := range ev {
			ti, ok := eventTime(ev[i].alert.EventTime)
			if !ok {
				continue
			}
			for start < i {
				ts, ok := eventTime(ev[start].alert.EventTime)
				if ok && ti.Sub(ts) <= t.Window {
					break
				}
				start++
			}
			if i-start+1 >= t.Count {
				a := ev[i].alert
				a.Count = int64(i - start + 1)
				a.FirstTime = ev[start].alert.EventTime
				a.Dedup = g + "|" + a.FirstTime
				out = append(out, a)
				start = i + 1
			}
		}
	}
	return out
}

func eventTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
