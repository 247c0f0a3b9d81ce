package main

import (
	"context"
	"encoding/json"
	"github.com/trailsql/trailsql/internal/answer/local"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	answers "github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/usage"
)

// The truth of the policies (every action used and no other, valid, sufficient, the same as
// unused counts as used) is tested in package policy; these tests check the command: its flags,
// its stdout and stderr.

func parsePolicy(t *testing.T, out string) *authz.Document {
	t.Helper()
	doc, err := authz.ParseDocument([]byte(out))
	if err != nil {
		t.Fatalf("not a policy: %v\n%s", err, out)
	}
	return doc
}

// policy --principal writes policy.Build's document, as IAM reads it, and the same bytes every
// time; the principal's name is resolved as the answer says.
func TestPolicyCommand(t *testing.T) {
	g := generatedLake(t, 9, 6000)
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(g.truth.Newest.Add(time.Second))
	carol := g.truth.Identities.Users["carol"]
	code, out, errOut := run(t, "", "policy", "--lake", g.lake, "--from", from, "--to", to, "--principal", "CAROL")
	if code != 0 || !strings.Contains(errOut, `principal: user name "CAROL" → IAM user `+carol) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	u, err := usage.Collect(context.Background(), lakeQuery(t, g.lake), usage.Query{Principal: carol, From: g.truth.Oldest, To: g.truth.Newest.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := policy.Build(u, policy.Options{})
	want, _ := json.MarshalIndent(doc, "", "  ")
	if out != string(want)+"\n" {
		t.Errorf("policy --principal carol:\n%s\nwant:\n%s", out, want)
	}
	if again := mustRun(t, 0, "policy", "--lake", g.lake, "--from", from, "--to", to, "--principal", carol); again != out {
		t.Errorf("the policy is not deterministic")
	}
	if code, _, errOut := run(t, "", "policy", "--lake", g.lake, "--principal", "nobody-here"); code == 0 || !strings.Contains(errOut, `--principal "nobody-here": no IAM user, role or role session of that name in the lake (an ARN or access key id also works)`) {
		t.Errorf("unknown principal: exit %d %s", code, errOut)
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
	got := map[string][]string{}
	for _, st := range doc.Statements {
		for _, a := range st.Actions {
			got[a] = st.Resources
		}
	}
	want := map[string][]string{
		"kms:Decrypt":            {"arn:aws:kms:us-east-1:111122223333:key/k1", "arn:aws:kms:us-east-1:111122223333:key/k2"},
		"kms:ReEncryptFrom":      {"*"},
		"kms:ReEncryptTo":        {"*"},
		"dynamodb:PartiQLUpdate": {"*"},
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

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lakeQuery opens the lake as the commands do and returns its query function.
func lakeQuery(t *testing.T, lake string) answers.QueryFunc {
	t.Helper()
	e, err := engine.Open(context.Background(), engine.Options{Lake: lake, Dialect: athena.Dialect()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return local.Engine(e)
}
