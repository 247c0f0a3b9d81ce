package main

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/authz"
)

// --from and --to take an age as 'ingest --from' does, relative to the same now.
func TestWindowAges(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	end := now.Add(time.Second)
	for _, c := range []struct {
		from, to   string
		wantFrom   time.Time
		wantTo     time.Time
		wantErrSub string
	}{
		{from: "7d", wantFrom: end.Add(-7 * 24 * time.Hour), wantTo: end},
		{from: "12h", wantFrom: end.Add(-12 * time.Hour), wantTo: end},
		{from: "30d", to: "1d", wantFrom: end.Add(-30 * 24 * time.Hour), wantTo: end.Add(-24 * time.Hour)},
		{from: "2026-02-01", wantFrom: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), wantTo: end},
		{from: "7x", wantErrSub: "an age such as 7d"},
		{from: "-3d", wantErrSub: "not a time"},
	} {
		var w windowFlags
		cmd := &cobra.Command{}
		w.register(cmd)
		w.from, w.to, w.now = c.from, c.to, func() time.Time { return now }
		from, to, err := w.window(cmd)
		if c.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
				t.Errorf("--from %s: error %v, want %q", c.from, err, c.wantErrSub)
			}
			continue
		}
		if err != nil || !from.Equal(c.wantFrom) || !to.Equal(c.wantTo) {
			t.Errorf("--from %s --to %s: %s to %s (%v), want %s to %s", c.from, c.to, from, to, err, c.wantFrom, c.wantTo)
		}
	}
}

// ask, policy and unused have one default window and the same --format flag.
func TestOneDefaultWindowAndFormat(t *testing.T) {
	root := (&Main{}).rootCommand()
	for _, name := range []string{"ask", "policy", "unused"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if f := cmd.Flags().Lookup("days"); f == nil || f.DefValue != "90" {
			t.Errorf("%s --days default: %v, want 90", name, f)
		}
		for _, flag := range []string{"from", "to", "format"} {
			if cmd.Flags().Lookup(flag) == nil {
				t.Errorf("%s has no --%s", name, flag)
			}
		}
	}
}

// A mistyped flag or question gets the name that was meant.
func TestTypoSuggestions(t *testing.T) {
	lake := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ask", "root-activty", "--lake", lake}, "did you mean root-activity?"},
		{[]string{"ask", "--fomat", "json"}, "did you mean --format?"},
		{[]string{"query", "--lake", lake, "--max-row", "5", "SELECT 1"}, "did you mean --max-rows?"},
		{[]string{"policy", "--principle", "x"}, "did you mean --principal?"},
	} {
		code, _, errOut := run(t, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("trailsql %s: exit %d, stderr %q, want %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

// --version names the commit the binary was built from, as go build records it.
func TestVersionNamesCommit(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0d3375a1b2c3d4e5f60718293a4b5c6d7e8f9012"},
		{Key: "vcs.time", Value: "2026-03-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got, want := versionOf(bi), "dev (commit 0d3375a1b2c3d4e5f60718293a4b5c6d7e8f9012, 2026-03-01T10:00:00Z, with uncommitted changes)"; got != want {
		t.Errorf("versionOf = %q, want %q", got, want)
	}
	bi.Main.Version = "v0.3.0"
	bi.Settings = bi.Settings[:3]
	if got, want := versionOf(bi), "v0.3.0 (commit 0d3375a1b2c3d4e5f60718293a4b5c6d7e8f9012, 2026-03-01T10:00:00Z)"; got != want {
		t.Errorf("versionOf = %q, want %q", got, want)
	}
	if got := versionOf(&debug.BuildInfo{}); !strings.Contains(got, "no commit recorded") {
		t.Errorf("versionOf without vcs = %q", got)
	}
	_, out, _ := run(t, "", "--version")
	if !strings.HasPrefix(out, "trailsql version ") || !strings.Contains(out, "commit") {
		t.Errorf("--version printed %q", out)
	}
}

// policy --format csv lists one row per statement and action; json stays the document.
func TestPolicyFormats(t *testing.T) {
	doc := &authz.Document{Version: "2012-10-17", Statements: []*authz.Statement{
		{Sid: "S3", Effect: authz.Allow, Actions: []string{"s3:GetObject", "s3:ListBucket"}, Resources: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}},
		{Sid: "PassRoleToLambda", Effect: authz.Allow, Actions: []string{"iam:PassRole"}, Resources: []string{"*"}, Condition: `{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}`},
	}}
	var b strings.Builder
	if err := writePolicy(&b, "csv", doc); err != nil {
		t.Fatal(err)
	}
	want := `sid,effect,action,resource,condition
S3,Allow,s3:GetObject,arn:aws:s3:::b arn:aws:s3:::b/*,
S3,Allow,s3:ListBucket,arn:aws:s3:::b arn:aws:s3:::b/*,
PassRoleToLambda,Allow,iam:PassRole,*,"{""StringEquals"":{""iam:PassedToService"":""lambda.amazonaws.com""}}"
`
	if b.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), want)
	}
	if code, _, errOut := run(t, "", "policy", "--all", "--format", "yaml"); code == 0 || !strings.Contains(errOut, `--format "yaml"`) {
		t.Errorf("--format yaml: exit %d, %s", code, errOut)
	}
}

// A wrong --format is refused before any lake is opened or statement run.
func TestFormatCheckedFirst(t *testing.T) {
	missing := t.TempDir() + "/no-such-lake"
	for _, args := range [][]string{
		{"ask", "active-users", "--format", "yaml"},
		{"query", "--format", "yaml", "SELECT 1"},
		{"unused", "--authz", "x.json", "--format", "yaml"},
		{"policy", "--principal", "x", "--format", "yaml"},
		{"info", "--format", "yaml"},
	} {
		code, _, errOut := run(t, "", append(args, "--lake", missing)...)
		if code != 1 || !strings.Contains(errOut, "--format") || !strings.Contains(errOut, "yaml") {
			t.Errorf("trailsql %s: exit %d, stderr %q, want the format refused first", strings.Join(args, " "), code, errOut)
		}
	}
}
