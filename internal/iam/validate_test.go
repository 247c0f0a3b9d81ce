package iam

import (
	"fmt"
	"strings"
	"testing"
)

// policyWith wraps statements in a policy document.
func policyWith(statements ...string) []byte {
	return []byte(`{"Version": "2012-10-17", "Statement": [` + strings.Join(statements, ",") + `]}`)
}

// The validator accepts what IAM accepts and refuses what IAM refuses or would ignore: each bad
// policy gives the one problem it has.
func TestValidatePolicy(t *testing.T) {
	big := make([]string, 0, 400)
	for i := range 400 {
		big = append(big, fmt.Sprintf(`"arn:aws:s3:::bucket/key-%04d"`, i))
	}
	cases := []struct {
		name string
		doc  []byte
		want string // "" for no problem
	}{
		{"object wildcard", policyWith(`{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/uploads/*"}`), ""},
		{"bucket and object actions apart", policyWith(`{"Sid": "A", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::bucket"]}`, `{"Sid": "B", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::bucket/*"]}`), ""},
		{"PassRole with its service", policyWith(`{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/service-role/app", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}`), ""},
		{"global key", policyWith(`{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}`), ""},
		{"tag key placeholder", policyWith(`{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/team": "a"}}}`), ""},
		{"action pattern", policyWith(`{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}`), ""},
		{"bucket ARN for PutObject", policyWith(`{"Effect": "Allow", "Action": "s3:PutObject", "Resource": ["arn:aws:s3:::bucket/a", "arn:aws:s3:::bucket"]}`), "arn:aws:s3:::bucket is of no resource type s3:PutObject accepts"},
		{"object ARN for ListBucket", policyWith(`{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bucket/*"}`), "of no resource type s3:ListBucket accepts"},
		{"ARN for a star-only action", policyWith(`{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "arn:aws:ec2:us-east-1:111122223333:instance/i-1"}`), "ec2:DescribeInstances takes only Resource \"*\""},
		{"instance profile for PassRole", policyWith(`{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:instance-profile/web"}`), "of no resource type iam:PassRole accepts"},
		{"undocumented action", policyWith(`{"Effect": "Allow", "Action": "lambda:CreateFunction20150331", "Resource": "*"}`), "not in the IAM reference"},
		{"pattern matching nothing", policyWith(`{"Effect": "Allow", "Action": "s3:Fly*", "Resource": "*"}`), "matches no documented action"},
		{"key of another service", policyWith(`{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}`), "s3:GetObject does not take that key"},
		{"Principal in an identity policy", policyWith(`{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}`), "unknown element Principal"},
		{"no Resource", policyWith(`{"Effect": "Allow", "Action": "s3:GetObject"}`), "give Resource or NotResource"},
		{"bad Effect", policyWith(`{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}`), "want Allow or Deny"},
		{"Sid twice", policyWith(`{"Sid": "S3", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}`, `{"Sid": "S3", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}`), "Sid used twice"},
		{"Sid with a dash", policyWith(`{"Sid": "s3-read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}`), "letters and digits only"},
		{"old Version", []byte(`{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}`), "want \"2012-10-17\""},
		{"too long", policyWith(`{"Effect": "Allow", "Action": "s3:PutObject", "Resource": [` + strings.Join(big, ",") + `]}`), "over the limit of 6144"},
	}
	for _, c := range cases {
		got := ValidatePolicy(c.doc, 0)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: problems %q, want none", c.name, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
			t.Errorf("%s: problems %q, want one saying %q", c.name, got, c.want)
		}
	}
}

// ARN forms become patterns that tell a service's resource types apart.
func TestResourceTypesOfARNs(t *testing.T) {
	cases := []struct {
		action, arn, typ string // typ "": no type of the action
	}{
		{"s3:PutObject", "arn:aws:s3:::bucket/a/b:c.txt", "object"},
		{"s3:PutObject", "arn:aws:s3:::bucket/*", "object"},
		{"s3:PutObject", "arn:aws:s3:::bucket", ""},
		{"s3:ListBucket", "arn:aws:s3:::bucket", "bucket"},
		{"s3:ListBucket", "arn:aws:s3:::*", "bucket"},
		{"iam:PassRole", "arn:aws:iam::111122223333:role/path/to/app", "role"},
		{"iam:PassRole", "arn:aws:iam::111122223333:role/*", "role"},
		{"iam:PassRole", "arn:aws:iam::111122223333:user/app", ""},
		{"lambda:CreateFunction", "arn:aws:lambda:us-east-1:111122223333:function:f", "function"},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k1", "key"},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:alias/a", ""},
	}
	for _, c := range cases {
		a, ok := Exists(c.action)
		if !ok {
			t.Fatalf("%s not documented", c.action)
		}
		rt, ok := MatchResource(a, c.arn)
		if ok != (c.typ != "") || rt.Name != c.typ {
			t.Errorf("%s %s: type %q (%v), want %q", c.action, c.arn, rt.Name, ok, c.typ)
		}
	}
	if ts := ResourceTypes(Action{"ec2", "DescribeInstances"}); len(ts) != 0 {
		t.Errorf("ec2:DescribeInstances has resource types %v", ts)
	}
	if !ConditionKeyValid(Action{"iam", "PassRole"}, "iam:passedtoservice") || ConditionKeyValid(Action{"iam", "PassRole"}, "lambda:FunctionArn") {
		t.Error("iam:PassRole's condition keys")
	}
}
