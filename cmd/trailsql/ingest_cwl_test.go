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
