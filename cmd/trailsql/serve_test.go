package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tinyLake generates and ingests a small trail.
func tinyLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, 0, "generate", "--out", filepath.Join(dir, "trail"), "--events", "300", "--seed", "3")
	lk := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", lk, filepath.Join(dir, "trail"))
	return lk
}

func TestTokenCommand(t *testing.T) {
	lk := tinyLake(t)
	tok := strings.TrimSpace(mustRun(t, 0, "token", "create", "--lake", lk, "--role", "read", "--name", "laptop"))
	if !strings.HasPrefix(tok, "tsql_") {
		t.Fatalf("token %q", tok)
	}
	list := mustRun(t, 0, "token", "list", "--lake", lk)
	if !strings.Contains(list, "laptop") || strings.Contains(list, tok) {
		t.Fatalf("list:\n%s", list)
	}
	if code, _, errOut := run(t, "", "token", "create", "--lake", lk, "--role", "root"); code == 0 || !strings.Contains(errOut, "give read") {
		t.Errorf("--role root: exit %d: %s", code, errOut)
	}
	mustRun(t, 0, "token", "revoke", "--lake", lk, "laptop")
	if list := mustRun(t, 0, "token", "list", "--lake", lk); strings.Contains(list, "laptop") {
		t.Errorf("after revoke:\n%s", list)
	}
}

func TestServeCommand(t *testing.T) {
	lk := tinyLake(t)
	if code, _, errOut := run(t, "", "serve", "--lake", lk, "--listen", "0.0.0.0:0"); code == 0 || !strings.Contains(errOut, "no token exists") {
		t.Errorf("serving on all interfaces without tokens: exit %d: %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: pw, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--lake", lk, "--listen", "127.0.0.1:0"})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("serve said nothing: exit %d", <-done)
	}
	addr := regexp.MustCompile(`http://[^/]+/`).FindString(sc.Text())
	go io.Copy(io.Discard, pr)
	if addr == "" {
		t.Fatalf("no address in %q", sc.Text())
	}
	resp, err := http.Get(addr + "api/v1/query?sql=SELECT+count(*)+AS+n+FROM+cloudtrail_logs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"n": 300`) {
		t.Errorf("query: %d %s", resp.StatusCode, body)
	}
	// The web console is served at /.
	if resp, err = http.Get(addr); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<script src="app.js">`) {
		t.Errorf("GET /: %d %s, want the web console", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve ended with exit %d after its context did", code)
	}
}
