package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/trailsql/trailsql/internal/testshared"
)

// run runs trailsql in-process and returns its exit status, stdout and stderr.
func run(t testing.TB, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code := m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// mustRun runs trailsql and fails the test unless it exits with want.
func mustRun(t testing.TB, want int, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, "", args...)
	if code != want {
		t.Fatalf("trailsql %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// scalar runs a query whose answer is one value and returns it as text.
func scalar(t testing.TB, lake, sql string) string {
	t.Helper()
	out := mustRun(t, 0, "query", "--lake", lake, "--format", "csv", sql)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("query %q: want one row, got:\n%s", sql, out)
	}
	return lines[1]
}

// sharedDir returns ../shared/<sub>; see testshared.Dir.
func sharedDir(t testing.TB, sub string) string { return testshared.Dir(t, sub) }

// writeTrail writes files×perFile distinct synthetic events as gzip log files in the S3 trail
// layout and returns the folder.
func writeTrail(t testing.TB, dir string, files, perFile int) string {
	t.Helper()
	for f := 0; f < files; f++ {
		day := 1 + f%3
		p := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2024", "03", fmt.Sprintf("%02d", day),
			fmt.Sprintf("111122223333_CloudTrail_us-east-1_202403%02dT0000Z_f%05d.json.gz", day, f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString(`{"Records":[`)
		for i := 0; i < perFile; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%d","arn":"arn:aws:iam::111122223333:user/u%d","accountId":"111122223333","accessKeyId":"AKIA%05d","userName":"u%d"},"eventTime":"2024-03-%02dT%02d:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.%d","userAgent":"aws-cli/2","requestParameters":{"n":%d},"responseElements":null,"requestID":"r-%d-%d","eventID":"e-%d-%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
				i%7, i%7, i%7, i%7, day, i%24, i%60, f%60, i%200, i, f, i, f, i)
		}
		b.WriteString(`]}`)
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b.Bytes())
		zw.Close()
		if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
