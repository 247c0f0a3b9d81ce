package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
)

// end is the newest event of the test trails: a fixed time, so that answers do not depend on
// the day the tests run (windows are given with from and to).
var end = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// testLake is a generated trail ingested into a lake, with the first account's IAM inventory.
type testLake struct {
	dir, lake, authz string
	opt              generate.Options
	truth            *generate.Truth
}

// newLake generates events events from seed and ingests them into a new lake.
func newLake(t testing.TB, seed int64, events int) *testLake {
	t.Helper()
	dir := t.TempDir()
	l := &testLake{dir: dir, lake: filepath.Join(dir, "lake"), authz: filepath.Join(dir, "authz.json"),
		opt: generate.Options{Seed: seed, Events: events, End: end, Days: 30}}
	var err error
	trail := filepath.Join(dir, "trail")
	if l.truth, err = generate.Generate(context.Background(), trail, l.opt); err != nil {
		t.Fatal(err)
	}
	accounts, err := generate.Authz(l.opt, l.truth)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.authz, accounts[0].JSON, 0o644); err != nil {
		t.Fatal(err)
	}
	ingestInto(t, l.lake, trail)
	return l
}

func ingestInto(t testing.TB, lakeDir string, paths ...string) {
	t.Helper()
	st, err := ingest.Run(context.Background(), ingest.Options{Lake: lakeDir, Workers: 1}, paths)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() {
		t.Fatalf("ingest: %v", st.Problems)
	}
}

// harness is a server over a lake, answering on a real listener on 127.0.0.1.
type harness struct {
	*testLake
	e    *engine.Engine
	srv  *Server
	base string // http://127.0.0.1:port
	port string
	// token, when set, is sent as the bearer token of every request.
	token string
}

// serve starts a server over l; tune changes the engine's and the server's options.
func serve(t testing.TB, l *testLake, tune func(*engine.Options, *Options)) *harness {
	t.Helper()
	eo := engine.Options{Lake: l.lake, MaxConcurrent: 4, MaxRows: DefaultMaxRows + 1}
	so := Options{Lake: l.lake, Authz: l.authz, Now: func() time.Time { return end }}
	if tune != nil {
		tune(&eo, &so)
	}
	e, err := local.Open(context.Background(), eo)
	if err != nil {
		t.Fatal(err)
	}
	so.Engine = e
	srv, err := New(so)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		e.Close()
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return &harness{testLake: l, e: e, srv: srv, base: "http://" + ln.Addr().String(), port: port}
}

// do sends a request (body: nil, a string, or a value sent as JSON) and returns the status and
// body.
func (h *harness) do(t testing.TB, method, path string, body any, headers ...string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, data, resp.Header
}

// getJSON sends a request that must answer want, and decodes its body into out.
func (h *harness) call(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	code, data, _ := h.do(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// apiErr is the error shape of a response.
type apiErr struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Limit   string `json:"limit"`
	} `json:"error"`
}

// wantError checks a response is the API's error shape with this status and type.
func (h *harness) wantError(t testing.TB, method, path string, body any, status int, typ string) apiErr {
	t.Helper()
	code, data, hdr := h.do(t, method, path, body)
	var e apiErr
	if err := json.Unmarshal(data, &e); err != nil || code != status || e.Error.Type != typ || e.Error.Message == "" {
		t.Fatalf("%s %s: status %d (want %d), body %s (want type %s); content type %s", method, path, code, status, data, typ, hdr.Get("Content-Type"))
	}
	return e
}

// normalise re-encodes a JSON value so that two encodings of equal values compare equal.
func normalise(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(out)
}
