package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/testshared"
	"github.com/trailsql/trailsql/internal/usage"
)

// written is the document as policy writes it, read back: what IAM would be given.
func written(t *testing.T, doc *authz.Document) (*authz.Document, []byte) {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := authz.ParseDocument(b)
	if err != nil {
		t.Fatalf("the policy does not read back: %v\n%s", err, b)
	}
	return back, b
}

// The policies of every user and role of one generated trail.
func TestGeneratedTrail(t *testing.T) {
	ctx := context.Background()
	l := answertest.Generated(t, 9, 15000)
	accts, err := generate.Authz(l.Options, l.Truth)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := authz.Parse(accts[0].JSON, "authz.json")
	if err != nil {
		t.Fatal(err)
	}
	used := answertest.UsedActions(l.Records)
	if len(used) < 10 {
		t.Fatalf("only %d principals", len(used))
	}
	collect := func(t *testing.T, arn string, q usage.Query) *usage.Usage {
		t.Helper()
		pr, err := principal.Resolve(ctx, l.Query, arn, "")
		if err != nil {
			t.Fatal(err)
		}
		q.Principal, q.From, q.To = pr.Value, l.From(), l.To()
		u, err := usage.Collect(ctx, l.Query, q)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	// Without --resources, the policy lists exactly the IAM actions the principal's permitted
	// calls map to, every one documented, one statement per service on "*", and iam:PassRole on
	// the roles passed, with the service.
	t.Run("matches truth", func(t *testing.T) {
		for _, p := range slices.Sorted(maps.Keys(used)) {
			u := collect(t, p, usage.Query{})
			doc, _ := policy.Build(u, policy.Options{})
			doc, b := written(t, doc)
			if doc.Version != policy.Version {
				t.Errorf("%s: Version %q", p, doc.Version)
			}
			got, prefixes := map[string]bool{}, map[string]bool{}
			for _, st := range doc.Statements {
				if slices.Equal(st.Actions, []string{"iam:PassRole"}) {
					if st.AllResources() || !strings.Contains(st.Condition, `"iam:PassedToService"`) {
						t.Errorf("%s: PassRole statement %+v", p, st)
					}
					got["iam:PassRole"] = true
					continue
				}
				if st.Effect != authz.Allow || !slices.Equal(st.Resources, []string{"*"}) || st.Condition != "" {
					t.Errorf("%s: statement %+v", p, st)
				}
				prefix, _, _ := strings.Cut(st.Actions[0], ":")
				if prefixes[prefix] {
					t.Errorf("%s: two statements for %s", p, prefix)
				}
				prefixes[prefix] = true
				for _, a := range st.Actions {
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
			if !reflect.DeepEqual(got, used[p]) && !(len(got) == 0 && len(used[p]) == 0) {
				t.Errorf("%s:\n got %v\nwant %v", p, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(used[p])))
			}
			// The same calls give the same bytes.
			again, _ := policy.Build(collect(t, p, usage.Query{}), policy.Options{})
			if _, b2 := written(t, again); string(b2) != string(b) {
				t.Errorf("%s: the policy is not deterministic", p)
			}
		}
	})

	// With --resources, every policy is valid against the IAM reference (actions, resource
	// types, condition keys, size) and allows every call the principal made that was not refused,
	// on the resources it named, iam:PassRole on the roles its calls passed included.
	t.Run("valid and sufficient", func(t *testing.T) {
		passes := 0
		for _, p := range slices.Sorted(maps.Keys(used)) {
			u := collect(t, p, usage.Query{Resources: true, ProfileRoles: inv.InstanceProfileRoles})
			doc, b := written(t, first(policy.Build(u, policy.Options{Resources: true})))
			if problems := iam.ValidatePolicy(b, 0); len(problems) > 0 {
				t.Errorf("%s: the policy is not valid:\n  %s\n%s", p, strings.Join(problems, "\n  "), b)
			}
			for _, r := range l.Records {
				if answertest.Identity(r) != p || answertest.Denied(r) {
					continue
				}
				call := str(r.EventSource) + ":" + str(r.EventName) + " at " + str(r.EventTime)
				for _, a := range iam.Map(str(r.EventSource), str(r.EventName), str(r.EventType)).Actions {
					if a.Prefix == "dynamodb" && strings.HasPrefix(a.Name, "PartiQL") {
						continue // refined from the statement's verb; the CLI's TestPolicyResourcesExplainDenied covers it
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
					account := str(r.RecipientAccountID)
					for _, pr := range iam.PassedRoles(a, *r.RequestParameters, account) {
						roles := []string{pr.Role}
						if pr.Role == "" {
							if roles = inv.InstanceProfileRoles(pr.Profile, account); len(roles) == 0 {
								roles = []string{"arn:aws:iam::" + account + ":role/any-role-of-the-account"}
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
	})

	// The policy grants exactly what unused counts as used: for every user and role, the
	// document policy writes (read back from its JSON) is made the principal's only policy, and
	// authz evaluates it as unused does (Details.Unused over usage.CollectByIdentity): every
	// action used is granted, and every action granted is used. authz grants an action whatever
	// the statement's Resource and Condition, so the exceptions, where the document allows more
	// than the calls at the resource level, are checked apart: "*" (a call named no resource, or
	// none of a type the action takes, or the list was widened to stay under IAM's size limit),
	// an S3 folder for the objects named, and any role of an account for an instance profile
	// whose role the inventory does not name. Every other resource is one a call named.
	t.Run("grants what unused counts as used", func(t *testing.T) {
		var actions, exceptions int
		for _, denied := range []bool{false, true} {
			byID, err := usage.CollectByIdentity(ctx, l.Query, usage.Query{From: l.From(), To: l.To(), IncludeDenied: denied})
			if err != nil {
				t.Fatal(err)
			}
			var arns []string
			for arn := range byID {
				if strings.Contains(arn, ":user/") || strings.Contains(arn, ":role/") {
					arns = append(arns, arn)
				}
			}
			sort.Strings(arns)
			if len(arns) < 10 {
				t.Fatalf("only %d users and roles", len(arns))
			}
			for _, narrow := range []bool{false, true} {
				var profileRoles func(string, string) []string
				if narrow {
					profileRoles = inv.InstanceProfileRoles // and without, role/* on the profile's account
				}
				own := &authz.Details{}
				var ps []*authz.Principal
				for _, arn := range arns {
					u := collect(t, arn, usage.Query{IncludeDenied: denied, Resources: narrow, ProfileRoles: profileRoles})
					built, notes := policy.Build(u, policy.Options{Resources: narrow})
					doc, _ := written(t, built)
					exceptions += resourceExceptions(t, arn, doc, u, append(notes, u.Notes...))
					p := &authz.Principal{Type: authz.User, ARN: arn, Inline: []*authz.InlinePolicy{{Name: "trailsql", Document: doc}}}
					if strings.Contains(arn, ":role/") {
						p.Type = authz.Role
					}
					ps = append(ps, p)
				}
				for _, rep := range own.Unused(ps, byID.Used, authz.DiffOptions{}) {
					s := rep.Summary
					actions += s.Used
					if s.NotGranted > 0 || s.Granted != s.Used || len(rep.Problems) > 0 {
						var odd []string
						for _, row := range rep.Actions {
							if row.Class != authz.Used {
								odd = append(odd, row.Action+" "+string(row.Class))
							}
						}
						t.Errorf("denied %v, resources %v: %s: %d granted, %d used, %d not granted (%s), problems %v", denied, narrow, rep.Principal.ARN, s.Granted, s.Used, s.NotGranted, strings.Join(odd, ", "), rep.Problems)
					}
				}
			}
		}
		t.Logf("%d actions granted and used; %d resources wider than the calls, each explained", actions, exceptions)
		if exceptions == 0 {
			t.Error("no resource wider than the calls: the exceptions are not exercised")
		}
	})
}

// resourceExceptions checks that every resource of doc is one u's calls named, or a widening its
// notes explain, and returns how many were widenings.
func resourceExceptions(t *testing.T, who string, doc *authz.Document, u *usage.Usage, notes []string) int {
	t.Helper()
	// noted reports whether a note says all of parts.
	noted := func(parts ...string) bool {
		return slices.ContainsFunc(notes, func(n string) bool {
			return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(n, p) })
		})
	}
	n := 0
	for _, st := range doc.Statements {
		for _, action := range st.Actions {
			a, _ := iam.Exists(action)
			au := u.Actions[a]
			if au == nil {
				t.Errorf("%s: the policy grants %s, which no call used", who, action)
				continue
			}
			named := slices.Clone(au.Resources)
			for _, roles := range au.PassedTo {
				named = append(named, roles...)
			}
			for _, r := range st.Resources {
				switch {
				case slices.Contains(named, r) && !strings.HasSuffix(r, "*"):
				case r == "*" && (au.Wildcard || len(au.Resources) == 0):
					// a call named no resource: the action needs "*"
				case r == "*" && (noted(action+": its calls named no resource") || noted("widened ", action, `resources to "*"`)):
					n++
				case strings.HasPrefix(r, "arn:aws:s3:::") && noted("widened to "+r):
					n++
				case a == iam.PassRole && strings.HasSuffix(r, ":role/*") && noted("allows any role of account "+strings.Split(r, ":")[4]):
					n++
				default:
					t.Errorf("%s: %s on %s, which no call named and no note explains (notes %q)", who, action, r, notes)
				}
			}
		}
	}
	return n
}

// --resources generalises by resource type and keeps the policy within IAM's size limit, saying
// what it widened.
func TestBuildNarrowsByResourceType(t *testing.T) {
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
		want      map[string][]string // action → Resource of its statement
		notes     []string
		overLimit bool // the resources alone would not fit
	}{
		{"objects and their bucket", map[string][]string{"s3:PutObject": append([]string{"arn:aws:s3:::uploads-bucket"}, objects...)},
			map[string][]string{"s3:PutObject": {"arn:aws:s3:::uploads-bucket/incoming/2026/*"}}, []string{"22 object(s) of arn:aws:s3:::uploads-bucket widened to arn:aws:s3:::uploads-bucket/incoming/2026/*"}, false},
		{"no ARN of an accepted type", map[string][]string{"s3:PutObject": {"arn:aws:s3:::uploads-bucket"}},
			map[string][]string{"s3:PutObject": {"*"}}, []string{"s3:PutObject: its calls named no resource of a type it accepts"}, false},
		{"over the size limit", map[string][]string{"kms:Decrypt": keys, "s3:GetObject": objects[:2]},
			map[string][]string{"kms:Decrypt": {"*"}, "s3:GetObject": {"arn:aws:s3:::uploads-bucket/incoming/2026/*"}}, []string{"widened kms:Decrypt from 200 resources to \"*\""}, true},
	}
	for _, c := range cases {
		u := usage.New()
		for a, res := range c.actions {
			u.Actions[act(a)] = &usage.Action{Action: act(a), Calls: 1, Resources: res}
		}
		doc, notes := policy.Build(u, policy.Options{Resources: true})
		b, _ := json.Marshal(doc)
		if problems := iam.ValidatePolicy(b, 0); len(problems) > 0 {
			t.Errorf("%s: %q", c.name, problems)
		}
		got := map[string][]string{}
		for _, st := range doc.Statements {
			for _, a := range st.Actions {
				got[a] = st.Resources
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

// trailscraper's own CLI expectation: the same events give the same statements (its generate reads
// every record, as a policy of every identity's calls does; with resources, AssumeRole is narrowed
// to the role as it does).
func TestAgreesWithTrailscraper(t *testing.T) {
	dir := testshared.Dir(t, "datasets/iam/trailscraper")
	var cases []struct {
		InputFixture   string          `json:"input_fixture"`
		ExpectedPolicy *authz.Document `json:"expected_policy"`
	}
	b, err := os.ReadFile(dir + "/trailscraper_cli_generate_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	norm := func(d *authz.Document) []string {
		var s []string
		for _, st := range d.Statements {
			acts, _ := json.Marshal(st.Actions)
			res, _ := json.Marshal(st.Resources)
			s = append(s, string(st.Effect)+" "+string(acts)+" "+string(res))
		}
		sort.Strings(s)
		return s
	}
	for _, c := range cases {
		query := answertest.Ingested(t, dir+"/fixtures/"+c.InputFixture)
		u, err := usage.Collect(context.Background(), query, usage.Query{From: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), Resources: true})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := written(t, first(policy.Build(u, policy.Options{Resources: true})))
		if g, w := norm(got), norm(c.ExpectedPolicy); !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %v\nwant %v", c.InputFixture, g, w)
		}
	}
}

func first[A, B any](a A, _ B) A { return a }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// allows reports whether an Allow statement of doc grants action on resource, passing the role to
// service when service is not "".
func allows(doc *authz.Document, action, resource, service string) bool {
	for _, st := range doc.Statements {
		if st.Effect != authz.Allow || !slices.ContainsFunc(st.Actions, func(p string) bool { return wildcardMatch(p, action, true) }) {
			continue
		}
		if st.Condition != "" {
			var cond map[string]map[string]string
			if err := json.Unmarshal([]byte(st.Condition), &cond); err != nil || len(cond) != 1 || len(cond["StringEquals"]) != 1 {
				continue // a condition this test does not know
			}
			if to := cond["StringEquals"]["iam:PassedToService"]; to == "" || to != service {
				continue
			}
		}
		if slices.ContainsFunc(st.Resources, func(p string) bool { return wildcardMatch(p, resource, false) }) {
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
