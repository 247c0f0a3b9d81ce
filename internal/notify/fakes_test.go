package notify

// The receivers of the tests. Slack, Jira, PagerDuty and Teams are FAKES: none of them can run
// here. Each speaks its service's real wire format (the request it validates, the status codes
// and error bodies it answers) and dedups as the service does (Jira by label search, PagerDuty
// by dedup_key). The webhook receiver is a real Standard Webhooks receiver (signature checked,
// deliveries deduped by webhook-id); the mail server is a real SMTP server (go-smtp) with
// STARTTLS and AUTH PLAIN.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fault is a response a fake gives instead of its normal one.
type fault struct {
	status     int
	body       string
	retryAfter string
}

// base is what every HTTP fake shares: the faults to give next, an outage switch, counters.
type base struct {
	mu       sync.Mutex
	faults   []fault
	down     bool // answer 503 to everything
	requests int
	titles   []string // accepted messages' titles, in order
	keys     map[string]int
}

func (b *base) fail(f ...fault) {
	b.mu.Lock()
	b.faults = append(b.faults, f...)
	b.mu.Unlock()
}

func (b *base) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	b.mu.Unlock()
}

func (b *base) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.titles...)
}

func (b *base) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// intercept counts the request and answers a fault or the outage; it returns true when it did.
// The caller holds b.mu.
func (b *base) intercept(w http.ResponseWriter) bool {
	b.requests++
	if b.down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return true
	}
	if len(b.faults) == 0 {
		return false
	}
	f := b.faults[0]
	b.faults = b.faults[1:]
	if f.status == 0 {
		return false // let this one through
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
	return true
}

// serve starts an HTTP server whose handler h runs with b locked, after the faults and the outage.
func (b *base) serve(t testing.TB, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.intercept(w) {
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	return dec.Decode(v)
}

// fakeSlack is a Slack incoming webhook (fake): it checks Block Kit's limits and answers
// 200 "ok", or 400 "invalid_blocks" / "invalid_payload".
type fakeSlack struct {
	base
	srv *httptest.Server
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{}
	f.srv = f.serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/T000/B000/XXXX" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "no_service")
			return
		}
		var p slackPayload
		if err := readJSON(r, &p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid_payload")
			return
		}
		if err := checkBlocks(p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid_blocks")
			return
		}
		f.titles = append(f.titles, p.Blocks[0].Text.Text)
		io.WriteString(w, "ok")
	})
	return f
}

// checkBlocks applies Block Kit's rules to a message.
func checkBlocks(p slackPayload) error {
	if len(p.Blocks) == 0 || len(p.Blocks) > 50 {
		return fmt.Errorf("%d blocks", len(p.Blocks))
	}
	if p.Blocks[0].Type != "header" || p.Blocks[0].Text == nil || p.Blocks[0].Text.Type != "plain_text" {
		return errors.New("first block is not a header")
	}
	for _, b := range p.Blocks {
		switch b.Type {
		case "header":
			if n := len([]rune(b.Text.Text)); n == 0 || n > 150 {
				return fmt.Errorf("header of %d chars", n)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return errors.New("empty section")
			}
			if b.Text != nil && (len([]rune(b.Text.Text)) > 3000 || b.Text.Text == "") {
				return errors.New("section text too long or empty")
			}
			if len(b.Fields) > 10 {
				return errors.New("more than 10 fields")
			}
			for _, f := range b.Fields {
				if len([]rune(f.Text)) > 2000 || f.Text == "" {
					return errors.New("field text too long or empty")
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return errors.New("context elements")
			}
		default:
			return fmt.Errorf("block type %q", b.Type)
		}
	}
	return nil
}

// fakeTeams is a Teams Workflows webhook (fake): it wants one Adaptive Card attachment and
// answers 202 Accepted, or 400.
type fakeTeams struct {
	base
	srv *httptest.Server
}

func newFakeTeams(t testing.TB) *fakeTeams {
	f := &fakeTeams{}
	f.srv = f.serve(t, func(w http.ResponseWriter, r *http.Request) {
		var p teamsPayload
		err := readJSON(r, &p)
		if err == nil && (p.Type != "message" || len(p.Attachments) != 1 || p.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
			p.Attachments[0].Content.Type != "AdaptiveCard" || len(p.Attachments[0].Content.Body) == 0 || p.Attachments[0].Content.Body[0].Type != "TextBlock") {
			err = errors.New("not an adaptive card message")
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"code":"InvalidRequestContent","message":%q}}`, err.Error())
			return
		}
		f.titles = append(f.titles, p.Attachments[0].Content.Body[0].Text)
		w.WriteHeader(http.StatusAccepted)
	})
	return f
}

// fakePagerDuty is the Events API v2 (fake): it validates an event and answers 202, or 400
// "invalid event"; a trigger with the dedup_key of an open incident joins it, as PagerDuty does.
type fakePagerDuty struct {
	base
	srv       *httptest.Server
	incidents map[string]int // dedup_key -> triggers received
}

func newFakePagerDuty(t testing.TB) *fakePagerDuty {
	f := &fakePagerDuty{incidents: map[string]int{}}
	f.srv = f.serve(t, func(w http.ResponseWriter, r *http.Request) {
		var ev pdEvent
		var problems []string
		if err := readJSON(r, &ev); err != nil {
			problems = append(problems, "Event object is not JSON")
		}
		if len(ev.RoutingKey) != 32 {
			problems = append(problems, "'routing_key' must be 32 characters")
		}
		if ev.EventAction != "trigger" {
			problems = append(problems, "'event_action' is invalid")
		}
		if ev.DedupKey == "" || len(ev.DedupKey) > 255 {
			problems = append(problems, "'dedup_key' is invalid")
		}
		if ev.Payload.Summary == "" || len(ev.Payload.Summary) > 1024 {
			problems = append(problems, "'payload.summary' is missing or too long")
		}
		if ev.Payload.Source == "" {
			problems = append(problems, "'payload.source' is missing")
		}
		if !strings.Contains(" critical error warning info ", " "+ev.Payload.Severity+" ") {
			problems = append(problems, "'payload.severity' is invalid")
		}
		w.Header().Set("Content-Type", "application/json")
		if len(problems) > 0 {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
			return
		}
		if f.incidents[ev.DedupKey] == 0 {
			f.titles = append(f.titles, ev.Payload.Summary)
		}
		f.incidents[ev.DedupKey]++
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
	})
	return f
}

// retriggers is the triggers that joined an open incident (PagerDuty's dedup at work).
func (f *fakePagerDuty) retriggers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.incidents {
		n += c - 1
	}
	return n
}

// fakeJira is Jira Cloud REST v3 or Data Center v2 (fake): issues, comments, and a label search
// that sees an issue only once it is indexed (Jira's search is eventually consistent: here an
// issue is indexed when the test calls index, or at once with autoIndex).
type fakeJira struct {
	base
	srv       *httptest.Server
	api       string
	autoIndex bool
	issues    []*fakeIssue
	comments  int
}

type fakeIssue struct {
	key, summary string
	labels       []string
	indexed      bool
	done         bool
	comments     int
}

var labelJQL = regexp.MustCompile(`labels = "([^"]+)"`)

func newFakeJira(t testing.TB, api string) *fakeJira {
	f := &fakeJira{api: api}
	prefix := "/rest/api/" + api
	f.srv = f.serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		jiraErr := func(status int, msgs []string, fields map[string]string) {
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"errorMessages": msgs, "errors": fields})
		}
		auth := r.Header.Get("Authorization")
		if (api == "3" && !strings.HasPrefix(auth, "Basic ")) || (api == "2" && !strings.HasPrefix(auth, "Bearer ")) {
			jiraErr(http.StatusUnauthorized, []string{"You are not authenticated. Authentication required to perform this operation."}, map[string]string{})
			return
		}
		searchPath := prefix + "/search/jql"
		if api == "2" {
			searchPath = prefix + "/search"
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == searchPath:
			var q struct {
				JQL string `json:"jql"`
			}
			readJSON(r, &q)
			m := labelJQL.FindStringSubmatch(q.JQL)
			if m == nil {
				jiraErr(http.StatusBadRequest, []string{"Error in the JQL Query: expected a label."}, map[string]string{})
				return
			}
			var found []map[string]any
			for _, is := range f.issues {
				if (is.indexed || f.autoIndex) && !is.done && contains(is.labels, m[1]) {
					found = append(found, f.issueJSON(is))
				}
			}
			if found == nil {
				found = []map[string]any{}
			}
			if api == "3" {
				json.NewEncoder(w).Encode(map[string]any{"issues": found, "isLast": true})
			} else {
				json.NewEncoder(w).Encode(map[string]any{"startAt": 0, "maxResults": 50, "total": len(found), "issues": found})
			}
		case r.Method == http.MethodPost && r.URL.Path == prefix+"/issue":
			var req struct {
				Fields struct {
					Project     struct{ Key string }  `json:"project"`
					IssueType   struct{ Name string } `json:"issuetype"`
					Summary     string                `json:"summary"`
					Description json.RawMessage       `json:"description"`
					Labels      []string              `json:"labels"`
				} `json:"fields"`
			}
			if err := readJSON(r, &req); err != nil {
				jiraErr(http.StatusBadRequest, []string{"Unexpected character: the request body is not JSON."}, map[string]string{})
				return
			}
			errs := map[string]string{}
			if req.Fields.Project.Key != "SEC" {
				errs["project"] = "valid project is required"
			}
			if req.Fields.IssueType.Name == "" {
				errs["issuetype"] = "Specify an issue type"
			}
			if req.Fields.Summary == "" || len(req.Fields.Summary) > 255 {
				errs["summary"] = "You must specify a summary of the issue."
			}
			if err := checkJiraBody(api, req.Fields.Description); err != nil {
				errs["description"] = err.Error()
			}
			for _, l := range req.Fields.Labels {
				if strings.ContainsAny(l, " \t") {
					errs["labels"] = "The label '" + l + "' contains spaces which is invalid."
				}
			}
			if len(errs) > 0 {
				jiraErr(http.StatusBadRequest, []string{}, errs)
				return
			}
			is := &fakeIssue{key: fmt.Sprintf("SEC-%d", len(f.issues)+1), summary: req.Fields.Summary, labels: req.Fields.Labels}
			f.issues = append(f.issues, is)
			f.titles = append(f.titles, is.summary)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]string{"id": strconv.Itoa(10000 + len(f.issues)), "key": is.key, "self": f.srv.URL + prefix + "/issue/" + is.key})
		case strings.HasPrefix(r.URL.Path, prefix+"/issue/"):
			rest := strings.TrimPrefix(r.URL.Path, prefix+"/issue/")
			key, sub, _ := strings.Cut(rest, "/")
			var is *fakeIssue
			for _, x := range f.issues {
				if x.key == key {
					is = x
				}
			}
			if is == nil {
				jiraErr(http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, map[string]string{})
				return
			}
			switch {
			case r.Method == http.MethodGet && sub == "":
				json.NewEncoder(w).Encode(f.issueJSON(is))
			case r.Method == http.MethodPost && sub == "comment":
				var c struct {
					Body json.RawMessage `json:"body"`
				}
				if err := readJSON(r, &c); err != nil || checkJiraBody(api, c.Body) != nil {
					jiraErr(http.StatusBadRequest, []string{}, map[string]string{"comment": "Comment body can not be empty!"})
					return
				}
				is.comments++
				f.comments++
				w.WriteHeader(http.StatusCreated)
				json.NewEncoder(w).Encode(map[string]string{"id": strconv.Itoa(f.comments)})
			default:
				jiraErr(http.StatusMethodNotAllowed, []string{"method not allowed"}, map[string]string{})
			}
		default:
			jiraErr(http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, map[string]string{})
		}
	})
	return f
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (f *fakeJira) issueJSON(is *fakeIssue) map[string]any {
	cat := "new"
	if is.done {
		cat = "done"
	}
	return map[string]any{"id": is.key, "key": is.key, "fields": map[string]any{"status": map[string]any{"name": "To Do", "statusCategory": map[string]any{"key": cat}}}}
}

// checkJiraBody wants an Atlassian Document (v3) or a string (v2).
func checkJiraBody(api string, raw json.RawMessage) error {
	if api == "2" {
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return errors.New("Field 'description' cannot be set. It is not on the appropriate screen, or unknown.")
		}
		return nil
	}
	var doc struct {
		Type    string           `json:"type"`
		Version int              `json:"version"`
		Content []map[string]any `json:"content"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.Type != "doc" || doc.Version != 1 || len(doc.Content) == 0 {
		return errors.New("Operation value must be an Atlassian Document (see the Atlassian Document Format)")
	}
	return nil
}

// index makes every issue searchable (the search index caught up).
func (f *fakeJira) index() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, is := range f.issues {
		is.indexed = true
	}
}

// duplicates is the issues beyond the first per trailsql label.
func (f *fakeJira) duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	per := map[string]int{}
	n := 0
	for _, is := range f.issues {
		for _, l := range is.labels {
			if strings.HasPrefix(l, "trailsql-") {
				if per[l]++; per[l] > 1 {
					n++
				}
			}
		}
	}
	return n
}

func (f *fakeJira) commentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.comments
}

// hookReceiver is a real Standard Webhooks receiver: it verifies the signature and the
// timestamp's age, and processes each webhook-id once (a re-delivery is acknowledged and counted).
type hookReceiver struct {
	base
	srv          *httptest.Server
	secret       string
	seen         map[string]bool
	redeliveries int
}

func newHookReceiver(t testing.TB) *hookReceiver {
	key := make([]byte, 24)
	rand.Read(key)
	f := &hookReceiver{secret: "whsec_" + base64.StdEncoding.EncodeToString(key), seen: map[string]bool{}}
	f.srv = f.serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b, err := VerifyWebhook(f.secret, r.Header, body, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := b.Data.ID
		if f.seen[id] {
			f.redeliveries++
			w.WriteHeader(http.StatusNoContent)
			return
		}
		f.seen[id] = true
		f.titles = append(f.titles, b.Data.Title)
		w.WriteHeader(http.StatusNoContent)
	})
	return f
}

// mailServer is a real SMTP server (go-smtp) on a fixed address, with STARTTLS and AUTH PLAIN;
// it can be stopped and started again on the same address.
type mailServer struct {
	base
	addr     string
	tls      *tls.Config
	pool     *x509.CertPool
	srv      *smtp.Server
	dataErrs []error // the replies to give to the next DATA commands
}

func newMailServer(t testing.TB) *mailServer {
	cert, pool := selfSigned(t)
	m := &mailServer{tls: &tls.Config{Certificates: []tls.Certificate{cert}}, pool: pool}
	m.start(t)
	t.Cleanup(m.stop)
	return m
}

func (m *mailServer) start(t testing.TB) {
	addr := m.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	m.addr = l.Addr().String()
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	s.Domain = "localhost"
	s.TLSConfig = m.tls
	s.AllowInsecureAuth = false // AUTH only after STARTTLS
	m.mu.Lock()
	m.srv = s
	m.mu.Unlock()
	go s.Serve(l)
}

func (m *mailServer) stop() {
	m.mu.Lock()
	s := m.srv
	m.srv = nil
	m.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

func (m *mailServer) failData(errs ...error) {
	m.mu.Lock()
	m.dataErrs = append(m.dataErrs, errs...)
	m.mu.Unlock()
}

type mailSession struct {
	m      *mailServer
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "alerts" || pass != "s3cret-pass" {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.requests++
	if len(s.m.dataErrs) > 0 {
		e := s.m.dataErrs[0]
		s.m.dataErrs = s.m.dataErrs[1:]
		if e != nil {
			return e
		}
	}
	subject, err := checkMail(data)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	s.m.titles = append(s.m.titles, subject)
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// checkMail parses a message: headers, multipart/alternative with a text and an HTML part.
func checkMail(data []byte) (string, error) {
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		return "", err
	}
	for _, h := range []string{"From", "To", "Date", "Message-Id"} {
		if msg.Header.Get(h) == "" {
			return "", fmt.Errorf("no %s header", h)
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return "", err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return "", fmt.Errorf("content type %q", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		t, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, t)
		if _, err := io.ReadAll(p); err != nil {
			return "", err
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		return "", fmt.Errorf("parts %v", types)
	}
	return subject, nil
}

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func (f *hookReceiver) redeliveryCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redeliveries
}
