package main

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// TestQueryInsights runs query --insights over a generated lake: the Insights query returns what
// the corresponding SQL returns, and the events query --pattern selects for the same question, --sql prints the SQL without running it, and a bad query's error points into it.
func TestQueryInsights(t *testing.T) {
	g := generatedLake(t, 5, 6000)
	got := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "--insights",
		`fields @timestamp, eventName | filter userIdentity.sessionContext.sessionIssuer.userName = "Admin" | sort @timestamp desc | limit 50`)
	want := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv",
		`SELECT from_iso8601_timestamp(eventtime) AS "@timestamp", eventname AS "eventName" FROM cloudtrail_logs WHERE useridentity.sessioncontext.sessionissuer.username = 'Admin' ORDER BY eventtime DESC, eventid LIMIT 50`)
	if got != want || strings.Count(got, "\n") != 51 {
		t.Errorf("--insights:\n%s\nSQL:\n%s", got, want)
	}

	byInsights := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "--insights",
		`filter eventName = "ConsoleLogin" and errorMessage = "Failed authentication" | fields eventID | sort eventID asc`)
	bySQL := mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "SELECT eventid AS \"eventID\" FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication' ORDER BY eventid")
	if byInsights != bySQL || strings.Count(byInsights, "\n") < 2 {
		t.Errorf("--insights:\n%s\nSQL:\n%s", byInsights, bySQL)
	}
	rows, err := csv.NewReader(strings.NewReader(mustRun(t, 0, "query", "--lake", g.lake, "--format", "csv", "--pattern",
		`{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }`))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "eventid")
	ids := []string{"eventID"}
	for _, r := range rows[1:] {
		ids = append(ids, r[col])
	}
	slices.Sort(ids[1:])
	if byPattern := strings.Join(ids, "\n") + "\n"; byPattern != byInsights {
		t.Errorf("--insights:\n%s\n--pattern:\n%s", byInsights, byPattern)
	}

	got = mustRun(t, 0, "query", "--lake", g.lake, "--original", "--insights", `filter eventName = "ConsoleLogin" | limit 3`)
	want = mustRun(t, 0, "query", "--lake", g.lake, "--original", `SELECT * FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin' ORDER BY eventtime DESC, eventid LIMIT 3`)
	if got != want || strings.Count(got, `"eventName":"ConsoleLogin"`) != 3 {
		t.Errorf("--insights --original:\n%s\nSQL:\n%s", got, want)
	}

	sql := mustRun(t, 0, "query", "--lake", g.lake, "--insights", `stats count(*) by eventSource`, "--sql")
	if !strings.HasPrefix(sql, "SELECT ") || !strings.Contains(sql, "GROUP BY eventsource") {
		t.Errorf("--sql printed %q", sql)
	}
	code, _, errOut := run(t, "", "query", "--lake", g.lake, "--insights", "fields eventName\n| filter eventName in \"x\"")
	if code == 0 || !strings.Contains(errOut, "--insights: 2:23: ") || !strings.Contains(errOut, "\n"+strings.Repeat(" ", 24)+"^") {
		t.Errorf("bad query: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "query", "--lake", g.lake, "--insights", "fields a", "--pattern", "{ $.a = 1 }"); code == 0 || !strings.Contains(errOut, "give one") {
		t.Errorf("--insights and --pattern: exit %d, %s", code, errOut)
	}
}
