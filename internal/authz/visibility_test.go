package authz

import (
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/iam"
)

// Every pattern of the hand-written rules names documented actions.
func TestRulesDocumented(t *testing.T) {
	for _, r := range rules {
		for _, p := range r.patterns {
			if len(iam.Expand(p)) == 0 {
				t.Errorf("rule %s: %s matches no documented action", r.vis, p)
			}
		}
	}
}

// Every entry of the generated table is a documented action: the table and package iam's
// reference were generated from the same datasets.
func TestRecordedTableDocumented(t *testing.T) {
	n := 0
	err := iam.ReadTable(recordedGz, func(prefix string, _ byte, name string) error {
		n++
		if _, ok := iam.Exists(prefix + ":" + name); !ok {
			t.Errorf("%s:%s is not in the IAM reference; run go generate ./internal/authz", prefix, name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(recorded()) {
		t.Errorf("%d entries, %d parsed", n, len(recorded()))
	}
}

func TestVisibilityOf(t *testing.T) {
	for _, c := range []struct {
		action string
		want   Visibility
		reason string
	}{
		{"ec2:DescribeInstances", Management, "AWS SDK operation"},
		{"iam:CreateUser", Management, "cloudtracker"},
		{"kms:Decrypt", Management, ""},
		{"secretsmanager:GetSecretValue", Management, ""},
		{"sts:AssumeRole", Management, ""},
		{"bedrock:InvokeModel", Management, "seen in real CloudTrail logs"},
		{"s3:ListAllMyBuckets", Management, ""},
		{"s3:GetObject", DataEvent, "AWS::S3::Object"},
		{"s3:PutObjectAcl", DataEvent, "AWS::S3::Object"},
		{"s3:ListBucket", DataEvent, "ListObjects"},
		{"lambda:InvokeFunction", DataEvent, "AWS::Lambda::Function"},
		{"dynamodb:PartiQLSelect", DataEvent, "AWS::DynamoDB::Table"},
		{"sqs:SendMessage", DataEvent, "AWS::SQS::Queue"},
		{"ssmmessages:OpenDataChannel", DataEvent, ""},
		{"iam:PassRole", PermissionOnly, "iam:PassRole"},
		{"lambda:PassNetworkConnector", PermissionOnly, ""},
		{"sts:TagSession", PermissionOnly, "AssumeRole"},
		{"s3:BypassGovernanceRetention", PermissionOnly, ""},
		{"logs:PutLogEvents", NotRecorded, "CloudWatch Logs"},
		{"execute-api:Invoke", NotRecorded, "API Gateway"},
		{"rds-db:connect", NotRecorded, ""},
		{"lambda:InvokeFunctionUrl", NotRecorded, ""},
	} {
		v, why := VisibilityOf(act(t, c.action))
		if v != c.want || !strings.Contains(why, c.reason) {
			t.Errorf("%s: %s (%s), want %s (…%s…)", c.action, v, why, c.want, c.reason)
		}
	}
}

// TestVisibilityFigures reports how the reference splits; run with -v.
func TestVisibilityFigures(t *testing.T) {
	n := map[Visibility]int{}
	all := iam.Expand("*")
	for _, a := range all {
		v, _ := VisibilityOf(a)
		n[v]++
	}
	t.Logf("%d reference actions: %d management events, %d data events, %d not recorded, %d permission-only, %d unverified",
		len(all), n[Management], n[DataEvent], n[NotRecorded], n[PermissionOnly], n[Unverified])
	if n[Management] < len(all)/2 || n[DataEvent] < 50 || n[Unverified] == 0 {
		t.Errorf("unexpected split %v", n)
	}
}
