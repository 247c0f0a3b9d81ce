package questions

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCatalogParses(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 6 {
		t.Fatalf("%d questions", len(all))
	}
	for _, q := range all {
		if q.Title == "" || q.Description == "" {
			t.Errorf("%s lacks a title or description", q.Name)
		}
		args, err := q.Bind(Params{From: time.Unix(0, 0), To: time.Unix(1, 0), Principal: "arn:aws:iam::1:user/a"})
		if err != nil || len(args) != len(q.Args) {
			t.Errorf("%s: bind: %v", q.Name, err)
		}
	}
	if _, err := Get("nope"); err == nil {
		t.Error("unknown question found")
	}
}

// Every question that counts or shows failures uses FailedPredicate, and none tests errorcode
// alone: a failed console sign-in has no errorCode.
func TestFailedPredicateShared(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	mustUse := map[string]bool{"active-users": true, "active-roles": true, "new-behaviour": true, "identity-activity": true,
		"access-key": true, "console-actions": true, "cross-account": true, "root-activity": true, "failed-console-logins": true}
	for _, q := range all {
		if mustUse[q.Name] != strings.Contains(q.SQL, FailedPredicate) {
			t.Errorf("%s: uses FailedPredicate %v, want %v", q.Name, !mustUse[q.Name], mustUse[q.Name])
		}
		rest := strings.ReplaceAll(q.SQL, FailedPredicate, "")
		for _, bare := range []string{"errorcode IS NOT NULL", "errorcode IS NULL", "'$.ConsoleLogin') = 'Failure'"} {
			if strings.Contains(rest, bare) {
				t.Errorf("%s: tests %q outside FailedPredicate", q.Name, bare)
			}
		}
	}
}

// A mistyped question name is answered with the question it was meant to be.
func TestGetSuggests(t *testing.T) {
	_, err := Get("root-activty")
	if err == nil || !strings.Contains(err.Error(), "did you mean root-activity?") {
		t.Errorf("Get(root-activty): %v", err)
	}
	_, err = Get("weather")
	if err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "there are: access-denied") {
		t.Errorf("Get(weather): %v", err)
	}
}

// Check refuses what a question cannot be asked with, as typed errors that name the parameter
// and no front end's flag.
func TestCheck(t *testing.T) {
	get := func(name string) Question {
		q, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	for _, c := range []struct {
		q              string
		r              Request
		param, problem string // "" for no error
	}{
		{"active-users", Request{}, "", ""},
		{"active-users", Request{Principal: "x"}, "principal", NotTaken},
		{"identity-activity", Request{}, "principal", Missing},
		{"identity-activity", Request{Principal: "x"}, "", ""},
		{"new-behaviour", Request{BaselineDays: 30}, "", ""},
		{"new-behaviour", Request{BaselineDays: 0, BaselineGiven: true}, "baseline", Invalid},
		{"root-activity", Request{BaselineDays: 30, BaselineGiven: true}, "baseline", NotTaken},
		{"inactive-identities", Request{}, "inventory", Missing},
		{"inactive-identities", Request{Inventory: true}, "", ""},
		{"root-activity", Request{Inventory: true}, "inventory", NotTaken},
	} {
		err := get(c.q).Check(c.r)
		var pe *ParamError
		switch {
		case c.param == "" && err != nil:
			t.Errorf("%s %+v: %v", c.q, c.r, err)
		case c.param != "" && (!errors.As(err, &pe) || pe.Param != c.param || pe.Problem != c.problem || strings.Contains(err.Error(), "--")):
			t.Errorf("%s %+v: %v, want a ParamError %s %s naming no flag", c.q, c.r, err, c.param, c.problem)
		}
	}
	if err := get("access-key").CheckPrincipal("user", "IAM user x"); err == nil {
		t.Error("access-key took a user")
	}
}
