// Package report writes CloudTrail events as plain-language sentences a colleague understands
// without opening CloudTrail ("alice (IAM user, account 1111-2222-3333) deleted the IAM user bob
// from the AWS console (Chrome on macOS) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5."), with
// the same facts as fields (who, action, account, source IP, time, how, outcome, event id) for
// the front ends that lay them out themselves (Slack, Jira, e-mail).
//
// It works on rows already read: the rows of cloudtrail_logs as an answer.QueryFunc returns them,
// or raw records (ParseRecord). Fetch reads the rows of given events through a QueryFunc.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/questions"
)

// Options say how sentences are written.
type Options struct {
	// Location is the time zone times are given in; nil is UTC.
	Location *time.Location
	// AccountAliases name accounts (12-digit id -> alias), written after the id.
	AccountAliases map[string]string
}

// Summary is one event in plain language: the sentence, and its parts as fields.
type Summary struct {
	// Sentence is the whole event in one sentence, ending with a full stop.
	Sentence string
	// Who is the identity that made the call ("the role Admin (session alice, account …)").
	Who string
	// Action is what the call did or, when it failed, what it tried to do.
	Action string
	// Account is the account of the identity, formatted 1111-2222-3333, with its alias.
	Account string
	// SourceIP is the address the call came from (or the AWS service that made it).
	SourceIP string
	// Time is the event's time (zero when the event has none); When is it written in
	// Options.Location.
	Time time.Time
	When string
	// How is what the call was made with ("from the AWS console (Chrome on macOS)", "with the
	// AWS CLI 2.13.0").
	How string
	// Outcome is "succeeded", or "denied (AccessDenied: …)" or "failed (…)".
	Outcome string
	// Failed is set when the call failed (Denied too when it was refused for lack of
	// permission): the sentence then says it tried and did not succeed.
	Failed, Denied bool
	// The event's identity and name.
	EventID, EventSource, EventName, Region string
	// Console is set when a person made the call in the AWS console.
	Console bool
}

// Field is one labelled fact of a Summary, for front ends that lay out fields themselves.
type Field struct {
	Name, Value string
}

// Fields are the summary's facts in the order front ends show them: Who, Action, Account,
// Source IP, When, How, Outcome, Event ID. Facts the event does not have are left out, except
// Who, Action, Outcome and Event ID.
func (s *Summary) Fields() []Field {
	fs := []Field{{"Who", s.Who}, {"Action", s.Action}}
	add := func(name, v string) {
		if v != "" {
			fs = append(fs, Field{name, v})
		}
	}
	add("Account", s.Account)
	add("Source IP", s.SourceIP)
	add("When", s.When)
	add("How", s.How)
	return append(fs, Field{"Outcome", s.Outcome}, Field{"Event ID", s.EventID})
}

// Text writes summaries one sentence a line.
func Text(w io.Writer, sums []Summary) error {
	for _, s := range sums {
		if _, err := io.WriteString(w, s.Sentence+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Summarize writes one event, a row of cloudtrail_logs (column name -> value, as RowMap or
// RecordRow make it), in plain language. Columns it lacks are taken as NULL: give it whole rows
// (see MissingColumns). It never fails: an event it knows nothing of still reads as "called
// SERVICE EventName".
func Summarize(row map[string]any, opt Options) Summary {
	e := readEvent(row)
	who, account := opt.who(&e)
	if e.eventType == "AwsCloudTrailInsight" {
		who, account = "CloudTrail Insights", e.recipient
		if a := opt.accountText(account); a != "" {
			who += " (" + a + ")"
		}
	}
	s := Summary{
		Who: who, EventID: e.id, EventSource: e.source, EventName: e.name, Region: e.region,
		SourceIP: e.ip,
	}
	if account != "" {
		s.Account = FormatAccount(account)
		if a := opt.AccountAliases[account]; a != "" {
			s.Account += " (" + a + ")"
		}
	}
	act := describe(&e)
	why := failed(&e)
	s.Failed = why != ""
	s.Denied = s.Failed && questions.IsDenied(e.errCode)
	switch {
	case !s.Failed:
		s.Action, s.Outcome = act.done(), "succeeded"
	case s.Denied:
		s.Action, s.Outcome = act.tried(), "denied ("+why+")"
	default:
		s.Action, s.Outcome = act.tried(), "failed ("+why+")"
	}
	s.How, s.Console = how(&e)
	skip := ""
	if e.ui.typ == "AWSService" || e.ui.typ == "" {
		skip = e.ui.invokedBy
		if skip == "" {
			skip = e.ip
		}
		if strings.HasSuffix(s.How, " "+skip) || strings.Contains(s.How, "("+skip+")") {
			s.How = "" // the caller is that service
		}
	} else if ib := e.ui.invokedBy; ib != "" && ib != "signin.amazonaws.com" && !strings.Contains(s.How, ib) {
		s.How = "through the AWS service " + ib
		skip = ib
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	var at string
	if !e.time.IsZero() {
		s.Time = e.time
		t := e.time.In(loc)
		s.When = t.Format("2006-01-02 15:04:05 MST")
		at = "at " + t.Format("15:04:05 MST") + " on " + t.Format("2 Jan 2006")
	} else if e.timeText != "" {
		s.When, at = e.timeText, fmt.Sprintf("at a time given as %q", e.timeText)
	}
	parts := []string{who, s.Action, s.How, at, where(&e, skip)}
	sentence := joinNonEmpty(" ", parts...)
	if s.Failed {
		sentence += ", but " + failClause(&e, s.Denied)
	}
	s.Sentence = capitalize(sentence) + "."
	return s
}

// failClause ends the sentence of a failed call: "was denied (AccessDenied)", "it failed
// (NoSuchEntity)", "failed (Failed authentication)".
func failClause(e *event, denied bool) string {
	switch {
	case denied:
		return "was denied (" + e.errCode + ")"
	case e.errCode != "":
		return "it failed (" + e.errCode + ")"
	case e.errMsg != "":
		return "it failed (" + shorten(e.errMsg, 120) + ")"
	}
	return "it failed"
}

// failed is "" for a call that succeeded, else what went wrong: the error code and message, or
// the failure a sign-in reports in its response.
func failed(e *event) string {
	msg := shorten(e.errMsg, 300)
	switch {
	case e.errCode != "" && msg != "":
		return e.errCode + ": " + msg
	case e.errCode != "":
		return e.errCode
	case msg != "":
		return msg
	}
	for _, k := range []string{e.name, "ConsoleLogin", "SwitchRole", "CheckMfa"} {
		if strings.EqualFold(gets(e.resp, k), "Failure") {
			return k + " Failure"
		}
	}
	return ""
}

// describe is the action of an event: its hand-written phrase, else the generic one.
func describe(e *event) action {
	prefix, _, _ := strings.Cut(e.source, ".")
	if p, ok := phrases[prefix+":"+baseName(e.name)]; ok {
		if a, ok := p(e); ok {
			return a
		}
	}
	if e.eventType == "AwsCloudTrailInsight" {
		return insight(e)
	}
	return generic(e)
}

// capitalize starts a sentence that begins with an article with a capital; a sentence that
// begins with a name keeps it as it is (names are case-sensitive).
func capitalize(s string) string {
	for _, a := range []string{"the ", "an ", "a "} {
		if strings.HasPrefix(s, a) {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return s
}

// shorten cuts s to at most n bytes (at a rune boundary), marking the cut.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// jsonText is a value as JSON text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// insight is what an Insights event reports: an unusual rate of calls, starting or ending.
func insight(e *event) action {
	calls := joinNonEmpty(" ", serviceName(gets(e.insight, "eventSource")), gets(e.insight, "eventName"))
	if calls == "" {
		calls = "API"
	}
	kind := "rate"
	if gets(e.insight, "insightType") == "ApiErrorRateInsight" {
		kind = "error rate"
	}
	obj := "an unusual " + kind + " of " + calls + " calls"
	avg, base := gets(e.insight, "insightContext", "statistics", "insight", "average"), gets(e.insight, "insightContext", "statistics", "baseline", "average")
	if avg != "" && base != "" {
		obj += " (" + roundText(avg) + " a minute against a usual " + roundText(base) + ")"
	}
	switch gets(e.insight, "state") {
	case "Start":
		return action{"see", "saw the start of", obj}
	case "End":
		return action{"see", "saw the end of", obj}
	}
	return action{"see", "saw", obj}
}

// roundText writes a decimal number with at most one decimal.
func roundText(s string) string {
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		return s
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0")
}
