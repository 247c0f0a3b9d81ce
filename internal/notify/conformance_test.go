package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// receiver is one destination with its receiver, as the conformance suite drives it.
type receiver struct {
	name string
	dest Destination
	// received is the titles the receiver accepted, in order (a re-send that the receiver
	// dedups is not there again).
	received func() []string
	requests func() int
	// retry makes the next request fail in a way worth retrying; permanent, for good. Both
	// return the text the error must show.
	retry     func(retryAfter string)
	permanent func() string
	// pass lets the next message through (before a failure queued after it).
	pass func()
	// retryAfter says whether the receiver's retryable failure carries Retry-After.
	retryAfter bool
	// down / up stop and start the receiver.
	down, up func()
	// dedups says whether a re-send of the same message duplicates nothing (idempotency key).
	dedups bool
	// duplicates counts the messages received more than once (for the idempotent receivers:
	// duplicate Jira tickets, PagerDuty triggers beyond the first of a dedup_key, webhook
	// deliveries processed twice).
	duplicates func() int
	// absorbed counts the re-sends an idempotent receiver took without a duplicate (Jira
	// comments, PagerDuty triggers joining the incident, webhook re-deliveries dropped by id).
	absorbed func() int
	// settle lets the receiver catch up (Jira's search index).
	settle func()
}

const pdKey = "R0123456789ABCDEF0123456789ABCDE" // 32 characters, as PagerDuty's integration keys

// receivers builds every destination against its receiver (the fakes say they are fakes).
func receivers(t testing.TB) []*receiver {
	slack := newFakeSlack(t)
	teams := newFakeTeams(t)
	pd := newFakePagerDuty(t)
	j3 := newFakeJira(t, "3")
	j2 := newFakeJira(t, "2")
	hook := newHookReceiver(t)
	ms := newMailServer(t)
	httpRetry := func(b *base) func(string) {
		return func(ra string) { b.fail(fault{status: 503, body: "service unavailable", retryAfter: ra}) }
	}
	passes := func(b *base, n int) func() {
		return func() {
			for range n {
				b.fail(fault{})
			}
		}
	}
	dupTitles := func(b *base) func() int {
		return func() int {
			r := b.received()
			slices.Sort(r)
			return len(r) - len(slices.Compact(r))
		}
	}
	return []*receiver{
		{name: "slack", pass: passes(&slack.base, 1), dest: &Slack{URL: NewSecret(slack.srv.URL + "/services/T000/B000/XXXX")},
			received: slack.received, requests: slack.count, retryAfter: true,
			retry: func(ra string) { slack.fail(fault{status: 429, body: "rate_limited", retryAfter: ra}) },
			permanent: func() string {
				slack.fail(fault{status: 400, body: "invalid_blocks"})
				return "invalid_blocks"
			},
			down: func() { slack.setDown(true) }, up: func() { slack.setDown(false) }, duplicates: dupTitles(&slack.base)},
		{name: "teams", pass: passes(&teams.base, 1), dest: &Teams{URL: NewSecret(teams.srv.URL + "/workflows/abc/triggers/manual/paths/invoke")},
			received: teams.received, requests: teams.count, retryAfter: true,
			retry: func(ra string) {
				teams.fail(fault{status: 429, body: `{"error":{"code":"TooManyRequests"}}`, retryAfter: ra})
			},
			permanent: func() string {
				teams.fail(fault{status: 400, body: `{"error":{"code":"InvalidRequestContent","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`})
				return "InvalidRequestContent"
			},
			down: func() { teams.setDown(true) }, up: func() { teams.setDown(false) }, duplicates: dupTitles(&teams.base)},
		{name: "pagerduty", pass: passes(&pd.base, 1), dest: &PagerDuty{RoutingKey: NewSecret(pdKey), URL: pd.srv.URL + "/v2/enqueue"},
			received: pd.received, requests: pd.count, retryAfter: true, dedups: true,
			retry: func(ra string) {
				pd.fail(fault{status: 429, body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`, retryAfter: ra})
			},
			permanent: func() string {
				pd.fail(fault{status: 400, body: `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is invalid"]}`})
				return "Event object is invalid"
			},
			down: func() { pd.setDown(true) }, up: func() { pd.setDown(false) }, duplicates: dupTitles(&pd.base), absorbed: pd.retriggers},
		{name: "jira-cloud", pass: passes(&j3.base, 2), dest: &Jira{BaseURL: j3.srv.URL, User: "bot@example.com", Token: NewSecret("api-token"), Project: "SEC"},
			received: j3.received, requests: j3.count, dedups: true, retry: httpRetry(&j3.base),
			permanent: func() string {
				j3.fail(fault{status: 400, body: `{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue."}}`})
				return "summary: You must specify a summary of the issue."
			},
			down: func() { j3.setDown(true) }, up: func() { j3.setDown(false) }, duplicates: j3.duplicates, absorbed: j3.commentCount, settle: j3.index},
		{name: "jira-dc", pass: passes(&j2.base, 2), dest: &Jira{BaseURL: j2.srv.URL, API: "2", Token: NewSecret("pat"), Project: "SEC"},
			received: j2.received, requests: j2.count, dedups: true, retry: httpRetry(&j2.base),
			permanent: func() string {
				j2.fail(fault{status: 400, body: `{"errorMessages":["Field 'priority' cannot be set."],"errors":{}}`})
				return "Field 'priority' cannot be set."
			},
			down: func() { j2.setDown(true) }, up: func() { j2.setDown(false) }, duplicates: j2.duplicates, absorbed: j2.commentCount, settle: j2.index},
		{name: "webhook", pass: passes(&hook.base, 1), dest: &Webhook{URL: NewSecret(hook.srv.URL + "/hooks/trailsql"), Secret: NewSecret(hook.secret)},
			received: hook.received, requests: hook.count, dedups: true, retry: httpRetry(&hook.base),
			permanent: func() string {
				hook.fail(fault{status: 410, body: "endpoint disabled"})
				return "endpoint disabled"
			},
			down: func() { hook.setDown(true) }, up: func() { hook.setDown(false) }, duplicates: dupTitles(&hook.base), absorbed: hook.redeliveryCount},
		{name: "email", dest: &Email{Addr: ms.addr, From: "trailsql@example.com", To: []string{"sec@example.com"}, Username: "alerts",
			Password: NewSecret("s3cret-pass"), TLS: &tls.Config{RootCAs: ms.pool, ServerName: "127.0.0.1"}},
			pass:     func() { ms.failData(nil) },
			received: ms.received, requests: ms.count,
			retry: func(string) {
				ms.failData(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Requested action aborted: try again later"})
			},
			permanent: func() string {
				ms.failData(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"})
				return "Mailbox unavailable"
			},
			down: ms.stop, up: func() { ms.start(t) }, duplicates: dupTitles(&ms.base)},
	}
}

// testMessages are n distinct alerts; their titles are "Alert <prefix><i>." so that a received
// title (which may carry a severity) shows which it was.
func testMessages(prefix string, n int) []Message {
	var out []Message
	for i := range n {
		m := Message{Title: fmt.Sprintf("Alert %s%d.", prefix, i), Summary: fmt.Sprintf("arn:aws:iam::111122223333:user/alice called DeleteTrail from 203.0.113.%d.", i%250),
			Severity: []string{"low", "medium", "high", "critical"}[i%4], Rule: "cloudtrail-tampering", DedupKey: fmt.Sprintf("%s-%d", prefix, i),
			EventIDs: []string{fmt.Sprintf("00000000-0000-4000-8000-%012d", i)}, Account: "111122223333", Time: time.Date(2026, 3, 1, 12, 0, i%60, 0, time.UTC),
			Fields: []Field{{"Principal", "arn:aws:iam::111122223333:user/alice"}, {"Source IP", "203.0.113.7"}, {"Event", "DeleteTrail"}}}
		m.ID = m.Key()
		out = append(out, m)
	}
	return out
}

// titlesOf maps received titles back to the messages' titles, in order.
func titlesOf(got []string, msgs []Message) []string {
	var out []string
	for _, g := range got {
		for _, m := range msgs {
			if strings.Contains(g, m.Title) {
				out = append(out, m.Title)
			}
		}
	}
	return out
}

func titles(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Title)
	}
	return out
}

// recorder replaces the notifier's sleep: it records each wait and returns at once.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

// waitFor waits until cond holds, woken by the notifier's changes of state.
func waitFor(t testing.TB, n *Notifier, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		ch := n.watch()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (stats %+v)", what, ctx.Err(), n.Stats())
		}
	}
}

// runNotifier starts n.Run and returns a stop function that ends it and waits.
func runNotifier(t testing.TB, n *Notifier) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func allPending(n *Notifier) int {
	p := 0
	for _, s := range n.Stats() {
		p += s.Pending
	}
	return p
}

// TestConformance runs the same checks against every destination: messages arrive exactly once
// and well-formed, retryable failures are retried (honouring Retry-After), refusals are not.
func TestConformance(t *testing.T) {
	for _, r := range receivers(t) {
		t.Run(r.name, func(t *testing.T) {
			ctx := context.Background()
			msgs := testMessages(r.name+"-direct-", 3)
			if err := r.dest.Send(ctx, msgs); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := titlesOf(r.received(), msgs); !slices.Equal(got, titles(msgs)) {
				t.Fatalf("received %q, want %q", got, titles(msgs))
			}

			// A retryable failure is typed so, with the receiver's Retry-After.
			r.retry("7")
			err := r.dest.Send(ctx, testMessages(r.name+"-retry-", 1))
			retry, after := Retryable(err)
			if err == nil || !retry {
				t.Fatalf("retryable failure: err %v, retryable %v", err, retry)
			}
			if r.retryAfter && after != 7*time.Second {
				t.Errorf("Retry-After: got %s, want 7s", after)
			}

			// A refusal is permanent, and says why.
			want := r.permanent()
			err = r.dest.Send(ctx, testMessages(r.name+"-refused-", 1))
			if retry, _ := Retryable(err); err == nil || retry || !strings.Contains(err.Error(), want) {
				t.Fatalf("refusal: err %v, retryable %v, want it to show %q", err, retry, want)
			}

			// Through a notifier: two retryable failures, then delivery, of a batch whose second
			// message fails first (partial delivery recorded); then a refusal, not retried.
			rec := &recorder{}
			n, err := New(t.TempDir(), map[string]Destination{"d": r.dest}, []Route{{Name: "all", Destinations: []string{"d"}}},
				Options{sleep: rec.sleep, MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			stop := runNotifier(t, n)
			before := len(r.received())
			batch := testMessages(r.name+"-loop-", 3)
			// the first message passes, the second fails twice
			r.pass()
			r.retry("")
			r.retry("3")
			if err := n.Enqueue(batch...); err != nil {
				t.Fatal(err)
			}
			waitFor(t, n, "the batch delivered", func() bool { return n.Stats()["d"].Delivered == 3 })
			if got := titlesOf(r.received()[before:], batch); !slices.Equal(got, titles(batch)) {
				t.Errorf("through the notifier: received %q, want %q once each", got, titles(batch))
			}
			st := n.Stats()["d"]
			if st.Retries != 2 {
				t.Errorf("retries: %d, want 2 (%+v)", st.Retries, st)
			}
			rec.mu.Lock()
			waits := slices.Clone(rec.waits)
			rec.mu.Unlock()
			if len(waits) != 2 || waits[0] != time.Second {
				t.Errorf("waits %v: want the backoff (1s) then Retry-After", waits)
			}
			if r.retryAfter && len(waits) == 2 && waits[1] != 3*time.Second {
				t.Errorf("waits %v: the second should honour Retry-After: 3", waits)
			}

			r.permanent()
			reqs := r.requests()
			if err := n.Enqueue(testMessages(r.name+"-loop-refused-", 1)...); err != nil {
				t.Fatal(err)
			}
			waitFor(t, n, "the refusal recorded", func() bool { return n.Stats()["d"].Failed == 1 })
			if st := n.Stats()["d"]; st.Retries != 2 || allPending(n) != 0 {
				t.Errorf("a refusal was retried or left pending: %+v", st)
			}
			if r.requests() != reqs+1 {
				t.Errorf("a refusal made %d requests, want 1", r.requests()-reqs)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			sent, err := Sent(n.dir)
			if err != nil {
				t.Fatal(err)
			}
			var failed []SentRecord
			for _, s := range sent {
				if s.Status == "failed" {
					failed = append(failed, s)
				}
			}
			if len(failed) != 1 || !strings.Contains(failed[0].Error, want) {
				t.Errorf("the record of what was sent: failed %+v, want one showing %q", failed, want)
			}
		})
	}
}
