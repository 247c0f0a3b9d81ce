package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
)

// event is one CloudTrail record of the tests' trails.
func event(id, typ, arn, user, name, source, ip, t, req string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":%q,"principalId":"P%s","arn":%q,"accountId":"111122223333","userName":%q},"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":%q,"userAgent":"aws-cli/2.13.0 Python/3.11.4 Linux/6.1","requestParameters":%s,"responseElements":null,"eventID":%q,"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
		typ, id, arn, user, t, source, name, ip, req, id)
}

// writeTrail writes a log file of records into dir.
func writeTrail(t *testing.T, dir, name string, records ...string) {
	t.Helper()
	body := `{"Records":[`
	for i, r := range records {
		if i > 0 {
			body += ","
		}
		body += r
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body+"]}"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// receiver is a real Standard Webhooks receiver on a real listener (notify.WebhookReceiver);
// hold makes it wait for release before answering.
type receiver struct {
	srv    *httptest.Server
	secret string
	recv   *notify.WebhookReceiver
	got    chan notify.WebhookBody
	mu     sync.Mutex
	hold   chan struct{}
}

func newReceiver(t *testing.T, hold bool) *receiver {
	key := make([]byte, 24)
	rand.Read(key)
	r := &receiver{secret: "whsec_" + base64.StdEncoding.EncodeToString(key), got: make(chan notify.WebhookBody, 1000)}
	if hold {
		r.hold = make(chan struct{})
	}
	r.recv = &notify.WebhookReceiver{Secret: r.secret, Receive: func(b notify.WebhookBody) { r.got <- b }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.hold != nil {
			<-r.hold
		}
		r.recv.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// load writes a run config's text to a file and reads it, HOOK_SECRET being the receiver's
// secret.
func (r *receiver) load(t *testing.T, text string) *daemon.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trailsql.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.LoadConfig(path, func(k string) string {
		if k == "HOOK_SECRET" {
			return r.secret
		}
		return ""
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// config writes a run config that collects dir every 50ms and sends to the receiver.
func (r *receiver) config(t *testing.T, dir string) *daemon.Config {
	t.Helper()
	return r.sourcesConfig(t, fmt.Sprintf("  paths: [%s]", dir)) // the built-in rules are on by default
}

// wait receives from c, failing the test if nothing comes within a minute (a hang, not a
// timing assertion).
func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("no %s within a minute", what)
		panic("unreachable")
	}
}

// start runs daemon.Run until ctx ends; it returns the health of each cycle, Run's error when
// it returns, and then its totals.
func start(ctx context.Context, lake string, cfg *daemon.Config) (<-chan daemon.Health, <-chan error, func() *daemon.Totals) {
	health := make(chan daemon.Health, 100)
	done := make(chan error, 1)
	var totals *daemon.Totals
	go func() {
		var err error
		totals, err = daemon.Run(ctx, daemon.Options{Lake: lake, Config: cfg, Health: func(h daemon.Health) { health <- h }, Workers: 1})
		done <- err
	}()
	return health, done, func() *daemon.Totals { return totals }
}

var (
	rootLogin = event("e-root-1", "Root", "arn:aws:iam::111122223333:root", "", "CreateUser", "iam.amazonaws.com", "203.0.113.5", "2024-03-20T10:32:05Z", `{"userName":"mallory"}`)
	keyForBob = event("e-key-1", "IAMUser", "arn:aws:iam::111122223333:user/alice", "alice", "CreateAccessKey", "iam.amazonaws.com", "198.51.100.7", "2024-03-20T11:00:00Z", `{"userName":"bob"}`)
)

// TestRunDeliversOnce: a run collects a folder cycle after cycle; the alerts of each cycle's
// new events reach the webhook once, written in plain language; a restart over the same lake
// sends nothing again.
func TestRunDeliversOnce(t *testing.T) {
	trail, lake := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeTrail(t, trail, "one.json", rootLogin)
	r := newReceiver(t, false)
	cfg := r.config(t, trail)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health, done, totals := start(ctx, lake, cfg)
	h := wait(t, health, "first cycle")
	t.Log(h)
	if h.EventsAdded != 1 || h.Alerts == 0 {
		t.Fatalf("first cycle: %s; want 1 event and its alerts", h)
	}
	first := h.Alerts
	seen := map[string]notify.WebhookBody{}
	for range first {
		b := wait(t, r.got, "message of the first cycle")
		seen[b.Data.ID] = b
	}
	// A new file: the next cycle collects it, and only its alerts are sent.
	writeTrail(t, trail, "two.json", keyForBob)
	second := 0
	for second == 0 {
		h = wait(t, health, "cycle")
		if h.EventsAdded > 0 {
			second = h.Alerts
			if h.EventsAdded != 1 || second == 0 {
				t.Fatalf("second file's cycle: %s; want 1 event and its alerts", h)
			}
		}
	}
	for range second {
		b := wait(t, r.got, "message of the second cycle")
		if _, dup := seen[b.Data.ID]; dup {
			t.Fatalf("message %s delivered twice", b.Data.ID)
		}
		seen[b.Data.ID] = b
	}
	wait(t, health, "an idle cycle")
	cancel()
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	if totals().Alerts != first+second || totals().Destinations["hook"].Delivered != first+second || totals().Destinations["hook"].Pending != 0 {
		t.Fatalf("totals: %d alerts, hook %+v; want %d delivered", totals().Alerts, totals().Destinations["hook"], first+second)
	}
	for _, b := range seen {
		if b.Data.Summary == "" || b.Data.Summary == b.Data.Title || len(b.Data.Fields) == 0 {
			t.Errorf("message %q is not written in plain language: summary %q, fields %v", b.Data.Title, b.Data.Summary, b.Data.Fields)
		}
	}
	if len(r.got) > 0 || r.recv.Redeliveries() > 0 {
		t.Fatalf("%d more messages and %d re-deliveries after the last cycle", len(r.got), r.recv.Redeliveries())
	}

	// A restart over the same lake and folder collects nothing new and sends nothing.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	health2, done, _ := start(ctx2, lake, cfg)
	if h := wait(t, health2, "first cycle after the restart"); h.EventsAdded != 0 || h.Alerts != 0 {
		t.Fatalf("after a restart: %s; want nothing new", h)
	}
	cancel2()
	if err := wait(t, done, "end of the second run"); err != nil {
		t.Fatal(err)
	}
	if len(r.got) > 0 || r.recv.Redeliveries() > 0 {
		t.Fatalf("the restart sent %d messages again (%d re-deliveries)", len(r.got), r.recv.Redeliveries())
	}
}

// TestRunDrains: when the run is stopped (SIGTERM ends its context) while the receiver has not
// answered, the notifier goes on sending for its drain timeout, and every alert is delivered.
func TestRunDrains(t *testing.T) {
	trail, lake := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeTrail(t, trail, "one.json", rootLogin, keyForBob)
	r := newReceiver(t, true)
	cfg := r.config(t, trail)
	ctx, cancel := context.WithCancel(context.Background())
	health, done, totals := start(ctx, lake, cfg)
	h := wait(t, health, "first cycle")
	t.Log(h)
	if h.Alerts == 0 {
		t.Fatalf("first cycle: %s; want alerts", h)
	}
	cancel() // stop, as SIGTERM does, with the messages queued or in flight
	close(r.hold)
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(r.got) > 0 {
		got[(<-r.got).Data.ID] = true
	}
	st := totals().Destinations["hook"]
	if len(got) != h.Alerts || st.Delivered != h.Alerts || st.Pending != 0 {
		t.Fatalf("after the drain: %d messages received, hook %+v; want all %d delivered", len(got), st, h.Alerts)
	}
}
