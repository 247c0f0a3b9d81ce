package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/report"
)

// textEvents are events written for the --format text tests: a root sign-in that failed, a
// refused root call, an IAM user deleting a user in the console, one per line (JSON lines).
var textEvents = []string{
	`{"eventVersion":"1.08","eventTime":"2024-12-04T10:30:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","eventType":"AwsConsoleSignIn","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"sourceIPAddress":"203.0.113.5","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"t-1","recipientAccountId":"111122223333"}`,
	`{"eventVersion":"1.08","eventTime":"2024-12-04T10:31:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","eventType":"AwsApiCall","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2.13.0 Python/3.11.4","errorCode":"AccessDenied","errorMessage":"denied by an SCP","requestParameters":{"name":"main"},"eventID":"t-2","recipientAccountId":"111122223333"}`,
	`{"eventVersion":"1.08","eventTime":"2024-12-04T10:32:05Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","awsRegion":"us-east-1","eventType":"AwsApiCall","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"sourceIPAddress":"203.0.113.6","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0","sessionCredentialFromConsole":"true","requestParameters":{"userName":"bob"},"eventID":"t-3","recipientAccountId":"111122223333"}`,
}

func textLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(src, []byte(strings.Join(textEvents, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lake := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", lake, "--no-detect", src)
	return lake
}

// query --format text writes each row as the sentence report.Summarize writes for the record it
// came from; a result without whole rows is an error that names the columns it lacks.
func TestQueryFormatText(t *testing.T) {
	lake := textLake(t)
	out := mustRun(t, 0, "query", "--lake", lake, "--format", "text", "--tz", "Europe/Paris", "--account-alias", "1111-2222-3333=prod",
		"SELECT * FROM cloudtrail_logs ORDER BY eventtime")
	loc, err := (&textFlags{tz: "Europe/Paris"}).options()
	if err != nil {
		t.Fatal(err)
	}
	loc.AccountAliases = map[string]string{"111122223333": "prod"}
	var want []string
	for _, ev := range textEvents {
		row, err := report.ParseRecord([]byte(ev))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, report.Summarize(row, loc).Sentence)
	}
	if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
		t.Fatalf("query --format text:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, s := range []string{"tried to sign in", "but it failed (Failed authentication)", "tried to stop logging of the trail main", "but was denied (AccessDenied)",
		"alice (IAM user, account 1111-2222-3333 alias prod) deleted the IAM user bob from the AWS console (Firefox on Windows) at 11:32:05 CET on 4 Dec 2024 from 203.0.113.6."} {
		if !strings.Contains(out, s) {
			t.Errorf("query --format text lacks %q:\n%s", s, out)
		}
	}

	code, _, errOut := run(t, "", "query", "--lake", lake, "--format", "text", "SELECT eventname, eventtime FROM cloudtrail_logs")
	if code == 0 || !strings.Contains(errOut, "needs the columns") || !strings.Contains(errOut, "lacks useridentity, eventsource") || !strings.Contains(errOut, "SELECT *") {
		t.Errorf("text of a partial row: exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = run(t, "", "query", "--lake", lake, "--format", "text", "--tz", "Nowhere/Else", "SELECT * FROM cloudtrail_logs")
	if code == 0 || !strings.Contains(errOut, "--tz") {
		t.Errorf("bad --tz: exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = run(t, "", "query", "--lake", lake, "--format", "text", "--account-alias", "prod", "SELECT * FROM cloudtrail_logs")
	if code == 0 || !strings.Contains(errOut, "ACCOUNT=ALIAS") {
		t.Errorf("bad --account-alias: exit %d, stderr %s", code, errOut)
	}
}

// detect --format text writes each alert as its severity, rule and the sentence of its event,
// read back from the lake.
func TestDetectFormatText(t *testing.T) {
	lake := textLake(t)
	out := mustRun(t, 0, "detect", "--lake", lake, "--from", "2024-12-01", "--to", "2024-12-05", "--format", "text",
		"--rule", "root-activity", "--rule", "iam-user-deleted")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"[high] root-activity: The root user of account 1111-2222-3333 tried to sign in to the AWS console from a web browser (Chrome on macOS) at 10:30:00 UTC on 4 Dec 2024 from 203.0.113.5, but it failed (Failed authentication).",
		"[high] root-activity: The root user of account 1111-2222-3333 tried to stop logging of the trail main with the AWS CLI 2.13.0 at 10:31:00 UTC on 4 Dec 2024 from 203.0.113.5, but was denied (AccessDenied).",
		"[low] iam-user-deleted: alice (IAM user, account 1111-2222-3333) deleted the IAM user bob from the AWS console (Firefox on Windows) at 10:32:05 UTC on 4 Dec 2024 from 203.0.113.6.",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("detect --format text:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
