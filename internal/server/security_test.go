package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/engine"
)

func TestTokensAndRoles(t *testing.T) {
	l := newLake(t, 6, 500)
	h := serve(t, l, nil)
	// Without tokens (open mode, loopback only), everyone is admin.
	var who map[string]any
	h.call(t, "GET", "/api/v1/whoami", nil, 200, &who)
	if who["role"] != RoleAdmin || who["open"] != true {
		t.Fatalf("open mode: %v", who)
	}
	tokens := OpenTokens(l.lake)
	readTok, rt, err := tokens.Create(RoleRead, "reader")
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _, err := tokens.Create(RoleAdmin, "boss")
	if err != nil {
		t.Fatal(err)
	}
	// Only hashes are stored, in a file only its owner reads.
	path := filepath.Join(l.lake, "_trailsql", "tokens")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v %v", st.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), readTok) || strings.Contains(string(data), adminTok) || !strings.Contains(string(data), hashToken(readTok)) {
		t.Fatal("the tokens file holds a token, or not its hash")
	}

	// Once a token exists, every API request needs one.
	h.wantError(t, "GET", "/api/v1/lake", nil, 401, ErrorUnauthenticated)
	h.wantError(t, "GET", sqlQS("SELECT 1"), nil, 401, ErrorUnauthenticated)
	h.token = "tsql_not-a-token"
	h.wantError(t, "GET", "/api/v1/lake", nil, 401, ErrorUnauthenticated)

	h.token = readTok
	h.call(t, "GET", "/api/v1/lake", nil, 200, nil)
	h.call(t, "GET", sqlQS("SELECT 1 AS x"), nil, 200, nil)
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/alerts/0123456789abcdef/ack"},
		{"DELETE", "/api/v1/alerts/0123456789abcdef/ack"},
		{"GET", "/api/v1/tokens"},
		{"POST", "/api/v1/tokens"},
		{"DELETE", "/api/v1/tokens/" + rt.ID},
	} {
		h.wantError(t, c.method, c.path, nil, 403, ErrorForbidden)
	}
	// Defining a table writes to the lake: admin only.
	ddl := map[string]string{"sql": "CREATE EXTERNAL TABLE mine (eventname STRING) LOCATION 's3://b/AWSLogs/'"}
	h.wantError(t, "POST", "/api/v1/query", ddl, 403, ErrorForbidden)

	h.token = ""
	h.wantError(t, "GET", "/api/v1/tokens", nil, 401, ErrorUnauthenticated)
	h.token = adminTok
	var list struct{ Tokens []map[string]any }
	h.call(t, "GET", "/api/v1/tokens", nil, 200, &list)
	raw, _ := json.Marshal(list)
	if len(list.Tokens) != 2 || strings.Contains(string(raw), "hash") || strings.Contains(string(raw), hashToken(readTok)) {
		t.Fatalf("tokens list: %s", raw)
	}
	var created map[string]any
	h.call(t, "POST", "/api/v1/tokens", map[string]string{"role": "read", "name": "api-made"}, 201, &created)
	if !strings.HasPrefix(created["token"].(string), tokenPrefix) {
		t.Fatalf("created: %v", created)
	}
	h.call(t, "POST", "/api/v1/query", ddl, 200, nil)

	// A revoked token stops working at once (the CLI and the server share the file).
	if _, err := tokens.Revoke(rt.ID); err != nil {
		t.Fatal(err)
	}
	h.token = readTok
	h.wantError(t, "GET", "/api/v1/lake", nil, 401, ErrorUnauthenticated)
	h.token = created["token"].(string)
	h.call(t, "GET", "/api/v1/lake", nil, 200, nil)
	h.token = adminTok
	h.call(t, "DELETE", "/api/v1/tokens/api-made", nil, 204, nil)
	h.wantError(t, "DELETE", "/api/v1/tokens/api-made", nil, 404, ErrorNotFound)
}

func TestLoginCookie(t *testing.T) {
	l := newLake(t, 7, 500)
	h := serve(t, l, nil)
	tok, _, err := OpenTokens(l.lake).Create(RoleRead, "console")
	if err != nil {
		t.Fatal(err)
	}
	h.wantError(t, "POST", "/api/v1/login", map[string]string{"token": "tsql_wrong"}, 401, ErrorUnauthenticated)
	code, body, hdr := h.do(t, "POST", "/api/v1/login", map[string]string{"token": tok})
	if code != 200 || strings.Contains(string(body), tok) {
		t.Fatalf("login: %d %s", code, body)
	}
	resp := http.Response{Header: hdr}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Value == tok {
		t.Fatalf("cookie: %+v", cookies)
	}
	cookie := sessionCookie + "=" + cookies[0].Value
	code, _, _ = h.do(t, "GET", "/api/v1/lake", nil, "Cookie", cookie)
	if code != 200 {
		t.Fatalf("with the session cookie: %d", code)
	}
	// A read session cannot acknowledge.
	code, _, _ = h.do(t, "POST", "/api/v1/alerts/0123456789abcdef/ack", nil, "Cookie", cookie)
	if code != 403 {
		t.Errorf("read session acknowledging: %d", code)
	}
	// A page of another site cannot use the cookie to write (the browser says where it came
	// from: Sec-Fetch-Site, Origin).
	code, body, _ = h.do(t, "POST", "/api/v1/query", map[string]string{"sql": "SELECT 1"}, "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if code != 403 || !strings.Contains(string(body), "cross-origin") {
		t.Errorf("cross-site POST: %d %s", code, body)
	}
	code, _, _ = h.do(t, "POST", "/api/v1/query", map[string]string{"sql": "SELECT 1"}, "Cookie", cookie, "Origin", "https://evil.example")
	if code != 403 {
		t.Errorf("cross-origin POST without Sec-Fetch-Site: %d", code)
	}
	// The same origin may.
	code, _, _ = h.do(t, "POST", "/api/v1/query", map[string]string{"sql": "SELECT 1"}, "Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", h.base)
	if code != 200 {
		t.Errorf("same-origin POST: %d", code)
	}
	code, _, _ = h.do(t, "POST", "/api/v1/logout", nil, "Cookie", cookie)
	if code != 204 {
		t.Fatalf("logout: %d", code)
	}
	code, _, _ = h.do(t, "GET", "/api/v1/lake", nil, "Cookie", cookie)
	if code != 401 {
		t.Errorf("after logout: %d", code)
	}
}

func TestHostHeader(t *testing.T) {
	h := serve(t, newLake(t, 8, 300), func(_ *engine.Options, o *Options) { o.AllowedHosts = []string{"trailsql.internal"} })
	for host, want := range map[string]int{
		"127.0.0.1:" + h.port:         200,
		"localhost:" + h.port:         200,
		"[::1]:" + h.port:             200,
		"trailsql.internal":           200,
		"trailsql.internal:" + h.port: 200,
		"evil.example:" + h.port:      421, // DNS rebinding: a name of the attacker's resolving to 127.0.0.1
		"localhost:1":                 421, // another port's server
		"127.0.0.1":                   421,
	} {
		code, body, _ := h.do(t, "GET", "/api/v1/lake", nil, "Host", host)
		if code != want {
			t.Errorf("Host %s: %d, want %d: %s", host, code, want, body)
		}
	}
	code, body, _ := h.do(t, "GET", "/", nil)
	if code != 200 || !strings.Contains(string(body), "console is coming") {
		t.Errorf("/: %d %s", code, body)
	}
}

func TestListenNonLoopback(t *testing.T) {
	l := newLake(t, 9, 300)
	e, err := engine.Open(context.Background(), engine.Options{Lake: l.lake})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv, err := New(Options{Lake: l.lake, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on all interfaces here: %v", err)
	}
	defer ln.Close()
	err = srv.Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "no token exists") {
		t.Fatalf("serving on %s without tokens: %v", ln.Addr(), err)
	}
	if err := srv.CheckListen(&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}); err != nil {
		t.Errorf("[::1]: %v", err)
	}
	if _, _, err := OpenTokens(l.lake).Create(RoleRead, ""); err != nil {
		t.Fatal(err)
	}
	if err := srv.CheckListen(ln.Addr()); err != nil {
		t.Errorf("with a token: %v", err)
	}
}

func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	tk := OpenTokens(dir)
	if _, _, err := tk.Create("root", ""); err == nil {
		t.Error("role root accepted")
	}
	if _, _, err := tk.Create(RoleRead, "bad\nname"); err == nil {
		t.Error("a name with a newline accepted")
	}
	secret, tok, err := tk.Create(RoleRead, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := tk.Check(secret); !ok || err != nil || got.ID != tok.ID {
		t.Fatalf("check: %v %v %v", got, ok, err)
	}
	if _, ok, _ := tk.Check(secret + "x"); ok {
		t.Error("a wrong token passed")
	}
	path := filepath.Join(dir, "_trailsql", "tokens")
	os.Chmod(path, 0o644)
	if _, err := OpenTokens(dir).List(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a tokens file others can read: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("[{\"id\":\"x\"}]"), 0o600)
	if _, err := OpenTokens(dir).List(); err == nil || !strings.Contains(err.Error(), "entry 1") {
		t.Errorf("a damaged tokens file: %v", err)
	}
}
