package authz

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/iam"
)

func rowsByAction(r *Report) map[string]Row {
	m := map[string]Row{}
	for _, row := range r.Actions {
		m[row.Action] = row
	}
	return m
}

func TestDiff(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "app-lambda-role"))
	last := time.Date(2025, 3, 1, 7, 0, 0, 0, time.UTC)
	used := map[iam.Action]Usage{
		act(t, "s3:GetObject"):                  {Calls: 10, Last: last},
		act(t, "kms:Decrypt"):                   {Calls: 3},
		act(t, "secretsmanager:GetSecretValue"): {Calls: 1},
	}
	r := Diff(g, used, DiffOptions{})
	rows := rowsByAction(r)
	for a, want := range map[string]Class{
		"s3:GetObject": Used, "kms:Decrypt": Used,
		"ssm:GetParameter": Unused, "ssm:GetParameters": Unused,
		"s3:PutObject":                  Unknown, // data event, not logged
		"secretsmanager:GetSecretValue": NotGranted,
	} {
		if rows[a].Class != want {
			t.Errorf("%s: %s (%s), want %s", a, rows[a].Class, rows[a].Reason, want)
		}
	}
	if len(r.Actions) != 6 {
		t.Errorf("%d rows", len(r.Actions))
	}
	if s := r.Summary; s.Granted != 5 || s.Used != 2 || s.Unused != 2 || s.Unknown != 1 || s.NotGranted != 1 || s.UnknownBy[DataEvent] != 1 {
		t.Errorf("summary %+v", s)
	}
	if row := rows["s3:GetObject"]; row.Calls != 10 || !row.Last.Equal(last) || !row.Narrowed || len(row.GrantedBy) != 1 || row.AccessLevel != iam.Read {
		t.Errorf("s3:GetObject row %+v", row)
	}
	if row := rows["secretsmanager:GetSecretValue"]; !strings.Contains(row.Reason, "resource-based policy") || !strings.Contains(row.Reason, "a policy the file lacks") {
		t.Errorf("not-granted reason %q", row.Reason)
	}
	// Classes in order, then prefix and name.
	order := []string{"kms:Decrypt", "s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "secretsmanager:GetSecretValue", "s3:PutObject"}
	for i, row := range r.Actions {
		if row.Action != order[i] {
			t.Errorf("row %d: %s, want %s", i, row.Action, order[i])
		}
	}
	if r.Principal.ARN != "arn:aws:iam::111122223333:role/service-role/app-lambda-role" || r.Principal.RoleLastUsed.IsZero() || len(r.Problems) != 2 {
		t.Errorf("principal %+v problems %v", r.Principal, r.Problems)
	}

	// With S3 data events logged, the unused object action is unused.
	r = Diff(g, used, DiffOptions{DataEvents: []string{"s3"}})
	if row := rowsByAction(r)["s3:PutObject"]; row.Class != Unused || !strings.Contains(row.Reason, "data events are logged for s3") {
		t.Errorf("s3:PutObject with data events: %s %s", row.Class, row.Reason)
	}

	// The report encodes deterministically.
	a, _ := json.Marshal(Diff(g, used, DiffOptions{}))
	b, _ := json.Marshal(Diff(g, used, DiffOptions{}))
	if string(a) != string(b) || !strings.Contains(string(a), `"class":"not-granted"`) || !strings.Contains(string(a), `"unknown_by":{"data":1}`) {
		t.Errorf("json: %s", a)
	}
}

func TestUsageMerge(t *testing.T) {
	t1, t2 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	u := Usage{}.Merge(Usage{Calls: 2, First: t2, Last: t2}).Merge(Usage{Calls: 1, First: t1, Last: t1})
	if u.Calls != 3 || !u.First.Equal(t1) || !u.Last.Equal(t2) {
		t.Errorf("%+v", u)
	}
}

func TestDiffDeniedAndBoundary(t *testing.T) {
	d := load(t, "account.json")
	alice := d.Grants(principal(t, d, "alice"))
	r := Diff(alice, map[iam.Action]Usage{act(t, "cloudtrail:StopLogging"): {Calls: 1}}, DiffOptions{})
	row := rowsByAction(r)["cloudtrail:StopLogging"]
	if row.Class != NotGranted || len(row.DeniedBy) != 1 || row.DeniedBy[0].Sid != "NoTrailTampering" || !strings.Contains(row.Reason, "unconditional Deny") {
		t.Errorf("denied row %+v", row)
	}
	if r.Summary.Denied != 2 {
		t.Errorf("summary %+v", r.Summary)
	}
	ci := d.Grants(principal(t, d, "ci-deploy"))
	r = Diff(ci, map[iam.Action]Usage{act(t, "s3:GetObject"): {}}, DiffOptions{})
	row = rowsByAction(r)["s3:GetObject"]
	if row.Class != NotGranted || !strings.Contains(row.Reason, "outside the permissions boundary") || r.Principal.Boundary == "" {
		t.Errorf("boundary row %+v", row)
	}
}

func TestDiffUnverified(t *testing.T) {
	d := load(t, "account.json")
	g := d.Grants(principal(t, d, "Everything-But-IAM"))
	var unverified iam.Action
	for _, gr := range g.Allowed {
		if v, _ := VisibilityOf(gr.Action); v == Unverified {
			unverified = gr.Action
			break
		}
	}
	if unverified == (iam.Action{}) {
		t.Fatal("no unverified action granted")
	}
	if row := rowsByAction(Diff(g, nil, DiffOptions{}))[unverified.String()]; row.Class != Unknown {
		t.Errorf("%s: %s", unverified, row.Class)
	}
	if row := rowsByAction(Diff(g, nil, DiffOptions{AssumeRecorded: true}))[unverified.String()]; row.Class != Unused {
		t.Errorf("%s with AssumeRecorded: %s", unverified, row.Class)
	}
}

func TestReportByService(t *testing.T) {
	r := &Report{Actions: []Row{
		{Action: "s3:GetObject", Class: Used}, {Action: "s3:PutObject", Class: Unused}, {Action: "s3:ListBucket", Class: Unknown},
		{Action: "ec2:RunInstances", Class: NotGranted}, {Action: "ec2:DescribeInstances", Class: Used},
	}}
	got := r.ByService()
	want := []ServiceCount{
		{Service: "ec2", Granted: 1, Used: 1, NotGranted: 1},
		{Service: "s3", Granted: 3, Used: 1, Unused: 1, Unknown: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
