package sigma

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/testshared"
)

// sharedRules is the number of SigmaHQ CloudTrail rules in ../shared (SOURCE.md there).
const sharedRules = 57

// TestSharedRules loads the SigmaHQ CloudTrail rules: every one loads, and each either compiles
// or says precisely why not. The table is printed with -v.
func TestSharedRules(t *testing.T) {
	dir := testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")
	rules, errs := Load(dir)
	for _, e := range errs {
		t.Errorf("load: %v", e)
	}
	if len(rules) != sharedRules {
		t.Fatalf("loaded %d rules, want %d", len(rules), sharedRules)
	}
	evaluated := 0
	var table strings.Builder
	for _, r := range rules {
		if r.Author == "" && len(r.References) == 0 {
			t.Errorf("%s: attribution (author, references) lost", r.File)
		}
		sql, err := r.SQL()
		status := "evaluated"
		var ue *UnsupportedError
		switch {
		case err == nil:
			evaluated++
			if !strings.Contains(sql, "coalesce(") {
				t.Errorf("%s: SQL without two-valued leaves: %s", r.File, sql)
			}
		case errors.As(err, &ue) && ue.Reason != "" && ue.File == r.File:
			status = "not evaluated: " + ue.Reason
		default:
			t.Errorf("%s: error is not a precise *UnsupportedError: %v", r.File, err)
		}
		fmt.Fprintf(&table, "%-70s %s\n", filepath.Base(r.File), status)
		for _, n := range r.Notes() {
			fmt.Fprintf(&table, "%-70s   note: %s\n", "", n)
		}
	}
	t.Logf("evaluated %d / %d SigmaHQ CloudTrail rules\n%s", evaluated, len(rules), table.String())
	// Every shared rule compiles today; a change that loses one must say so here.
	if evaluated != sharedRules {
		t.Errorf("evaluated %d / %d", evaluated, sharedRules)
	}
}

// TestSharedRulesOnEvents runs every compiled shared rule on trailsql's engine over events built
// from the rule's own detection by the test's generator (generate_test.go, independent of the
// compiler): the matching events (letter case swapped too) match, and each event that differs
// from one of them in a tested field, or makes a negated filter true, does not.
func TestSharedRulesOnEvents(t *testing.T) {
	dir := testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")
	rules, errs := Load(dir)
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	type expect struct {
		rule   *Rule
		sql    string
		want   map[string]string // event id → why it must match
		reject map[string]string // event id → why it must not
	}
	var records []map[string]any
	var expects []*expect
	for i, r := range rules {
		sql, err := r.SQL()
		if err != nil {
			continue
		}
		data, err := os.ReadFile(r.File)
		if err != nil {
			t.Fatal(err)
		}
		g, err := generate(data)
		if err != nil {
			t.Errorf("%s: the generator cannot build its events (%v); write cases by hand", r.File, err)
			continue
		}
		e := &expect{rule: r, sql: sql, want: map[string]string{}, reject: map[string]string{}}
		for j, ev := range g.match {
			id := fmt.Sprintf("r%02d-match-%02d", i, j)
			records = append(records, withBase(ev.record, id))
			e.want[id] = ev.why
		}
		for j, ev := range g.noMatch {
			id := fmt.Sprintf("r%02d-nomatch-%02d", i, j)
			records = append(records, withBase(ev.record, id))
			e.reject[id] = ev.why
		}
		expects = append(expects, e)
	}
	q := lakeOf(t, records)
	checked := 0
	for _, e := range expects {
		got := matching(t, q, e.sql)
		for id, why := range e.want {
			if !got[id] {
				t.Errorf("%s: event %s (%s) does not match\n  SQL: %s", filepath.Base(e.rule.File), id, why, e.sql)
			}
		}
		for id, why := range e.reject {
			if got[id] {
				t.Errorf("%s: event %s (%s) matches\n  SQL: %s", filepath.Base(e.rule.File), id, why, e.sql)
			}
		}
		checked += len(e.want) + len(e.reject)
	}
	t.Logf("%d rules, %d events checked", len(expects), checked)
	if len(expects) == 0 {
		t.Fatal("no rule checked")
	}
}

// withBase completes a generated record with the fields every CloudTrail record has.
func withBase(rec map[string]any, id string) map[string]any {
	out := map[string]any{
		"eventVersion": "1.08", "eventTime": "2024-05-01T03:04:05Z", "awsRegion": "us-east-1",
		"recipientAccountId": "111122223333",
	}
	for k, v := range rec {
		out[k] = v
	}
	out["eventID"] = id
	return out
}

// lakeOf ingests records, as one CloudTrail log file, into a new lake.
func lakeOf(t *testing.T, records []map[string]any) answer.QueryFunc {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"Records": records}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "events.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return answertest.Ingested(t, dir)
}

// matching runs a rule's SQL and returns the ids of the events it matches.
func matching(t *testing.T, q answer.QueryFunc, sql string) map[string]bool {
	t.Helper()
	res, err := q(context.Background(), "SELECT eventid FROM cloudtrail_logs WHERE "+sql)
	if err != nil {
		t.Fatalf("%v\n  SQL: %s", err, sql)
	}
	got := map[string]bool{}
	for _, id := range res.Strings() {
		got[id] = true
	}
	return got
}
