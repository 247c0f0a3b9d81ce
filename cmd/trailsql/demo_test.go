package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/questions"
)

// The demo's answers are what the generator knows it wrote.
func TestDemoAnswersMatchTruth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	gen := generate.Options{Seed: 11, Events: 20000, End: time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)}
	answers, err := runDemo(ctx, io.Discard, dir, gen)
	if err != nil {
		t.Fatal(err)
	}
	// The same trail again, for its truth (generation is deterministic).
	truth, err := generate.Generate(ctx, t.TempDir(), gen)
	if err != nil {
		t.Fatal(err)
	}
	col := func(a *demoAnswer, name string) []string {
		i := -1
		for j, c := range a.Result.Columns {
			if c == name {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("%s has no column %s", a.Question.Name, name)
		}
		var out []string
		for _, r := range a.Result.Rows {
			if s, ok := r[i].(string); ok {
				out = append(out, s)
			}
		}
		sort.Strings(out)
		return out
	}

	users := answers["active-users"]
	if got, want := col(users, "arn"), truth.ActiveUsers(users.Params.From); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Errorf("active users:\n got %v\nwant %v", got, want)
	}
	roles := answers["active-roles"]
	if got, want := col(roles, "role_arn"), truth.ActiveRoles(roles.Params.From); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Errorf("active roles:\n got %v\nwant %v", got, want)
	}
	root := answers["root-activity"]
	if got, want := len(root.Result.Rows), truth.RootEvents(root.Params.From); got != want || want == 0 {
		t.Errorf("root activity: %d rows, truth %d events", got, want)
	}
	logins := answers["console-logins"]
	want := truth.ConsoleLogins(logins.Params.From)
	if len(logins.Result.Rows) != len(want) || len(want) == 0 {
		t.Fatalf("console logins: %d rows, truth %d", len(logins.Result.Rows), len(want))
	}
	okCount, mfaCount := 0, 0
	for _, r := range logins.Result.Rows {
		if r[5] == "Success" {
			okCount++
		}
		if r[6] == "Yes" {
			mfaCount++
		}
	}
	wantOK, wantMFA := 0, 0
	for _, l := range want {
		if l.Success {
			wantOK++
		}
		if l.MFA {
			wantMFA++
		}
	}
	if okCount != wantOK || mfaCount != wantMFA {
		t.Errorf("console logins: %d successes and %d with MFA, truth %d and %d", okCount, mfaCount, wantOK, wantMFA)
	}

	// Over the whole trail: what each role called, and where throttling comes from.
	opt := engine.Options{Lake: filepath.Join(dir, "lake")}
	opt.Dialect = athena.Dialect()
	e, err := engine.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	all := questions.Params{From: truth.Oldest.Add(-time.Second), To: truth.Newest.Add(time.Second)}
	q, _ := questions.Get("identity-activity")
	for _, role := range truth.ActiveRoles(all.From) {
		p := all
		p.Principal = role
		args, _ := q.Bind(p)
		res, err := e.Query(ctx, q.SQL, args...)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, r := range res.Rows {
			calls, _ := r[2].(int64)
			got[r[0].(string)+":"+r[1].(string)] = int(calls)
		}
		if w := truth.RoleActionsAll(role); !reflect.DeepEqual(got, w) {
			t.Errorf("identity-activity %s:\n got %v\nwant %v", role, got, w)
		}
	}
	q, _ = questions.Get("throttling")
	args, _ := q.Bind(all)
	res, err := e.Query(ctx, q.SQL, args...)
	if err != nil {
		t.Fatal(err)
	}
	gotTotal, wantTotal := 0, 0
	for _, r := range res.Rows {
		n, _ := r[6].(int64)
		gotTotal += int(n)
	}
	for _, c := range truth.Throttling() {
		wantTotal += c.Count
	}
	if gotTotal != wantTotal || wantTotal == 0 {
		t.Errorf("throttling: %d throttled calls, truth %d", gotTotal, wantTotal)
	}
}

// The demo's next steps run as printed, pasted after the build line it prints first; the
// README's examples name identities the demo lake holds.
func TestDemoNextStepsRunAsPasted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo dir") // a space, so that quoting is tested too
	var out strings.Builder
	gen := generate.Options{Seed: 3, Events: 5000, End: time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)}
	if _, err := runDemo(context.Background(), &out, dir, gen); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	// The alerts as the messages people receive, delivered to the demo's webhook; the sample
	// config it wrote is a valid run config.
	if !strings.Contains(text, "## The messages people receive") || !strings.Contains(text, " delivered, 0 failed)") || !strings.Contains(text, "signed in to the AWS console") {
		t.Errorf("the demo shows no messages:\n%s", text)
	}
	if _, err := daemon.LoadConfig(filepath.Join(dir, "trailsql.yml"), func(string) string { return "" }, time.Now()); err != nil {
		t.Errorf("the demo's sample config: %v", err)
	}
	build := strings.Index(text, "go build -o trailsql ./cmd/trailsql")
	var steps []string
	for _, line := range strings.Split(text, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "./trailsql "); ok {
			if i := strings.Index(s, "  #"); i >= 0 {
				s = s[:i]
			}
			steps = append(steps, s)
		}
	}
	if build < 0 || len(steps) < 5 || build > strings.Index(text, "./trailsql ") {
		t.Fatalf("no build line before the next steps:\n%s", text)
	}
	for _, s := range steps {
		args := shellSplit(t, s)
		if code, _, errOut := run(t, "", args...); code != 0 {
			t.Errorf("./trailsql %s: exit %d\n%s", s, code, errOut)
		}
	}
	// demo --lake is refused rather than ignored (it would empty the folder it was given).
	if code, _, errOut := run(t, "", "demo", "--lake", dir); code == 0 || !strings.Contains(errOut, "give --dir") {
		t.Errorf("demo --lake: exit %d %s", code, errOut)
	}

	// Every --principal of the README's examples is an identity of the demo lake.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lake := filepath.Join(dir, "lake")
	names := regexp.MustCompile(`\./trailsql (?:ask|policy|unused) [^\n]*--principal ([A-Za-z0-9_+=,.@:/-]+)`).FindAllStringSubmatch(string(readme), -1)
	if len(names) == 0 {
		t.Fatal("no --principal example in README.md")
	}
	for _, m := range names {
		if code, _, errOut := run(t, "", "ask", "identity-activity", "--lake", lake, "--principal", m[1], "--days", "60", "--format", "csv"); code != 0 {
			t.Errorf("README example --principal %s: not an identity of the demo lake: %s", m[1], errOut)
		}
	}
}

// shellSplit splits a command line as a POSIX shell does for plain words and quoted strings.
func shellSplit(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
