package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/text"
)

// info says what the lake holds, from its ledger: the counts agree with SQL over the lake.
func TestInfoSaysWhatTheLakeHolds(t *testing.T) {
	dir := t.TempDir()
	in := writeTrail(t, filepath.Join(dir, "in"), 6, 40) // 3 days, 2 files a day
	lake := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", lake, in)

	out := mustRun(t, 0, "info", "--lake", lake, "--format", "json")
	var info struct {
		Lake     string
		ChosenBy string `json:"chosen_by"`
		Coverage struct {
			Events     int64
			FirstEvent string `json:"first_event"`
			LastEvent  string `json:"last_event"`
		}
		Files    int
		Bytes    int64
		Accounts []struct {
			Name   string
			Events int64
		}
		Regions []struct {
			Name   string
			Events int64
		}
		Days []struct {
			Name   string
			Events int64
		}
		Commits    int
		LastIngest string `json:"last_ingest"`
		Sources    struct{ Files, S3Objects int }
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if info.Lake != lake || info.ChosenBy != "--lake" || info.Coverage.Events != 240 || info.Files == 0 || info.Bytes == 0 || info.Commits != 1 || info.LastIngest == "" || info.Sources.Files != 6 {
		t.Errorf("info: %+v", info)
	}
	if got, want := info.Coverage.FirstEvent+" "+info.Coverage.LastEvent, scalar(t, lake, "SELECT min(eventtime) || ' ' || max(eventtime) FROM cloudtrail_logs"); got != want {
		t.Errorf("range %s, SQL says %s", got, want)
	}
	if len(info.Accounts) != 1 || info.Accounts[0].Name != "111122223333" || len(info.Regions) != 1 || info.Regions[0].Name != "us-east-1" {
		t.Errorf("accounts %v regions %v", info.Accounts, info.Regions)
	}
	var perDay []string
	for _, d := range info.Days {
		perDay = append(perDay, d.Name+"="+itoa(d.Events))
	}
	sqlDays := mustRun(t, 0, "query", "--lake", lake, "--format", "csv", "SELECT d || '=' || CAST(n AS VARCHAR) FROM (SELECT substr(eventtime, 1, 10) AS d, count(*) AS n FROM cloudtrail_logs GROUP BY 1) ORDER BY 1")
	if got, want := strings.Join(perDay, "\n"), strings.Join(strings.Split(strings.TrimSpace(sqlDays), "\n")[1:], "\n"); got != want {
		t.Errorf("events per day:\n%s\nSQL says:\n%s", got, want)
	}

	// On a terminal: the summary, then a table of days; 'status' is the same command.
	var b, e bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &b, Stderr: &e, Getenv: func(string) string { return "" }, IsTerminal: true}
	if code := m.Run(context.Background(), []string{"status", "--lake", lake}); code != 0 {
		t.Fatalf("status: exit %d %s", code, e.String())
	}
	for _, want := range []string{"events: 240 from " + info.Coverage.FirstEvent, "accounts: 111122223333 (240)", "sources: 6 log files", "last ingest: ", "1 commit", "│ 2024-03-01 │"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, b.String())
		}
	}

	// An empty lake says so; CSV keeps stdout to the rows.
	empty := filepath.Join(dir, "empty")
	mustRun(t, 0, "ingest", "--lake", empty, t.TempDir())
	if code, out, errOut := run(t, "", "info", "--lake", empty); code != 0 || out != "" || !strings.Contains(errOut, "is empty: no events were ingested yet") {
		t.Errorf("info on an empty lake: exit %d\n%s\n%s", code, out, errOut)
	}
	// A query too, once: its engine read the snapshot that says so.
	code, out, errOut := run(t, "", "query", "--lake", empty, "--format", "csv", "SELECT count(*) AS n FROM cloudtrail_logs")
	if code != 0 || out != "n\n0\n" || strings.Count(errOut, "is empty: no events were ingested yet") != 1 {
		t.Errorf("query on an empty lake: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, _, errOut := run(t, "", "query", "--lake", lake, "SELECT 1"); strings.Contains(errOut, "is empty") {
		t.Errorf("query on a lake of 240 events: %s", errOut)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Tables on a terminal are cut to its width, unless --wide; piped output never is.
func TestTablesFitTheTerminal(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", lake, writeTrail(t, filepath.Join(dir, "in"), 1, 5))
	sql := "SELECT useridentity.arn, useragent || ' with a user agent much longer than any terminal is wide, as browsers send them' AS ua FROM cloudtrail_logs LIMIT 3"
	term := func(args ...string) string {
		var b, e bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &b, Stderr: &e, Getenv: func(string) string { return "" }, IsTerminal: true, Columns: 72}
		if code := m.Run(context.Background(), args); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, e.String())
		}
		return b.String()
	}
	cut := term("query", "--lake", lake, sql)
	for _, l := range strings.Split(cut, "\n") {
		if !strings.HasPrefix(l, "(") && text.StringWidth(l) > 72 {
			t.Errorf("line wider than 72: %q", l)
		}
	}
	if !strings.Contains(cut, "…") || !strings.Contains(cut, "--wide shows them whole") {
		t.Errorf("not cut:\n%s", cut)
	}
	if whole := term("query", "--lake", lake, "--wide", sql); strings.Contains(whole, "…") || !strings.Contains(whole, "as browsers send them") {
		t.Errorf("--wide cut:\n%s", whole)
	}
	if piped := mustRun(t, 0, "query", "--lake", lake, "--format", "table", sql); strings.Contains(piped, "…") {
		t.Errorf("a table written to a pipe was cut:\n%s", piped)
	}
	// $COLUMNS when the terminal does not say.
	var b bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &b, Stderr: &b, Getenv: func(k string) string { return map[string]string{"COLUMNS": "60"}[k] }, IsTerminal: true}
	m.Run(context.Background(), []string{"query", "--lake", lake, sql})
	if !strings.Contains(b.String(), "terminal's 60 columns") {
		t.Errorf("$COLUMNS=60 not honoured:\n%s", b.String())
	}
}
