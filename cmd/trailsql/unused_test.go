package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/questions"
)

// On a generated inventory, every action of every user and role is classified as the generator's
// grants and the decoded trail say: granted and used → used; used, not granted → not-granted;
// granted, not used → unused when CloudTrail records it (data events only where the lake has
// them), else unknown.
func TestUnusedMatchesTruth(t *testing.T) {
	g := generatedLake(t, 5, 20000)
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
	// What the lake logs as data events, and what each principal used, from the decoded files.
	dataLogged := map[string]bool{}
	for _, r := range g.recs {
		if sv(r.EventCategory) == "Data" {
			dataLogged[iam.SourcePrefix(sv(r.EventSource))] = true
		}
	}
	used := usedActions(g.recs)
	if len(reports) != len(inv.Truth.Principals) {
		t.Fatalf("%d reports for %d principals", len(reports), len(inv.Truth.Principals))
	}
	counts := map[authz.Class]int{}
	for _, rep := range reports {
		truth := inv.Truth.Principals[rep.Principal.ARN]
		if truth == nil {
			t.Errorf("report for %s, which the inventory does not hold", rep.Principal.ARN)
			continue
		}
		granted := map[string]bool{}
		for _, a := range truth.Granted {
			granted[a] = true
		}
		want := map[string]authz.Class{}
		for a := range granted {
			switch {
			case used[truth.ARN][a]:
				want[a] = authz.Used
			default:
				act, _ := iam.Exists(a)
				vis, _ := authz.VisibilityOf(act)
				if vis == authz.Management || vis == authz.DataEvent && dataLogged[act.Prefix] {
					want[a] = authz.Unused
				} else {
					want[a] = authz.Unknown
				}
			}
		}
		for a := range used[truth.ARN] {
			if !granted[a] {
				want[a] = authz.NotGranted
			}
		}
		got := map[string]authz.Class{}
		for _, row := range rep.Actions {
			if _, dup := got[row.Action]; dup {
				t.Errorf("%s: %s twice", rep.Principal.ARN, row.Action)
			}
			got[row.Action] = row.Class
			counts[row.Class]++
		}
		var wrong []string
		for a, c := range want {
			if got[a] != c {
				wrong = append(wrong, a+": "+string(got[a])+", want "+string(c))
			}
		}
		for a, c := range got {
			if _, ok := want[a]; !ok {
				wrong = append(wrong, a+": "+string(c)+", want nothing")
			}
		}
		sort.Strings(wrong)
		if len(wrong) > 0 {
			t.Errorf("%s: %d actions misclassified, e.g. %s", rep.Principal.ARN, len(wrong), strings.Join(wrong[:min(len(wrong), 8)], "; "))
		}
	}
	for _, c := range []authz.Class{authz.Used, authz.Unused, authz.Unknown} {
		if counts[c] == 0 {
			t.Errorf("no %s action in the whole inventory: the test proves little", c)
		}
	}
	t.Logf("classified: %v", counts)

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
	if code, _, errOut := run(t, "", "unused", "--lake", g.lake); code == 0 || !strings.Contains(errOut, "give --authz") {
		t.Errorf("no --authz: exit %d %s", code, errOut)
	}
}

// Refused calls become not-granted rows only when asked for: the ReadOnly role's PutBucketPolicy.
func TestUnusedIncludeDenied(t *testing.T) {
	g := generatedLake(t, 5, 20000)
	accts, err := generate.Authz(g.opt, g.truth)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "authz.json")
	writeFile(t, file, string(accts[0].JSON))
	args := []string{"unused", "--lake", g.lake, "--authz", file, "--from", questions.TimeText(g.truth.Oldest), "--to", questions.TimeText(g.truth.Newest.Add(time.Second)), "--format", "csv", "--principal", "ReadOnly", "--actions"}
	if out := mustRun(t, 0, args...); strings.Contains(out, "s3:PutBucketPolicy") {
		t.Errorf("refused calls counted as uses:\n%s", out)
	}
	if out := mustRun(t, 0, append(args, "--include-denied")...); !strings.Contains(out, "s3:PutBucketPolicy,not-granted") {
		t.Errorf("--include-denied: no not-granted s3:PutBucketPolicy:\n%s", out)
	}
}
