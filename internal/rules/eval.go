package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/questions"
)

// Alert is one firing of a rule: an event that matched it, or for a threshold rule the event
// that made the count.
type Alert struct {
	Rule     string   `json:"rule" parquet:"rule,dict"`
	Severity Severity `json:"severity" parquet:"severity,dict"`
	Title    string   `json:"title" parquet:"title"`
	// The event: its id and time, what it was and who made it.
	EventID     string `json:"event_id" parquet:"event_id"`
	EventTime   string `json:"event_time" parquet:"event_time"`
	EventSource string `json:"event_source" parquet:"event_source,dict"`
	EventName   string `json:"event_name" parquet:"event_name,dict"`
	Principal   string `json:"principal" parquet:"principal,dict"`
	SourceIP    string `json:"source_ip" parquet:"source_ip,dict"`
	// Account, Region and Day are the event's partition (Day as yyyy-mm-dd).
	Account string `json:"account" parquet:"account,dict"`
	Region  string `json:"region" parquet:"region,dict"`
	Day     string `json:"day" parquet:"day,dict"`
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
func (a *Alert) key() alertKey { return alertKey{a.Rule, a.Dedup} }

type alertKey struct{ rule, dedup string }

// Scope is the rows a scan reads: a window of event time, and optionally only some lake files.
type Scope struct {
	From, To time.Time // eventtime in [From, To); zero: unbounded
	// Account and Region, when set, keep one partition account and region.
	Account, Region string
	// Files are "$path" values (the files the local engine reads, the S3 objects Athena reads);
	// nil: every file.
	Files []string
	// Values are the distinct values the scope's rows hold in facet columns (lake.FacetColumns;
	// FacetValues of a snapshot at or after the one read), or a superset; a column left out is
	// not known. They turn a rule's case-insensitive or LIKE condition on such a column into an
	// exact IN list, which the engine pushes into its Parquet reader and prunes files by. A
	// value missing from them would lose the matches of its rows.
	Values map[string][]string
	// Lake, when set, is the local lake the engine reads: the rules roweval evaluates are
	// evaluated in Go over its files (Local), the others by the engine.
	Lake *Local
}

// the columns of the scan every alert takes, in order.
var baseColumns = []string{
	"eventid", "eventtime", "eventsource", "eventname",
	"coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.principalid, useridentity.invokedby)",
	"sourceipaddress", "account", "region", "concat(year, '-', month, '-', day)",
}

// compiled is a rule's place in the scan.
type compiled struct {
	r *Rule
	// facet is a condition on one facet column that every row the rule matches satisfies
	// (conditions joined by OR), from the rule's condition; nil when it has none.
	facet []athena.Cond
	title []titlePart
	nt    int // how many of a match's values are the title's
	nd    int // how many are dedup's (the rest: group_by's)
	nv    int // how many values in all
}

// plan is the scan of a set of rules: one statement that evaluates every rule's condition once
// per row, and returns the rows some rule matched with, per row, the list of the rules that
// matched and their values (title, dedup and group_by expressions), nothing for the others.
type plan struct {
	rules []*compiled
}

func newPlan(rs []*Rule) *plan {
	p := &plan{}
	for _, r := range rs {
		title, _ := parseTitle(r.Title) // checked when the rule was read
		c := &compiled{r: r, title: title}
		for _, t := range title {
			if t.expr != "" {
				c.nt++
			}
		}
		c.nd = len(r.Dedup)
		c.nv = len(c.values())
		c.facet = facetOf(r.Condition)
		p.rules = append(p.rules, c)
	}
	return p
}

// values are the SQL expressions of a rule's values, in order.
func (c *compiled) values() []string {
	var out []string
	for _, t := range c.title {
		if t.expr != "" {
			out = append(out, t.expr)
		}
	}
	out = append(out, c.r.Dedup...)
	if c.r.Threshold != nil {
		out = append(out, c.r.Threshold.GroupBy...)
	}
	return out
}

// element is rule i's entry of the matches array: its index and values when its condition
// holds, NULL otherwise.
func (c *compiled) element(i int) string {
	var vals []string
	for _, v := range c.values() {
		vals = append(vals, "CAST((\n"+v+"\n) AS VARCHAR)")
	}
	arr := "CAST(ARRAY[] AS ARRAY(VARCHAR))"
	if len(vals) > 0 {
		arr = "ARRAY[" + strings.Join(vals, ", ") + "]"
	}
	return fmt.Sprintf("CASE WHEN (\n%s\n) THEN CAST(ROW(%d, %s) AS ROW(r INTEGER, v ARRAY(VARCHAR))) END", c.r.Condition, i, arr)
}

// sql is the statement of the plan's rules that are in (all when nil) over scope, with its
// arguments; cond, when not empty, is a condition every row the rules match satisfies.
func (p *plan) sql(scope Scope, in []int, cond string) (string, []any) {
	if in == nil {
		in = make([]int, len(p.rules))
		for i := range in {
			in[i] = i
		}
	}
	var b strings.Builder
	// The matches go out as JSON text: Athena returns nested values as unquoted text
	// ({r=3, v=[a, b]}) that a value holding ", " makes ambiguous, JSON text is exact on every
	// engine. A row becomes a JSON object on Trino and Athena engine 3, an array on Presto.
	b.WriteString("SELECT ")
	for i := range baseColumns {
		fmt.Fprintf(&b, "c%d, ", i)
	}
	b.WriteString("json_format(CAST(matches AS JSON)) AS matches FROM (\nSELECT ")
	for i, c := range baseColumns {
		fmt.Fprintf(&b, "%s AS c%d,\n  ", c, i)
	}
	b.WriteString("filter(ARRAY[\n")
	for k, i := range in {
		if k > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(p.rules[i].element(i))
	}
	b.WriteString("], x -> x IS NOT NULL) AS matches\nFROM cloudtrail_logs")
	var args []any
	var where []string
	if cond != "" {
		where = append(where, "("+cond+")")
	}
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
		lits := "NULL"
		if len(scope.Files) > 0 {
			lits = literals(scope.Files)
		}
		where = append(where, `"$path" IN (`+lits+")")
	}
	if len(where) > 0 {
		b.WriteString("\nWHERE " + strings.Join(where, "\n  AND "))
	}
	b.WriteString("\n) WHERE cardinality(matches) > 0")
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
	check := func(rs ...*Rule) error {
		var elems []string
		for i, c := range newPlan(rs).rules {
			elems = append(elems, c.element(i))
		}
		_, err := query(ctx, "SELECT "+strings.Join(elems, ",\n")+"\nFROM cloudtrail_logs\nWHERE false")
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// All at once first: one statement when every rule is fine, the usual case.
	if len(rs) > 1 && check(rs...) == nil {
		return rs, nil
	}
	var ok []*Rule
	var problems []Problem
	for _, r := range rs {
		if err := check(r); err != nil {
			problems = append(problems, Problem{r, err})
			continue
		}
		ok = append(ok, r)
	}
	return ok, problems
}

// Evaluate runs the rules over scope in one scan and returns their alerts, by event time. The
// rules must have passed Validate.
func Evaluate(ctx context.Context, query answer.QueryFunc, rs []*Rule, scope Scope) ([]*Alert, error) {
	return evaluate(ctx, query, rs, scope, nil)
}

// Backtest is Evaluate, its alerts given one at a time (Alerts.At): most of a backtest's are
// held packed (see packed), and a million made at once would take a quarter of a gigabyte.
func Backtest(ctx context.Context, query answer.QueryFunc, rs []*Rule, scope Scope) (*Alerts, error) {
	return backtest(ctx, query, rs, scope, nil)
}

// Alerts are a backtest's or a detection's alerts, in the order a detection stores them.
type Alerts struct {
	items  []alertItem // in order (see alertRefs.sort)
	commit int64       // the Commit of those made from their packed form
}

// Len is the number of alerts; nil holds none.
func (as *Alerts) Len() int {
	if as == nil {
		return 0
	}
	return len(as.items)
}

// At returns the i-th alert: when it is held packed, it is made in buf (and is valid until buf
// is reused).
func (as *Alerts) At(i int, buf *Alert) *Alert {
	a := as.items[i].alert(buf)
	if a == buf {
		a.Commit = as.commit
	}
	return a
}

// setCommit sets the Commit of every alert: the lake commit whose events fired them.
func (as *Alerts) setCommit(seq int64) {
	as.commit = seq
	for _, it := range as.items {
		if it.a != nil {
			it.a.Commit = seq
		}
	}
}

// All returns every alert (those held packed made in one block).
func (as *Alerts) All() []*Alert {
	out := make([]*Alert, as.Len())
	n := 0
	for _, it := range as.items {
		if it.p != nil {
			n++
		}
	}
	made := make([]Alert, 0, n)
	for i := range as.items {
		it := &as.items[i]
		if it.p == nil {
			out[i] = it.a
			continue
		}
		made = append(made, Alert{})
		out[i] = as.At(i, &made[len(made)-1])
	}
	return out
}

// evaluate is Evaluate, the threshold rules counting after the alerts they raised before
// (lastFired; nil: none).
func evaluate(ctx context.Context, query answer.QueryFunc, rs []*Rule, scope Scope, fired lastFired) ([]*Alert, error) {
	as, err := backtest(ctx, query, rs, scope, fired)
	if err != nil {
		return nil, err
	}
	return as.All(), nil
}

// backtest is Backtest, the threshold rules counting after the alerts they raised before
// (lastFired; nil: none).
func backtest(ctx context.Context, query answer.QueryFunc, rs []*Rule, scope Scope, fired lastFired) (*Alerts, error) {
	if len(rs) == 0 {
		return &Alerts{}, nil
	}
	p := newPlan(rs)
	ids := make([]string, len(p.rules))
	for i, c := range p.rules {
		ids[i] = c.r.ID
	}
	ranks, ranked := rankRules(ids)
	byRule, runs, err := p.matches(ctx, query, scope, ranks, ranked)
	if err != nil {
		return nil, err
	}
	// The alerts stay in their matches' chunks, or packed: they are sorted by reference. Those
	// packed are in the runs already.
	var chunks [][]match
	var thresholds []*Alert
	for _, c := range p.rules {
		ms := byRule[c.r.ID]
		if c.r.Threshold != nil {
			thresholds = append(thresholds, thresholdAlerts(c.r.Threshold, ms.chunkList(), fired[c.r.ID])...)
			continue
		}
		chunks = append(chunks, ms.chunkList()...)
	}
	rest := refsRanked(chunks, nil, thresholds, ranks, ranked)
	rest.sort()
	return &Alerts{items: merge(append(runs, rest))}, nil
}

// matches runs the plan's scans over scope and returns each rule's matches, by rule id, and
// the sorted runs of those packed, their rules ranked by ranks (see run). On a local lake
// (scope.Lake) the rules roweval evaluates are evaluated in Go over its files; the others' are
// never packed.
func (p *plan) matches(ctx context.Context, query answer.QueryFunc, scope Scope, ranks map[string]uint16, ranked bool) (map[string]*matches, []alertRefs, error) {
	if scope.Lake == nil {
		byRule, err := p.scanMatches(ctx, query, scope)
		return byRule, nil, err
	}
	base, err := compileBase()
	if err != nil {
		byRule, err := p.scanMatches(ctx, query, scope)
		return byRule, nil, err
	}
	inGo, rest := p.live()
	byRule, runs, retry, err := scope.Lake.scan(ctx, inGo, base, scope, ranks, ranked)
	if err != nil {
		return nil, nil, err
	}
	if rest = append(rest, retry...); len(rest) > 0 {
		more, err := newPlan(rest).scanMatches(ctx, query, scope)
		if err != nil {
			return nil, nil, err
		}
		for id, ms := range more {
			byRule[id] = ms
		}
	}
	return byRule, runs, nil
}

// scanMatches runs the plan's scans over scope in the engine and returns each rule's matches, by
// rule id.
func (p *plan) scanMatches(ctx context.Context, query answer.QueryFunc, scope Scope) (map[string]*matches, error) {
	var rows [][]any
	for _, sc := range p.scans(scope.Values) {
		sql, args := p.sql(scope, sc.rules, sc.cond)
		res, err := query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("evaluate %d rules: %w", len(sc.rules), err)
		}
		rows = append(rows, res.Rows...)
	}
	byRule := map[string]*matches{}
	last := len(baseColumns)
	for _, row := range rows {
		var ms []any
		if err := json.Unmarshal([]byte(answer.String(row[last])), &ms); err != nil {
			return nil, fmt.Errorf("evaluate %d rules: the matches of event %v: %w", len(p.rules), row[0], err)
		}
		for _, m := range ms {
			r, vals := matchFields(m)
			i := int(r)
			if i < 0 || i >= len(p.rules) || r != float64(i) {
				return nil, fmt.Errorf("evaluate %d rules: a match names rule %v", len(p.rules), m)
			}
			c := p.rules[i]
			ms := byRule[c.r.ID]
			if ms == nil {
				ms = &matches{}
				byRule[c.r.ID] = ms
			}
			base := baseAlert(row)
			c.fillMatch(ms.next(), &base, vals)
		}
	}
	return byRule, nil
}

// matchFields reads a match of the JSON matches column: {"r": 3, "v": […]} (a row cast to JSON
// on DuckDB, Trino and Athena engine 3) or [3, […]] (on Presto); r is -1 when it is neither.
func matchFields(m any) (r float64, vals []any) {
	switch x := m.(type) {
	case map[string]any:
		r, ok := x["r"].(float64)
		if !ok {
			return -1, nil
		}
		vals, _ = x["v"].([]any)
		return r, vals
	case []any:
		if len(x) == 2 {
			if r, ok := x[0].(float64); ok {
				vals, _ = x[1].([]any)
				return r, vals
			}
		}
	}
	return -1, nil
}

// baseAlert is an alert's event columns from the values of baseColumns (NULL as "").
func baseAlert(row []any) Alert {
	s := func(i int) string { return answer.String(row[i]) }
	return Alert{EventID: s(0), EventTime: s(1), EventSource: s(2), EventName: s(3),
		Principal: s(4), SourceIP: s(5), Account: s(6), Region: s(7), Day: s(8)}
}

// fillMatch makes m the rule's match of an event, whose columns are in base (baseAlert), with
// the values of the rule's title, dedup and group_by. (In place: an alert is large, and a rule
// may fire on most events.)
func (c *compiled) fillMatch(m *match, base *Alert, vals []any) {
	m.alert = *base
	a := &m.alert
	a.Rule, a.Severity, a.Count, a.FirstTime = c.r.ID, c.r.Severity, 1, a.EventTime
	vals = c.padded(vals)
	a.Title, a.Dedup = c.titleAndDedup(vals)
	if c.nd == 0 {
		a.Dedup = a.EventID + "|" + a.EventTime + "|" + a.EventSource
	}
	m.group = joinValues(vals[c.nt+c.nd:])
}

// padded is vals with a NULL for each value the rule has and vals lacks.
func (c *compiled) padded(vals []any) []any {
	for len(vals) < c.nv {
		vals = append(vals, nil)
	}
	return vals
}

// titleAndDedup are the title and dedup key of the rule's match whose title and dedup values
// are vals (padded): the dedup key is "" for a rule without dedup keys, whose key is the event's
// id, time and source (see fillMatch). The title is the rule's own string, or a new one: never
// a row's memory.
func (c *compiled) titleAndDedup(vals []any) (title, dedup string) {
	title = renderTitle(c.title, vals[:c.nt])
	if c.nd > 0 {
		dedup = joinValues(vals[c.nt : c.nt+c.nd])
	}
	return title, dedup
}

// joinValues is the values as one key, joined by "|" (NULL as NULL).
func joinValues(vals []any) string {
	text := func(v any) string {
		if v == nil {
			return "NULL"
		}
		return valueText(v)
	}
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return text(vals[0])
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = text(v)
	}
	return strings.Join(parts, "|")
}

// thresholdAlerts counts a threshold rule's matches per group in a sliding window: when Count
// of them fall within Window, the one that made the count fires an alert holding them all, and
// counting starts again after it. fired holds, by group, the events of the alerts the rule raised
// before (in earlier detections, stored): counting starts again after each of them too, so that
// events arriving in time order fire the same alerts however they were split between detections.
func thresholdAlerts(t *Threshold, chunks [][]match, fired map[string]map[eventKey]bool) []*Alert {
	groups := map[string][]*match{}
	var order []string
	for _, c := range chunks {
		for i := range c {
			m := &c[i]
			if _, ok := groups[m.group]; !ok {
				order = append(order, m.group)
			}
			groups[m.group] = append(groups[m.group], m)
		}
	}
	var out []*Alert
	var times []time.Time
	var timed []bool
	for _, g := range order {
		ev := groups[g]
		// By time, then event (and what tells apart two events of one id and time): the event
		// that makes the count does not depend on the order the matches were found in (a
		// scan's, rows as they were written, or files read in parallel).
		slices.SortStableFunc(ev, func(x, y *match) int {
			a, b := &x.alert, &y.alert
			for _, f := range [...][2]string{{a.EventTime, b.EventTime}, {a.EventID, b.EventID},
				{a.EventSource, b.EventSource}, {a.EventName, b.EventName}, {a.Title, b.Title}, {a.Dedup, b.Dedup}} {
				if c := strings.Compare(f[0], f[1]); c != 0 {
					return c
				}
			}
			return 0
		})
		times, timed = times[:0], timed[:0]
		for _, m := range ev {
			ti, ok := eventTime(m.alert.EventTime)
			times, timed = append(times, ti), append(timed, ok)
		}
		start := 0
		before := fired[g]
		for i := range ev {
			if before[eventKey{ev[i].alert.EventTime, ev[i].alert.EventID}] {
				start = i + 1 // an alert raised before; if it would fire again, it is not new
				continue
			}
			if !timed[i] {
				continue
			}
			for start < i && !(timed[start] && times[i].Sub(times[start]) <= t.Window) {
				start++
			}
			if i-start+1 >= t.Count {
				a := ev[i].alert
				a.Count = int64(i - start + 1)
				a.FirstTime = ev[start].alert.EventTime
				a.Dedup = g + "|" + a.FirstTime
				out = append(out, &a)
				start = i + 1
			}
		}
	}
	return out
}

// eventKey is the event of an alert: its time and id.
type eventKey struct{ time, id string }

// lastFired is, by threshold rule id and group, the events of the alerts the rule raised.
type lastFired map[string]map[string]map[eventKey]bool

// storedAlert is what a detection reads back of a stored alert of a threshold rule.
type storedAlert struct{ rule, dedup, time, id string }

// firedSince is, of the stored alerts of threshold rules, those each rule of rs raised, by group,
// on events from from on (a threshold alert's dedup is its group, "|", the first event's time).
func firedSince(stored []storedAlert, rs []*Rule, from string) lastFired {
	out := lastFired{}
	for _, a := range stored {
		cut := strings.LastIndexByte(a.dedup, '|')
		if a.time < from || cut < 0 || !slices.ContainsFunc(rs, func(r *Rule) bool { return r.ID == a.rule }) {
			continue
		}
		group := a.dedup[:cut]
		if out[a.rule] == nil {
			out[a.rule] = map[string]map[eventKey]bool{}
		}
		if out[a.rule][group] == nil {
			out[a.rule][group] = map[eventKey]bool{}
		}
		out[a.rule][group][eventKey{a.time, a.id}] = true
	}
	return out
}

func eventTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
