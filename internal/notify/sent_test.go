package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sentOutboxes runs a notifier over five destinations and returns its folder, the destinations
// and the messages: the signed-webhook receiver and the SMTP server (go-smtp) are real; Jira
// (Cloud), PagerDuty and Slack are fakes speaking their wire formats, and Slack is down (503)
// so that its alerts stay pending with its error. Three alerts are delivered at 12:00,
// two more at 12:30.
func sentOutboxes(t *testing.T) (string, map[string]Destination, []Message, *hookReceiver, *fakePagerDuty) {
	hook := newHookReceiver(t)
	ms := newMailServer(t)
	j3 := newFakeJira(t, "3") // a fake of Jira Cloud
	slack := newFakeSlack(t)  // a fake of Slack, down
	pd := newFakePagerDuty(t) // a fake of PagerDuty
	slack.setDown(true)
	dests := map[string]Destination{
		"hook":  &Webhook{URL: NewSecret(hook.srv.URL + "/hooks/trailsql"), Secret: NewSecret(hook.secret)},
		"mail":  &Email{Addr: ms.addr, From: "trailsql@example.com", To: []string{"sec@example.com"}, Username: "alerts", Password: NewSecret("s3cret-pass"), TLS: &tls.Config{RootCAs: ms.pool, ServerName: "127.0.0.1"}},
		"jira":  &Jira{BaseURL: j3.srv.URL, User: "bot@example.com", Token: NewSecret("api-token"), Project: "SEC"},
		"slack": &Slack{URL: NewSecret(slack.srv.URL + "/services/T000/B000/XXXX")},
		"pd":    &PagerDuty{RoutingKey: NewSecret(pdKey), URL: pd.srv.URL + "/v2/enqueue"},
	}
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	sleeps := 0
	opts := Options{Now: clock.now, sleep: func(ctx context.Context, d time.Duration) error {
		sleeps++
		if sleeps%2 == 0 {
			return context.Canceled // give up after two attempts: what is left stays pending
		}
		return nil
	}}
	n, err := New(dir, dests, []Route{{Destinations: []string{"hook", "mail", "jira", "slack", "pd"}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	msgs := testMessages("sent-", 5)
	msgs[3].Rule = "root-activity"
	deliverAll := func(batch []Message) {
		if err := n.Enqueue(batch...); err != nil {
			t.Fatal(err)
		}
		for _, name := range n.names {
			l := n.loops[name]
			sends, _, err := l.prepare(clock.now(), false)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.deliver(context.Background(), sends); err != nil {
				t.Fatal(err)
			}
		}
	}
	deliverAll(msgs[:3])
	clock.t = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	deliverAll(msgs[3:])
	return dir, dests, msgs, hook, pd
}

// TestNotifyStatusAndSent: the status of each destination and the record of what was sent, read
// from the outboxes a notifier wrote: delivery times, references (webhook-id, Jira key, dedup
// keys, Message-ID), the pending alerts of the destination that is down with its last error.
func TestNotifyStatusAndSent(t *testing.T) {
	dir, dests, msgs, hook, pdFake := sentOutboxes(t)
	pdKeys := map[string]bool{} // the dedup keys PagerDuty received
	for k := range pdFake.incidents {
		pdKeys[k] = true
	}

	st, errs := Status(dir, dests)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	byName := map[string]DestStatus{}
	for _, s := range st {
		byName[s.Destination] = s
	}
	if len(byName) != 5 {
		t.Fatalf("status of %d destinations, want 5: %+v", len(byName), st)
	}
	t1230 := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	for _, name := range []string{"hook", "mail", "jira", "pd"} {
		s := byName[name]
		if s.Delivered != 5 || s.Pending != 0 || s.FailedAttempts != 0 || !s.LastDelivered.Equal(t1230) || s.LastError != "" {
			t.Errorf("%s: %+v, want 5 delivered, the last at 12:30, none pending", name, s)
		}
	}
	// Slack is not idempotent: sent one message at a time, each tried twice a round (3, then 5).
	down := byName["slack"]
	if down.Delivered != 0 || down.Pending != 5 || down.FailedAttempts != 2*3+2*5 || !strings.Contains(down.LastError, "503") || down.LastErrorAt.Before(t1230) ||
		!down.OldestPending.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("slack (down): %+v, want 5 pending since 12:00, 16 failed attempts, the last error a 503", down)
	}
	for name, want := range map[string]bool{"hook": true, "jira": true, "pd": true, "mail": false, "slack": false} {
		if s := byName[name]; s.Idempotent == nil || *s.Idempotent != want {
			t.Errorf("%s: idempotent %v, want %v", name, s.Idempotent, want)
		}
	}
	if byName["mail"].Kind != "email" || byName["pd"].Kind != "pagerduty" {
		t.Errorf("kinds %q %q", byName["mail"].Kind, byName["pd"].Kind)
	}

	all, errs := SentLog(dir, SentFilter{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(all) != 25 {
		t.Fatalf("%d entries, want 25 (5 alerts to 5 destinations)", len(all))
	}
	jiraKey := regexp.MustCompile(`^SEC-\d+$`)
	hookIDs := hook.seen
	for _, e := range all {
		var m *Message
		for i := range msgs {
			if msgs[i].ID == e.ID {
				m = &msgs[i]
			}
		}
		if m == nil {
			t.Fatalf("entry of an unknown message %+v", e)
		}
		if e.Summary != m.Summary || !slices.Equal(e.EventIDs, m.EventIDs) || !slices.Equal(e.Rules, []string{m.Rule}) || e.Alerts != 1 || e.Title != m.Title {
			t.Errorf("%s %s: %+v, want the message's summary, events and rule", e.Destination, e.ID, e)
		}
		okRef := false
		switch e.Destination {
		case "hook":
			okRef = e.Ref == "webhook-id "+e.ID && hookIDs[e.ID]
		case "jira":
			okRef = jiraKey.MatchString(e.Ref)
		case "mail":
			okRef = e.Ref == "Message-ID <"+e.ID+"@trailsql>"
		case "pd":
			okRef = e.Ref == "dedup_key trailsql-"+m.DedupHash() && pdKeys[strings.TrimPrefix(e.Ref, "dedup_key ")]
		case "slack":
			okRef = e.Ref == "" && e.Status == "pending" && strings.Contains(e.Error, "503")
		}
		if !okRef {
			t.Errorf("%s %s: status %s ref %q error %q", e.Destination, e.ID, e.Status, e.Ref, e.Error)
		}
		if e.Destination != "slack" && e.Status != "delivered" {
			t.Errorf("%s %s: %s, want delivered", e.Destination, e.ID, e.Status)
		}
	}

	// Filters: the time window leaves out what was delivered before it (not what is pending); a
	// rule; a destination.
	late, _ := SentLog(dir, SentFilter{From: time.Date(2026, 3, 1, 12, 15, 0, 0, time.UTC)})
	if len(late) != 4*2+5 {
		t.Errorf("from 12:15: %d entries, want 13 (2 delivered to 4, 5 pending)", len(late))
	}
	root, _ := SentLog(dir, SentFilter{Rule: "root-activity", Destination: "jira"})
	if len(root) != 1 || root[0].ID != msgs[3].ID || !root[0].At.Equal(time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("rule root-activity to jira: %+v", root)
	}
}

// TestSentCorruptLine: a bad line is an error naming the file and line; the rest is still read.
// Records written before references and retries were recorded read too.
func TestSentCorruptLine(t *testing.T) {
	dir, dests, _, _, _ := sentOutboxes(t)
	path := filepath.Join(dir, OutboxDir, "slack.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	bad := strings.Join(lines[:2], "") + "{\"op\": \"delivered\", \"at\": 12\n" + strings.Join(lines[2:], "")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	old := `{"op":"queued","id":"a1","at":"2026-02-27T10:00:00Z","route":"route-1","msg":{"id":"a1","title":"Root user activity","summary":"root signed in.","rule":"root-activity","event_ids":["e-9"]}}
{"op":"attempt","id":"a1","at":"2026-02-27T10:00:01Z","route":"route-1","msg":{"id":"a1","title":"Root user activity","rule":"root-activity"},"members":["a1"]}
{"op":"ticket","id":"a1","at":"2026-02-27T10:00:02Z","label":"ALERTabc","key":"SEC-77"}
{"op":"delivered","id":"a1","at":"2026-02-27T10:00:03Z","route":"route-1","msg":{"id":"a1","title":"Root user activity","rule":"root-activity"},"members":["a1"]}
`
	if err := os.WriteFile(filepath.Join(dir, OutboxDir, "oldjira.jsonl"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	all, errs := SentLog(dir, SentFilter{})
	var oe *OutboxError
	if len(errs) != 1 || !errors.As(errs[0], &oe) || oe.Path != path || oe.Line != 3 || !strings.Contains(errs[0].Error(), path+":3:") {
		t.Fatalf("errors %v, want one naming %s:3", errs, path)
	}
	count := map[string]int{}
	for _, e := range all {
		count[e.Destination]++
		if e.Destination == "oldjira" && (e.Ref != "SEC-77" || e.Summary != "root signed in." || !slices.Equal(e.EventIDs, []string{"e-9"}) || e.Status != "delivered") {
			t.Errorf("old record: %+v", e)
		}
	}
	if count["slack"] != 5 || count["hook"] != 5 || count["oldjira"] != 1 {
		t.Errorf("entries per destination %v, want all 5 of slack still listed", count)
	}
	st, errs := Status(dir, dests)
	if len(errs) != 1 || len(st) != 6 {
		t.Errorf("status: %d destinations, errors %v", len(st), errs)
	}
}

// BenchmarkSentLog reads an outbox at the size a running notifier compacts it (20,000 records:
// queued, attempt, delivered for 6,667 alerts), as 'notify sent' does.
func BenchmarkSentLog(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, OutboxDir), 0o755)
	var buf strings.Builder
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, m := range testMessages("bench-", compactLines/3) {
		for _, r := range []record{{Op: "queued", ID: m.ID, At: at, Route: "r", Msg: &m},
			{Op: "attempt", ID: m.ID, At: at, Route: "r", Msg: &m, Members: []string{m.ID}},
			{Op: "delivered", ID: m.ID, At: at.Add(time.Duration(i) * time.Second), Route: "r", Msg: &Message{ID: m.ID, Title: m.Title, Rule: m.Rule}, Members: []string{m.ID}, Ref: "webhook-id " + m.ID}} {
			line, _ := json.Marshal(r)
			buf.Write(append(line, '\n'))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, OutboxDir, "hook.jsonl"), []byte(buf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		entries, errs := SentLog(dir, SentFilter{})
		if len(errs) > 0 || len(entries) != compactLines/3 {
			b.Fatalf("%d entries, %v", len(entries), errs)
		}
	}
}
