package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/rules"
)

// detect lists the generated trail's attack: the escalation, root's sign-ins, the sign-ins
// without MFA and the failed sign-in burst; the ingest stored, commit by commit, what a backtest
// of the per-event rules finds.
func TestDetectCommand(t *testing.T) {
	g := generatedLake(t, 11, 20000)
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(g.truth.Newest.Add(time.Second))
	out := mustRun(t, 0, "detect", "--lake", g.lake, "--from", from, "--to", to, "--format", "json")
	var alerts []map[string]any
	if err := json.Unmarshal([]byte(out), &alerts); err != nil {
		t.Fatal(err)
	}
	by := map[string][]map[string]any{}
	for _, a := range alerts {
		by[a["rule"].(string)] = append(by[a["rule"].(string)], a)
	}
	for _, id := range []string{"privilege-escalation", "access-key-for-another-user", "console-signin-without-mfa", "failed-signin-burst", "root-activity"} {
		if len(by[id]) == 0 {
			t.Errorf("no alert of %s", id)
		}
	}
	// Every step of the generator's escalation that raises privileges is alerted.
	esc := g.truth.Escalation
	seen := map[string]bool{}
	for _, a := range append(by["privilege-escalation"], by["access-key-for-another-user"]...) {
		if p := a["principal"].(string); p == esc.User || strings.HasSuffix(p, "/"+esc.User) {
			seen[a["event_source"].(string)+":"+a["event_name"].(string)] = true
		}
	}
	for _, e := range esc.Events {
		switch {
		case strings.HasSuffix(e, "!"), e == "sts.amazonaws.com:GetCallerIdentity", strings.HasPrefix(e, "iam.amazonaws.com:List"):
			continue
		}
		if !seen[e] {
			t.Errorf("escalation step %s not alerted (alerted: %v)", e, seen)
		}
	}
	signins := 0
	for _, a := range by["root-activity"] {
		if a["event_name"] == "ConsoleLogin" {
			signins++
		}
	}
	if signins == 0 {
		t.Error("root's console sign-ins are not alerted")
	}
	if b := by["failed-signin-burst"]; len(b) != 1 || b[0]["count"].(float64) < 5 {
		t.Errorf("failed sign-in burst: %v", b)
	}

	// What the ingest stored is the backtest of the rules without a threshold.
	stored, err := rules.OpenStore(g.lake).Alerts()
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, a := range stored {
		got = append(got, a.Rule+" "+a.EventID)
	}
	for _, a := range alerts {
		want = append(want, a["rule"].(string)+" "+a["event_id"].(string))
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("ingest stored %d alerts, detect finds %d", len(got), len(want))
	}

	// alerts lists what was stored, filtered like detect.
	listed := mustRun(t, 0, "alerts", "--lake", g.lake, "--from", from, "--to", to, "--format", "csv")
	if n := strings.Count(strings.TrimSpace(listed), "\n"); n != len(stored) {
		t.Errorf("alerts lists %d, %d are stored", n, len(stored))
	}
	listed = mustRun(t, 0, "alerts", "--lake", g.lake, "--from", from, "--to", to, "--rule", "failed-signin-burst", "--format", "csv")
	if n := strings.Count(strings.TrimSpace(listed), "\n"); n != 1 {
		t.Errorf("alerts --rule failed-signin-burst lists %d:\n%s", n, listed)
	}

	// --rule keeps one rule; an unknown id is refused.
	out = mustRun(t, 0, "detect", "--lake", g.lake, "--from", from, "--to", to, "--rule", "failed-signin-burst", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "failed-signin-burst") {
		t.Errorf("--rule failed-signin-burst:\n%s", out)
	}
	if code, _, errOut := run(t, "", "detect", "--lake", g.lake, "--rule", "no-such-rule"); code == 0 || !strings.Contains(errOut, "no rule no-such-rule") {
		t.Errorf("unknown rule: exit %d, %s", code, errOut)
	}

	// --min-severity high keeps the alerts of the high and critical rules, all of them, and says
	// how many rules it left out; an unknown severity is refused.
	code, out, errOut := run(t, "", "detect", "--lake", g.lake, "--from", from, "--to", to, "--min-severity", "high", "--format", "json")
	var high []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &high) != nil || !strings.Contains(errOut, "rules below --min-severity high left out") {
		t.Fatalf("--min-severity high: exit %d, %s", code, errOut)
	}
	wantHigh := 0
	for _, a := range alerts {
		if s := a["severity"]; s == "high" || s == "critical" {
			wantHigh++
		}
	}
	if len(high) != wantHigh || wantHigh == 0 || wantHigh == len(alerts) {
		t.Errorf("--min-severity high: %d alerts, %d of the %d are high or critical", len(high), wantHigh, len(alerts))
	}
	if code, _, errOut := run(t, "", "detect", "--lake", g.lake, "--min-severity", "severe"); code == 0 || !strings.Contains(errOut, `--min-severity: severity "severe": give one of info, low, medium, high, critical`) {
		t.Errorf("unknown severity: exit %d, %s", code, errOut)
	}
}

func TestRulesCommands(t *testing.T) {
	out := mustRun(t, 0, "rules", "list", "--format", "csv")
	for _, id := range []string{"cis-4.1-unauthorized-api-calls", "root-activity", "failed-signin-burst"} {
		if !strings.Contains(out, "\n"+id+",") {
			t.Errorf("rules list has no %s", id)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "rules:\n  - id: good\n    title: ok\n    severity: low\n    condition: eventname = 'GetObject'\n  - id: unknown-column\n    title: t\n    severity: low\n    condition: nosuch = 1\n  - id: typo\n    title: t\n    severity: low\n    conditon: true\n")
	code, out, _ := run(t, "", "rules", "lint", "--no-builtin", "--rules", bad)
	if code != 1 || !strings.Contains(out, "bad.yml:13: rule typo: field conditon not found in a rule") || !strings.Contains(out, "unknown-column ("+bad+":6)") || !strings.Contains(out, "1 rules can be evaluated, 2 cannot") {
		t.Errorf("lint: exit %d\n%s", code, out)
	}
	writeFile(t, bad, strings.Replace(mustRead(t, bad), "conditon", "condition", 1))
	code, out, _ = run(t, "", "rules", "lint", "--no-builtin", "--rules", bad)
	if code != 1 || !strings.Contains(out, "2 rules can be evaluated, 1 cannot") {
		t.Errorf("lint, the typo fixed: exit %d\n%s", code, out)
	}

	// A rule test file: one test passes, one fails and says why.
	rulesFile := filepath.Join(dir, "mine.yml")
	writeFile(t, rulesFile, "rules:\n  - id: get-object\n    title: \"{{ eventname }} by {{ useridentity.arn }}\"\n    severity: low\n    condition: eventname = 'GetObject'\n")
	testFile := filepath.Join(dir, "mine.test.yml")
	writeFile(t, testFile, `rule_files: [mine.yml]
tests:
  - name: fires on GetObject
    rules: [get-object]
    events:
      - {eventTime: "2024-05-01T10:00:00Z", eventSource: s3.amazonaws.com, eventName: GetObject, userIdentity: {type: IAMUser, arn: "arn:aws:iam::111122223333:user/a"}, eventID: e1, awsRegion: us-east-1, recipientAccountId: "111122223333"}
      - {eventTime: "2024-05-01T10:00:01Z", eventSource: s3.amazonaws.com, eventName: PutObject, userIdentity: {type: IAMUser, arn: "arn:aws:iam::111122223333:user/a"}, eventID: e2, awsRegion: us-east-1, recipientAccountId: "111122223333"}
    alerts:
      - {rule: get-object, event_id: e1, title: "GetObject by arn:aws:iam::111122223333:user/a"}
  - name: a wrong expectation
    rules: [get-object, root-activity]
    events:
      - {eventTime: "2024-05-01T10:00:00Z", eventSource: s3.amazonaws.com, eventName: GetObject, userIdentity: {type: IAMUser, arn: "arn:aws:iam::111122223333:user/a"}, eventID: e1, awsRegion: us-east-1, recipientAccountId: "111122223333"}
    alerts:
      - {rule: root-activity, event_id: e1}
`)
	code, out, _ = run(t, "", "rules", "test", testFile)
	if code != 1 || !strings.Contains(out, "ok    "+testFile+":3 fires on GetObject") || !strings.Contains(out, "FAIL  "+testFile+":10 a wrong expectation") ||
		!strings.Contains(out, "missing alert: root-activity on e1") || !strings.Contains(out, "unexpected alert: get-object on e1") {
		t.Errorf("rules test: exit %d\n%s", code, out)
	}
}

// query --pattern answers what the same pattern's SQL answers.
func TestQueryPattern(t *testing.T) {
	g := generatedLake(t, 5, 6000)
	got := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "--pattern", `{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }`)
	want := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "SELECT * FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication' ORDER BY eventtime, eventid")
	if got != want || strings.Count(got, "\n") < 2 {
		t.Errorf("--pattern:\n%s\nSQL:\n%s", got, want)
	}
	if code, _, errOut := run(t, "", "query", "--lake", g.lake, "--pattern", `{ $.eventName = }`); code == 0 || !strings.Contains(errOut, "--pattern: column") {
		t.Errorf("bad pattern: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "query", "--lake", g.lake, "--pattern", `{ $.eventName = "x" }`, "SELECT 1"); code == 0 || !strings.Contains(errOut, "give no SQL") {
		t.Errorf("pattern and SQL: exit %d, %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
