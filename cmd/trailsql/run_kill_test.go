package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/rules"
)

// killEventID is the event ids of the kill test's trail; each event raises one alert whose
// title is its id, so that every destination's messages name the alerts they carry.
var killEventID = regexp.MustCompile(`kill-\d+-\d+`)

// tally counts, per destination, the alerts (event ids) received.
type tally struct {
	mu  sync.Mutex
	got map[string]map[string]int // destination -> event id -> times
	// pdTriggers counts PagerDuty's triggers per dedup key; jiraComments the comments on
	// open issues (a re-send that Jira's label search turned into a comment).
	pdTriggers   map[string]int
	jiraComments int
	// hook is the webhook receiver, which takes a webhook-id once (its re-deliveries counted).
	hook *notify.WebhookReceiver
}

func (t *tally) add(dest string, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.got[dest] == nil {
		t.got[dest] = map[string]int{}
	}
	seen := map[string]bool{}
	for _, id := range killEventID.FindAllString(text, -1) {
		if !seen[id] {
			seen[id] = true
			t.got[dest][id]++
		}
	}
}

// figures are a destination's lost and duplicate alerts among want.
func (t *tally) figures(dest string, want map[string]bool) (received, lost, dups int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range want {
		n := t.got[dest][id]
		if n == 0 {
			lost++
		}
		if n > 1 {
			dups += n - 1
		}
	}
	return len(t.got[dest]), lost, dups
}

// slow makes a receiver take a moment, so that the kills land while messages are in flight.
func slow() { time.Sleep(time.Duration(5+mrand.Intn(20)) * time.Millisecond) }

// killServers are the kill test's destinations: a real Standard Webhooks receiver, a real SMTP
// server (go-smtp, STARTTLS), and fakes of Slack, PagerDuty and Jira (no real one can run
// here) that answer as their APIs do.
func killServers(t *testing.T, tl *tally) (hook *httptest.Server, secret string, slack, pd, jira *httptest.Server, smtpAddr, caFile string) {
	key := make([]byte, 24)
	rand.Read(key)
	secret = "whsec_" + base64.StdEncoding.EncodeToString(key)
	recv := &notify.WebhookReceiver{Secret: secret, Receive: func(b notify.WebhookBody) { tl.add("webhook", b.Data.Title) }}
	tl.hook = recv
	hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { slow(); recv.ServeHTTP(w, r) }))
	t.Cleanup(hook.Close)

	// Fake Slack incoming webhook: "ok" as text/plain, 400 invalid_payload on a bad body.
	slack = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slow()
		var p struct {
			Text   string            `json:"text"`
			Blocks []json.RawMessage `json:"blocks"`
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Text == "" || len(p.Blocks) == 0 || len(p.Blocks) > 50 {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		tl.add("slack", p.Text)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(slack.Close)

	// Fake PagerDuty Events API v2: 202 and the dedup key; a trigger with the key of an open
	// incident joins it (PagerDuty's de-duplication).
	pd = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slow()
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     struct {
				Summary, Source, Severity string
			} `json:"payload"`
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || len(ev.RoutingKey) != 32 || ev.EventAction != "trigger" || ev.DedupKey == "" || ev.Payload.Summary == "" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["bad event"]}`)
			return
		}
		tl.mu.Lock()
		first := tl.pdTriggers[ev.DedupKey] == 0
		tl.pdTriggers[ev.DedupKey]++
		tl.mu.Unlock()
		if first {
			tl.add("pagerduty", ev.Payload.Summary)
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)
	}))
	t.Cleanup(pd.Close)

	// Fake Jira Cloud REST v3: a label search that sees every issue at once, issues, comments.
	var jmu sync.Mutex
	type issue struct{ key, summary, label string }
	var issues []issue
	labelRE := regexp.MustCompile(`labels = "([^"]+)"`)
	jira = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slow()
		w.Header().Set("Content-Type", "application/json")
		jmu.Lock()
		defer jmu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errorMessages":["You are not authenticated."],"errors":{}}`)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/rest/api/3/search/jql":
			var q struct{ JQL string }
			json.NewDecoder(r.Body).Decode(&q)
			m := labelRE.FindStringSubmatch(q.JQL)
			if m == nil {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errorMessages":["Error in the JQL Query"],"errors":{}}`)
				return
			}
			found := []map[string]any{}
			for _, is := range issues {
				if is.label == m[1] {
					found = append(found, map[string]any{"key": is.key, "fields": map[string]any{"status": map[string]any{"statusCategory": map[string]string{"key": "new"}}}})
				}
			}
			json.NewEncoder(w).Encode(map[string]any{"issues": found, "isLast": true})
		case r.Method == http.MethodPost && r.URL.Path == "/rest/api/3/issue":
			var req struct {
				Fields struct {
					Summary string   `json:"summary"`
					Labels  []string `json:"labels"`
				} `json:"fields"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Fields.Summary == "" || len(req.Fields.Labels) < 2 {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue."}}`)
				return
			}
			is := issue{key: fmt.Sprintf("SEC-%d", len(issues)+1), summary: req.Fields.Summary, label: req.Fields.Labels[1]}
			issues = append(issues, is)
			tl.add("jira", is.summary)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"%d","key":%q}`, 10000+len(issues), is.key)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/comment"):
			tl.mu.Lock()
			tl.jiraComments++
			tl.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"1"}`)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/rest/api/3/issue/"):
			key := strings.TrimPrefix(r.URL.Path, "/rest/api/3/issue/")
			for _, is := range issues {
				if is.key == key {
					fmt.Fprintf(w, `{"key":%q,"fields":{"status":{"statusCategory":{"key":"new"}}}}`, key)
					return
				}
			}
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errorMessages":["null for uri"],"errors":{}}`)
		}
	}))
	t.Cleanup(jira.Close)

	// A real SMTP server (go-smtp) with STARTTLS on a self-signed certificate.
	cert, pemBytes := selfSignedCert(t)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &killMail{tl: tl}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return hook, secret, slack, pd, jira, l.Addr().String(), caFile
}

// killMail is an SMTP session that counts each mail's alert by its subject.
type killMail struct{ tl *tally }

func (s *killMail) Mail(string, *smtp.MailOptions) error { return nil }
func (s *killMail) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *killMail) Reset()                               {}
func (s *killMail) Logout() error                        { return nil }
func (s *killMail) Data(r io.Reader) error {
	slow()
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message"}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || msg.Header.Get("Message-Id") == "" {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed headers"}
	}
	io.Copy(io.Discard, msg.Body)
	s.tl.add("email", subject)
	return nil
}

// selfSignedCert is a certificate for 127.0.0.1 and its PEM.
func selfSignedCert(t *testing.T) (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, p
}

// dropTrail writes the file n of the kill test's trail into dir (through a rename, as a
// delivery lands): three events, each raising one alert.
func dropTrail(t *testing.T, dir string, n int) []string {
	var recs, ids []string
	for i := range 3 {
		id := fmt.Sprintf("kill-%d-%d", n, i)
		ids = append(ids, id)
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAKILL","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-03-20T10:%02d:%02dZ","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","requestParameters":{"userName":"u%d"},"responseElements":null,"eventID":%q,"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
			n%60, i, n, id))
	}
	tmp := filepath.Join(filepath.Dir(dir), fmt.Sprintf("drop-%d.tmp", n))
	if err := os.WriteFile(tmp, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("trail-%05d.json", n))); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestRunSurvivesSIGKILL: a real 'trailsql run' process, sending to a signed webhook, a real
// SMTP server and fakes of Slack, PagerDuty and Jira (fakes: no real one can run here), while
// new trail files keep landing in its folder, is killed with SIGKILL at 10 random moments and
// restarted each time. At the end every alert reached every destination; none twice at the
// idempotent ones (webhook: its id; PagerDuty: its dedup key; Jira: its label), and at most
// one duplicate per kill at Slack and email.
func TestRunSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := trailsqlBinary(t)
	tl := &tally{got: map[string]map[string]int{}, pdTriggers: map[string]int{}}
	hook, secret, slack, pd, jira, smtpAddr, caFile := killServers(t, tl)
	base := t.TempDir()
	trail, lakeDir := filepath.Join(base, "trail"), filepath.Join(base, "lake")
	os.MkdirAll(trail, 0o755)
	ruleFile := filepath.Join(base, "rules.yml")
	os.WriteFile(ruleFile, []byte("rules:\n  - id: kill-test\n    title: \"{{ eventid }}\"\n    severity: high\n    condition: eventid LIKE 'kill-%'\n"), 0o644)
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
    chat: {type: slack, url_env: SLACK_URL}
    pager: {type: pagerduty, url: %s, routing_key_env: PD_KEY}
    tickets: {type: jira, url: %s, user: bot@example.com, token_env: JIRA_TOKEN, project: SEC}
    mail: {type: email, smarthost: %s, from: trailsql@example.com, to: [sec@example.com], ca_file: %s}
  routes:
    - destinations: [hook, chat, pager, tickets, mail]
  queue: {min_backoff: 10ms, max_backoff: 200ms, drain_timeout: 5s}
`, trail, ruleFile, hook.URL, pd.URL, jira.URL, smtpAddr, caFile)), 0o644)
	env := append(os.Environ(), "HOOK_SECRET="+secret, "SLACK_URL="+slack.URL, "PD_KEY=0123456789abcdef0123456789abcdef", "JIRA_TOKEN=jira-token")

	// Trail files keep landing while the run is killed and restarted.
	want := map[string]bool{}
	var wmu sync.Mutex
	stopDrop := make(chan struct{})
	dropped := make(chan struct{})
	go func() {
		defer close(dropped)
		for n := 0; ; n++ {
			ids := dropTrail(t, trail, n)
			wmu.Lock()
			for _, id := range ids {
				want[id] = true
			}
			wmu.Unlock()
			select {
			case <-stopDrop:
				return
			case <-time.After(120 * time.Millisecond):
			}
		}
	}()
	start := func() (*exec.Cmd, *strings.Builder) {
		cmd := exec.Command(bin, "run", "--config", cfgFile, "--lake", lakeDir)
		cmd.Env = env
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	seed := time.Now().UnixNano()
	rng := mrand.New(mrand.NewSource(seed))
	t.Logf("kill moments drawn with seed %d", seed)
	const kills = 10
	for k := range kills {
		cmd, out := start()
		time.Sleep(time.Duration(500+rng.Intn(2500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Fatalf("kill %d: the run had ended before its kill:\n%s", k, out)
		}
	}
	close(stopDrop)
	<-dropped
	// The last run: it collects what is left and delivers everything; then SIGTERM.
	cmd, out := start()
	dests := []string{"webhook", "slack", "pagerduty", "jira", "email"}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done := true
		for _, d := range dests {
			if _, lost, _ := tl.figures(d, want); lost > 0 {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything more that was coming
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the last run ended with %v:\n%s", err, out)
	}
	stored, err := rules.OpenStore(lakeDir).Alerts()
	if err != nil {
		t.Fatal(err)
	}
	alerted := map[string]bool{}
	for _, a := range stored {
		if alerted[a.EventID] {
			t.Errorf("event %s alerted twice in the store", a.EventID)
		}
		alerted[a.EventID] = true
	}
	if len(alerted) != len(want) {
		t.Errorf("%d alerts stored for %d events dropped", len(alerted), len(want))
	}
	retriggers := 0
	for _, n := range tl.pdTriggers {
		retriggers += n - 1
	}
	t.Logf("%d alerts (%d trail files), %d kills; re-sends absorbed by the idempotent destinations: webhook re-deliveries (same webhook-id) %d, PagerDuty re-triggers joined to open incidents %d, Jira comments on open issues %d",
		len(want), len(want)/3, kills, tl.hook.Redeliveries(), retriggers, tl.jiraComments)
	for _, d := range dests {
		received, lost, dups := tl.figures(d, want)
		t.Logf("%-9s %d received, %d lost, %d duplicates", d, received, lost, dups)
		if lost > 0 {
			t.Errorf("%s: %d alerts lost", d, lost)
		}
		switch d {
		case "webhook", "pagerduty", "jira":
			if dups > 0 {
				t.Errorf("%s: %d duplicates at an idempotent destination", d, dups)
			}
		default:
			if dups > kills {
				t.Errorf("%s: %d duplicates, more than one per kill (%d)", d, dups, kills)
			}
		}
	}
	if t.Failed() {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			t.Log(sc.Text())
		}
	}
}
