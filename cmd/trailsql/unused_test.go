package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/usage"
)

// The truth of the reports is tested in package usage (TestUnusedMatchesTruth); these tests check
// the command: the JSON it writes is authz.Unused's reports, and the other formats and flags
// render them.
func TestUnusedCommand(t *testing.T) {
	g := generatedLake(t, 5, 6000)
	accts, err := generate.Authz(g.opt, g.truth)
	if err != nil {
		t.Fatal(err)
	}
	inv := accts[0]
	file := filepath.Join(t.TempDir(), "authz.json")
	writeFile(t, file, string(inv.JSON))
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(g.truth.Newest.Add(time.Second))
	out := mustRun(t, 0, "unused", "--lake", g.lake, "--authz", file, "--from", from, "--to", to, "--format", "json", "--classes", "all")
	var reports []authz.Report
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatal(err)
	}
	details, err := authz.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := usage.Unused(context.Background(), lakeQuery(t, g.lake), details, details.Principals(), usage.UnusedQuery{Query: usage.Query{From: g.truth.Oldest, To: g.truth.Newest.Add(time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no reports: the test proves nothing")
	}
	if got, want := mustJSON(t, reports), mustJSON(t, want); got != want {
		t.Errorf("unused --format json is not usage.Unused's reports")
	}
	counts := map[authz.Class]int{}
	for _, rep := range reports {
		for _, row := range rep.Actions {
			counts[row.Class]++
		}
	}

	// With --actions, the table shows a summary per principal and the chosen classes only.
	table := mustRun(t, 0, "unused", "--lake", g.lake, "--authz", file, "--from", from, "--to", to, "--format", "table", "--principal", "carol", "--actions")
	if !strings.Contains(table, "user "+g.truth.Identities.Users["carol"]+":") || strings.Contains(table, "│ unknown") {
		t.Errorf("table:\n%s", table)
	}
	// By default, one row per principal with the report's counts, not thousands of actions.
	summary := mustRun(t, 0, "unused", "--lake", g.lake, "--authz", file, "--from", from, "--to", to, "--format", "csv")
	lines := strings.Split(strings.TrimSpace(summary), "\n")
	if len(lines) != len(reports)+1 || lines[0] != "principal,type,granted,used,unused,not_granted,unknown,denied,outside_boundary,problems" {
		t.Fatalf("summary: %d lines for %d principals:\n%s", len(lines), len(reports), summary)
	}
	for _, rep := range reports {
		s := rep.Summary
		want := fmt.Sprintf("%s,%s,%d,%d,%d,%d,%d,%d,%d,%d", rep.Principal.ARN, rep.Principal.Type, s.Granted, s.Used, s.Unused, s.NotGranted, s.Unknown, s.Denied, s.OutsideBoundary, len(rep.Problems))
		if !slices.Contains(lines, want) {
			t.Errorf("summary has no row %s:\n%s", want, summary)
		}
	}
	// Per service, the counts add up to the report's.
	bySvc := mustRun(t, 0, "unused", "--lake", g.lake, "--authz", file, "--from", from, "--to", to, "--format", "json", "--by-service")
	var svcRows []map[string]any
	if err := json.Unmarshal([]byte(bySvc), &svcRows); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, r := range svcRows {
		sum += r["used"].(float64) + r["unused"].(float64) + r["unknown"].(float64) + r["not_granted"].(float64)
	}
	if total := counts[authz.Used] + counts[authz.Unused] + counts[authz.Unknown] + counts[authz.NotGranted]; int(sum) != total {
		t.Errorf("--by-service counts %v actions, the reports %d", sum, total)
	}
	if code, _, errOut := run(t, "", "unused", "--lake", g.lake, "--authz", file, "--principal", "nobody"); code == 0 || !strings.Contains(errOut, "no user or role") {
		t.Errorf("unknown principal: exit %d %s", code, errOut)
	}
	// Refused calls become not-granted rows only with --include-denied: the ReadOnly role's
	// RunInstances in this trail (package usage tests which calls count).
	args := []string{"unused", "--lake", g.lake, "--authz", file, "--from", from, "--to", to, "--format", "csv", "--principal", "readonly", "--actions"}
	if out := mustRun(t, 0, args...); strings.Contains(out, "ec2:RunInstances") {
		t.Errorf("refused calls counted as uses:\n%s", out)
	}
	if out := mustRun(t, 0, append(args, "--include-denied")...); !strings.Contains(out, "role/ReadOnly,ec2:RunInstances,not-granted") {
		t.Errorf("--include-denied: no not-granted ec2:RunInstances:\n%s", out)
	}
	if code, _, errOut := run(t, "", "unused", "--lake", g.lake); code == 0 || !strings.Contains(errOut, "give --authz") {
		t.Errorf("no --authz: exit %d %s", code, errOut)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
