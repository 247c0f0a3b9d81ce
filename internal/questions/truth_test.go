package questions_test

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

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
)

// rowMaps turns an answer's rows into maps by column name.
func rowMaps(res *answer.Result) []map[string]any {
	out := []map[string]any{}
	for _, r := range res.Rows {
		m := map[string]any{}
		for i, c := range res.Columns {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// Null-safe accessors of a record's fields.
var (
	sv         = answertest.Str
	uid        = answertest.User
	issuer     = answertest.Issuer
	jsonScalar = answertest.JSONScalar
)

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
	g := answertest.Generated(t, 5, 20000)
	end := g.Truth.Newest.Add(time.Second)
	from := end.Add(-30 * 24 * time.Hour)
	F, T := questions.TimeText(from), questions.TimeText(end)
	in := func(r *cloudtrail.Record) bool { return r.EventTime != nil && *r.EventTime >= F && *r.EventTime < T }
	a0 := g.Truth.Accounts[0]
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
	// ask answers a question over the last 30 days; set changes its parameters. The SQL a
	// user would paste into Athena (its values inlined, as --sql prints it) gives the same rows.
	ask := func(t *testing.T, name string, set ...func(*questions.Params)) []map[string]any {
		t.Helper()
		q, err := questions.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		p := questions.Params{From: from, To: end}
		for _, s := range set {
			s(&p)
		}
		if q.Needs("baseline_from") && p.BaselineFrom.IsZero() {
			p.BaselineFrom = p.From.Add(-30 * 24 * time.Hour)
		}
		ctx := context.Background()
		res, err := q.Answer(ctx, g.Query, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sqlText, args, err := q.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		inlined := questions.Inline(sqlText, args)
		again, err := g.Query(ctx, inlined)
		if err != nil {
			t.Fatalf("%s: the inlined SQL fails: %v\n%s", name, err, inlined)
		}
		if !reflect.DeepEqual(res.Rows, again.Rows) {
			t.Errorf("%s: the inlined SQL answers differently:\n%s", name, inlined)
		}
		return rowMaps(res)
	}
	// named resolves a name in the lake, as every front end does.
	named := func(t *testing.T, name, account string) func(*questions.Params) {
		t.Helper()
		pr, err := principal.Resolve(context.Background(), g.Query, name, account)
		if err != nil {
			t.Fatalf("resolve %s: %v", name, err)
		}
		return func(p *questions.Params) { p.Principal = pr.Value }
	}

	t.Run("active-users", func(t *testing.T) {
		rows := ask(t, "active-users")
		check(t, "active-users", project(rows, "arn", "calls"), tally(g.Records, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "IAMUser" && uid(r).ARN != nil }, func(r *cloudtrail.Record) string { return *uid(r).ARN }))
		// Failed sign-ins count as errors (they carry no errorCode).
		check(t, "active-users errors", project(rows, "arn", "errors"), countBy(g.Records, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "IAMUser" && uid(r).ARN != nil }, func(r *cloudtrail.Record) string { return *uid(r).ARN }, isFailed))
		signins := map[string]bool{}
		for _, l := range g.Truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
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
		if got, want := project(rows, "arn"), g.Truth.ActiveUsers(end.Add(-30*24*time.Hour)); !reflect.DeepEqual(got, want) {
			t.Errorf("active users %v, the generator says %v", got, want)
		}
	})
	t.Run("active-roles", func(t *testing.T) {
		rows := ask(t, "active-roles")
		check(t, "active-roles", project(rows, "role_arn", "calls"), tally(g.Records, func(r *cloudtrail.Record) bool { return in(r) && typ(r) == "AssumedRole" && issuer(r).ARN != nil }, func(r *cloudtrail.Record) string { return *issuer(r).ARN }))
		if got, want := project(rows, "role_arn"), g.Truth.ActiveRoles(end.Add(-30*24*time.Hour)); !reflect.DeepEqual(got, want) {
			t.Errorf("active roles %v, the generator says %v", got, want)
		}
	})
	t.Run("root-activity", func(t *testing.T) {
		rows := ask(t, "root-activity")
		check(t, "root-activity", project(rows, "eventtime", "eventname", "failed"), list(g.Records, func(r *cloudtrail.Record) bool {
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
		for _, l := range g.Truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
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
		for _, l := range g.Truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
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
		for _, l := range g.Truth.ConsoleLogins(end.Add(-30 * 24 * time.Hour)) {
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
		check(t, "throttling", project(rows, "principal", "principal_account", "eventsource", "eventname", "awsregion", "useragent", "count"), tally(g.Records, func(r *cloudtrail.Record) bool {
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
		admin := g.Truth.Identities.Roles["Admin"]
		rows := ask(t, "identity-activity", named(t, "Admin", a0))
		check(t, "identity-activity", project(rows, "eventsource", "eventname", "calls"), tally(g.Records, func(r *cloudtrail.Record) bool { return in(r) && sv(issuer(r).ARN) == admin }, func(r *cloudtrail.Record) string { return sv(r.EventSource) + "|" + sv(r.EventName) }))
	})
	t.Run("access-key", func(t *testing.T) {
		// The key carol's escalation created for ci-deploy: its lifecycle, and every use of it.
		var key string
		for _, r := range g.Records {
			if sv(r.EventName) == "CreateAccessKey" && r.ErrorCode == nil {
				key, _ = nestedJSON(r.ResponseElements, "accessKey", "accessKeyId")
				break
			}
		}
		if key == "" {
			t.Fatal("no CreateAccessKey in the trail")
		}
		rows := ask(t, "access-key", named(t, key, ""))
		want := tally(g.Records, func(r *cloudtrail.Record) bool { return in(r) && sv(uid(r).AccessKeyID) == key }, func(r *cloudtrail.Record) string {
			return "used|" + principalOf(r) + "|" + sv(r.EventName)
		})
		want = append(want, list(g.Records, func(r *cloudtrail.Record) bool {
			id, _ := nestedJSON(r.ResponseElements, "accessKey", "accessKeyId")
			rid, _ := jsonScalar(r.RequestParameters, "accessKeyId")
			return sv(r.EventSource) == "iam.amazonaws.com" && (id == key || rid == key)
		}, func(r *cloudtrail.Record) string { return "lifecycle|" + principalOf(r) + "|" + sv(r.EventName) + "|1" })...)
		sort.Strings(want)
		if got := project(rows, "kind", "identity", "eventname", "calls"); !reflect.DeepEqual(got, want) {
			t.Errorf("access-key %s:\n got %v\nwant %v", key, got, want)
		}
		// The owner of a key that did the work of an identity: carol's own key.
		carol := g.Truth.Principals[g.Truth.Identities.Users["carol"]]
		var own string
		for k := range carol.AccessKeys {
			if strings.HasPrefix(k, "AKIA") {
				own = k
			}
		}
		rows = ask(t, "access-key", named(t, own, ""))
		for _, r := range rows {
			if r["kind"] == "used" && r["identity"] != g.Truth.Identities.Users["carol"] {
				t.Errorf("key %s used by %v, the generator gave it to carol", own, r["identity"])
			}
		}
		if len(rows) == 0 {
			t.Errorf("carol's key %s did nothing", own)
		}
	})
	t.Run("access-denied", func(t *testing.T) {
		rows := ask(t, "access-denied")
		check(t, "access-denied", project(rows, "principal", "eventsource", "eventname", "errorcode", "denied"), tally(g.Records, func(r *cloudtrail.Record) bool { return in(r) && isDenied(r) }, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).InvokedBy, uid(r).AccountID) + "|" + sv(r.EventSource) + "|" + sv(r.EventName) + "|" + sv(r.ErrorCode)
		}))
		// Filters: one account and region.
		region := g.Truth.Regions[0]
		rows = ask(t, "access-denied", func(p *questions.Params) { p.Account, p.Region = a0, region })
		check(t, "access-denied in one account and region", project(rows, "principal", "eventname", "denied"), tally(g.Records, func(r *cloudtrail.Record) bool {
			return in(r) && isDenied(r) && sv(r.RecipientAccountID) == a0 && sv(r.AWSRegion) == region
		}, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).InvokedBy, uid(r).AccountID) + "|" + sv(r.EventName)
		}))
	})
	t.Run("iam-changes", func(t *testing.T) {
		rows := ask(t, "iam-changes")
		check(t, "iam-changes", project(rows, "eventtime", "eventname", "errorcode"), list(g.Records, func(r *cloudtrail.Record) bool {
			n := sv(r.EventName)
			return in(r) && sv(r.EventSource) == "iam.amazonaws.com" && !strings.HasPrefix(n, "Get") && !strings.HasPrefix(n, "List") && !strings.HasPrefix(n, "Generate") && !strings.HasPrefix(n, "Simulate")
		}, func(r *cloudtrail.Record) string {
			return *r.EventTime + "|" + sv(r.EventName) + "|" + orNull(r.ErrorCode)
		}))
	})
	t.Run("privilege-escalation", func(t *testing.T) {
		rows := ask(t, "privilege-escalation")
		got := project(rows, "eventtime", "eventname")
		check(t, "privilege-escalation", got, list(g.Records, func(r *cloudtrail.Record) bool { return in(r) && escalates(r) }, func(r *cloudtrail.Record) string { return *r.EventTime + "|" + sv(r.EventName) }))
		// Every step of the generator's escalation that can raise privileges is found.
		esc := g.Truth.Escalation
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
		check(t, "console-actions", project(rows, "principal", "eventsource", "eventname", "calls"), tally(g.Records, func(r *cloudtrail.Record) bool {
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
		check(t, "cross-account", project(rows, "caller", "recipient_account", "eventname", "calls"), tally(g.Records, func(r *cloudtrail.Record) bool {
			u := uid(r)
			return in(r) && u.AccountID != nil && r.RecipientAccountID != nil && *u.AccountID != *r.RecipientAccountID && sv(u.Type) != "AWSService"
		}, func(r *cloudtrail.Record) string {
			return principalOf(r, uid(r).AccountID) + "|" + sv(r.RecipientAccountID) + "|" + sv(r.EventName)
		}))
	})
	t.Run("new-behaviour", func(t *testing.T) {
		since := questions.TimeText(end.Add(-7 * 24 * time.Hour))
		base := questions.TimeText(end.Add(-37 * 24 * time.Hour))
		rows := ask(t, "new-behaviour", func(p *questions.Params) {
			p.From, p.BaselineFrom = end.Add(-7*24*time.Hour), end.Add(-37*24*time.Hour)
		})
		human := func(r *cloudtrail.Record) bool {
			return map[string]bool{"IAMUser": true, "AssumedRole": true, "Root": true, "FederatedUser": true}[typ(r)]
		}
		seen, known := map[string]bool{}, map[string]bool{}
		for _, r := range g.Records {
			if human(r) && r.EventTime != nil && *r.EventTime >= base && *r.EventTime < since {
				seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)] = true
				known[principalOf(r)] = true
			}
		}
		want := tally(g.Records, func(r *cloudtrail.Record) bool {
			return human(r) && *r.EventTime >= since && *r.EventTime < T && !seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)]
		}, func(r *cloudtrail.Record) string {
			return principalOf(r) + "|" + sv(r.EventSource) + "|" + sv(r.EventName) + "|" + fmt.Sprint(!known[principalOf(r)])
		})
		got := project(rows, "principal", "eventsource", "eventname", "new_identity", "calls")
		check(t, "new-behaviour", got, want)
		check(t, "new-behaviour errors", project(rows, "principal", "eventsource", "eventname", "errors"), countBy(g.Records, func(r *cloudtrail.Record) bool {
			return human(r) && *r.EventTime >= since && *r.EventTime < T && !seen[principalOf(r)+"|"+sv(r.EventSource)+"|"+sv(r.EventName)]
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
		for name, arn := range g.Truth.Identities.Users {
			doc.UserDetailList = append(doc.UserDetailList, user{name, arn, "2024-01-01T00:00:00Z"})
			arns = append(arns, arn)
		}
		for name, arn := range g.Truth.Identities.Roles {
			doc.RoleDetailList = append(doc.RoleDetailList, role{name, arn, "2024-01-01T00:00:00Z"})
			arns = append(arns, arn)
		}
		unused := "arn:aws:iam::" + a0 + ":role/never-used"
		doc.RoleDetailList = append(doc.RoleDetailList, role{"never-used", unused, ""})
		arns = append(arns, unused)
		b, _ := json.Marshal(doc)
		file := filepath.Join(t.TempDir(), "authz.json")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		details, err := authz.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		rows := ask(t, "inactive-identities", func(p *questions.Params) { p.Inventory = questions.Inventory(details, "") })
		last := map[string]string{}
		for _, r := range g.Records {
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
		for _, in := range g.Truth.Identities.Inactive {
			if !strings.Contains(strings.Join(want, " "), in) && g.Truth.Identities.InactiveSince.Before(end.Add(-30*24*time.Hour)) {
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
