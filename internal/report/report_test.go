package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Events written here, one per rule a sentence must keep: the identity named right, the action,
// how, and above all that a failed call never reads as done.
func TestSummarize(t *testing.T) {
	const user = `"userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`
	const chrome = `"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"`
	cases := []struct {
		name   string
		record string
		opt    Options
		want   string // the whole sentence
		failed bool
		denied bool
	}{
		{
			name:   "IAM user deletes a user in the console",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser",` + user + `,"sourceIPAddress":"203.0.113.5",` + chrome + `,"sessionCredentialFromConsole":"true","requestParameters":{"userName":"bob"},"eventID":"e1"}`,
			want:   "alice (IAM user, account 1111-2222-3333) deleted the IAM user bob from the AWS console (Chrome on macOS) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "denied call reads as tried and denied",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0 Python/3.11.4 Linux/6.1","errorCode":"AccessDenied","errorMessage":"User: alice is not authorized","requestParameters":{"userName":"bob"},"eventID":"e2"}`,
			want:   "alice (IAM user, account 1111-2222-3333) tried to delete the IAM user bob with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5, but was denied (AccessDenied).",
			failed: true, denied: true,
		},
		{
			name:   "other error reads as failed",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"Boto3/1.34.0 md/Botocore#1.34.0","errorCode":"NoSuchEntityException","errorMessage":"The user with name bob cannot be found.","requestParameters":{"userName":"bob"},"eventID":"e3"}`,
			want:   "alice (IAM user, account 1111-2222-3333) tried to delete the IAM user bob with the AWS SDK for Python (Boto3) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5, but it failed (NoSuchEntityException).",
			failed: true,
		},
		{
			name:   "failed console sign-in (no error code, only a message)",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn",` + user + `,"sourceIPAddress":"203.0.113.5",` + chrome + `,"errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e4"}`,
			want:   "alice (IAM user, account 1111-2222-3333) tried to sign in to the AWS console from a web browser (Chrome on macOS) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5, but it failed (Failed authentication).",
			failed: true,
		},
		{
			name:   "failed sign-in told only by the response",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",` + user + `,"responseElements":{"ConsoleLogin":"Failure"},"eventID":"e5"}`,
			want:   "alice (IAM user, account 1111-2222-3333) tried to sign in to the AWS console at 10:32:05 UTC on 4 Dec 2024, but it failed.",
			failed: true,
		},
		{
			name:   "root sign-in without MFA",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"sourceIPAddress":"203.0.113.5",` + chrome + `,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e6"}`,
			opt:    Options{AccountAliases: map[string]string{"111122223333": "prod"}},
			want:   "The root user of account 1111-2222-3333 alias prod signed in to the AWS console without MFA from a web browser (Chrome on macOS) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "assumed role with session name attaches a policy with Terraform",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:deploy","arn":"arn:aws:sts::111122223333:assumed-role/Deployer/deploy","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Deployer","userName":"Deployer"}}},"sourceIPAddress":"198.51.100.7","userAgent":"APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.0.0 aws-sdk-go-v2/1.21.0","requestParameters":{"userName":"carol","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"},"eventID":"e7"}`,
			want:   "The role Deployer (session deploy, account 1111-2222-3333) attached the policy AdministratorAccess to the user carol with Terraform 1.5.7 at 10:32:05 UTC on 4 Dec 2024 from 198.51.100.7.",
		},
		{
			name:   "AWS service principal",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com"},"sourceIPAddress":"lambda.amazonaws.com","userAgent":"lambda.amazonaws.com","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/fn-role","roleSessionName":"fn"},"recipientAccountId":"111122223333","eventID":"e8"}`,
			want:   "The AWS service lambda.amazonaws.com assumed the role fn-role as the session fn at 10:32:05 UTC on 4 Dec 2024.",
		},
		{
			name:   "federated user, in another time zone",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"FederatedUser","principalId":"111122223333:bob","arn":"arn:aws:sts::111122223333:federated-user/bob","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"}}},"sourceIPAddress":"203.0.113.9","userAgent":"aws-sdk-go-v2/1.21.0 os/linux","eventID":"e9"}`,
			opt:    Options{Location: time.FixedZone("CET", 3600)},
			want:   "The federated user bob (federated by the IAM user alice, account 1111-2222-3333) listed the S3 buckets with the AWS SDK for Go v2 at 11:32:05 CET on 4 Dec 2024 from 203.0.113.9.",
		},
		{
			name:   "security group opened to the world",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","requestParameters":{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}},"eventID":"e10"}`,
			want:   "alice (IAM user, account 1111-2222-3333) opened the security group sg-1 to 0.0.0.0/0 on TCP port 22 with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "CloudTrail stopped, trail given as an ARN",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"},"eventID":"e11"}`,
			want:   "alice (IAM user, account 1111-2222-3333) stopped logging of the trail main with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "access key for another user, through a VPC endpoint",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey",` + user + `,"sourceIPAddress":"10.0.0.8","userAgent":"aws-cli/2.13.0","vpcEndpointId":"vpce-0abc","requestParameters":{"userName":"dave"},"eventID":"e12"}`,
			want:   "alice (IAM user, account 1111-2222-3333) created an access key for the user dave with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 10.0.0.8 through the VPC endpoint vpce-0abc.",
		},
		{
			name:   "Identity Center user through its permission set role",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:jane@example.com","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/jane@example.com","accountId":"111122223333"},"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","eventID":"e13"}`,
			want:   "jane@example.com (Identity Center user, permission set ReadOnly, account 1111-2222-3333) described instances in EC2 with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "generic event named from its request",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"dynamodb.amazonaws.com","eventName":"DeleteTable",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","requestParameters":{"tableName":"orders"},"eventID":"e14"}`,
			want:   "alice (IAM user, account 1111-2222-3333) deleted the table orders in DynamoDB with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5.",
		},
		{
			name:   "snapshot made public, then refused",
			record: `{"eventTime":"2024-12-04T10:32:05Z","eventSource":"ec2.amazonaws.com","eventName":"ModifySnapshotAttribute",` + user + `,"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0","errorCode":"Client.UnauthorizedOperation","requestParameters":{"snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"group":"all"}]}}},"eventID":"e15"}`,
			want:   "alice (IAM user, account 1111-2222-3333) tried to make the EBS snapshot snap-1 public (shared with every AWS account) with the AWS CLI 2.13.0 at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.5, but was denied (Client.UnauthorizedOperation).",
			failed: true, denied: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row, err := ParseRecord([]byte(c.record))
			if err != nil {
				t.Fatal(err)
			}
			s := Summarize(row, c.opt)
			if s.Sentence != c.want {
				t.Errorf("sentence:\n got %s\nwant %s", s.Sentence, c.want)
			}
			if s.Failed != c.failed || s.Denied != c.denied {
				t.Errorf("failed %v denied %v, want %v %v", s.Failed, s.Denied, c.failed, c.denied)
			}
			if c.failed && s.Outcome == "succeeded" {
				t.Errorf("outcome %q for a failed call", s.Outcome)
			}
		})
	}
}

// Console or not is told by the user agent and sessionCredentialFromConsole.
func TestHow(t *testing.T) {
	cases := []struct {
		ua, fromConsole, want string
		console               bool
	}{
		{"aws-cli/2.13.0 Python/3.11.4", "", "with the AWS CLI 2.13.0", false},
		{"aws-cli/1.18.39 Python/2.7", "", "with the AWS CLI 1.18.39", false},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0", "true", "from the AWS console (Firefox on Windows)", true},
		{"AWS Internal", "true", "from the AWS console", true},
		{"console.ec2.amazonaws.com", "", "from the AWS console", true},
		{"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.666]", "", "from the AWS console", true},
		{"cloudformation.amazonaws.com", "", "through CloudFormation", false},
		{"Boto3/1.26.0 Python/3.9 Botocore/1.29.0", "", "with the AWS SDK for Python (Boto3)", false},
		{"aws-sdk-java/1.12.0 Linux/5.10", "", "with the AWS SDK for Java", false},
		{"config.amazonaws.com", "", "through the AWS service config.amazonaws.com", false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", "", "from a web browser (Safari on macOS)", false},
		{"curl/8.1.2", "", "with the client curl/8.1.2", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		e := event{ua: c.ua, fromConsole: c.fromConsole, source: "s3.amazonaws.com", name: "ListBuckets"}
		got, console := how(&e)
		if got != c.want || console != c.console {
			t.Errorf("how(%q, %q) = %q %v, want %q %v", c.ua, c.fromConsole, got, console, c.want, c.console)
		}
	}
}

// Identities of every kind are named.
func TestWho(t *testing.T) {
	cases := []struct{ identity, want string }{
		{`{"type":"Root","accountId":"111122223333"}`, "the root user of account 1111-2222-3333"},
		{`{"type":"IAMUser","accountId":"111122223333","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"}`, "an unknown user name (hidden by AWS) (account 1111-2222-3333)"},
		{`{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/web/i-0abc","accountId":"111122223333","sessionContext":{"sessionIssuer":{"userName":"web"},"webIdFederationData":{}}}`, "the role web (session i-0abc, account 1111-2222-3333)"},
		{`{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/gh/ci","accountId":"111122223333","sessionContext":{"webIdFederationData":{"federatedProvider":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}}}`, "the role gh (session ci, web identity from arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com, account 1111-2222-3333)"},
		{`{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}`, "the AWS service cloudtrail.amazonaws.com"},
		{`{"type":"AWSAccount","principalId":"ANONYMOUS_PRINCIPAL"}`, "an anonymous caller (not signed in)"},
		{`{"type":"AWSAccount","accountId":"444455556666","principalId":"AIDAEXAMPLE"}`, "a principal of account 4444-5555-6666"},
		{`{"type":"SAMLUser","userName":"jane","principalId":"x"}`, "the SAML user jane"},
		{`{"type":"WebIdentityUser","userName":"bob","invokedBy":"cognito-identity.amazonaws.com"}`, "the web identity user bob (web identity from cognito-identity.amazonaws.com)"},
		{`{"type":"IdentityCenterUser","accountId":"111122223333","onBehalfOf":{"userId":"544894e8-80c1-707f-60e3-3ba6510dfac1","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1"}}`, "the IAM Identity Center user 544894e8-80c1-707f-60e3-3ba6510dfac1 (account 1111-2222-3333)"},
	}
	for _, c := range cases {
		row, err := ParseRecord([]byte(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":` + c.identity + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := Summarize(row, Options{}).Who; got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.identity, got, c.want)
		}
	}
}

// A row lacking columns names them; Text writes one line per event; Fields keep their order.
func TestColumnsTextFields(t *testing.T) {
	if got := MissingColumns([]string{"eventname", "eventtime"}); len(got) != len(Columns)-2 || got[0] != "useridentity" {
		t.Errorf("MissingColumns = %v", got)
	}
	if got := MissingColumns(Columns); got != nil {
		t.Errorf("MissingColumns(Columns) = %v", got)
	}
	row, err := ParseRecord([]byte(`{"eventTime":"2024-12-04T10:32:05Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"Root","accountId":"111122223333"},"sourceIPAddress":"203.0.113.5","eventID":"e1","errorCode":"AccessDenied"}`))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(row, Options{})
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name+"="+f.Value)
	}
	want := "Who=the root user of account 1111-2222-3333|Action=tried to list the S3 buckets|Account=1111-2222-3333|Source IP=203.0.113.5|When=2024-12-04 10:32:05 UTC|Outcome=denied (AccessDenied)|Event ID=e1"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("fields:\n got %s\nwant %s", got, want)
	}
	var b bytes.Buffer
	if err := Text(&b, []Summary{s, s}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 2 || !strings.HasPrefix(b.String(), s.Sentence+"\n") {
		t.Errorf("Text = %q", b.String())
	}
	if _, err := ParseRecord([]byte(`{"eventName": `)); err == nil {
		t.Error("ParseRecord of broken JSON: no error")
	}
}

// Summarize never panics, whatever a row holds.
func FuzzSummarize(f *testing.F) {
	f.Add(`{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}`)
	f.Add(`{"eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","requestParameters":{"ipPermissions":{"items":[{}]}}}`)
	f.Add(`{"eventName":"ModifySnapshotAttribute","eventSource":"ec2.amazonaws.com","requestParameters":{"snapshotId":"s","createVolumePermission":{"add":{"items":[{"group":"all"},{"userId":"1"}]}}}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		row, err := ParseRecord([]byte(raw))
		if err != nil {
			return
		}
		s := Summarize(row, Options{})
		if !strings.HasSuffix(s.Sentence, ".") {
			t.Fatalf("sentence without a full stop: %q", s.Sentence)
		}
	})
}
