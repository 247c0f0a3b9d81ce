package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/questions"
)

// runEnv is run with an environment.
func runEnv(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	code := m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// A lake that is not there (a typo in --lake, $TRAILSQL_LAKE unset in cron) is an error with
// exit status 2 that names the folder, what chose it and what to do, for every command that
// reads a lake; nothing is created. "Was root used? (0 rows)" must never come from a typo.
func TestMissingLakeIsAnError(t *testing.T) {
	authzFile := filepath.Join("..", "..", "internal", "authz", "testdata", "account.json")
	commands := [][]string{
		{"query", "SELECT count(*) FROM cloudtrail_logs"},
		{"ask", "root-activity"},
		{"ask", "identity-activity", "--principal", "alice"},
		{"ask", "identity-activity", "--principal", "alice", "--sql"},
		{"policy", "--principal", "alice"},
		{"unused", "--authz", authzFile},
		{"compact"},
		{"info"},
	}
	notLedger := t.TempDir() // a folder, but not a lake
	os.WriteFile(filepath.Join(notLedger, "notes.txt"), []byte("x"), 0o644)
	home := t.TempDir()
	cases := []struct {
		name    string
		dir     string // the folder that must be named and must not be created
		flag    bool   // give it with --lake
		env     map[string]string
		chosen  string
		problem string
	}{
		{"typo in --lake", filepath.Join(t.TempDir(), "lkae"), true, nil, "chosen by --lake", "the folder does not exist"},
		{"folder without a ledger", notLedger, true, nil, "chosen by --lake", "no trailsql ledger"},
		{"$TRAILSQL_LAKE", filepath.Join(t.TempDir(), "nope"), false, nil, "chosen by $TRAILSQL_LAKE", "the folder does not exist"},
		{"default", filepath.Join(home, ".local", "share", "trailsql", "lake"), false, map[string]string{"HOME": home}, "chosen by the default lake folder", "the folder does not exist"},
	}
	for _, c := range cases {
		env := c.env
		if c.chosen == "chosen by $TRAILSQL_LAKE" {
			env = map[string]string{"TRAILSQL_LAKE": c.dir}
		}
		for _, cmd := range commands {
			args := cmd
			if c.flag {
				args = append(append([]string{}, cmd...), "--lake", c.dir)
			}
			code, out, errOut := runEnv(t, env, args...)
			for _, want := range []string{c.dir, c.chosen, c.problem, "trailsql ingest"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("%s: %v: stderr lacks %q:\n%s", c.name, cmd, want, errOut)
				}
			}
			if code != 2 || out != "" {
				t.Errorf("%s: %v: exit %d (want 2), stdout %q", c.name, cmd, code, out)
			}
			if c.dir != notLedger {
				if _, err := os.Stat(c.dir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: %v created %s", c.name, cmd, c.dir)
				}
			} else if _, err := os.Stat(filepath.Join(notLedger, "_trailsql")); err == nil {
				t.Errorf("%s: %v made a lake of %s", c.name, cmd, notLedger)
			}
		}
	}
	// Printing a question's SQL for Athena needs no lake.
	if code, out, errOut := runEnv(t, nil, "ask", "root-activity", "--sql", "--lake", filepath.Join(t.TempDir(), "none")); code != 0 || !strings.Contains(out, "useridentity.type = 'Root'") {
		t.Errorf("ask --sql without a lake: exit %d\n%s%s", code, out, errOut)
	}
}

// A lake that exists but holds nothing says so: the answer is empty because there is nothing to
// look at, not because nothing happened.
func TestEmptyLakeSaysSo(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	mustRun(t, 0, "ingest", "--lake", lake, t.TempDir())
	code, _, errOut := run(t, "", "query", "--lake", lake, "SELECT count(*) FROM cloudtrail_logs")
	if code != 0 || !strings.Contains(errOut, "the lake "+lake+" (chosen by --lake) is empty") {
		t.Errorf("query on an empty lake: exit %d, stderr %q", code, errOut)
	}
	a := askJSON(t, "root-activity", "--lake", lake)
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "the lake holds no events") || a.Coverage.Events != 0 {
		t.Errorf("ask on an empty lake: warnings %q, coverage %+v", a.Warnings, a.Coverage)
	}
	mustRun(t, 0, "compact", "--lake", lake)
}

// Every answer says what the lake holds for it, and warns when the window or the baseline reach
// before the lake's first event, or when nothing is in the window.
func TestAskSaysLakeCoverage(t *testing.T) {
	g := generatedLake(t, 3, 4000)
	first, last := *g.recs[0].EventTime, *g.recs[0].EventTime
	for _, r := range g.recs {
		first, last = min(first, *r.EventTime), max(last, *r.EventTime)
	}
	firstT, err := time.Parse(time.RFC3339, first)
	if err != nil {
		t.Fatal(err)
	}
	end := g.truth.Newest.Add(time.Second)
	T := questions.TimeText(end)
	inside := questions.TimeText(firstT.Add(10 * 24 * time.Hour))
	cases := []struct {
		name string
		args []string
		want []string // a substring of each warning, in order; none: no warning
	}{
		{"window inside the lake", []string{"active-users", "--from", inside, "--to", T}, nil},
		{"90 days on a shorter lake", []string{"active-users", "--days", "90", "--to", T}, []string{"before the lake's first event (" + first + "): the answer covers only " + first + " to " + T}},
		{"window before the lake", []string{"root-activity", "--from", "2020-01-01", "--to", "2020-02-01"}, []string{"ends before the lake's first event (" + first + "): the lake holds nothing in it; the lake holds " + lakeText(len(g.recs), first, last)}},
		{"window after the lake", []string{"root-activity", "--from", "2030-01-01", "--to", "2030-02-01"}, []string{"starts after the lake's last event (" + last + ")"}},
		{"baseline partly before the lake", []string{"new-behaviour", "--from", inside, "--to", T, "--baseline-days", "30"}, []string{"the baseline " + questions.TimeText(firstT.Add(-20*24*time.Hour)) + " to " + inside + " is partial: the lake holds only " + first + " to " + inside}},
		{"baseline before the lake", []string{"new-behaviour", "--from", first, "--to", T, "--baseline-days", "7"}, []string{"is empty: the lake's first event is at " + first + ", so every action in the window shows as new"}},
		{"no rows inside the lake", []string{"access-key", "--principal", "AKIAIOSFODNN7EXAMPLE", "--from", inside, "--to", T}, []string{"no rows; the lake holds " + lakeText(len(g.recs), first, last)}},
		{"one account", []string{"root-activity", "--account", "999999999999", "--from", inside, "--to", T}, []string{"the lake holds no events (account 999999999999)"}},
	}
	for _, c := range cases {
		args := append(append([]string{}, c.args...), "--lake", g.lake)
		a := askJSON(t, args...)
		if len(a.Warnings) != len(c.want) {
			t.Errorf("%s: warnings %q, want %d", c.name, a.Warnings, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(a.Warnings[i], w) {
				t.Errorf("%s: warning %q lacks %q", c.name, a.Warnings[i], w)
			}
		}
		if a.Coverage.Events != int64(len(g.recs)) && !strings.Contains(c.name, "account") {
			t.Errorf("%s: coverage %+v, the lake holds %d events", c.name, a.Coverage, len(g.recs))
		}
		// The same warnings on stderr, and the coverage in the header, in every format.
		code, out, errOut := run(t, "", append(append([]string{"ask"}, args...), "--format", "table")...)
		if code != 0 || !strings.Contains(out, "lake: ") {
			t.Errorf("%s: table: exit %d, no lake line:\n%s", c.name, code, out)
		}
		for _, w := range a.Warnings {
			if !strings.Contains(errOut, "warning: "+w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errOut)
			}
		}
	}
}

func lakeText(events int, first, last string) string {
	return fmt.Sprintf("%d events from %s to %s", events, first, last)
}
