package main

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

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
	dialect(&opt)
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
