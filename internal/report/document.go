package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/questions"
)

// The kinds of report Build writes.
const (
	Identity = "identity" // who holds access and how it is used: inactive identities, root, MFA, new grants
	Activity = "activity" // what happened: events per day, active users and roles, console changes, denials, throttling
	Alerts   = "alerts"   // what the detection rules found
)

// Kinds are the reports Build writes, in the order a help text lists them.
var Kinds = []string{Identity, Activity, Alerts}

// Document is a report: sections of rows and charts, rendered as Markdown, HTML or JSON.
type Document struct {
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Made     time.Time `json:"made"`
	Charts   []Chart   `json:"charts"`
	Sections []Section `json:"sections"`
}

// Section is a table of a report, with what it shows in a sentence.
type Section struct {
	Title   string   `json:"title"`
	About   string   `json:"about"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// More is the rows left out past MaxRows.
	More int `json:"more,omitempty"`
	// Empty says what no row means ("no root use").
	Empty string `json:"empty,omitempty"`
}

// Chart is a bar chart: a value per label.
type Chart struct {
	Title  string    `json:"title"`
	Labels []string  `json:"labels"`
	Values []float64 `json:"values"`
}

// BuildOptions say what a report covers.
type BuildOptions struct {
	From, To time.Time
	// Account and Region, when set, keep one partition account and region.
	Account, Region string
	// Inventory, when set, adds the identities of an IAM inventory with no call in the window.
	Inventory *authz.Details
	// MaxRows bounds each section's rows (default 50); the rest are counted in Section.More.
	MaxRows int
	// Now is the report's time (default time.Now).
	Now time.Time
}

// Build writes the report of kind over the lake query reads. All its statements should read one
// snapshot (a pinned query: local.Pinned).
func Build(ctx context.Context, query answer.QueryFunc, kind string, opt BuildOptions) (*Document, error) {
	if opt.MaxRows <= 0 {
		opt.MaxRows = 50
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	b := &builder{ctx: ctx, query: query, opt: opt, doc: &Document{Kind: kind, From: opt.From.UTC(), To: opt.To.UTC(), Made: opt.Now.UTC()}}
	var err error
	switch kind {
	case Identity:
		b.doc.Title = "Identities and access"
		err = b.identity()
	case Activity:
		b.doc.Title = "Activity"
		err = b.activity()
	case Alerts:
		b.doc.Title = "Alerts"
		err = b.alerts()
	default:
		return nil, fmt.Errorf("no report %q: the reports are %s", kind, strings.Join(Kinds, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", kind, err)
	}
	return b.doc, nil
}

type builder struct {
	ctx   context.Context
	query answer.QueryFunc
	opt   BuildOptions
	doc   *Document
}

func (b *builder) params() questions.Params {
	return questions.Params{From: b.opt.From, To: b.opt.To, Account: b.opt.Account, Region: b.opt.Region}
}

// question adds a section of a catalogue question's answer, its rows kept by keep (nil: all).
func (b *builder) question(name, title, empty string, p questions.Params, keep func(map[string]any) bool) error {
	q, err := questions.Get(name)
	if err != nil {
		return err
	}
	res, err := q.Answer(b.ctx, b.query, p)
	if err != nil {
		return err
	}
	rows := res.Rows
	if keep != nil {
		rows = nil
		for _, r := range res.Rows {
			if keep(RowMap(res.Columns, r)) {
				rows = append(rows, r)
			}
		}
	}
	b.section(Section{Title: title, About: q.Description, Columns: res.Columns, Rows: rows, Empty: empty})
	return nil
}

func (b *builder) section(s Section) {
	if len(s.Rows) > b.opt.MaxRows {
		s.More, s.Rows = len(s.Rows)-b.opt.MaxRows, s.Rows[:b.opt.MaxRows]
	}
	b.doc.Sections = append(b.doc.Sections, s)
}

// where is the window's condition, with its arguments, for the statements written here.
func (b *builder) where(timeColumn string) (string, []any) {
	conds := []string{timeColumn + " >= ?", timeColumn + " < ?"}
	args := []any{questions.TimeText(b.opt.From), questions.TimeText(b.opt.To)}
	if b.opt.Account != "" {
		conds, args = append(conds, "account = ?"), append(args, b.opt.Account)
	}
	if b.opt.Region != "" {
		conds, args = append(conds, "region = ?"), append(args, b.opt.Region)
	}
	return strings.Join(conds, " AND "), args
}

// eventsPerDay charts the window's events by day.
func (b *builder) eventsPerDay() error {
	where, args := b.where("eventtime")
	res, err := b.query(b.ctx, "SELECT substr(eventtime, 1, 10) AS day, count(*) AS events FROM cloudtrail_logs WHERE "+where+" GROUP BY 1 ORDER BY 1", args...)
	if err != nil {
		return err
	}
	c := Chart{Title: "Events per day"}
	for _, r := range res.Rows {
		c.Labels = append(c.Labels, answer.String(r[0]))
		c.Values = append(c.Values, float64(answer.Int(r[1])))
	}
	b.doc.Charts = append(b.doc.Charts, c)
	return nil
}

// inactiveSQL lists the long-term credentials the lake saw before the window and not in it:
// IAM users, roles (by the role, over all its sessions) and access keys of IAM users (AKIA…;
// temporary keys end by themselves).
const inactiveSQL = `
WITH seen AS (
  SELECT CASE WHEN useridentity.type = 'IAMUser' THEN 'user' ELSE 'role' END AS kind,
         CASE WHEN useridentity.type = 'IAMUser' THEN useridentity.arn ELSE useridentity.sessioncontext.sessionissuer.arn END AS identity,
         eventtime
  FROM cloudtrail_logs
  WHERE (useridentity.type = 'IAMUser' OR (useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.type = 'Role'))
    AND eventtime < ? /*filters*/
  UNION ALL
  SELECT 'access key', useridentity.accesskeyid || ' (' || useridentity.arn || ')', eventtime
  FROM cloudtrail_logs
  WHERE useridentity.type = 'IAMUser' AND useridentity.accesskeyid LIKE 'AKIA%' AND eventtime < ? /*filters*/
)
SELECT kind, identity, min(eventtime) AS first_seen, max(eventtime) AS last_seen, count(*) AS calls
FROM seen
WHERE identity IS NOT NULL
GROUP BY kind, identity
HAVING max(eventtime) < ?
ORDER BY last_seen, kind, identity`

func (b *builder) identity() error {
	// Inactive: seen before the window, not in it.
	filters, fargs := "", []any{}
	if b.opt.Account != "" {
		filters, fargs = filters+" AND account = ?", append(fargs, b.opt.Account)
	}
	if b.opt.Region != "" {
		filters, fargs = filters+" AND region = ?", append(fargs, b.opt.Region)
	}
	sql := strings.ReplaceAll(inactiveSQL, "/*filters*/", filters)
	to := questions.TimeText(b.opt.To)
	args := append(append(append([]any{to}, fargs...), to), fargs...)
	args = append(args, questions.TimeText(b.opt.From))
	res, err := b.query(b.ctx, sql, args...)
	if err != nil {
		return err
	}
	b.section(Section{Title: "Inactive users, roles and access keys",
		About:   "Long-term identities the lake saw before the window and not in it: candidates to disable or delete. The lake knows only what made a call once; an IAM inventory adds those never seen.",
		Columns: res.Columns, Rows: res.Rows, Empty: "Every identity seen before the window was seen in it too."})
	if b.opt.Inventory != nil {
		p := b.params()
		p.Inventory = questions.Inventory(b.opt.Inventory, b.opt.Account)
		if err := b.question("inactive-identities", "Identities of the IAM inventory with no call in the window", "Every user and role of the inventory made a call in the window.", p, nil); err != nil {
			return err
		}
	}
	if err := b.question("root-activity", "Root use", "The root user made no call in the window.", b.params(), nil); err != nil {
		return err
	}
	// Sign-ins: a chart of how, and the successful ones without MFA.
	q, err := questions.Get("console-logins")
	if err != nil {
		return err
	}
	logins, err := q.Answer(b.ctx, b.query, b.params())
	if err != nil {
		return err
	}
	counts := map[string]float64{}
	var noMFA [][]any
	for _, r := range logins.Rows {
		m := RowMap(logins.Columns, r)
		switch {
		case str(m["result"]) != "Success":
			counts["failed"]++
		case str(m["mfa_used"]) == "Yes":
			counts["with MFA"]++
		default:
			counts["without MFA"]++
			noMFA = append(noMFA, r)
		}
	}
	labels := []string{"with MFA", "without MFA", "failed"}
	c := Chart{Title: "Console sign-ins", Labels: labels}
	for _, l := range labels {
		c.Values = append(c.Values, counts[l])
	}
	b.doc.Charts = append(b.doc.Charts, c)
	b.section(Section{Title: "Console sign-ins without MFA", About: "Successful sign-ins to the AWS console that used no MFA device (single sign-on and SAML sign-ins carry their own authentication).",
		Columns: logins.Columns, Rows: noMFA, Empty: "Every console sign-in used MFA."})
	if err := b.question("privilege-escalation", "New privileged grants", "No call in the window could raise privileges.", b.params(), nil); err != nil {
		return err
	}
	return b.eventsPerDay()
}

func (b *builder) activity() error {
	if err := b.eventsPerDay(); err != nil {
		return err
	}
	for _, s := range []struct{ name, title, empty string }{
		{"active-users", "Active IAM users", "No IAM user made a call in the window."},
		{"active-roles", "Active roles", "No role made a call in the window."},
		{"console-actions", "Changes made from the console", "Nothing was changed from the console."},
		{"access-denied", "Calls denied", "No call was denied."},
		{"throttling", "Throttled calls", "No call was throttled."},
	} {
		if err := b.question(s.name, s.title, s.empty, b.params(), nil); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) alerts() error {
	where, args := b.where("event_time")
	res, err := b.query(b.ctx, "SELECT rule, severity, count(*) AS alerts, min(event_time) AS first, max(event_time) AS last FROM alerts WHERE "+where+" GROUP BY rule, severity ORDER BY alerts DESC, rule", args...)
	if err != nil {
		return err
	}
	c := Chart{Title: "Alerts per rule"}
	for _, r := range res.Rows {
		c.Labels = append(c.Labels, answer.String(r[0]))
		c.Values = append(c.Values, float64(answer.Int(r[2])))
	}
	b.doc.Charts = append(b.doc.Charts, c)
	b.section(Section{Title: "Alerts by rule", About: "The alerts the ingests stored for events in the window (trailsql alerts), by rule.", Columns: res.Columns, Rows: res.Rows,
		Empty: "No rule fired on the window's events (or no ingest evaluated them: trailsql detect runs the rules over any window)."})
	res, err = b.query(b.ctx, "SELECT event_time, severity, rule, title, principal, source_ip, account FROM alerts WHERE "+where+" ORDER BY "+severityOrder+", event_time DESC", args...)
	if err != nil {
		return err
	}
	b.section(Section{Title: "Alerts, most severe first", About: "Each alert with its title; trailsql detect --format text writes each as the sentence of its event.", Columns: res.Columns, Rows: res.Rows, Empty: "No alert."})
	return nil
}

// severityOrder sorts rows by severity, most severe first.
var severityOrder = func() string {
	var b strings.Builder
	b.WriteString("CASE severity")
	for i, s := range []string{"critical", "high", "medium", "low", "info"} {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, i)
	}
	b.WriteString(" ELSE 9 END")
	return b.String()
}()
