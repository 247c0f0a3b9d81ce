// Package notify delivers alerts to people: an outbox persisted beside the lake, one send loop
// per destination (Slack, Jira, a signed webhook, email, PagerDuty, Microsoft Teams) with a
// bounded queue, batches and retries, routes with Alertmanager's grouping, and silences.
//
// The caller (ingest, detection) hands messages to Notifier.Enqueue, which records them in the
// outbox and returns without waiting on any destination; each destination's loop sends them,
// at least once across crashes, with an idempotency key (Jira label, webhook-id, PagerDuty
// dedup_key) so that a re-send after a crash duplicates nothing where the receiver can dedup.
package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/rules"
)

// Message is one notification: an alert, or a group of alerts a route put together. Other
// packages (internal/report) fill Summary and Fields with plain-language text; FromAlert builds
// a default one.
type Message struct {
	// ID is the message's idempotency key: the same alert always gets the same ID (webhook-id,
	// email Message-ID). Enqueue fills it when empty (see Key).
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Summary  string  `json:"summary,omitempty"`
	Fields   []Field `json:"fields,omitempty"`
	Severity string  `json:"severity,omitempty"` // info, low, medium, high or critical
	Rule     string  `json:"rule,omitempty"`
	// DedupKey is the alert's deduplication key within its rule: repeats of the same rule and
	// DedupKey are one Jira ticket, one PagerDuty incident, and are not resent within a route's
	// repeat_interval.
	DedupKey string    `json:"dedup_key,omitempty"`
	Link     string    `json:"link,omitempty"`
	EventIDs []string  `json:"event_ids,omitempty"`
	Account  string    `json:"account,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	// Tags are the rule's tags (MITRE ATT&CK ids, …), which routes may match.
	Tags []string `json:"tags,omitempty"`
	// Labels are what routes match, group_by groups and silences match: rule, severity,
	// account, region, principal, source_ip, event_name (FromAlert sets them).
	Labels map[string]string `json:"labels,omitempty"`
	// Report, when set, makes the message a scheduled report rather than an alert (see Report).
	Report *Report `json:"report,omitempty"`
}

// Report is a scheduled report, as each destination shows it: an email its HTML (with the
// Markdown as the text part) or, when Format is markdown or json, that text alone; Slack and
// Teams the Markdown, trimmed to their limits with a note saying how to read the rest; a
// webhook the JSON document (type "report"). Jira and PagerDuty take no report: reports are
// not incidents.
type Report struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Format string `json:"format"`
	// Markdown, HTML and JSON are the report in each format.
	Markdown string          `json:"markdown,omitempty"`
	HTML     string          `json:"html,omitempty"`
	JSON     json.RawMessage `json:"json,omitempty"`
	// Command is the trailsql command that writes the whole report.
	Command string `json:"command,omitempty"`
}

// trimmedNote is the note that ends a report trimmed to a destination's limits.
func (r *Report) trimmedNote() string {
	return "… (trimmed to fit this message; the whole report: `" + r.Command + "`)"
}

// trimReport cuts text to at most n bytes at a line break, with the trimmed note.
func (r *Report) trim(text string, n int) string {
	if len(text) <= n {
		return text
	}
	note := "\n\n" + r.trimmedNote()
	cut := text[:max(0, n-len(note))]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return strings.ToValidUTF8(cut, "") + note
}

// Field is one name/value line of a message.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FromAlert is the default message of an alert: its title, severity, principal, source IP, event
// name, time and account; tags are its rule's (rules.Rule.Tags), for routes that match tags.
func FromAlert(a rules.Alert, tags ...string) Message {
	m := Message{
		Title: a.Title, Severity: string(a.Severity), Rule: a.Rule, DedupKey: a.Dedup, Account: a.Account, Tags: tags,
		Labels: map[string]string{
			"rule": a.Rule, "severity": string(a.Severity), "account": a.Account, "region": a.Region,
			"principal": a.Principal, "source_ip": a.SourceIP, "event_name": a.EventName,
		},
	}
	if m.Title == "" {
		m.Title = a.Rule
	}
	if a.EventID != "" {
		m.EventIDs = []string{a.EventID}
	}
	if t, err := time.Parse(time.RFC3339, a.EventTime); err == nil {
		m.Time = t.UTC()
	}
	who := a.Principal
	if who == "" {
		who = "an unknown principal"
	}
	m.Summary = fmt.Sprintf("%s called %s (%s) from %s in account %s at %s.", who, a.EventName, a.EventSource, orUnknown(a.SourceIP), orUnknown(a.Account), orUnknown(a.EventTime))
	if a.Count > 1 {
		m.Summary += fmt.Sprintf(" %d events since %s.", a.Count, a.FirstTime)
	}
	add := func(name, value string) {
		if value != "" {
			m.Fields = append(m.Fields, Field{name, value})
		}
	}
	add("Severity", string(a.Severity))
	add("Principal", a.Principal)
	add("Source IP", a.SourceIP)
	add("Event", a.EventName)
	add("Time", a.EventTime)
	add("Account", a.Account)
	add("Region", a.Region)
	add("Rule", a.Rule)
	return m
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// FromAlerts is FromAlert of each alert, with its rule's tags from rs (nil: none). Enqueue is
// idempotent per message ID, so a caller may enqueue the alerts of the last commits again on
// start (a crash between storing alerts and enqueueing them loses nothing): those already
// queued are not queued twice.
func FromAlerts(alerts []rules.Alert, rs []*rules.Rule) []Message {
	tags := map[string][]string{}
	for _, r := range rs {
		tags[r.ID] = r.Tags
	}
	out := make([]Message, len(alerts))
	for i, a := range alerts {
		out[i] = FromAlert(a, tags[a.Rule]...)
		out[i].ID = out[i].Key()
	}
	return out
}

// Key returns the message's idempotency key: a hash of its rule, dedup key and events.
func (m *Message) Key() string {
	ids := slices.Clone(m.EventIDs)
	slices.Sort(ids)
	return "msg_" + hash(m.Rule, m.DedupKey, strings.Join(ids, ","))
}

// DedupHash is the hash of the message's rule and dedup key: the Jira label and PagerDuty
// dedup_key, one per alert, shared by its repeats.
func (m *Message) DedupHash() string {
	if m.Rule == "" && m.DedupKey == "" {
		return hash(m.ID)
	}
	return hash(m.Rule, m.DedupKey)
}

// EventCommand is the CLI command that shows the message's events.
func (m *Message) EventCommand() string {
	if len(m.EventIDs) == 0 {
		return ""
	}
	quoted := make([]string, len(m.EventIDs))
	for i, id := range m.EventIDs {
		quoted[i] = "'" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	if len(quoted) == 1 {
		return fmt.Sprintf(`trailsql query "SELECT * FROM cloudtrail_logs WHERE eventid = %s"`, quoted[0])
	}
	return fmt.Sprintf(`trailsql query "SELECT * FROM cloudtrail_logs WHERE eventid IN (%s)"`, strings.Join(quoted, ", "))
}

// severityRank orders severities (-1: unknown).
func severityRank(s string) int { return rules.Severity(strings.ToLower(s)).Rank() }

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// truncate cuts s to at most n runes, ending it with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
