package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/questions"
)

// genLake is a generated trail, ingested, with what the generator knows and the records decoded
// straight from the files (not through the lake), for computing expected answers in Go.
type genLake struct {
	lake, trail string
	opt         generate.Options
	truth       *generate.Truth
	recs        []*cloudtrail.Record
}

func generatedLake(t *testing.T, seed int64, events int) *genLake {
	t.Helper()
	dir := t.TempDir()
	g := &genLake{lake: filepath.Join(dir, "lake"), trail: filepath.Join(dir, "trail")}
	var err error
	g.opt = generate.Options{Seed: seed, Events: events, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	g.truth, err = generate.Generate(context.Background(), g.trail, g.opt)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, "ingest", "--lake", g.lake, g.trail)
	g.recs = decodeAll(t, g.trail)
	if len(g.recs) != g.truth.Events {
		t.Fatalf("decoded %d events, the generator wrote %d", len(g.recs), g.truth.Events)
	}
	return g
}

// answerJSON is the JSON output of 'trailsql ask'.
type answerJSON struct {
	Question string
	Coverage struct {
		Events     int64
		FirstEvent string `json:"first_event"`
		LastEvent  string `json:"last_event"`
	}
	Warnings []string
	Columns  []string
	Rows     []map[string]any
}

// askJSON runs 'trailsql ask' with JSON output and returns the answer.
func askJSON(t *testing.T, args ...string) answerJSON {
	t.Helper()
	out := mustRun(t, 0, append([]string{"ask", "--format", "json"}, args...)...)
	var a answerJSON
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Warnings == nil || a.Rows == nil {
		t.Fatalf("ask %v: %v (or no warnings and rows fields)\n%s", args, err, out)
	}
	return a
}

// answer runs 'trailsql ask' with JSON output and returns the rows.
func answerRows(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	return askJSON(t, args...).Rows
}

// project renders the named columns of every row as one sorted line each.
func project(rows []map[string]any, cols ...string) []string {
	out := []string{}
	for _, r := range rows {
		var parts []string
		for _, c := range cols {
			v := r[c]
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, fmt.Sprint(v))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// tally counts records by key and renders "key|count" lines, sorted.
func tally(recs []*cloudtrail.Record, keep func(*cloudtrail.Record) bool, key func(*cloudtrail.Record) string) []string {
	n := map[string]int{}
	for _, r := range recs {
		if keep(r) {
			n[key(r)]++
		}
	}
	out := []string{}
	for k, c := range n {
		out = append(out, fmt.Sprintf("%s|%d", k, c))
	}
	sort.Strings(out)
	return out
}

// countBy counts, by key, the kept records for which count holds ("key|n" lines, sorted; keys
// with none included).
func countBy(recs []*cloudtrail.Record, keep func(*cloudtrail.Record) bool, key func(*cloudtrail.Record) string, count func(*cloudtrail.Record) bool) []string {
	n := map[string]int{}
	for _, r := range recs {
		if keep(r) {
			k := key(r)
			n[k] += 0
			if count(r) {
				n[k]++
			}
		}
	}
	out := []string{}
	for k, c := range n {
		out = append(out, fmt.Sprintf("%s|%d", k, c))
	}
	sort.Strings(out)
	return out
}

// isFailed is questions.FailedPredicate in Go: an error code, or a sign-in that failed (which
// CloudTrail records with responseElements.ConsoleLogin "Failure" and no errorCode).
func isFailed(r *cloudtrail.Record) bool {
	if r.ErrorCode != nil {
		return true
	}
	res, _ := jsonScalar(r.ResponseElements, "ConsoleLogin")
	return sv(r.EventSource) == "signin.amazonaws.com" && (r.ErrorMessage != nil || res == "Failure")
}

func list(recs []*cloudtrail.Record, keep func(*cloudtrail.Record) bool, key func(*cloudtrail.Record) string) []string {
	out := []string{}
	for _, r := range recs {
		if keep(r) {
			out = append(out, key(r))
		}
	}
	sort.Strings(out)
	return out
}

func orNull(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// principalOf is coalesce(sessionissuer.arn, arn, …) as the questions write it.
func principalOf(r *cloudtrail.Record, more ...*string) string {
	for _, p := range append([]*string{issuer(r).ARN, uid(r).ARN}, more...) {
		if p != nil {
			return *p
		}
	}
	return "NULL"
}

var deniedCodes = map[string]bool{"AuthorizationError": true, "AuthorizationErrorException": true, "Forbidden": true, "ForbiddenException": true, "NotAuthorized": true, "UnauthorizedAccess": true, "UnauthorizedException": true}

func isDenied(r *cloudtrail.Record) bool {
	c := sv(r.ErrorCode)
	return r.ErrorCode != nil && (strings.Contains(c, "AccessDenied") || strings.Contains(c, "UnauthorizedOperation") || deniedCodes[c])
}

func nestedJSON(doc *string, path ...string) (string, bool) {
	if doc == nil {
		return "", false
	}
	var v any
	if json.Unmarshal([]byte(*doc), &v) != nil {
		return "", false
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = m[p]
	}
	s, ok := v.(string)
	return s, ok
}

// Every question answers what the generated trail holds: the expected answers are computed in Go
// from the decoded files (and, where it knows, from the generator's truth), and each question's
// --sql text run by 'trailsql query' gives the same answer.
func TestQuestionsMatchTruth(t *testing.T) {
	g := generatedLake(t, 5, 20000)
	end := g.truth.Newest.Add(time.Second)
	F, T := questions.TimeText(end.Add(-30*24*time.Hour)), questions.TimeText(end)
	in := func(r *cloudtrail.Record) bool { return r.EventTime != nil && *r.EventTime >= F && *r.EventTime < T }
	win := []string{"--lake", g.lake, "--from", F, "--to", T}
	a0 := g.truth.Accounts[0]
	typ := func(r *cloudtrail.Record) string { return sv(uid(r).Type) }
	check := func(t *testing.T, name string, got, want []string) {
		t.Helper()
		if len(want) == 0 {
			t.Errorf("%s: the generated trail has nothing to find; the test proves nothing", name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %d %v\nwant %d %v", name, len(got), got, len(want), want)
		}
	}
	ask := func(t *testing.T, name string, extra ...string) []map[string]any {
		t.Helper()
		args := append(append([]string{name}, win...), extra...)
		rows := answerRows(t, args...)
		// The printed SQL, run as a plain query, gives the same answer.
		sqlText := mustRun(t, 0, append([]string{"ask", "--sql"}, args...)...)
		code, out, errOut := run(t, sqlText, "query", "--lake", g.lake, "--format", "json", "-")
		if code != 0 {
			t.Fatalf("%s: the --sql text fails in query: %s\n%s", name, errOut, sqlText)
		}
		var again []map[string]any
		if err := json.Unmarshal([]byte(out), &again); err != nil || !reflect.DeepEqual(rows, again) {
			t.Errorf("%s: --sql answers differently (%v):\n%s", name, err, sqlText)
		}
		return rows
	}

	t.Run("active-users", func(t *testing.T) {
		rows := ask(t, "active-users")
		check(t, "active-users", project(rows, "arn", "calls"), tally(g.recs, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "IAMUser" && uid(r).ARN != nil }, func(r *cloudtrail.Record) string { return *uid(r).ARN }))
		// Failed sign-ins count as errors (they carry no errorCode).
		check(t, "active-users errors", project(rows, "arn", "errors"), countBy(g.recs, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "IAMUser" && uid(r).ARN != nil }, func(r *cloudtrail.Record) string { return *uid(r).ARN }, isFailed))
		signins := map[string]bool{}
		for _, l := range g.truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
			if !l.Success && l.Type == "IAMUser" && l.ARN != "" {
				signins[l.ARN] = true
			}
		}
		if len(signins) == 0 {
			t.Fatal("the generator made no failed sign-in of a user in the window; the test proves nothing")
		}
		for _, r := range rows {
			if signins[fmt.Sprint(r["arn"])] && fmt.Sprint(r["errors"]) == "0" {
				t.Errorf("user %v failed to sign in, active-users says 0 errors", r["arn"])
			}
		}
		if got, want := project(rows, "arn"), g.truth.ActiveUsers(end.Add(-30*24*time.Hour)); !reflect.DeepEqual(got, want) {
			t.Errorf("active users %v, the generator says %v", got, want)
		}
	})
	t.Run("active-roles", func(t *testing.T) {
		rows := ask(t, "active-roles")
		check(t, "active-roles", project(rows, "role_arn", "calls"), tally(g.recs, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "AssumedRole" && issuer(r).ARN != nil }, func(r *cloudtrail.Record) string { return *issuer(r).ARN }))
		if got, want := project(rows, "role_arn"), g.truth.ActiveRoles(end.Add(-30*24*time.Hour)); !reflect.DeepEqual(got, want) {
			t.Errorf("active roles %v, the generator says %v", got, want)
		}
	})
	t.Run("root-activity", func(t *testing.T) {
		rows := ask(t, "root-activity")
		check(t, "root-activity", project(rows, "eventtime", "eventname", "failed"), list(g.recs, func(r *cloudtrail.Record) bool {
			return in(r) && typ(r) == "Root" && uid(r).InvokedBy == nil && sv(r.EventType) != "AwsServiceEvent"
		}, func(r *cloudtrail.Record) string {
			return *r.EventTime + "|" + sv(r.EventName) + "|" + fmt.Sprint(isFailed(r))
		}))
		// The generator's failed root sign-ins are failed rows, its successful ones are not.
		got := map[string]bool{}
		for _, r := range rows {
			if r["eventname"] == "ConsoleLogin" {
				got[fmt.Sprint(r["eventtime"])] = r["failed"] == true
			}
		}
		failures := 0
		for _, l := range g.truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
			if l.Type != "Root" {
				continue
			}
			failed, ok := got[questions.TimeText(l.Time)]
			if !ok || failed == l.Success {
				t.Errorf("root sign-in at %s (success %v): in the answer %v, failed %v", l.Time, l.Success, ok, failed)
			}
			if !l.Success {
				failures++
			}
		}
		if failures == 0 {
			t.Error("the generator made no failed root sign-in in the window; the test proves nothing")
		}
	})
	t.Run("console-logins", func(t *testing.T) {
		rows := ask(t, "console-logins")
		var want []string
		for _, l := range g.truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
			res := "Failure"
			if l.Success {
				res = "Success"
			}
			want = append(want, questions.TimeText(l.Time)+"|"+res+"|"+l.SourceIP)
		}
		sort.Strings(want)
		check(t, "console-logins", project(rows, "eventtime", "result", "sourceipaddress"), want)
	})
	t.Run("failed-console-logins", func(t *testing.T) {
		rows := ask(t, "failed-console-logins")
		n := map[string]int{}
		for _, l := range g.truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
			if !l.Success {
				n[l.Account+"|"+l.SourceIP]++
			}
		}
		var want []string
		for k, c := range n {
			want = append(want, fmt.Sprintf("%s|%d", k, c))
		}
		sort.Strings(want)
		check(t, "failed-console-logins", project(rows, "account", "sourceipaddress", "failures"), want)
	})
	t.Run("throttling", func(t *testing.T) {
		rows := ask(t, "throttling")
		// A role's throttled calls are named by the role's ARN and account, not its sessions'
		// AROA…:session ids, which are listed beside it.
		check(t, "throttling", project(rows, "principal", "principal_account", "eventsource", "eventname", "awsregion", "useragent", "count"), tally(g.recs, func(r *cloudtrail.Record) bool {
			switch sv(r.ErrorCode) {
			case "ThrottlingException", "Throttling", "RequestLimitExceeded", "Client.RequestLimitExceeded", "TooManyRequestsException", "ThrottledException":
				return in(r)
			}
			return false
		}, func(r *cloudtrail.Record) string {
			acct := uid(r).AccountID
			if issuer(r).AccountID != nil {
				acct = issuer(r).AccountID
			}
			return principalOf(r, uid(r).InvokedBy, uid(r).PrincipalID) + "|" + orNull(acct) + "|" + sv(r.EventSource) + "|" + sv(r.EventName) + "|" + sv(r.AWSRegion) + "|" + sv(r.UserAgent)
		}))
		roles := 0
		for _, r := range rows {
			if p, _ := r["principal"].(string); strings.Contains(p, ":role/") {
				roles++
				if ids, _ := r["principal_ids"].(string); !strings.Contains(ids, ":") {
					t.Errorf("throttled role %s: session ids %q, want AROA…:session", p, ids)
				}
			}
		}
		if roles == 0 {
			t.Error("no throttled role in the answer: the test proves nothing about naming roles")
		}
	})
	t.Run("identity-activity", func(t *testing.T) {
		admin := g.truth.Identities.Roles["Admin"]
		rows := ask(t, "identity-activity", "--principal", "Admin", "--account", a0)
		check(t, "identity-activity", project(rows, "eventsource", "eventname", "calls"), tally(g.recs, func(r *cloudtrail.Record) bool { return in(r) && sv(issuer(r).ARN) == admin }, func(r *cloudtrail.Record) string { return sv(r.EventSource) + "|" + sv(r.EventName) }))
	})
	t.Run("access-key", func(t *testing.T) {
		// The key carol's escalation created for ci-deploy: its lifecycle, and every use of it.
		var key string
		for _, r := range g.recs {
			if sv(r.EventName) == "CreateAccessKey" && r.ErrorCode == nil {
				key, _ = nestedJSON(r.ResponseElements, "accessKey", "accessKeyId")
				break
			}
		}
		if key == "" {
			t.Fatal("no CreateAccessKey in the trail")
		}
		rows := ask(t, "access-key", "--principal", key)
		want := tally(g.recs, func(r *cloudtrail.Record) bool { return in(r) && sv(uid(r).AccessKeyID) == key }, func(r *cloudtrail.Record) string {
			return "used|" + principalOf(r) + "|" + sv(r.EventName)
		})
		want = append(want, list(g.recs, func(r *cloudtrail.Record) bool {
			id, _ := nestedJSON(r.ResponseElements, "accessKey", "accessKeyId")
			rid, _ := jsonScalar(r.RequestParameters, "accessKeyId")
			return sv(r.EventSource) == "iam.amazonaws.com" && (id == key || rid == key)
		}, func(r *cloudtrail.Record) string { return "lifecycle|" + principalOf(r) + "|" + sv(r.EventName) + "|1" })...)
		sort.Strings(want)
		if got := project(rows, "kind", "identity", "eventname", "calls"); !reflect.DeepEqual(got, want) {
			t.Errorf("access-key %s:\n got %v\nwant %v", key, got, want)
		}
		// The owner of a key that did the work of an identity: carol's own key.
		carol := g.truth.Principals[g.truth.Identities.Users["carol"]]
		var own string
		for k := range carol.AccessKeys {
			if strings.HasPrefix(k, "AKIA") {
				own = k
			}
		}
		rows = ask(t, "access-key", "--principal", own)
		for _, r := range rows {
			if r["kind"] == "used" && r["identity"] != g.truth.Identities.Users["carol"] {
				t.Errorf("key %s used by %v, the generator gave it to carol", own, r["identity"])
			}
		}
		if len(rows) == 0 {
			t.Errorf("carol's key %s did nothing", own)
		}
	})
	t.Run("access-denied", func(t *testing.T) {
		rows := ask(t, "access-denied")
		check(t, "access-denied", project(rows, "principal", "eventsource", "eventname", "errorcode", "denied"), tally(g.recs, func(r *cloudtrail.Record) bool { return in(r) && isDenied(r) }, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).InvokedBy, uid(r).AccountID) + "|" + sv(r.EventSource) + "|" + sv(r.EventName) + "|" + sv(r.ErrorCode)
		}))
		// Filters: one account and region.
		region := g.truth.Regions[0]
		rows = ask(t, "access-denied", "--account", a0, "--region", region)
		check(t, "access-denied in one account and region", project(rows, "principal", "eventname", "denied"), tally(g.recs, func(r *cloudtrail.Record) bool {
			return in(r) && isDenied(r) && sv(r.RecipientAccountID) == a0 && sv(r.AWSRegion) == region
		}, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).InvokedBy, uid(r).AccountID) + "|" + sv(r.EventName)
		}))
	})
	t.Run("iam-changes", func(t *testing.T) {
		rows := ask(t, "iam-changes")
		check(t, "iam-changes", project(rows, "eventtime", "eventname", "errorcode"), list(g.recs, func(r *cloudtrail.Record) bool {
			n := sv(r.EventName)
			return in(r) && sv(r.EventSource) == "iam.amazonaws.com" && !strings.HasPrefix(n, "Get") && !strings.HasPrefix(n, "List") && !strings.HasPrefix(n, "Generate") && !strings.HasPrefix(n, "Simulate")
		}, func(r *cloudtrail.Record) string {
			return *r.EventTime + "|" + sv(r.EventName) + "|" + orNull(r.ErrorCode)
		}))
	})
	t.Run("privilege-escalation", func(t *testing.T) {
		rows := ask(t, "privilege-escalation")
		got := project(rows, "eventtime", "eventname")
		check(t, "privilege-escalation", got, list(g.recs, func(r *cloudtrail.Record) bool { return in(r) && escalates(r) }, func(r *cloudtrail.Record) string { return *r.EventTime + "|" + sv(r.EventName) }))
		// Every step of the generator's escalation that can raise privileges is found.
		esc := g.truth.Escalation
		if esc.User == "" {
			t.Fatal("the trail holds no escalation")
		}
		found := map[string]bool{}
		for _, r := range rows {
			if r["actor"] == esc.User {
				found[fmt.Sprint(r["eventsource"])+":"+fmt.Sprint(r["eventname"])] = true
			}
		}
		for _, e := range esc.Events {
			switch e {
			case "sts.amazonaws.com:GetCallerIdentity", "iam.amazonaws.com:ListAttachedUserPolicies", "iam.amazonaws.com:CreateUser!":
				continue // reconnaissance and a refused call that grants nothing
			}
			if !found[e] {
				t.Errorf("escalation step %s not reported", e)
			}
		}
	})
	t.Run("console-actions", func(t *testing.T) {
		rows := ask(t, "console-actions")
		check(t, "console-actions", project(rows, "principal", "eventsource", "eventname", "calls"), tally(g.recs, func(r *cloudtrail.Record) bool {
			ua := sv(r.UserAgent)
			console := sv(r.SessionCredentialFromConsole) == "true" || ua == "console.amazonaws.com" || ua == "signin.amazonaws.com" || ua == "AWS Internal" || strings.Contains(ua, ".console.aws.amazon.com") || sv(r.EventType) == "AwsConsoleAction"
			human := map[string]bool{"IAMUser": true, "AssumedRole": true, "Root": true, "FederatedUser": true, "IdentityCenterUser": true}[typ(r)]
			return in(r) && console && (r.ReadOnly == nil || *r.ReadOnly == "false") && r.EventType != nil && *r.EventType != "AwsConsoleSignIn" && human
		}, func(r *cloudtrail.Record) string {
			return principalOf(r) + "|" + sv(r.EventSource) + "|" + sv(r.EventName)
		}))
	})
	t.Run("cross-account", func(t *testing.T) {
		rows := ask(t, "cross-account")
		check(t, "cross-account", project(rows, "caller", "recipient_account", "eventname", "calls"), tally(g.recs, func(r *cloudtrail.Record) bool {
			u := uid(r)
			return in(r) && u.AccountID != nil && r.RecipientAccountID != nil && *u.AccountID != *r.RecipientAccountID && sv(u.Type) != "AWSService"
		}, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).AccountID) + "|" + sv(r.RecipientAccountID) + "|" + sv(r.EventName)
		}))
	})
	t.Run("new-behaviour", func(t *testing.T) {
		from := questions.TimeText(end.Add(-7 * 24 * time.Hour))
		base := questions.TimeText(end.Add(-37 * 24 * time.Hour))
		rows := ask(t, "new-behaviour", "--from", from, "--baseline-days", "30") // the later --from wins
		human := func(r *cloudtrail.Record) bool {
			return map[string]bool{"IAMUser": true, "AssumedRole": true, "Root": true, "FederatedUser": true}[typ(r)]
		}
		seen, known := map[string]bool{}, map[string]bool{}
		for _, r := range g.recs {
			if human(r) && r.EventTime != nil && *r.EventTime >= base && *r.EventTime < from {
				seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)] = true
				known[principalOf(r)] = true
			}
		}
		want := tally(g.recs, func(r *cloudtrail.Record) bool {
			return human(r) && *r.EventTime >= from && *r.EventTime < T && !seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)]
		}, func(r *cloudtrail.Record) string {
			return principalOf(r) + "|" + sv(r.EventSource) + "|" + sv(r.EventName) + "|" + fmt.Sprint(!known[principalOf(r)])
		})
		got := project(rows, "principal", "eventsource", "eventname", "new_identity", "calls")
		check(t, "new-behaviour", got, want)
		check(t, "new-behaviour errors", project(rows, "principal", "eventsource", "eventname", "errors"), countBy(g.recs, func(r *cloudtrail.Record) bool {
			return human(r) && *r.EventTime >= from && *r.EventTime < T && !seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)]
		}, func(r *cloudtrail.Record) string {
			return principalOf(r) + "|" + sv(r.EventSource) + "|" + sv(r.EventName)
		}, isFailed))
	})
	t.Run("inactive-identities", func(t *testing.T) {
		// An inventory of the named users and roles of the main account, and a role never used.
		type user struct{ UserName, Arn, CreateDate string }
		type role struct{ RoleName, Arn, CreateDate string }
		var doc struct {
			UserDetailList []user
			RoleDetailList []role
		}
		var arns []string
		for name, arn := range g.truth.Identities.Users {
			doc.UserDetailList = append(doc.UserDetailList, user{name, arn, "2024-01-01T00:00:00Z"})
			arns = append(arns, arn)
		}
		for name, arn := range g.truth.Identities.Roles {
			doc.RoleDetailList = append(doc.RoleDetailList, role{name, arn, "2024-01-01T00:00:00Z"})
			arns = append(arns, arn)
		}
		unused := "arn:aws:iam::" + a0 + ":role/never-used"
		doc.RoleDetailList = append(doc.RoleDetailList, role{"never-used", unused, ""})
		arns = append(arns, unused)
		b, _ := json.Marshal(doc)
		file := filepath.Join(t.TempDir(), "authz.json")
		os.WriteFile(file, b, 0o644)
		rows := ask(t, "inactive-identities", "--authz", file)
		last := map[string]string{}
		for _, r := range g.recs {
			if (typ(r) == "IAMUser" || typ(r) == "AssumedRole") && r.EventTime != nil && *r.EventTime < T {
				last[principalOf(r)] = max(last[principalOf(r)], *r.EventTime)
			}
		}
		var want []string
		for _, arn := range arns {
			if last[arn] < F {
				want = append(want, arn)
			}
		}
		sort.Strings(want)
		check(t, "inactive-identities", project(rows, "arn"), want)
		for _, in := range g.truth.Identities.Inactive {
			if !strings.Contains(strings.Join(want, " "), in) && g.truth.Identities.InactiveSince.Before(end.Add(-30*24*time.Hour)) {
				t.Errorf("inactive user %s not found", in)
			}
		}
	})
}

// escalates mirrors privilege-escalation.sql in Go.
func escalates(r *cloudtrail.Record) bool {
	src, name := sv(r.EventSource), sv(r.EventName)
	rp := func(k string) (string, bool) { return jsonScalar(r.RequestParameters, k) }
	switch src {
	case "iam.amazonaws.com":
		switch name {
		case "CreatePolicyVersion", "SetDefaultPolicyVersion", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy",
			"PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
			"UpdateAssumeRolePolicy", "AddUserToGroup":
			return true
		case "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile":
			u, ok := rp("userName")
			return ok && u != sv(uid(r).UserName)
		}
	case "lambda.amazonaws.com":
		return strings.HasPrefix(name, "CreateFunction")
	case "ec2.amazonaws.com":
		if name == "RunInstances" {
			return r.RequestParameters != nil && strings.Contains(*r.RequestParameters, `"iamInstanceProfile"`)
		}
		return name == "AssociateIamInstanceProfile" || name == "ReplaceIamInstanceProfileAssociation"
	case "glue.amazonaws.com":
		return name == "CreateDevEndpoint" || name == "CreateJob"
	case "cloudformation.amazonaws.com":
		_, ok := rp("roleARN")
		return (name == "CreateStack" || name == "CreateStackSet") && ok
	case "datapipeline.amazonaws.com":
		return name == "CreatePipeline"
	case "sagemaker.amazonaws.com":
		return name == "CreateNotebookInstance" || name == "CreateTrainingJob" || name == "CreateProcessingJob"
	case "codebuild.amazonaws.com":
		return name == "CreateProject"
	case "ecs.amazonaws.com":
		_, ok := rp("taskRoleArn")
		return name == "RegisterTaskDefinition" && ok
	}
	return false
}

// Names resolve to identities the way the answer says, and ambiguous names are errors.
func TestPrincipalResolution(t *testing.T) {
	g := generatedLake(t, 5, 20000)
	a0 := g.truth.Accounts[0]
	resolve := func(name string, extra ...string) (int, string) {
		code, _, errOut := run(t, "", append([]string{"ask", "identity-activity", "--lake", g.lake, "--days", "3650", "--to", "2026-03-02", "-o", "csv", "--principal", name}, extra...)...)
		return code, errOut
	}
	cases := []struct {
		name  string
		extra []string
		code  int
		says  string
	}{
		{"alice", nil, 0, "user name \"alice\" → IAM user " + g.truth.Identities.Users["alice"]},
		{"Admin", nil, 1, "names roles in 3 accounts"},
		{"Admin", []string{"--account", a0}, 0, "role name \"Admin\" → role " + g.truth.Identities.Roles["Admin"] + ", all its sessions"},
		{g.truth.Identities.Roles["Admin"], nil, 0, "(all its sessions)"},
		{"nobody-here", nil, 1, "no IAM user, role or role session of that name"},
		{"arn:aws:s3:::bucket", nil, 1, "not an IAM or STS ARN"},
		{"root", nil, 0, "root user " + g.truth.Identities.Root},
		{"AKIAIOSFODNN7EXAMPLE", nil, 0, "never used in the lake"},
		{"bad name!", nil, 1, "not a user, role or session name"},
	}
	// A role session name that is nobody's user or role name: an EC2 instance id.
	for _, r := range g.recs {
		arn := sv(uid(r).ARN)
		if sv(uid(r).Type) == "AssumedRole" && strings.Contains(arn, "/i-") {
			parts := strings.Split(arn, "/")
			cases = append(cases, struct {
				name  string
				extra []string
				code  int
				says  string
			}{parts[2], nil, 0, "not a user or role name but a role session name: session " + arn})
			break
		}
	}
	for _, c := range cases {
		code, errOut := resolve(c.name, c.extra...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("--principal %q %v: exit %d, stderr:\n%s\nwant exit %d and %q", c.name, c.extra, code, errOut, c.code, c.says)
		}
	}
}

// Bad flags are refused with a message that says what to give.
func TestAskRefusesBadInput(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	mustRun(t, 0, "ingest", "--lake", lake, t.TempDir()) // an empty lake
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"nope"}, `no question "nope"`},
		{[]string{"active-users", "--days", "0"}, "positive number of days"},
		{[]string{"active-users", "--from", "yesterday"}, "not a time"},
		{[]string{"active-users", "--from", "2026-02-01", "--to", "2026-01-01"}, "the window is empty"},
		{[]string{"active-users", "--account", "12"}, "12 digits"},
		{[]string{"active-users", "--region", "moon"}, "not an AWS region"},
		{[]string{"identity-activity"}, "needs --principal"},
		{[]string{"active-users", "--principal", "alice"}, "does not take --principal"},
		{[]string{"inactive-identities"}, "needs --authz"},
		{[]string{"active-users", "--baseline-days", "3"}, "has no baseline"},
		{[]string{"access-key", "--principal", "arn:aws:iam::111122223333:user/a"}, "needs an access key id"},
	} {
		code, _, errOut := run(t, "", append(append([]string{"ask"}, c.args...), "--lake", lake)...)
		if code == 0 || !strings.Contains(errOut, c.says) {
			t.Errorf("ask %v: exit %d, stderr %q; want %q", c.args, code, errOut, c.says)
		}
	}
	out := mustRun(t, 0, "ask", "--format", "csv")
	all, _ := questions.Catalog()
	for _, q := range all {
		if !strings.Contains(out, q.Name+",") {
			t.Errorf("the list lacks %s", q.Name)
		}
	}
}
