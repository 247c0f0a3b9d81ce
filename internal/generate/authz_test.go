package generate

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/iam"
)

// authzOptions make a trail large enough for the long tail: in each of the three accounts two
// generated users (one of them a svc- user) and three generated roles (two Lambda, one EC2).
var authzOptions = Options{Seed: 5, Events: 48000, End: testEnd}

func TestAuthzDeterministic(t *testing.T) {
	a, err := Authz(authzOptions, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := authzOptions
	opt.Workers = 1
	b, err := Authz(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt.Seed++
	c, err := Authz(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !bytes.Equal(a[i].JSON, b[i].JSON) {
			t.Errorf("account %d: same options, different bytes", i)
		}
		if bytes.Equal(a[i].JSON, c[i].JSON) {
			t.Errorf("account %d: different seeds, same bytes", i)
		}
	}
	var buf bytes.Buffer
	tr, err := WriteAuthz(&buf, authzOptions, nil)
	if err != nil || !bytes.Equal(buf.Bytes(), a[0].JSON) || tr.Account != a[0].Account {
		t.Errorf("WriteAuthz: %v", err)
	}
}

// Package authz reads every generated inventory and finds exactly the grants the generator
// computed from the statements it wrote, with policy documents as objects and URL-encoded.
func TestAuthzGrantsMatchTruth(t *testing.T) {
	accts, err := Authz(authzOptions, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(mustDefaults(t, authzOptions))
	for i, acct := range accts {
		a := w.accounts[i]
		if acct.Account != a.id || len(acct.Truth.Principals) != len(a.users)+len(a.roles) {
			t.Fatalf("account %s: %d principals, world has %d users and %d roles", acct.Account, len(acct.Truth.Principals), len(a.users), len(a.roles))
		}
		for _, doc := range [][]byte{acct.JSON, encodeDocuments(t, acct.JSON)} {
			d, err := authz.Parse(doc, acct.Account+".json")
			if err != nil {
				t.Fatal(err)
			}
			checkGrants(t, d, acct.Truth)
		}
	}
	if !accts[0].Truth.Escalated || accts[1].Truth.Escalated {
		t.Errorf("escalation in the inventory of %v", []bool{accts[0].Truth.Escalated, accts[1].Truth.Escalated})
	}
}

func mustDefaults(t *testing.T, opt Options) Options {
	t.Helper()
	opt, err := opt.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func checkGrants(t *testing.T, d *authz.Details, truth AuthzTruth) {
	t.Helper()
	if len(d.Principals()) != len(truth.Principals) {
		t.Errorf("%s: %d principals in the file, %d in the truth", d.File, len(d.Principals()), len(truth.Principals))
	}
	var sawBoundary, sawDenied, sawPartial bool
	for _, p := range d.Principals() {
		want := truth.Principals[p.ARN]
		if want == nil {
			t.Errorf("%s: %s is not in the truth", d.File, p.ARN)
			continue
		}
		g := d.Grants(p)
		if len(g.Problems) != 0 {
			t.Errorf("%s: problems %v", p.ARN, g.Problems)
		}
		got := func(gs []authz.Grant, keep func(authz.Grant) bool) []string {
			out := []string{}
			for _, gr := range gs {
				if keep == nil || keep(gr) {
					out = append(out, gr.Action.String())
				}
			}
			return out
		}
		for _, c := range []struct {
			what      string
			got, want []string
		}{
			{"granted", got(g.Allowed, nil), want.Granted},
			{"denied", got(g.Denied, nil), want.Denied},
			{"outside the boundary", got(g.OutsideBoundary, nil), want.OutsideBoundary},
			{"partially denied", got(g.Allowed, func(gr authz.Grant) bool { return len(gr.PartialDeny) > 0 }), want.PartiallyDenied},
		} {
			if !slices.Equal(c.got, nilEmpty(c.want)) {
				t.Errorf("%s %s: %d actions, truth %d; first differences %v", p.ARN, c.what, len(c.got), len(c.want), firstDiff(c.got, c.want))
			}
		}
		if (p.Boundary == nil) != (want.Boundary == "") || p.Boundary != nil && p.Boundary.ARN != want.Boundary {
			t.Errorf("%s: boundary %v, truth %q", p.ARN, p.Boundary, want.Boundary)
		}
		if !slices.Equal(p.Groups, want.Groups) {
			t.Errorf("%s: groups %v, truth %v", p.ARN, p.Groups, want.Groups)
		}
		sawBoundary = sawBoundary || len(want.OutsideBoundary) > 0
		sawDenied = sawDenied || len(want.Denied) > 0
		sawPartial = sawPartial || len(want.PartiallyDenied) > 0
	}
	if !sawBoundary || !sawDenied || !sawPartial {
		t.Errorf("%s does not exercise boundaries (%v), denies (%v) and partial denies (%v)", d.File, sawBoundary, sawDenied, sawPartial)
	}
}

func nilEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func firstDiff(a, b []string) []string {
	in := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, s := range a {
		if !mb[s] {
			out = append(out, "+"+s)
		}
	}
	for _, s := range b {
		if !ma[s] {
			out = append(out, "-"+s)
		}
	}
	if len(out) > 6 {
		out = out[:6]
	}
	return out
}

// encodeDocuments rewrites every policy document of an inventory as URL-encoded JSON, as the IAM
// API itself returns them.
func encodeDocuments(t *testing.T, data []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if m, ok := e.(map[string]any); ok && (k == "PolicyDocument" || k == "Document" || k == "AssumeRolePolicyDocument") {
					b, _ := json.Marshal(m)
					x[k] = url.PathEscape(string(b))
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// usedActions maps a principal's events in the trail's truth to IAM actions, as the unused
// command does from the lake: successful calls only, or failed ones too.
func usedActions(t *testing.T, p *Principal, withFailed bool) map[iam.Action]authz.Usage {
	t.Helper()
	types := map[Action]string{}
	for _, a := range actions {
		types[Action{a.source, a.name}] = a.eventType
	}
	out := map[iam.Action]authz.Usage{}
	if p == nil {
		return out
	}
	for a, c := range p.Actions {
		n := c.Total - c.Errors
		if withFailed {
			n = c.Total
		}
		if n == 0 {
			continue
		}
		typ := types[a]
		if typ == "" {
			typ = "AwsApiCall"
		}
		for _, act := range iam.Map(a.Source, a.Name, typ).Actions {
			u := out[act]
			u.Calls += int64(n)
			out[act] = u
		}
	}
	return out
}

// Diff on a generated inventory and the trail generated with it classifies every action as the
// generator's truth says: every successful call is granted (the policies fit the trail), used
// actions are exactly the granted ones called, and what is granted and not called is unused or
// unknown as CloudTrail's visibility of it decides.
func TestAuthzDiffAgainstTrail(t *testing.T) {
	_, trail := gen(t, authzOptions)
	accts, err := Authz(authzOptions, trail)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[authz.Class]int{}
	for _, acct := range accts {
		d, err := authz.Parse(acct.JSON, acct.Account+".json")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Principals() {
			tp := trail.Principals[p.ARN]
			used := usedActions(t, tp, false)
			g := d.Grants(p)
			rep := authz.Diff(g, used, authz.DiffOptions{})
			granted := map[string]bool{}
			for _, a := range acct.Truth.Principals[p.ARN].Granted {
				granted[a] = true
			}
			for _, row := range rep.Actions {
				classes[row.Class]++
				_, isUsed := used[row.IAMAction()]
				var want authz.Class
				switch vis, _ := authz.VisibilityOf(row.IAMAction()); {
				case granted[row.Action] && isUsed:
					want = authz.Used
				case !granted[row.Action] && isUsed:
					want = authz.NotGranted
				case vis == authz.Management:
					want = authz.Unused
				default:
					want = authz.Unknown
				}
				if row.Class != want {
					t.Errorf("%s %s: %s (%s), want %s", p.ARN, row.Action, row.Class, row.Reason, want)
				}
			}
			if rep.Summary.NotGranted != 0 {
				t.Errorf("%s: %d successful actions not granted", p.ARN, rep.Summary.NotGranted)
			}
			if rep.Summary.Granted != len(granted) || rep.Summary.Used+rep.Summary.Unused+rep.Summary.Unknown != len(granted) {
				t.Errorf("%s: summary %+v, truth grants %d", p.ARN, rep.Summary, len(granted))
			}
			// RoleLastUsed comes from the trail.
			if p.Type == authz.Role && tp != nil && (p.RoleLastUsed == nil || !p.RoleLastUsed.Date.Equal(tp.Last)) {
				t.Errorf("%s: RoleLastUsed %v, last event %v", p.ARN, p.RoleLastUsed, tp.Last)
			}
		}
	}
	t.Logf("rows by class over %d accounts: %v", len(accts), classes)
	for _, c := range []authz.Class{authz.Used, authz.Unused, authz.Unknown} {
		if classes[c] == 0 {
			t.Errorf("no %s action", c)
		}
	}
}

// The calls an identity's habits always fail are used but not granted once failed calls count,
// and the classic invisible permissions are unknown.
func TestAuthzDiffExpectations(t *testing.T) {
	_, trail := gen(t, authzOptions)
	accts, err := Authz(authzOptions, trail)
	if err != nil {
		t.Fatal(err)
	}
	d, err := authz.Parse(accts[0].JSON, "main.json")
	if err != nil {
		t.Fatal(err)
	}
	id := trail.Identities
	diff := func(arn string, withFailed bool) map[string]authz.Row {
		ps := d.Lookup(arn)
		if len(ps) != 1 {
			t.Fatalf("%s: %d principals", arn, len(ps))
		}
		rows := map[string]authz.Row{}
		for _, r := range authz.Diff(d.Grants(ps[0]), usedActions(t, trail.Principals[arn], withFailed), authz.DiffOptions{}).Actions {
			rows[r.Action] = r
		}
		return rows
	}
	expect := func(arn string, withFailed bool, want map[string]authz.Class) {
		t.Helper()
		rows := diff(arn, withFailed)
		for a, c := range want {
			if rows[a].Class != c {
				t.Errorf("%s %s: %q (%s), want %s", arn, a, rows[a].Class, rows[a].Reason, c)
			}
		}
	}
	expect(id.Roles["ReadOnly"], true, map[string]authz.Class{
		"s3:PutBucketPolicy": authz.NotGranted, "ec2:RunInstances": authz.NotGranted, "iam:CreateUser": authz.NotGranted,
		"ec2:DescribeInstances": authz.Used, "iam:DeleteUser": "", "ec2:DescribeImages": authz.Unused,
		"s3:GetObject": authz.Unknown, // data event, not logged
	})
	expect(id.Roles["ec2-web-role"], true, map[string]authz.Class{
		"ec2:DescribeInstances": authz.NotGranted, "ec2:DescribeTags": authz.Used, "lambda:InvokeFunction": authz.Used,
		"ssmmessages:OpenDataChannel": authz.Unknown, "ssm:UpdateInstanceInformation": authz.Unused,
	})
	expect(id.Roles["app-lambda-role"], false, map[string]authz.Class{
		"s3:GetObject": authz.Used, "secretsmanager:GetSecretValue": authz.Used, "logs:PutLogEvents": authz.Unknown,
		"logs:CreateLogGroup": authz.Unused,
	})
	expect(id.Roles["Admin"], false, map[string]authz.Class{
		"cloudtrail:StopLogging": "", "iam:PassRole": authz.Unknown, "iam:CreateUser": authz.Unused,
	})
	expect(id.Users["ci-deploy"], false, map[string]authz.Class{
		"iam:CreateRole": "", "lambda:UpdateFunctionCode": authz.Used, "lambda:DeleteFunction": "",
		"ec2:RunInstances": "", "lambda:CreateFunction": authz.Unused,
	})
	// carol's escalation attached AdministratorAccess: the developers' guardrail still removes
	// StopLogging, and what she called in the escalation is used.
	expect(id.Users["carol"], false, map[string]authz.Class{
		"cloudtrail:StopLogging": "", "iam:CreatePolicyVersion": authz.Used, "iam:AttachUserPolicy": authz.Used,
		"iam:CreateLoginProfile": authz.Used, "ec2:RunInstances": authz.Used,
	})
	// Rows of the same principal are in a stable order: class, then reference order.
	rows := authz.Diff(d.Grants(d.Lookup(id.Users["bob"])[0]), usedActions(t, trail.Principals[id.Users["bob"]], false), authz.DiffOptions{}).Actions
	if !sort.SliceIsSorted(rows, func(i, j int) bool { return classRank(rows[i].Class) < classRank(rows[j].Class) }) {
		t.Error("rows not grouped by class")
	}
}

func classRank(c authz.Class) int {
	return strings.Index("used unused not-granted unknown", string(c))
}

// The inventory's dates are before the trail and its AWS-managed policies are the real ones'
// names and paths.
func TestAuthzInventoryShape(t *testing.T) {
	accts, err := Authz(authzOptions, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := authz.Parse(accts[0].JSON, "main.json")
	if err != nil {
		t.Fatal(err)
	}
	start := testEnd.AddDate(0, 0, -defaultDays)
	for _, p := range d.Principals() {
		if p.CreateDate.IsZero() || !p.CreateDate.Before(start) {
			t.Errorf("%s created %v", p.ARN, p.CreateDate)
		}
		if p.RoleLastUsed != nil {
			t.Errorf("%s: RoleLastUsed without a truth", p.ARN)
		}
	}
	want := []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMReadOnlyAccess", "service-role/AWSLambdaBasicExecutionRole",
		"AmazonSSMManagedInstanceCore", "aws-service-role/AWSConfigServiceRolePolicy"}
	for _, name := range want {
		p := d.Policy("arn:aws:iam::aws:policy/" + name)
		if p == nil || !p.AWSManaged || p.Document == nil || p.AttachmentCount == 0 {
			t.Errorf("AWS-managed %s: %+v", name, p)
		}
	}
	dev := d.Policy("arn:aws:iam::" + accts[0].Account + ":policy/developer-access")
	if dev == nil || dev.Versions != 2 || dev.DefaultVersion != "v2" {
		t.Errorf("developer-access: %+v", dev)
	}
	if !json.Valid(accts[0].JSON) || !bytes.HasPrefix(accts[0].JSON, []byte("{\n    \"UserDetailList\": [")) {
		t.Error("not the AWS CLI's layout")
	}
}
