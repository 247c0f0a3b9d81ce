package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
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
	addr, stop := startServe(t, "--lake", lk)
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
	if code := stop(); code != 0 {
		t.Errorf("serve ended with exit %d after its context did", code)
	}
}

// startServe runs `trailsql serve ARGS --listen 127.0.0.1:0` in-process and returns its address
// (http://host:port/) and a function that stops it and returns its exit status.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: pw, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append(append([]string{"serve"}, args...), "--listen", "127.0.0.1:0"))
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		cancel()
		t.Fatalf("serve said nothing: exit %d", <-done)
	}
	addr := regexp.MustCompile(`http://[^/]+/`).FindString(sc.Text())
	go io.Copy(io.Discard, pr)
	if addr == "" {
		cancel()
		t.Fatalf("no address in %q", sc.Text())
	}
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// What `curl` gets from a running server is what the CLI prints, for the same lake: a query's
// CSV byte for byte, a question's rows, a principal's policy document.
func TestServeAnswersAsTheCLI(t *testing.T) {
	lk := tinyLake(t)
	addr, _ := startServe(t, "--lake", lk)
	api := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, addr+"api/v1/"+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		return data
	}
	// A query, as CSV.
	sql := "SELECT eventsource, eventname, count(*) AS n FROM cloudtrail_logs GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
	cli := mustRun(t, 0, "query", "--lake", lk, "--format", "csv", sql)
	got := string(api("GET", "query?format=csv&sql="+url.QueryEscape(sql), ""))
	if norm(got) != norm(cli) || strings.Count(cli, "\n") < 5 {
		t.Errorf("query as CSV:\nAPI:\n%s\nCLI:\n%s", got, cli)
	}
	// A question's rows.
	rows := func(data []byte) []any {
		t.Helper()
		var v struct{ Rows []any }
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		return v.Rows
	}
	for _, q := range []string{"active-roles", "console-logins", "access-denied"} {
		cliRows := rows([]byte(mustRun(t, 0, "ask", "--lake", lk, q, "--days", "30", "--format", "json")))
		apiRows := rows(api("POST", "questions/"+q, `{"days":30}`))
		if !reflect.DeepEqual(cliRows, apiRows) {
			t.Errorf("ask %s: the API's %d rows differ from the CLI's %d:\nAPI %v\nCLI %v", q, len(apiRows), len(cliRows), apiRows, cliRows)
		}
	}
	// A principal's policy document.
	var roles struct {
		Rows []struct {
			RoleARN string `json:"role_arn"`
		}
	}
	json.Unmarshal([]byte(mustRun(t, 0, "ask", "--lake", lk, "active-roles", "--days", "30", "--format", "json")), &roles)
	if len(roles.Rows) == 0 {
		t.Fatal("no active role in the lake: the policy comparison proves nothing")
	}
	role := roles.Rows[0].RoleARN
	var cliPolicy, apiPolicy struct{ Policy any }
	if err := json.Unmarshal([]byte(mustRun(t, 0, "policy", "--lake", lk, "--principal", role, "--days", "30")), &cliPolicy.Policy); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(api("GET", "policy?days=30&principal="+url.QueryEscape(role), ""), &apiPolicy); err != nil {
		t.Fatal(err)
	}
	if cliPolicy.Policy == nil || !reflect.DeepEqual(cliPolicy.Policy, apiPolicy.Policy) {
		t.Errorf("policy of %s:\nAPI %v\nCLI %v", role, apiPolicy.Policy, cliPolicy.Policy)
	}
}

// norm makes line ends alike (CSV writers end lines with \r\n or \n).
func norm(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
