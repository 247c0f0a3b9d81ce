package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/questions"
)

// genLake is a generated trail, ingested, with what the generator knows and the records decoded
// straight from the files (not through the lake), for computing expected answers in Go.
type genLake struct {
	lake, trail string
	opt         generate.Options
	truth       *generate.Truth
	recs        []*cloudtrail.Record
}

func generatedLake(t *testing.T, seed int64, events int) *genLake {
	t.Helper()
	dir := t.TempDir()
	g := &genLake{lake: filepath.Join(dir, "lake"), trail: filepath.Join(dir, "trail")}
	var err error
	g.opt = generate.Options{Seed: seed, Events: events, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	g.truth, err = generate.Generate(context.Background(), g.trail, g.opt)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, "ingest", "--lake", g.lake, g.trail)
	g.recs = decodeAll(t, g.trail)
	if len(g.recs) != g.truth.Events {
		t.Fatalf("decoded %d events, the generator wrote %d", len(g.recs), g.truth.Events)
	}
	return g
}

// answerJSON is the JSON output of 'trailsql ask'.
type answerJSON struct {
	Question string
	Coverage struct {
		Events     int64
		FirstEvent string `json:"first_event"`
		LastEvent  string `json:"last_event"`
	}
	Warnings []string
	Columns  []string
	Rows     []map[string]any
}

// askJSON runs 'trailsql ask' with JSON output and returns the answer.
func askJSON(t *testing.T, args ...string) answerJSON {
	t.Helper()
	out := mustRun(t, 0, append([]string{"ask", "--format", "json"}, args...)...)
	var a answerJSON
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Warnings == nil || a.Rows == nil {
		t.Fatalf("ask %v: %v (or no warnings and rows fields)\n%s", args, err, out)
	}
	return a
}

// answer runs 'trailsql ask' with JSON output and returns the rows.
func answerRows(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	return askJSON(t, args...).Rows
}

// Names resolve to identities the way the answer says, and ambiguous names are errors.
func TestPrincipalResolution(t *testing.T) {
	g := generatedLake(t, 5, 20000)
	a0 := g.truth.Accounts[0]
	resolve := func(name string, extra ...string) (int, string) {
		code, _, errOut := run(t, "", append([]string{"ask", "identity-activity", "--lake", g.lake, "--days", "3650", "--to", "2026-03-02", "-o", "csv", "--principal", name}, extra...)...)
		return code, errOut
	}
	cases := []struct {
		name  string
		extra []string
		code  int
		says  string
	}{
		{"alice", nil, 0, "user name \"alice\" → IAM user " + g.truth.Identities.Users["alice"]},
		{"Admin", nil, 1, "names roles in 3 accounts"},
		{"Admin", []string{"--account", a0}, 0, "role name \"Admin\" → role " + g.truth.Identities.Roles["Admin"] + ", all its sessions"},
		{g.truth.Identities.Roles["Admin"], nil, 0, "(all its sessions)"},
		{"nobody-here", nil, 1, "no IAM user, role or role session of that name"},
		{"arn:aws:s3:::bucket", nil, 1, "not an IAM or STS ARN"},
		{"root", nil, 0, "root user " + g.truth.Identities.Root},
		{"AKIAIOSFODNN7EXAMPLE", nil, 0, "never used in the lake"},
		{"bad name!", nil, 1, "not a user, role or session name"},
	}
	// A role session name that is nobody's user or role name: an EC2 instance id.
	for _, r := range g.recs {
		arn := sv(uid(r).ARN)
		if sv(uid(r).Type) == "AssumedRole" && strings.Contains(arn, "/i-") {
			parts := strings.Split(arn, "/")
			cases = append(cases, struct {
				name  string
				extra []string
				code  int
				says  string
			}{parts[2], nil, 0, "not a user or role name but a role session name: session " + arn})
			break
		}
	}
	for _, c := range cases {
		code, errOut := resolve(c.name, c.extra...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("--principal %q %v: exit %d, stderr:\n%s\nwant exit %d and %q", c.name, c.extra, code, errOut, c.code, c.says)
		}
	}
}

// Bad flags are refused with a message that says what to give.
func TestAskRefusesBadInput(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	mustRun(t, 0, "ingest", "--lake", lake, t.TempDir()) // an empty lake
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"nope"}, `no question "nope"`},
		{[]string{"active-users", "--days", "0"}, "positive number of days"},
		{[]string{"active-users", "--from", "yesterday"}, "not a time"},
		{[]string{"active-users", "--from", "2026-02-01", "--to", "2026-01-01"}, "the window is empty"},
		{[]string{"active-users", "--account", "12"}, "12 digits"},
		{[]string{"active-users", "--region", "moon"}, "not an AWS region"},
		{[]string{"identity-activity"}, "needs --principal"},
		{[]string{"active-users", "--principal", "alice"}, "does not take --principal"},
		{[]string{"inactive-identities"}, "needs --authz"},
		{[]string{"active-users", "--baseline-days", "3"}, "has no baseline"},
		{[]string{"access-key", "--principal", "arn:aws:iam::111122223333:user/a"}, "needs an access key id"},
	} {
		code, _, errOut := run(t, "", append(append([]string{"ask"}, c.args...), "--lake", lake)...)
		if code == 0 || !strings.Contains(errOut, c.says) {
			t.Errorf("ask %v: exit %d, stderr %q; want %q", c.args, code, errOut, c.says)
		}
	}
	out := mustRun(t, 0, "ask", "--format", "csv")
	all, _ := questions.Catalog()
	for _, q := range all {
		if !strings.Contains(out, q.Name+",") {
			t.Errorf("the list lacks %s", q.Name)
		}
	}
}
