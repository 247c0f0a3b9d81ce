package daemon_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
)

// fakeClock is the reports' time, moved by the test; waiting receives each time the scheduler
// waits (it has dealt with everything due).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	waiting chan time.Time
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waiting: make(chan time.Time, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.waiting <- t.at
	return t.c
}

// set moves the clock to now and fires the timers it passed.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(now) {
			t.c <- now
		} else {
			kept = append(kept, t)
		}
	}
	c.timers = kept
}

// mailbox is a real SMTP server (go-smtp) that keeps the mails it receives.
type mailbox struct {
	addr string
	got  chan *mail.Message
}

type mailSession struct{ box *mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "malformed: " + err.Error()}
	}
	s.box.got <- m
	return nil
}

func newMailbox(t *testing.T) *mailbox {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &mailbox{addr: l.Addr().String(), got: make(chan *mail.Message, 100)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{b}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return b
}

// parts are a mail's parts by content type.
func parts(t *testing.T, m *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("mail content type %q: %v", mt, err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		typ, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		out[typ] = string(body)
	}
}

// reportConfig is a run config with a weekly identity report to the SMTP server and the
// webhook receiver.
func reportConfig(t *testing.T, r *receiver, box *mailbox, trail, schedule string) *daemon.Config {
	t.Helper()
	text := fmt.Sprintf(`sources:
  interval: 1h
  paths: [%s]
notify:
  destinations:
    hook: {type: webhook, url: %s, secret_env: HOOK_SECRET}
    mail: {type: email, smarthost: %s, from: trailsql@example.com, to: [audit@example.com], insecure: true}
  routes:
    - destinations: [hook]
  queue: {drain_timeout: 30s, min_backoff: 10ms}
reports:
  - name: weekly-identity
    kind: identity
    days: 30
    format: html
    schedule: %q
    to: [mail, hook]
`, trail, r.srv.URL, box.addr, schedule)
	return r.load(t, text)
}

// TestScheduledReports: a weekly report is sent when due, as an HTML mail with a text part
// (real SMTP server) and as JSON to the signed webhook; the schedules missed while trailsql
// was stopped are sent once at the next start; a start with nothing due sends nothing. Time
// is the test's clock, not sleeps.
func TestScheduledReports(t *testing.T) {
	trail, lake := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeTrail(t, trail, "one.json", rootLogin, keyForBob)
	ingestStored(t, lake, trail)
	r := newReceiver(t, false)
	box := newMailbox(t)
	cfg := reportConfig(t, r, box, trail, "0 8 * * 1") // Mondays, 08:00 UTC

	n, err := notify.Open(lake, cfg.Notify, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	nctx, ncancel := context.WithCancel(context.Background())
	ndone := make(chan error, 1)
	go func() { ndone <- n.Run(nctx) }()
	defer func() { ncancel(); <-ndone }()

	// run starts the reports' scheduler at now; stop ends it.
	run := func(clock *fakeClock) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		rep := &daemon.Reporter{Lake: lake, Reports: cfg.Reports, Notify: n, Clock: clock}
		go func() { done <- rep.Run(ctx) }()
		return func() {
			cancel()
			if err := wait(t, done, "the scheduler's end"); err != nil {
				t.Fatal(err)
			}
		}
	}
	expectNothing := func(what string) {
		t.Helper()
		if len(r.got) > 0 || len(box.got) > 0 {
			t.Fatalf("%s: %d webhook bodies and %d mails were sent", what, len(r.got), len(box.got))
		}
	}

	// The first start, Sunday 17 March 2024: nothing is due.
	clock := newFakeClock(time.Date(2024, 3, 17, 12, 0, 0, 0, time.UTC))
	stop := run(clock)
	if next := wait(t, clock.waiting, "the scheduler's wait"); !next.Equal(time.Date(2024, 3, 18, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("next report at %s, want Monday 18 March 08:00 UTC", next)
	}
	expectNothing("the first start")
	// Monday 08:00: the report is due.
	clock.set(time.Date(2024, 3, 18, 8, 0, 0, 0, time.UTC))
	hook := wait(t, r.got, "the report at the webhook")
	m := wait(t, box.got, "the report by mail")
	if hook.Type != "report" || hook.Data.Report == nil || hook.Data.Report.Kind != "identity" || len(hook.Data.Report.JSON) == 0 || !strings.HasPrefix(string(hook.Data.Report.JSON), "{") {
		t.Fatalf("webhook body: type %q, report %+v", hook.Type, hook.Data.Report)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.Contains(subject, "weekly-identity") || !strings.Contains(subject, "18 Mar 2024") {
		t.Fatalf("mail subject %q", subject)
	}
	ps := parts(t, m)
	if !strings.Contains(ps["text/html"], "<svg") || !strings.Contains(ps["text/html"], "<html") || !strings.Contains(ps["text/plain"], "# ") {
		t.Fatalf("the mail is not the HTML report with a Markdown text part: parts %q", func() []string {
			var k []string
			for t, b := range ps {
				k = append(k, fmt.Sprintf("%s (%d bytes)", t, len(b)))
			}
			return k
		}())
	}
	wait(t, clock.waiting, "the scheduler's wait")
	stop()

	// Down from Monday 18 March to Tuesday 2 April: two Mondays missed, one report sent at the
	// start, for the last of them.
	clock = newFakeClock(time.Date(2024, 4, 2, 9, 0, 0, 0, time.UTC))
	stop = run(clock)
	hook = wait(t, r.got, "the missed report at the webhook")
	m = wait(t, box.got, "the missed report by mail")
	if next := wait(t, clock.waiting, "the scheduler's wait"); !next.Equal(time.Date(2024, 4, 8, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("next report at %s, want Monday 8 April 08:00", next)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.Contains(subject, "1 Apr 2024") || !strings.Contains(hook.Data.ID, "20240401T0800Z") {
		t.Fatalf("the missed report: subject %q, id %s; want the one of 1 April", subject, hook.Data.ID)
	}
	stop()
	expectNothing("after the missed report (sent once)")

	// A start with nothing due sends nothing.
	clock = newFakeClock(time.Date(2024, 4, 3, 9, 0, 0, 0, time.UTC))
	stop = run(clock)
	wait(t, clock.waiting, "the scheduler's wait")
	stop()
	// the notifier sends what was queued: wait for its loops to be idle before looking
	if st := n.Stats(); st["mail"].Queued != 2 || st["hook"].Queued != 2 {
		t.Fatalf("queued: mail %d, hook %d; want 2 each", st["mail"].Queued, st["hook"].Queued)
	}
	expectNothing("a start with nothing due")
}
