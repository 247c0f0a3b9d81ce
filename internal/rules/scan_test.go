package rules_test

import (
	"context"
	"slices"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/testshared"
)

// The scans grouped by facet column, with the lake's values turning case-insensitive and LIKE
// conditions into exact lists, find what each rule finds on its own, its condition as written.
func TestGroupedScansMatchEachRule(t *testing.T) {
	loaded, err := rules.Load(rules.Sources{Sigma: []string{testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		t.Fatal(err, loaded.Errors)
	}
	l := answertest.Generated(t, 3, 20000)
	ctx := context.Background()
	ok, problems := rules.Validate(ctx, l.Query, loaded.Rules)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	snap, err := lake.OpenSnapshot(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	values := rules.FacetValues(snap.Files)
	if len(values["eventname"]) == 0 {
		t.Fatalf("the lake's files record no event names: %v", values)
	}
	scope := rules.Scope{From: l.From(), To: l.To()}
	grouped, err := rules.Evaluate(ctx, l.Query, ok, rules.Scope{From: scope.From, To: scope.To, Values: values})
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := rules.Evaluate(ctx, l.Query, ok, scope)
	if err != nil {
		t.Fatal(err)
	}
	var alone []*rules.Alert
	fired := 0
	for _, r := range ok {
		as, err := rules.Evaluate(ctx, l.Query, []*rules.Rule{r}, scope)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) > 0 {
			fired++
		}
		alone = append(alone, as...)
	}
	if fired < 10 {
		t.Fatalf("only %d rules fired on the generated trail: the comparison says little", fired)
	}
	want := keys(alone)
	if got := keys(grouped); !slices.Equal(got, want) {
		t.Errorf("grouped scans with the lake's values: %d alerts, each rule alone: %d", len(got), len(want))
	}
	if got := keys(unknown); !slices.Equal(got, want) {
		t.Errorf("grouped scans without values: %d alerts, each rule alone: %d", len(got), len(want))
	}
	t.Logf("%d rules, %d fired, %d alerts", len(ok), fired, len(want))
}
