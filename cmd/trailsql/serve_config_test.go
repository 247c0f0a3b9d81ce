package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/notify"
)

// TestServeConfig: a real 'trailsql serve --config' process serves the API and, in the same
// process, collects a folder, detects and delivers to a signed webhook receiver; the API sees
// what the collection committed. SIGTERM while a message waits on the receiver stops the
// server and the collection and drains the notifier: the message is delivered and the process
// exits 0.
func TestServeConfig(t *testing.T) {
	bin := trailsqlBinary(t)
	lk := tinyLake(t)
	base := t.TempDir()
	trail := filepath.Join(base, "trail")
	os.MkdirAll(trail, 0o755)
	key := make([]byte, 24)
	rand.Read(key)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	got := make(chan notify.WebhookBody, 10)
	hold := make(chan struct{}, 10) // a token per request let through; closed: all
	recv := &notify.WebhookReceiver{Secret: secret, Receive: func(b notify.WebhookBody) { got <- b }}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-hold
		recv.ServeHTTP(w, r)
	}))
	defer hook.Close()
	ruleFile := filepath.Join(base, "rules.yml")
	os.WriteFile(ruleFile, []byte("rules:\n  - id: serve-test\n    title: \"{{ eventid }}\"\n    severity: high\n    condition: eventid LIKE 'serve-%'\n"), 0o644)
	cfgFile := filepath.Join(base, "trailsql.yml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`sources:
  interval: 100ms
  paths: [%s]
rules:
  files: [%s]
  no_builtin: true
notify:
  destinations:
    hook: {type: webhook, url: %s, secret_env: HOOK_SECRET}
  routes:
    - destinations: [hook]
  queue: {min_backoff: 10ms, drain_timeout: 30s}
`, trail, ruleFile, hook.URL)), 0o644)
	drop := func(name, id string) {
		rec := fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDASERVE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-03-20T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","requestParameters":{"userName":"bob"},"responseElements":null,"eventID":%q,"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}]}`, id)
		tmp := filepath.Join(base, name+".tmp")
		os.WriteFile(tmp, []byte(rec), 0o644)
		if err := os.Rename(tmp, filepath.Join(trail, name)); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(bin, "serve", "--config", cfgFile, "--lake", lk, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOOK_SECRET="+secret)
	stderr, _ := cmd.StderrPipe()
	stdout := &lockedBuffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && sc.Scan() {
		addr = regexp.MustCompile(`http://[^/]+/`).FindString(sc.Text())
	}
	if addr == "" {
		t.Fatalf("serve --config said no address")
	}
	go io.Copy(io.Discard, stderr)
	count := func() string {
		resp, err := http.Get(addr + "api/v1/query?sql=SELECT+count(*)+AS+n+FROM+cloudtrail_logs")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("query: %d %s", resp.StatusCode, body)
		}
		return regexp.MustCompile(`"n": \d+`).FindString(string(body))
	}
	if n := count(); n != `"n": 300` {
		t.Fatalf("before the collection: %s, want 300", n)
	}
	// The collection in the same process: a new file is ingested, detected and delivered.
	drop("one.json", "serve-1")
	hold <- struct{}{}
	select {
	case b := <-got:
		if b.Data.Title != "serve-1" {
			t.Fatalf("delivered %q, want serve-1", b.Data.Title)
		}
	case <-time.After(time.Minute):
		t.Fatalf("no alert delivered within a minute:\n%s", stdout.String())
	}
	if n := count(); n != `"n": 301` {
		t.Fatalf("the API after the collection: %s, want 301", n)
	}
	// SIGTERM while the next alert waits on the receiver: everything stops, the notifier drains.
	drop("two.json", "serve-2")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "hook: 2 queued") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the health line says the second alert is queued
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := http.Get(addr + "api/v1/lake"); err == nil {
		t.Errorf("the server still answers after SIGTERM")
	}
	close(hold)
	began := time.Now()
	err := cmd.Wait()
	t.Logf("stopped %v after SIGTERM and the receiver's release", time.Since(began))
	if err != nil {
		t.Fatalf("serve --config after SIGTERM: %v\n%s", err, stdout.String())
	}
	select {
	case b := <-got:
		if b.Data.Title != "serve-2" {
			t.Fatalf("drained %q, want serve-2", b.Data.Title)
		}
	default:
		t.Fatalf("the alert queued at SIGTERM was not delivered in the drain:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "stopped: ") {
		t.Errorf("no totals line:\n%s", stdout.String())
	}
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
