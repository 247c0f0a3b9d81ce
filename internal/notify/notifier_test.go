package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/rules"
)

func TestFromAlert(t *testing.T) {
	a := rules.Alert{Rule: "root-activity", Severity: rules.High, Title: "Root user activity", EventID: "e-1", EventTime: "2026-03-01T12:00:00Z",
		EventSource: "iam.amazonaws.com", EventName: "CreateUser", Principal: "arn:aws:iam::111122223333:root", SourceIP: "203.0.113.9",
		Account: "111122223333", Region: "us-east-1", Dedup: "e-1", Count: 1}
	m := FromAlert(a)
	if m.Title != "Root user activity" || m.Severity != "high" || m.Rule != "root-activity" || m.DedupKey != "e-1" ||
		!slices.Equal(m.EventIDs, []string{"e-1"}) || !m.Time.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("message %+v", m)
	}
	for _, want := range []string{"arn:aws:iam::111122223333:root", "CreateUser", "203.0.113.9", "111122223333", "2026-03-01T12:00:00Z"} {
		if !strings.Contains(m.Summary, want) {
			t.Errorf("summary %q lacks %q", m.Summary, want)
		}
	}
	if m.Labels["principal"] != a.Principal || m.Labels["region"] != "us-east-1" {
		t.Errorf("labels %v", m.Labels)
	}
	if got := m.EventCommand(); got != `trailsql query "SELECT * FROM cloudtrail_logs WHERE eventid = 'e-1'"` {
		t.Errorf("command %s", got)
	}
	m2 := FromAlert(a)
	if m.Key() != m2.Key() || m.DedupHash() != m2.DedupHash() {
		t.Error("the idempotency keys of one alert differ")
	}
	a.EventID = "e-2"
	if m3 := FromAlert(a); m3.Key() == m.Key() || m3.DedupHash() != m.DedupHash() {
		t.Error("another event of the same dedup key: want another ID, the same dedup hash")
	}
}

// TestSlackLimits: a huge message is cut to Block Kit's limits (the fake refuses anything over
// them), with "…".
func TestSlackLimits(t *testing.T) {
	f := newFakeSlack(t)
	m := Message{Title: strings.Repeat("T", 400), Summary: strings.Repeat("s", 5000), EventIDs: []string{"e"}}
	for i := range 600 {
		m.Fields = append(m.Fields, Field{Name: "field", Value: strings.Repeat("v", i%3*1500)})
	}
	p := slackMessage(&m)
	if len(p.Blocks) != 50 {
		t.Errorf("%d blocks, want 50", len(p.Blocks))
	}
	if s := p.Blocks[1].Text.Text; len([]rune(s)) != 3000 || !strings.HasSuffix(s, "…") {
		t.Errorf("section of %d chars, not cut with …", len([]rune(s)))
	}
	if err := (&Slack{URL: NewSecret(f.srv.URL + "/services/T000/B000/XXXX")}).Send(context.Background(), []Message{m}); err != nil {
		t.Fatal(err)
	}
	if got := f.received(); len(got) != 1 || !strings.HasSuffix(got[0], "…") {
		t.Errorf("received %q", got)
	}
}

// TestNetworkErrorHidesURL: a webhook URL holds its secret; a failure must not show it.
func TestNetworkErrorHidesURL(t *testing.T) {
	url := "http://127.0.0.1:1/services/T000/B000/SECRETPATH"
	for _, d := range []Destination{&Slack{URL: NewSecret(url)}, &Teams{URL: NewSecret(url)},
		&Webhook{URL: NewSecret(url), Secret: NewSecret("whsec_a2V5")}, &PagerDuty{RoutingKey: NewSecret("SECRETKEY"), URL: url}} {
		err := d.Send(context.Background(), testMessages("x", 1))
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%T: %v", d, err)
		}
		if retry, _ := Retryable(err); !retry {
			t.Errorf("%T: a connection refused should be retryable: %v", d, err)
		}
	}
}

// TestJiraRepeatComments: a repeat of an alert comments on its open ticket, found by the
// outbox's record of the tickets even while Jira's search does not see the new ticket yet.
func TestJiraRepeatComments(t *testing.T) {
	f := newFakeJira(t, "3") // not indexed: the label search finds nothing
	j := &Jira{BaseURL: f.srv.URL, User: "bot", Token: NewSecret("t"), Project: "SEC"}
	n, err := New(t.TempDir(), map[string]Destination{"jira": j}, []Route{{Destinations: []string{"jira"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	stop := runNotifier(t, n)
	first := testMessages("rep-", 1)[0]
	again := first
	again.EventIDs, again.ID = []string{"another-event"}, ""
	n.Enqueue(first)
	waitFor(t, n, "the ticket", func() bool { return n.Stats()["jira"].Delivered == 1 })
	n.Enqueue(again)
	waitFor(t, n, "the repeat", func() bool { return n.Stats()["jira"].Delivered == 2 })
	stop()
	if len(f.issues) != 1 || f.commentCount() != 1 || f.issues[0].labels[1] != JiraLabel(&first) {
		t.Errorf("%d issues, %d comments: want one ticket commented once", len(f.issues), f.commentCount())
	}
	// Closed tickets are not commented: a repeat then opens another.
	f.issues[0].done = true
	if err := j.Send(context.Background(), []Message{again}); err != nil {
		t.Fatal(err)
	}
	if len(f.issues) != 2 {
		t.Errorf("%d issues: a repeat of a done ticket should open another", len(f.issues))
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestGroupingRepeatSilence: a route groups by rule (one message per group after group_wait),
// holds back repeats within repeat_interval, and silences hold back what they match.
func TestGroupingRepeatSilence(t *testing.T) {
	dir := t.TempDir()
	f := newFakeSlack(t)
	slack := &Slack{URL: NewSecret(f.srv.URL + "/services/T000/B000/XXXX")}
	clock := &fakeClock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	routes := []Route{{Name: "grouped", Match: Match{Rules: []string{"burst-*"}}, Destinations: []string{"s"}, GroupBy: []string{"rule"},
		GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: time.Hour},
		{Name: "rest", Destinations: []string{"s"}, RepeatInterval: time.Hour}}
	n, err := New(dir, map[string]Destination{"s": slack}, routes, Options{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	l := n.loops["s"]
	var burst []Message
	for i, m := range testMessages("burst-", 4) {
		m.Rule, m.ID = "burst-"+[]string{"a", "b"}[i%2], ""
		burst = append(burst, m)
	}
	if err := n.Enqueue(burst...); err != nil {
		t.Fatal(err)
	}
	sends, next, err := l.prepare(clock.now(), false)
	if err != nil || len(sends) != 0 || !next.Equal(clock.now().Add(30*time.Second)) {
		t.Fatalf("before group_wait: %d sends, next %s, %v", len(sends), next, err)
	}
	clock.t = clock.t.Add(30 * time.Second)
	sends, _, err = l.prepare(clock.now(), false)
	if err != nil || len(sends) != 2 {
		t.Fatalf("after group_wait: %d sends, want 2 groups (%v)", len(sends), err)
	}
	for _, s := range sends {
		if len(s.members) != 2 || !strings.HasPrefix(s.msg.Title, "2 alerts: ") || !strings.HasPrefix(s.msg.ID, "grp_") {
			t.Errorf("group %+v", s.msg)
		}
	}
	if err := l.deliver(context.Background(), sends); err != nil {
		t.Fatal(err)
	}

	// A repeat of a delivered alert within repeat_interval is held back; after it, sent.
	clock.t = clock.t.Add(10 * time.Minute)
	rep := burst[0]
	rep.EventIDs, rep.ID = []string{"later-event"}, ""
	n.Enqueue(rep)
	if sends, _, _ := l.prepare(clock.now(), false); len(sends) != 0 || n.Stats()["s"].Repeats != 1 {
		t.Fatalf("a repeat within repeat_interval: %d sends, stats %+v", len(sends), n.Stats()["s"])
	}

	// A silence holds back what it matches, and only while active.
	sil, err := OpenSilences(dir).Add(Silence{Matchers: []Matcher{{"rule", "=~", "quiet-.*"}}, EndsAt: clock.now().Add(time.Hour), Comment: "maintenance", CreatedBy: "test"}, clock.now())
	if err != nil {
		t.Fatal(err)
	}
	quiet := testMessages("quiet-", 2)
	quiet[0].Rule, quiet[0].ID = "quiet-rule", ""
	quiet[1].Rule, quiet[1].ID = "loud-rule", ""
	n.Enqueue(quiet...)
	sends, _, _ = l.prepare(clock.now(), false)
	if len(sends) != 1 || sends[0].msg.Rule != "loud-rule" || n.Stats()["s"].Silenced != 1 {
		t.Fatalf("silence %s: sends %d, stats %+v", sil.ID, len(sends), n.Stats()["s"])
	}
	if err := l.deliver(context.Background(), sends); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSilences(dir).Expire(sil.ID[:6], clock.now()); err != nil {
		t.Fatal(err)
	}
	later := testMessages("quiet-after-", 1)
	later[0].Rule, later[0].ID = "quiet-rule", ""
	n.Enqueue(later...)
	if sends, _, _ := l.prepare(clock.now(), false); len(sends) != 1 {
		t.Fatalf("after the silence expired: %d sends", len(sends))
	}

	sent, err := Sent(dir)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range sent {
		count[s.Status]++
	}
	if count["delivered"] != 3 || count["silenced"] != 1 || count["repeat"] != 1 {
		t.Errorf("record of what was sent: %v", count)
	}

	// The same, as 'notify sent' lists it: a group carries its alerts' rule and events.
	log, errs := SentLog(dir, SentFilter{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	groups, statuses := 0, map[string]int{}
	for _, e := range log {
		statuses[e.Status]++
		if e.Status == "delivered" && e.Alerts == 2 {
			groups++
			if len(e.Rules) != 1 || !strings.HasPrefix(e.Rules[0], "burst-") || len(e.EventIDs) != 2 || !strings.HasPrefix(e.Title, "2 alerts: ") {
				t.Errorf("group entry %+v", e)
			}
		}
	}
	// pending: the alert enqueued after the silence expired, never sent here.
	if groups != 2 || statuses["delivered"] != 3 || statuses["silenced"] != 1 || statuses["repeat"] != 1 || statuses["pending"] != 1 {
		t.Errorf("sent log: %d groups, %v", groups, statuses)
	}
}

// TestOutboxFile: a torn last line is cut off; a bad line in the middle is an error naming it;
// items beyond the in-memory capacity wait in the file and are all sent; the outbox is
// compacted on open.
func TestOutboxFile(t *testing.T) {
	dir := t.TempDir()
	f := newFakeSlack(t)
	dests := map[string]Destination{"s": &Slack{URL: NewSecret(f.srv.URL + "/services/T000/B000/XXXX")}}
	routes := []Route{{Destinations: []string{"s"}}}
	n, err := New(dir, dests, routes, Options{QueueCapacity: 3, MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	msgs := testMessages("spill-", 10)
	if err := n.Enqueue(msgs...); err != nil {
		t.Fatal(err)
	}
	n.Enqueue(msgs[:4]...) // the same messages again: not queued twice
	if st := n.Stats()["s"]; st.Queued != 10 {
		t.Errorf("queued %d, want 10", st.Queued)
	}
	n.Close()
	path := filepath.Join(dir, OutboxDir, "s.jsonl")
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"op":"queued","id":"torn`) // a crash in the middle of a write
	fh.Close()

	n, err = New(dir, dests, routes, Options{QueueCapacity: 3, MaxBatch: 2})
	if err != nil {
		t.Fatalf("a torn last line: %v", err)
	}
	if _, err := New(dir, dests, routes, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another notifier") {
		t.Errorf("a second notifier over the same folder: %v", err)
	}
	stop := runNotifier(t, n)
	waitFor(t, n, "all sent", func() bool { return n.Stats()["s"].Delivered == 10 })
	stop()
	n.Close()
	if got := titlesOf(f.received(), msgs); !slices.Equal(got, titles(msgs)) {
		t.Errorf("received %q", got)
	}

	// compaction: a big outbox of finished records older than the retention shrinks on open
	recs, _ := readRecords(path, false)
	old := time.Now().Add(-30 * 24 * time.Hour)
	var buf strings.Builder
	for i := range 1200 {
		m := Message{ID: "old-" + string(rune('a'+i%26)) + strings.Repeat("x", i%7)}
		for _, r := range []record{{Op: "queued", ID: m.ID, At: old, Msg: &m}, {Op: "delivered", ID: m.ID, At: old, Members: []string{m.ID}}} {
			line, _ := json.Marshal(r)
			buf.Write(append(line, '\n'))
		}
	}
	// and an alert still pending after a month of failed attempts: it stays, its old attempts go
	stuck := Message{ID: "stuck", Title: "stuck"}
	for _, r := range []record{{Op: "queued", ID: stuck.ID, At: old, Msg: &stuck}, {Op: "retry", ID: stuck.ID, At: old, Error: "failed (will retry) with status 503"}} {
		line, _ := json.Marshal(r)
		buf.Write(append(line, '\n'))
	}
	os.WriteFile(path, []byte(buf.String()), 0o600)
	fh, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	for _, r := range recs {
		line, _ := json.Marshal(r)
		fh.Write(append(line, '\n'))
	}
	fh.Close()
	n, err = New(dir, dests, routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	after, _ := readRecords(path, false)
	if len(after) != len(recs)+1 || after[0].ID != "stuck" || after[0].Op != "queued" {
		t.Errorf("after compaction %d records (the first %+v), want the %d recent ones and the stuck alert's queued record", len(after), after[0], len(recs))
	}

	os.WriteFile(path, []byte("{\"op\":\"queued\"}\nnot json\n{}\n"), 0o600)
	if _, err := New(dir, dests, routes, Options{}); err == nil || !strings.Contains(err.Error(), "s.jsonl:2:") {
		t.Errorf("a bad line: %v", err)
	}
}

// TestDrain: when Run's context ends, what is queued is still sent (within DrainTimeout), group
// waits or not.
func TestDrain(t *testing.T) {
	f := newFakeSlack(t)
	n, err := New(t.TempDir(), map[string]Destination{"s": &Slack{URL: NewSecret(f.srv.URL + "/services/T000/B000/XXXX")}},
		[]Route{{Destinations: []string{"s"}, GroupBy: []string{"rule"}, GroupWait: time.Hour}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.Enqueue(testMessages("drain-", 3)...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.received(); len(got) != 1 || !strings.HasPrefix(got[0], "[HIGH] 3 alerts") {
		t.Errorf("drained %q", got)
	}
}

func TestParseMatcher(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Matcher
		err  bool
	}{
		{"rule=root-activity", Matcher{"rule", "=", "root-activity"}, false},
		{"account!=111122223333", Matcher{"account", "!=", "111122223333"}, false},
		{"rule=~cis-.*", Matcher{"rule", "=~", "cis-.*"}, false},
		{"principal!~.*:root", Matcher{"principal", "!~", ".*:root"}, false},
		{"rule=~(", Matcher{}, true},
		{"=x", Matcher{}, true},
		{"rule", Matcher{}, true},
	} {
		got, err := ParseMatcher(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q: %+v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseMatcher(f *testing.F) {
	for _, s := range []string{"rule=x", "a!=b", "c=~d.*", "e!~(f|g)", "=", "!~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatcher(s)
		if err != nil {
			return
		}
		back, err := ParseMatcher(m.String())
		if err != nil || back != m {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, m, m.String(), back, err)
		}
		m.Matches(map[string]string{"rule": s})
	})
}

func FuzzReadRecords(f *testing.F) {
	f.Add("{\"op\":\"queued\",\"id\":\"a\",\"msg\":{\"id\":\"a\",\"title\":\"t\"}}\n{\"op\":\"attempt\",\"id\":\"a\",\"members\":[\"a\"],\"msg\":{\"id\":\"a\"}}\n")
	f.Add("{\"op\":\"delivered\",\"id\":\"b\"}\n{\"op\":\"ticket\",\"label\":\"l\",\"key\":\"K-1\"}\n{\"op\":")
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(t.TempDir(), OutboxDir, "d.jsonl")
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(s), 0o600)
		o, err := openOutbox(path, 5, time.Now())
		if err != nil {
			return
		}
		o.close()
		if _, err := Sent(filepath.Dir(filepath.Dir(path))); err != nil {
			t.Log(err)
		}
	})
}

// TestEmailSessionErrors: a wrong password is the server's settings at fault, not a message's:
// retryable, so that the mail waits in the outbox until it is fixed.
func TestEmailSessionErrors(t *testing.T) {
	ms := newMailServer(t)
	e := &Email{Addr: ms.addr, From: "a@example.com", To: []string{"b@example.com"}, Username: "alerts", Password: NewSecret("wrong"),
		TLS: &tls.Config{RootCAs: ms.pool, ServerName: "127.0.0.1"}}
	err := e.Send(context.Background(), testMessages("pw-", 1))
	if retry, _ := Retryable(err); err == nil || !retry || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: %v (retryable %v)", err, retry)
	}
	// Without trusting the server's certificate, STARTTLS fails: nothing is sent in clear.
	e.Password, e.TLS = NewSecret("s3cret-pass"), &tls.Config{ServerName: "127.0.0.1"}
	if err := e.Send(context.Background(), testMessages("tls-", 1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusted certificate: %v", err)
	}
	if len(ms.received()) != 0 {
		t.Errorf("received %q", ms.received())
	}
}

// TestEnqueueAgain: enqueueing the same alerts again (a restart re-enqueues the last commits'
// alerts) queues nothing twice, delivered or not.
func TestEnqueueAgain(t *testing.T) {
	f := newFakeSlack(t)
	dir := t.TempDir()
	alerts := []rules.Alert{{Rule: "root-activity", Severity: rules.High, Title: "Root user activity", EventID: "e-1", Dedup: "e-1"},
		{Rule: "root-activity", Severity: rules.High, Title: "Root user activity", EventID: "e-2", Dedup: "e-2"}}
	rs := []*rules.Rule{{ID: "root-activity", Tags: []string{"attack.t1078"}}}
	dests := map[string]Destination{"s": &Slack{URL: NewSecret(f.srv.URL + "/services/T000/B000/XXXX")}}
	routes := []Route{{Match: Match{Tags: []string{"attack.t1078"}}, Destinations: []string{"s"}}}
	for round := range 3 {
		n, err := New(dir, dests, routes, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Enqueue(FromAlerts(alerts, rs)...); err != nil {
			t.Fatal(err)
		}
		want := 0
		if round == 0 {
			want = 2
		}
		if q := n.Stats()["s"].Queued; q != want {
			t.Errorf("round %d: queued %d, want %d", round, q, want)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n.Run(ctx) // drain
		n.Close()
	}
	if got := f.received(); len(got) != 2 {
		t.Errorf("received %q, want the two alerts once", got)
	}
}
