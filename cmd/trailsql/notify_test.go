package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
)

// TestNotifyCommands: 'notify status' and 'notify sent' over the outboxes of a notifier (opened
// from a run config) that delivered two alerts to a real signed-webhook receiver and could not
// deliver them to a second webhook endpoint answering 503 (pending, with its error).
func TestNotifyCommands(t *testing.T) {
	base := t.TempDir()
	lake := filepath.Join(base, "lake")
	os.MkdirAll(lake, 0o755)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a-secret-of-24-bytes-xyz"))
	secretFile := filepath.Join(base, "hook.secret")
	os.WriteFile(secretFile, []byte(secret), 0o600)
	var received atomic.Int32
	recv := &notify.WebhookReceiver{Secret: secret, Receive: func(notify.WebhookBody) { received.Add(1) }}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	var refused atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused.Add(1)
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	slackFile := filepath.Join(base, "slack.url")
	os.WriteFile(slackFile, []byte("https://hooks.slack.com/services/T000/B000/XXXX"), 0o600)
	trail := filepath.Join(base, "trail")
	os.MkdirAll(trail, 0o755)
	cfgFile := filepath.Join(base, "trailsql.yml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`sources:
  paths: [%s]
notify:
  destinations:
    hook: {type: webhook, url: %s, secret_file: %s}
    down: {type: webhook, url: %s, secret_file: %s}
    chat: {type: slack, url_file: %s}
  routes:
    - destinations: [hook, down]
  queue: {min_backoff: 10ms, max_backoff: 20ms, drain_timeout: 50ms}
`, trail, hook.URL+"/hooks/trailsql", secretFile, down.URL+"/hooks/trailsql", secretFile, slackFile)), 0o644)
	cfg, err := daemon.LoadConfig(cfgFile, func(string) string { return "" }, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.Open(lake, cfg.Notify, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []notify.Message{
		{Title: "Root user activity", Summary: "root signed in to the console from 203.0.113.5.", Rule: "root-activity", DedupKey: "e-1", EventIDs: []string{"e-1"}},
		{Title: "CloudTrail tampering", Summary: "alice deleted the trail main.", Rule: "cloudtrail-tampering", DedupKey: "e-2", EventIDs: []string{"e-2"}},
	}
	for i := range msgs {
		msgs[i].ID = msgs[i].Key()
	}
	if err := n.Enqueue(msgs...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	for deadline := time.Now().Add(time.Minute); received.Load() < 2 || refused.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("received %d, refused %d", received.Load(), refused.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Read while the notifier runs (and holds the lake's notify folder): no lock needed.
	if out := mustRun(t, 0, "notify", "sent", "--lake", lake, "--destination", "hook", "--format", "csv"); strings.Count(out, ",delivered,hook,") != 2 {
		t.Errorf("sent while the notifier runs:\n%s", out)
	}
	cancel()
	<-done
	n.Close()

	// A destination added to the config since the notifier last opened has no outbox yet.
	if err := os.Remove(filepath.Join(notify.DirOf(lake), notify.OutboxDir, "chat.jsonl")); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, 0, "notify", "status", "--lake", lake, "--config", cfgFile, "--format", "json")
	var st []notify.DestStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) != 3 {
		t.Fatalf("status: %v\n%s", err, out)
	}
	chat, dn, hk := st[0], st[1], st[2]
	if chat.Destination != "chat" || !chat.NoOutbox || chat.Kind != "slack" || *chat.Idempotent {
		t.Errorf("chat (in the config, no outbox): %+v", chat)
	}
	if dn.Destination != "down" || dn.Pending != 2 || dn.Delivered != 0 || dn.FailedAttempts < 2 || !strings.Contains(dn.LastError, "503") || !*dn.Idempotent {
		t.Errorf("down: %+v", dn)
	}
	if hk.Destination != "hook" || hk.Pending != 0 || hk.Delivered < 1 || hk.LastDelivered.IsZero() || hk.FailedAttempts != 0 || hk.Kind != "webhook" {
		t.Errorf("hook: %+v", hk)
	}
	out = mustRun(t, 0, "notify", "status", "--lake", lake, "--format", "csv")
	if !strings.HasPrefix(out, "destination,kind,idempotent,pending,") || !strings.Contains(out, "\ndown,,,2,") || strings.Contains(out, "chat") {
		t.Errorf("status csv without the config:\n%s", out)
	}

	out = mustRun(t, 0, "notify", "sent", "--lake", lake, "--format", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || lines[0] != "at,status,destination,rule,alert,alerts,events,summary,ref,error" {
		t.Fatalf("sent: want a header and 4 lines:\n%s", out)
	}
	for _, m := range msgs {
		if !strings.Contains(out, ",delivered,hook,"+m.Rule+","+m.ID+",1,"+m.EventIDs[0]+","+m.Summary+",webhook-id "+m.ID+",\n") {
			t.Errorf("sent: no delivery of %s to hook:\n%s", m.ID, out)
		}
		if !strings.Contains(out, ",pending,down,"+m.Rule+","+m.ID+",1,"+m.EventIDs[0]+","+m.Summary+",,failed (will retry) with status 503") {
			t.Errorf("sent: %s not pending at down with its error:\n%s", m.ID, out)
		}
	}
	out = mustRun(t, 0, "notify", "sent", "--lake", lake, "--rule", "root-activity", "--destination", "hook", "--format", "json")
	var got []notify.SentEntry
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].ID != msgs[0].ID || got[0].Status != "delivered" || got[0].Ref != "webhook-id "+msgs[0].ID {
		t.Errorf("sent --rule --destination: %v\n%s", err, out)
	}
	// A window in the past leaves the deliveries out, not what is pending.
	out = mustRun(t, 0, "notify", "sent", "--lake", lake, "--from", "2001-01-01", "--to", "2001-01-02", "--format", "csv")
	if strings.Contains(out, ",delivered,") || strings.Count(out, ",pending,") != 2 {
		t.Errorf("sent in 2001:\n%s", out)
	}

	// A corrupt line: named (file:line), the rest listed, exit 1.
	path := filepath.Join(notify.DirOf(lake), notify.OutboxDir, "hook.jsonl")
	data, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("not json\n"), data...), 0o600)
	code, out, errOut := run(t, "", "notify", "sent", "--lake", lake, "--format", "csv")
	if code != 1 || !strings.Contains(errOut, path+":1:") || strings.Count(out, ",delivered,hook,") != 2 {
		t.Errorf("corrupt line: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, _, errOut = run(t, "", "notify", "status", "--lake", lake)
	if code != 1 || !strings.Contains(errOut, path+":1:") {
		t.Errorf("status, corrupt line: exit %d, %s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"notify", "sent", "--lake", lake, "--days", "2", "--from", "1d"}, "not both"},
		{[]string{"notify", "sent", "--lake", lake, "--format", "yaml"}, "--format"},
		{[]string{"notify", "status", "--lake", filepath.Join(base, "nope")}, "give --lake"},
	} {
		code, _, errOut := run(t, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q: want an error with %q", tc.args, code, errOut, tc.want)
		}
	}
}
