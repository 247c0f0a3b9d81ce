package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/testshared"
)

func load(t testing.TB, name string) *Details {
	t.Helper()
	d, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func principal(t *testing.T, d *Details, name string) *Principal {
	t.Helper()
	ps := d.Lookup(name)
	if len(ps) != 1 {
		t.Fatalf("lookup %s: %d principals", name, len(ps))
	}
	return ps[0]
}

func act(t testing.TB, s string) iam.Action {
	t.Helper()
	a, ok := iam.Exists(s)
	if !ok {
		t.Fatalf("%s is not in the IAM reference", s)
	}
	return a
}

func names(as []iam.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func allowedNames(g *Grants) []string {
	out := make([]string, len(g.Allowed))
	for i, gr := range g.Allowed {
		out[i] = gr.Action.String()
	}
	return out
}

func grantSet(g *Grants) map[string]bool {
	m := map[string]bool{}
	for _, gr := range g.Allowed {
		m[gr.Action.String()] = true
	}
	return m
}

func TestPrincipals(t *testing.T) {
	d := load(t, "account.json")
	if len(d.Users) != 3 || len(d.Roles) != 2 || len(d.Groups) != 2 || len(d.Policies) != 4 {
		t.Fatalf("got %d users, %d roles, %d groups, %d policies", len(d.Users), len(d.Roles), len(d.Groups), len(d.Policies))
	}
	alice := principal(t, d, "alice")
	if alice.Type != User || alice.Account != "111122223333" || alice.ID != "AIDAEXAMPLEALICE00001" || alice.Path != "/" ||
		!alice.CreateDate.Equal(time.Date(2021, 3, 4, 10, 11, 12, 0, time.UTC)) ||
		!slices.Equal(alice.Groups, []string{"developers", "auditors"}) || len(alice.Tags) != 1 || alice.Tags[0] != (Tag{"team", "platform"}) {
		t.Errorf("alice: %+v", alice)
	}
	lam := principal(t, d, "arn:aws:iam::111122223333:role/service-role/app-lambda-role")
	if lam.Type != Role || lam.Path != "/service-role/" || lam.RoleLastUsed == nil ||
		!lam.RoleLastUsed.Date.Equal(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)) || lam.RoleLastUsed.Region != "us-east-1" {
		t.Errorf("app-lambda-role: %+v", lam)
	}
	if p := principal(t, d, "Everything-But-IAM"); p.RoleLastUsed != nil {
		t.Errorf("empty RoleLastUsed gave %+v", p.RoleLastUsed)
	}
	ci := principal(t, d, "CI-DEPLOY") // IAM names ignore case
	if ci.Boundary == nil || ci.Boundary.ARN != "arn:aws:iam::111122223333:policy/ci-boundary" || ci.Boundary.Name != "ci-boundary" {
		t.Errorf("ci-deploy boundary: %+v", ci.Boundary)
	}
	for _, x := range []string{"arn:aws:sts::111122223333:assumed-role/app-lambda-role/orders-api", "AROAEXAMPLELAMBDA0001"} {
		if ps := d.Lookup(x); len(ps) != 1 || ps[0] != lam {
			t.Errorf("lookup %s: %v", x, ps)
		}
	}
	if ps := d.Lookup("arn:aws:sts::999999999999:assumed-role/app-lambda-role/x"); len(ps) != 0 {
		t.Errorf("assumed role of another account matched %v", ps)
	}
	if p := d.Policy("arn:aws:iam::111122223333:policy/developer-access"); p == nil || p.DefaultVersion != "v2" || p.Versions != 2 || p.AWSManaged {
		t.Errorf("developer-access: %+v", p)
	}
	if p := d.Policy("arn:aws:iam::aws:policy/SecurityAudit"); p == nil || !p.AWSManaged {
		t.Errorf("SecurityAudit: %+v", p)
	}
}

// Documents as URL-encoded strings, plain JSON strings and form-encoded strings; Statement as
// object or array; Action and Resource as string or array; the boto3 date spelling.
func TestDocumentShapes(t *testing.T) {
	d := load(t, "encoded.json")
	web := principal(t, d, "web")
	if !web.CreateDate.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("CreateDate %v", web.CreateDate)
	}
	g := d.Grants(web)
	want := []string{"ec2:DescribeInstances", "kms:Decrypt", "logs:CreateLogStream", "s3:GetObject"}
	if got := allowedNames(g); !slices.Equal(got, want) {
		t.Errorf("grants %v, want %v", got, want)
	}
	if web.Inline[2].Document.Statements[0].Sid != "With space" {
		t.Errorf("form-encoded document: sid %q", web.Inline[2].Document.Statements[0].Sid)
	}
	if len(g.Problems) != 0 {
		t.Errorf("problems: %v", g.Problems)
	}
}

// The same file with every policy document URL-encoded, as the raw API returns it, grants the
// same actions to everyone.
func TestEncodedEqualsObjects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	encodeDocuments(v)
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"PolicyDocument":"%7B`) {
		t.Fatal("documents were not encoded")
	}
	a, err := Parse(data, "objects")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(enc, "encoded")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Principals() {
		ga, gb := allowedNames(a.Grants(p)), allowedNames(b.Grants(b.Principals()[i]))
		if !slices.Equal(ga, gb) {
			t.Errorf("%s: %d actions from objects, %d from encoded documents", p.Name, len(ga), len(gb))
		}
	}
}

// encodeDocuments replaces every policy document object under v by its URL-encoded JSON text.
func encodeDocuments(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if m, ok := e.(map[string]any); ok && (k == "PolicyDocument" || k == "Document" || k == "AssumeRolePolicyDocument") {
				b, _ := json.Marshal(m)
				x[k] = url.QueryEscape(string(b))
				continue
			}
			encodeDocuments(e)
		}
	case []any:
		for _, e := range x {
			encodeDocuments(e)
		}
	}
}

func TestGroupInheritanceAndDefaultVersion(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "alice"))
	got := grantSet(g)
	// Own inline policy, group inline (no allows), group managed (v2, not the "*" of v1), the
	// other group's AWS-managed policy.
	for _, a := range []string{"sts:AssumeRole", "s3:GetObject", "s3:ListBucket", "ec2:DescribeInstances", "lambda:GetFunction", "cloudtrail:LookupEvents", "iam:GetRole", "iam:ListUsers", "iam:GenerateCredentialReport"} {
		if !got[a] {
			t.Errorf("alice lacks %s", a)
		}
	}
	for _, a := range []string{"s3:PutObject", "ec2:RunInstances", "iam:CreateUser", "lambda:UpdateFunctionCode"} {
		if got[a] {
			t.Errorf("alice has %s (the non-default v1 of developer-access grants *)", a)
		}
	}
	want := len(iam.Expand("s3:Get*")) + len(iam.Expand("s3:List*")) + len(iam.Expand("ec2:Describe*")) + 2 +
		len(iam.Expand("cloudtrail:*")) - 2 /* denied */ + 1 /* sts:AssumeRole */ +
		len(uniq(iam.Expand("iam:Get*"), iam.Expand("iam:List*"), iam.Expand("iam:GenerateCredentialReport")))
	if len(g.Allowed) != want {
		t.Errorf("alice: %d actions, want %d", len(g.Allowed), want)
	}
	gr, ok := g.Allows(act(t, "s3:GetObject"))
	if !ok || len(gr.By) != 1 || gr.By[0].Source != SourceGroupManaged || gr.By[0].Group != "developers" ||
		gr.By[0].Policy != "developer-access" || gr.By[0].Sid != "ReadS3" || gr.By[0].Statement != 0 || gr.Narrowed {
		t.Errorf("s3:GetObject grant: %+v", gr)
	}
	gr, _ = g.Allows(act(t, "sts:AssumeRole"))
	if !gr.Narrowed || gr.By[0].Source != SourceInline || !slices.Equal(gr.By[0].Resources, []string{"arn:aws:iam::*:role/Admin"}) {
		t.Errorf("sts:AssumeRole grant: %+v %+v", gr, gr.By[0])
	}
	if len(g.Problems) != 0 {
		t.Errorf("problems: %v", g.Problems)
	}
}

func uniq(ls ...[]iam.Action) []iam.Action {
	var out []iam.Action
	for _, l := range ls {
		for _, a := range l {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func TestDeny(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "alice"))
	// Unconditional Deny removes; the Allow and the Deny are kept to explain it.
	for _, a := range []string{"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"} {
		if _, ok := g.Allows(act(t, a)); ok {
			t.Errorf("%s granted despite the Deny", a)
		}
	}
	if len(g.Denied) != 2 || g.Denied[0].DeniedBy[0].Sid != "NoTrailTampering" || g.Denied[0].By[0].Sid != "Compute" {
		t.Errorf("denied: %+v", g.Denied)
	}
	// A Deny with a Condition leaves the action granted and says so; its NotAction exempts iam.
	gr, _ := g.Allows(act(t, "ec2:DescribeInstances"))
	if len(gr.PartialDeny) != 1 || gr.PartialDeny[0].Sid != "OnlyOurRegions" || !strings.Contains(gr.PartialDeny[0].Condition, "aws:RequestedRegion") {
		t.Errorf("ec2:DescribeInstances partial deny: %+v", gr.PartialDeny)
	}
	gr, _ = g.Allows(act(t, "iam:GetRole"))
	if len(gr.PartialDeny) != 0 {
		t.Errorf("iam:GetRole partial deny: %+v", gr.PartialDeny)
	}
}

func TestNotAction(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "Everything-But-IAM"))
	want := len(iam.Expand("*")) - len(iam.Expand("iam:*")) - len(iam.Expand("organizations:*")) - len(iam.Expand("account:*"))
	if len(g.Allowed) != want {
		t.Errorf("%d actions, want %d", len(g.Allowed), want)
	}
	got := grantSet(g)
	if got["iam:PassRole"] || got["organizations:ListAccounts"] || !got["ec2:RunInstances"] || !got["s3:GetObject"] {
		t.Error("NotAction not honoured")
	}
}

func TestBoundary(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "ci-deploy"))
	if g.Boundary == nil || g.Boundary.Name != "ci-boundary" {
		t.Fatalf("boundary %+v", g.Boundary)
	}
	// PowerUserAccess ∩ (lambda:*, s3:PutObject, cloudformation:Describe*) − lambda:DeleteFunction.
	want := len(iam.Expand("lambda:*")) - 1 + 1 + len(iam.Expand("cloudformation:Describe*"))
	if len(g.Allowed) != want {
		t.Errorf("%d actions, want %d", len(g.Allowed), want)
	}
	got := grantSet(g)
	if !got["lambda:UpdateFunctionCode"] || !got["s3:PutObject"] || got["s3:GetObject"] || got["lambda:DeleteFunction"] || got["iam:ListRoles"] {
		t.Error("boundary not applied")
	}
	if len(g.Denied) != 1 || g.Denied[0].Action.String() != "lambda:DeleteFunction" || g.Denied[0].DeniedBy[0].Source != SourceBoundary {
		t.Errorf("denied %+v", g.Denied)
	}
	out := map[string]bool{}
	for _, gr := range g.OutsideBoundary {
		out[gr.Action.String()] = true
	}
	if !out["s3:GetObject"] || !out["iam:ListRoles"] || out["iam:CreateUser"] {
		t.Errorf("outside boundary: %d actions", len(g.OutsideBoundary))
	}
}

func TestMissingPoliciesAndGroups(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "ghost"))
	if len(g.Allowed) != 0 {
		t.Errorf("ghost: %d actions", len(g.Allowed))
	}
	kinds := map[ProblemKind]string{}
	for _, p := range g.Problems {
		kinds[p.Kind] = p.Subject
	}
	if kinds[MissingPolicy] != "arn:aws:iam::aws:policy/ReadOnlyAccess" || kinds[MissingGroup] != "no-such-group" {
		t.Errorf("problems: %+v", g.Problems)
	}
	g = d.Grants(principal(t, d, "app-lambda-role"))
	var missing, unmatched bool
	for _, p := range g.Problems {
		missing = missing || p.Kind == MissingPolicy && p.Subject == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" && strings.Contains(p.Message, "not in the file")
		unmatched = unmatched || p.Kind == UnmatchedPattern && p.Subject == "s3:NoSuchAction"
	}
	if !missing || !unmatched {
		t.Errorf("problems: %+v", g.Problems)
	}
	want := []string{"kms:Decrypt", "s3:GetObject", "s3:PutObject", "ssm:GetParameter", "ssm:GetParameters"}
	if got := allowedNames(g); !slices.Equal(got, want) {
		t.Errorf("grants %v, want %v", got, want)
	}
}

func TestTruncatedAndPages(t *testing.T) {
	page := func(user string, trunc bool) string {
		return `{"UserDetailList":[{"UserName":"` + user + `","Arn":"arn:aws:iam::1:user/` + user + `","UserPolicyList":[{"PolicyName":"p","PolicyDocument":{"Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}}]}],"IsTruncated":` + map[bool]string{true: "true", false: "false"}[trunc] + `}`
	}
	d, err := Parse([]byte("["+page("a", true)+","+page("b", false)+"]"), "pages.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Users) != 2 || !d.Truncated {
		t.Fatalf("users %d truncated %v", len(d.Users), d.Truncated)
	}
	g := d.Grants(d.Users[1])
	if len(g.Allowed) != 1 || len(g.Problems) != 1 || g.Problems[0].Kind != Truncated {
		t.Errorf("grants %v problems %+v", allowedNames(g), g.Problems)
	}
}

func TestParseErrors(t *testing.T) {
	user := func(doc string) string {
		return `{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::1:user/u"},{"UserName":"v","Arn":"arn:aws:iam::1:user/v","UserPolicyList":[{"PolicyName":"p","PolicyDocument":` + doc + `}]}]}`
	}
	for _, c := range []struct{ in, want string }{
		{``, "x.json: empty document"},
		{`{"UserDetailList": [}`, "x.json: UserDetailList: invalid JSON at line 1, column 21"},
		{"{\"UserDetailList\": [\n  {\"UserName\": \"u\",}]}", "x.json: UserDetailList[0]: invalid JSON at line 2, column 20"},
		{`{"IsTruncated": "maybe", "Policies": []}`, "x.json: IsTruncated: want true or false, got a string"},
		{`{"Policies": []} {}`, "unexpected data after the JSON value"},
		{`"text"`, "want the JSON object printed by aws iam get-account-authorization-details, got a string"},
		{"{\n\"UserDetailList\": [", "the document ends early"},
		{`[1]`, "x.json: [0]: want an object, got a number"},
		{`{"Users": []}`, "not the output of aws iam get-account-authorization-details"},
		{`{"UserDetailList": {}}`, "x.json: UserDetailList: want an array, got an object"},
		{`{"UserDetailList": [{"Arn": "arn:aws:iam::1:user/u"}]}`, "UserDetailList[0]: missing UserName"},
		{`{"RoleDetailList": [{"RoleName": "r", "Arn": "role/r"}]}`, "RoleDetailList[0].Arn: want an IAM ARN"},
		{`{"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r", "CreateDate": "yesterday"}]}`, "RoleDetailList[0].CreateDate: want a date"},
		{user(`{"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}`), "UserDetailList[1].UserPolicyList[0].PolicyDocument.Statement[0].Effect: want \"Allow\" or \"Deny\", got \"Permit\""},
		{user(`{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", 5], "Resource": "*"}]}`), "PolicyDocument.Statement[0].Action[1]: want a string, got a number"},
		{user(`{"Statement": {"Effect": "Allow", "Resource": "*"}}`), "PolicyDocument.Statement: statement has neither Action nor NotAction"},
		{user(`{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}}`), "statement has both Action and NotAction"},
		{user(`{"Statement": {"Effect": "Allow", "NotAction": [], "Resource": "*"}}`), "Statement.NotAction: empty NotAction"},
		{user(`{"Statement": {"Effect": "Allow", "Action": "*", "Condition": "x"}}`), "Statement.Condition: want an object, got a string"},
		{user(`{"Version": "2012-10-17"}`), "PolicyDocument: policy document has no Statement"},
		{user(`"%7B%22Statement%22%3A"`), "UserDetailList[1].UserPolicyList[0].PolicyDocument: invalid JSON: the document ends early"},
		{user(`"%ZZ"`), "PolicyDocument: policy document is a string but neither JSON nor URL-encoded JSON"},
		{user(`42`), "PolicyDocument: want a policy document (an object or a string), got a number"},
		{`{"Policies": [{"Arn": "arn:aws:iam::1:policy/p", "DefaultVersionId": "v1", "PolicyVersionList": [{"VersionId": "v1"}]}]}`, "Policies[0].PolicyVersionList[0]: default version of arn:aws:iam::1:policy/p has no Document"},
	} {
		_, err := Parse([]byte(c.in), "x.json")
		var e *Error
		if err == nil || !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %q", c.in, err, c.want)
		}
	}
	if _, err := Load(filepath.Join("testdata", "no-such-file.json")); err == nil || !strings.Contains(err.Error(), "no-such-file.json") {
		t.Errorf("missing file: %v", err)
	}
}

// A non-default version that does not parse is not the file's problem: it grants nothing.
func TestOnlyDefaultVersionParsed(t *testing.T) {
	in := `{"Policies": [{"Arn": "arn:aws:iam::1:policy/p", "DefaultVersionId": "v2", "PolicyVersionList": [
		{"VersionId": "v1", "IsDefaultVersion": true, "Document": 7},
		{"VersionId": "v2", "IsDefaultVersion": false, "Document": {"Statement": {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}}]}]}`
	d, err := Parse([]byte(in), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Policies[0]; p.Document == nil || len(p.Document.Statements) != 1 {
		t.Errorf("default version: %+v", p)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"account.json", "encoded.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::1:user/u","GroupList":["g"],"UserPolicyList":[{"PolicyName":"p","PolicyDocument":"%7B%22Statement%22%3A%7B%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%22s3%3A*%22%7D%7D"}]}],"GroupDetailList":[{"GroupName":"g"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, "fuzz.json")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, p := range d.Principals() {
			g := d.Grants(p)
			Diff(g, map[iam.Action]Usage{{Prefix: "s3", Name: "GetObject"}: {Calls: 1}}, DiffOptions{})
		}
	})
}

// Every authorization-details document saved under the shared datasets parses, and every
// principal's grants resolve. None is saved today; the test keeps the door open.
func TestSharedSamples(t *testing.T) {
	dir := testshared.Dir(t, "datasets")
	n := 0
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte(`"UserDetailList"`)) && !bytes.Contains(data, []byte(`"RoleDetailList"`)) {
			return nil
		}
		n++
		d, err := Parse(data, p)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		for _, pr := range d.Principals() {
			g := d.Grants(pr)
			t.Logf("%s: %s %s: %d actions, %d problems", filepath.Base(p), pr.Type, pr.Name, len(g.Allowed), len(g.Problems))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skip("no get-account-authorization-details sample under the shared datasets")
	}
}

// An instance profile, by name in an account or by ARN, gives the roles it holds.
func TestInstanceProfileRoles(t *testing.T) {
	doc := `{"RoleDetailList": [
  {"RoleName": "web", "Arn": "arn:aws:iam::111122223333:role/app/web", "InstanceProfileList": [{"InstanceProfileName": "web-profile", "Arn": "arn:aws:iam::111122223333:instance-profile/web-profile", "Roles": []}]},
  {"RoleName": "web", "Arn": "arn:aws:iam::444455556666:role/web", "InstanceProfileList": [{"InstanceProfileName": "web-profile", "Arn": "arn:aws:iam::444455556666:instance-profile/web-profile"}]},
  {"RoleName": "batch", "Arn": "arn:aws:iam::111122223333:role/batch", "InstanceProfileList": []}]}`
	d, err := Parse([]byte(doc), "details.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		profile, account string
		want             []string
	}{
		{"web-profile", "111122223333", []string{"arn:aws:iam::111122223333:role/app/web"}},
		{"arn:aws:iam::444455556666:instance-profile/web-profile", "", []string{"arn:aws:iam::444455556666:role/web"}},
		{"web-profile", "", []string{"arn:aws:iam::111122223333:role/app/web", "arn:aws:iam::444455556666:role/web"}},
		{"batch", "111122223333", nil},
	} {
		if got := d.InstanceProfileRoles(c.profile, c.account); !slices.Equal(got, c.want) {
			t.Errorf("%s in %q: %v, want %v", c.profile, c.account, got, c.want)
		}
	}
	if _, err := Parse([]byte(`{"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r", "InstanceProfileList": [{"Arn": "x"}]}]}`), "bad.json"); err == nil || !strings.Contains(err.Error(), "InstanceProfileName") {
		t.Errorf("a profile without a name: %v", err)
	}
}
