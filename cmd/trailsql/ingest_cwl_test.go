package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cwlsrc/cwltest"
)

// trailsql ingest cwl://GROUP against a FAKE CloudWatch Logs endpoint (cwltest; no real one can
// run here): the events are stored, a second run reads nothing, a missing group is an error that
// says what to check.
func TestIngestCWLCommand(t *testing.T) {
	awsEnv(t, "AKIDFAKE", "fake")
	fake := cwltest.New()
	defer fake.Close()
	fake.ThrottleEvery = 3
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		ts := at.Add(time.Duration(i) * time.Second)
		rec := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestParameters":null,"responseElements":null,"eventID":"cwl-cmd-%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`, ts.Format(time.RFC3339), i)
		fake.Add("eu-west-1", "trail-group", "111122223333_CloudTrail_eu-west-1", cwltest.Event{Timestamp: ts.UnixMilli(), Message: rec})
	}
	lake := t.TempDir()
	args := []string{"ingest", "--lake", lake, "--no-detect", "--endpoint-url", fake.URL, "--region", "eu-west-1", "cwl://trail-group"}
	code, out, errOut := run(t, "", args...)
	if code != 0 || !strings.Contains(out, "events: 5 read, 5 added") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "", args...)
	if code != 0 || !strings.Contains(out, "events: 0 read, 0 added") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "", "info", "--lake", lake); code != 0 || !strings.Contains(out+errOut, "1 CloudWatch Logs page") {
		t.Fatalf("info: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "ingest", "--lake", lake, "--regions", "eu-west-1", "cwl://trail-group"); code == 0 || !strings.Contains(errOut, "--region") {
		t.Fatalf("--regions with a log group: exit %d, %s", code, errOut)
	}
	code, out, _ = run(t, "", "ingest", "--lake", lake, "--no-detect", "--endpoint-url", fake.URL, "--region", "eu-west-1", "cwl://no-such-group")
	if code != 1 || !strings.Contains(out, "ResourceNotFoundException") || !strings.Contains(out, "--region") {
		t.Fatalf("missing group: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "", "ingest", "--lake", lake, "cwl://bad:name"); code == 0 || !strings.Contains(errOut, "only letters, digits") {
		t.Fatalf("bad group name: exit %d, %s", code, errOut)
	}
}

// --cwl-lateness, against the FAKE CloudWatch Logs endpoint (cwltest): an event delivered 40
// minutes behind its stream's newest is missed with the default (15 minutes), and collected by
// a run with --cwl-lateness 1h on the same lake, once; a lateness that is not positive is refused.
func TestIngestCWLLateness(t *testing.T) {
	awsEnv(t, "AKIDFAKE", "fake")
	fake := cwltest.New()
	defer fake.Close()
	const group, stream = "trail-group", "111122223333_CloudTrail_eu-west-1"
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ingested := at.Add(5 * time.Minute).UnixMilli()
	for i := range 5 {
		ts := at.Add(time.Duration(i) * time.Second)
		fake.Add("eu-west-1", group, stream, cwltest.Event{Timestamp: ts.UnixMilli(), IngestionTime: ingested, Message: cwlRecord(fmt.Sprintf("on-time-%d", i), ts)})
	}
	lake := t.TempDir()
	args := []string{"ingest", "--lake", lake, "--no-detect", "--endpoint-url", fake.URL, "--region", "eu-west-1"}
	if code, out, errOut := run(t, "", append(args, "cwl://"+group)...); code != 0 || !strings.Contains(out, "events: 5 read, 5 added") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	late := at.Add(4*time.Second - 40*time.Minute)
	fake.Add("eu-west-1", group, stream, cwltest.Event{Timestamp: late.UnixMilli(), IngestionTime: ingested + 60_000, Message: cwlRecord("late-40m", late)})
	if code, out, errOut := run(t, "", append(args, "cwl://"+group)...); code != 0 || !strings.Contains(out, "events: 0 read, 0 added") {
		t.Fatalf("default lateness: the event 40 minutes late should be missed: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "", append(args, "--cwl-lateness", "1h", "cwl://"+group)...); code != 0 || !strings.Contains(out, "events: 1 read, 1 added") {
		t.Fatalf("--cwl-lateness 1h: the event 40 minutes late should be collected: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "", append(args, "--cwl-lateness", "1h", "cwl://"+group)...); code != 0 || !strings.Contains(out, "events: 0 read, 0 added") {
		t.Fatalf("--cwl-lateness 1h again: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, bad := range []string{"0s", "-5m"} {
		if code, _, errOut := run(t, "", append(args, "--cwl-lateness", bad, "cwl://"+group)...); code == 0 || !strings.Contains(errOut, "--cwl-lateness") || !strings.Contains(errOut, "positive") {
			t.Fatalf("--cwl-lateness %s: exit %d, %s", bad, code, errOut)
		}
	}
	if code, _, errOut := run(t, "", "ingest", "--lake", lake, "--cwl-lateness", "1h", t.TempDir()); code == 0 || !strings.Contains(errOut, "cwl://") {
		t.Fatalf("--cwl-lateness without a log group: exit %d, %s", code, errOut)
	}
}

// cwlRecord is a small CloudTrail record at ts with eventID id.
func cwlRecord(id string, ts time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","eventID":%q,"readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, ts.Format(time.RFC3339), id)
}
