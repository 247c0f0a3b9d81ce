package roweval_test

import (
	"fmt"
	"testing"

	"github.com/trailsql/trailsql/internal/rules/roweval"
	"github.com/trailsql/trailsql/internal/testshared"
)

// The conditions compiled to typed functions (fast.go) decide every row as the tree does, and
// fail where it fails: every
// condition of the built-in and Sigma rules and of the CloudWatch patterns, and random ones of
// the subset, over every row of the dataset lake. (The tree is compared with the engine by
// TestAgreesWithEngine and TestGeneratedAgreesWithEngine, through Holds: that is, through the
// typed functions where a condition has them.)
func TestFastAgreesWithTree(t *testing.T) {
	_, rows, _ := datasetLake(t)
	var conds []string
	for _, in := range append(ruleInputs(t, testshared.Dir(t, "datasets")), patternInputs(t)...) {
		if in.cond {
			conds = append(conds, in.expr)
		}
	}
	rules := len(conds)
	g := newGen(rows, 7)
	for range 2000 {
		conds = append(conds, g.cond(3))
	}
	fast, fastRules, compared, held := 0, 0, 0, 0
	for i, c := range conds {
		e, err := roweval.Compile(c)
		if err != nil {
			continue
		}
		if !e.Fast() {
			continue
		}
		fast++
		if i < rules {
			fastRules++
		}
		for j := range rows {
			want, wantErr := e.HoldsByTree(&rows[j].row)
			got, err := e.Holds(&rows[j].row)
			if got != want || (err == nil) != (wantErr == nil) {
				t.Errorf("%s on row %s: %v (%v), the tree says %v (%v)", oneLine(c), rows[j].key(), got, err, want, wantErr)
				break
			}
			compared++
			if got {
				held++
			}
		}
	}
	t.Logf("%d of %d rule conditions and %d of %d generated ones compiled to typed functions; %d comparisons, %d where the condition holds",
		fastRules, rules, fast-fastRules, len(conds)-rules, compared, held)
	// Most of the rules' conditions are of the subset; if none were, this test would prove nothing.
	if fastRules*2 < rules || held == 0 {
		t.Error(fmt.Sprintf("only %d of %d rule conditions compiled to typed functions, %d holding", fastRules, rules, held))
	}
}

// A part the tree evaluates fails the condition as the tree fails it, unless a part before it
// decided.
func TestFastPartsFailAsTheTree(t *testing.T) {
	for expr, fails := range map[string]bool{
		"eventname = 'CreateUser' AND CAST(eventname AS DOUBLE) > 1":                     true,
		"eventname = 'Other' AND CAST(eventname AS DOUBLE) > 1":                          false,
		"eventname = 'CreateUser' OR CAST(eventname AS DOUBLE) > 1":                      false,
		"NOT (eventname = 'Other' OR CAST(eventname AS DOUBLE) > 1)":                     true,
		"CASE WHEN eventname = 'CreateUser' THEN CAST(eventname AS DOUBLE) > 1 END":      true,
		"CASE WHEN eventname = 'Other' THEN CAST(eventname AS DOUBLE) > 1 ELSE true END": false,
		"coalesce(eventname = 'CreateUser' AND CAST(eventname AS DOUBLE) > 1, false)":    true,
		"coalesce(eventname IS NULL, CAST(eventname AS DOUBLE) > 1)":                     false,
	} {
		e, err := roweval.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Fast() {
			t.Errorf("%s: not compiled to typed functions", expr)
		}
		_, err = e.Holds(handRow(t))
		if _, treeErr := e.HoldsByTree(handRow(t)); (err != nil) != fails || (treeErr != nil) != fails {
			t.Errorf("%s: Holds fails: %v, the tree fails: %v; want %v", expr, err, treeErr, fails)
		}
	}
}
