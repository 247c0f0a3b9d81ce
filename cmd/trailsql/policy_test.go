package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/questions"
)

func parsePolicy(t *testing.T, out string) policyDocument {
	t.Helper()
	var raw struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  json.RawMessage
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not a policy: %v\n%s", err, out)
	}
	doc := policyDocument{Version: raw.Version}
	for _, s := range raw.Statement {
		st := policyStatement{Sid: s.Sid, Effect: s.Effect, Action: s.Action, Condition: s.Condition}
		var one string
		var many []string
		if json.Unmarshal(s.Resource, &one) == nil {
			st.Resource = one
		} else if json.Unmarshal(s.Resource, &many) == nil {
			st.Resource = many
		} else {
			t.Fatalf("Resource %s", s.Resource)
		}
		doc.Statement = append(doc.Statement, st)
	}
	return doc
}

// For every principal of a generated trail, the policy lists exactly the IAM actions its
// permitted calls map to, every one documented, and nothing else.
func TestPolicyMatchesTruth(t *testing.T) {
	g := generatedLake(t, 9, 15000)
	end := g.truth.Newest.Add(time.Second)
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(end)
	// Expected, from the decoded files: the principal's calls not refused, mapped.
	want := usedActions(g.recs)
	if len(want) < 10 {
		t.Fatalf("only %d principals", len(want))
	}
	checked := 0
	for p, acts := range want {
		out := mustRun(t, 0, "policy", "--lake", g.lake, "--from", from, "--to", to, "--principal", p)
		doc := parsePolicy(t, out)
		if doc.Version != "2012-10-17" {
			t.Errorf("%s: Version %q", p, doc.Version)
		}
		got := map[string]bool{}
		prefixes := map[string]bool{}
		for _, st := range doc.Statement {
			if st.Action[0] == "iam:PassRole" && len(st.Action) == 1 {
				// iam:PassRole names the roles passed, with the service, even without --resources.
				if st.Resource == "*" || st.Condition["StringEquals"]["iam:PassedToService"] == "" {
					t.Errorf("%s: PassRole statement %+v", p, st)
				}
				got["iam:PassRole"] = true
				continue
			}
			if st.Effect != "Allow" || st.Resource != "*" {
				t.Errorf("%s: statement %+v", p, st)
			}
			prefix, _, _ := strings.Cut(st.Action[0], ":")
			if prefixes[prefix] {
				t.Errorf("%s: two statements for %s without --resources", p, prefix)
			}
			prefixes[prefix] = true
			for _, a := range st.Action {
				if _, ok := iam.Exists(a); !ok {
					t.Errorf("%s: emits %s, which IAM does not document", p, a)
				}
				if got[a] {
					t.Errorf("%s: %s twice", p, a)
				}
				got[a] = true
				if !strings.HasPrefix(a, prefix+":") {
					t.Errorf("%s: %s in the %s statement", p, a, prefix)
				}
			}
		}
		if !reflect.DeepEqual(got, acts) && !(len(got) == 0 && len(acts) == 0) {
			t.Errorf("%s:\n got %v\nwant %v", p, sortedKeys(got), sortedKeys(acts))
		}
		// The same run twice gives the same bytes.
		if again := mustRun(t, 0, "policy", "--lake", g.lake, "--from", from, "--to", to, "--principal", p); again != out {
			t.Errorf("%s: the policy is not deterministic", p)
		}
		checked++
	}
	t.Logf("%d principals checked", checked)
}

// trailscraper's own CLI expectation: the same events give the same statements (its generate reads
// every record; --all does the same; --resources narrows AssumeRole to the role as it does).
func TestPolicyAgreesWithTrailscraper(t *testing.T) {
	dir := sharedDir(t, "datasets/iam/trailscraper")
	var cases []struct {
		InputFixture   string         `json:"input_fixture"`
		ExpectedPolicy policyDocument `json:"expected_policy"`
	}
	b := readFile(t, dir+"/trailscraper_cli_generate_expected.json")
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		lake := t.TempDir()
		mustRun(t, 0, "ingest", "--lake", lake, dir+"/fixtures/"+c.InputFixture)
		out := mustRun(t, 0, "policy", "--lake", lake, "--all", "--resources", "--from", "2017-01-01", "--to", "2018-01-01")
		got := parsePolicy(t, out)
		norm := func(d policyDocument) []string {
			var s []string
			for _, st := range d.Statement {
				res := st.Resource
				if l, ok := res.([]any); ok && len(l) == 1 {
					res = l[0]
				}
				if l, ok := res.([]string); ok && len(l) == 1 {
					res = l[0]
				}
				acts, _ := json.Marshal(st.Action)
				r, _ := json.Marshal(res)
				s = append(s, st.Effect+" "+string(acts)+" "+string(r))
			}
			sort.Strings(s)
			return s
		}
		if g, w := norm(got), norm(c.ExpectedPolicy); !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %v\nwant %v", c.InputFixture, g, w)
		}
	}
}

// --resources narrows an action only when every call of it named a resource; --explain says which
// events are behind each action; refused calls stay out unless asked.
func TestPolicyResourcesExplainDenied(t *testing.T) {
	lake := t.TempDir()
	trail := t.TempDir() + "/events.json"
	recs := []string{
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s1","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-02T00:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"1","resources":[{"ARN":"arn:aws:kms:us-east-1:111122223333:key/k1","accountId":"111122223333","type":"AWS::KMS::Key"}]}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s2","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-03T00:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"2","resources":[{"ARN":"arn:aws:kms:us-east-1:111122223333:key/k2","accountId":"111122223333","type":"AWS::KMS::Key"}]}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s2","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-03T00:00:01Z","eventSource":"kms.amazonaws.com","eventName":"ReEncrypt","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"3"}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s2","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-03T00:00:02Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"4","errorCode":"AccessDenied"}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s2","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-03T00:00:03Z","eventSource":"dynamodb.amazonaws.com","eventName":"ExecuteStatement","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"5","requestParameters":{"statement":"UPDATE \"orders\" SET a = 1 WHERE id = 'x'"}}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s2","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"}}},"eventTime":"2026-01-03T00:00:04Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","eventID":"6"}`,
	}
	writeFile(t, trail, "["+strings.Join(recs, ",\n")+"]")
	mustRun(t, 0, "ingest", "--lake", lake, trail)
	base := []string{"policy", "--lake", lake, "--principal", "app", "--from", "2026-01-01", "--to", "2026-02-01"}
	code, out, errOut := run(t, "", append(base, "--resources", "--explain")...)
	if code != 0 {
		t.Fatal(errOut)
	}
	doc := parsePolicy(t, out)
	got := map[string]any{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			got[a] = st.Resource
		}
	}
	want := map[string]any{
		"kms:Decrypt":            []string{"arn:aws:kms:us-east-1:111122223333:key/k1", "arn:aws:kms:us-east-1:111122223333:key/k2"},
		"kms:ReEncryptFrom":      "*",
		"kms:ReEncryptTo":        "*",
		"dynamodb:PartiQLUpdate": "*",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy %v\nwant %v", got, want)
	}
	for _, s := range []string{"principal: role name \"app\"", "left out: 1 call(s) refused", "kms:ReEncryptFrom", "kms.amazonaws.com:ReEncrypt", "sts:GetCallerIdentity is always allowed", "the verbs of its PartiQL statements"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
	out = mustRun(t, 0, append(base, "--include-denied")...)
	if !strings.Contains(out, `"iam:CreateUser"`) {
		t.Errorf("--include-denied leaves out the refused call:\n%s", out)
	}
	if code, _, errOut := run(t, "", "policy", "--lake", lake); code == 0 || !strings.Contains(errOut, "give --principal") {
		t.Errorf("policy without a principal: exit %d %s", code, errOut)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// usedActions maps, for every user (by ARN) and role (by role ARN), the IAM actions of its calls
// that were not refused, computed from decoded records.
func usedActions(recs []*cloudtrail.Record) map[string]map[string]bool {
	used := map[string]map[string]bool{}
	for _, r := range recs {
		var key string
		switch sv(uid(r).Type) {
		case "IAMUser":
			key = sv(uid(r).ARN)
		case "AssumedRole":
			key = sv(issuer(r).ARN)
		}
		if key == "" || isDenied(r) {
			continue
		}
		if used[key] == nil {
			used[key] = map[string]bool{}
		}
		for _, a := range iam.Map(sv(r.EventSource), sv(r.EventName), sv(r.EventType)).Actions {
			used[key][a.String()] = true
			// A call that hands a role to a service needed iam:PassRole too.
			if r.RequestParameters != nil && len(iam.PassedRoles(a, *r.RequestParameters, sv(r.RecipientAccountID))) > 0 {
				used[key][iam.PassRole.String()] = true
			}
		}
	}
	return used
}

// The policy of every principal of a generated trail is valid against the IAM reference (actions,
// resource types, condition keys, size) and allows every call the principal made that was not
// refused, iam:PassRole for the roles its calls passed included, with --resources narrowing.
func TestPolicyValidAndSufficient(t *testing.T) {
	g := generatedLake(t, 9, 15000)
	accts, err := generate.Authz(g.opt, g.truth)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "authz.json")
	writeFile(t, file, string(accts[0].JSON))
	details, err := authz.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(g.truth.Newest.Add(time.Second))
	byPrincipal := map[string][]*cloudtrail.Record{}
	for _, r := range g.recs {
		var key string
		switch sv(uid(r).Type) {
		case "IAMUser":
			key = sv(uid(r).ARN)
		case "AssumedRole":
			key = sv(issuer(r).ARN)
		}
		if key != "" && !isDenied(r) {
			byPrincipal[key] = append(byPrincipal[key], r)
		}
	}
	passes := 0
	for p, recs := range byPrincipal {
		code, out, errOut := run(t, "", "policy", "--lake", g.lake, "--from", from, "--to", to, "--principal", p, "--resources", "--authz", file)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", p, code, errOut)
		}
		if problems := iam.ValidatePolicy([]byte(out), 0); len(problems) > 0 {
			t.Errorf("%s: the policy is not valid:\n  %s\n%s", p, strings.Join(problems, "\n  "), out)
		}
		doc := parsePolicy(t, out)
		for _, r := range recs {
			call := sv(r.EventSource) + ":" + sv(r.EventName) + " at " + sv(r.EventTime)
			for _, a := range iam.Map(sv(r.EventSource), sv(r.EventName), sv(r.EventType)).Actions {
				if a.Prefix == "dynamodb" && strings.HasPrefix(a.Name, "PartiQL") {
					continue // refined from the statement's verb; TestPolicyResourcesExplainDenied covers it
				}
				var need []string // the call's resources of a type the action accepts
				for _, res := range r.Resources {
					if res.ARN != nil {
						if _, ok := iam.MatchResource(a, *res.ARN); ok {
							need = append(need, *res.ARN)
						}
					}
				}
				if len(need) == 0 {
					need = []string{"*"}
				}
				for _, arn := range need {
					if !allows(doc, a.String(), arn, "") {
						t.Errorf("%s: %s needs %s on %s; the policy does not allow it", p, call, a, arn)
					}
				}
				if r.RequestParameters == nil {
					continue
				}
				for _, pr := range iam.PassedRoles(a, *r.RequestParameters, sv(r.RecipientAccountID)) {
					roles := []string{pr.Role}
					if pr.Role == "" {
						if roles = details.InstanceProfileRoles(pr.Profile, sv(r.RecipientAccountID)); len(roles) == 0 {
							roles = []string{"arn:aws:iam::" + sv(r.RecipientAccountID) + ":role/any-role-of-the-account"}
						}
					}
					for _, role := range roles {
						passes++
						if !allows(doc, "iam:PassRole", role, pr.Service) {
							t.Errorf("%s: %s passed %s to %s; the policy does not allow iam:PassRole on it", p, call, role, pr.Service)
						}
					}
				}
			}
		}
	}
	if passes == 0 {
		t.Error("no call of the trail passed a role: the test proves nothing about iam:PassRole")
	}
}

// allows reports whether an Allow statement of doc grants action on resource, passing the role to
// service when service is not "".
func allows(doc policyDocument, action, resource, service string) bool {
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !slices.ContainsFunc(st.Action, func(p string) bool { return wildcardMatch(p, action, true) }) {
			continue
		}
		if cond := st.Condition["StringEquals"]["iam:PassedToService"]; cond != "" && cond != service {
			continue
		}
		var rs []string
		switch r := st.Resource.(type) {
		case string:
			rs = []string{r}
		case []string:
			rs = r
		}
		if slices.ContainsFunc(rs, func(p string) bool { return wildcardMatch(p, resource, false) }) {
			return true
		}
	}
	return false
}

// wildcardMatch matches a policy element with IAM's wildcards: "*" any text, "?" one character.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	if pattern == "*" {
		return true
	}
	re := "^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*"), `\?`, ".") + "$"
	return regexp.MustCompile(re).MatchString(s)
}

// --resources generalises by resource type and keeps the policy within IAM's size limit, saying
// what it widened.
func TestBuildPolicyNarrowsByResourceType(t *testing.T) {
	act := func(s string) iam.Action { a, _ := iam.Exists(s); return a }
	var objects, keys []string
	for i := range 22 {
		objects = append(objects, fmt.Sprintf("arn:aws:s3:::uploads-bucket/incoming/2026/file-%02d.csv", i))
	}
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("arn:aws:kms:eu-west-1:111122223333:key/%08d-aaaa-bbbb-cccc-%012d", i, i))
	}
	cases := []struct {
		name      string
		actions   map[string][]string // action → resources its calls named
		want      map[string]any      // action → Resource of its statement
		notes     []string
		overLimit bool // the resources alone would not fit
	}{
		{"objects and their bucket", map[string][]string{"s3:PutObject": append([]string{"arn:aws:s3:::uploads-bucket"}, objects...)},
			map[string]any{"s3:PutObject": []string{"arn:aws:s3:::uploads-bucket/incoming/2026/*"}}, []string{"22 object(s) of arn:aws:s3:::uploads-bucket widened to arn:aws:s3:::uploads-bucket/incoming/2026/*"}, false},
		{"no ARN of an accepted type", map[string][]string{"s3:PutObject": {"arn:aws:s3:::uploads-bucket"}},
			map[string]any{"s3:PutObject": "*"}, []string{"s3:PutObject: its calls named no resource of a type it accepts"}, false},
		{"over the size limit", map[string][]string{"kms:Decrypt": keys, "s3:GetObject": objects[:2]},
			map[string]any{"kms:Decrypt": "*", "s3:GetObject": []string{"arn:aws:s3:::uploads-bucket/incoming/2026/*"}}, []string{"widened kms:Decrypt from 200 resources to \"*\""}, true},
	}
	for _, c := range cases {
		u := newUsage()
		for a, res := range c.actions {
			u.Actions[act(a)] = &actionUse{Action: act(a), Calls: 1, Resources: res}
		}
		doc, notes := buildPolicy(u, true)
		b, _ := json.Marshal(doc)
		if problems := iam.ValidatePolicy(b, 0); len(problems) > 0 {
			t.Errorf("%s: %q", c.name, problems)
		}
		got := map[string]any{}
		for _, st := range doc.Statement {
			for _, a := range st.Action {
				got[a] = st.Resource
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		for _, n := range c.notes {
			if !slices.ContainsFunc(notes, func(s string) bool { return strings.Contains(s, n) }) {
				t.Errorf("%s: notes %q lack %q", c.name, notes, n)
			}
		}
		if c.overLimit {
			full := 0
			for _, k := range keys {
				full += len(k)
			}
			if full <= iam.ManagedPolicyLimit {
				t.Errorf("%s: the keys take %d characters, within the limit: the case proves nothing", c.name, full)
			}
		}
	}
}
