package main

import (
	"bytes"
	"compress/gzip"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const inputEvent = `{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e-%d","requestParameters":{"b":1,"a":2}}`

// logFile is a CloudTrail log file of n events.
func logFile(n int) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = strings.Replace(inputEvent, "%d", string(rune('a'+i)), 1)
	}
	return `{"Records":[` + strings.Join(recs, ",\n") + "]}\n"
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeInput(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A file named on the command line that yields no events fails the run, saying what it is; the
// same files found in a folder are skipped.
func TestIngestNamedFileWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(random)
	full := gzipped(t, logFile(3))
	cases := []struct{ name, want string }{
		{"random.json.gz", "random.json.gz: not gzip (the name ends in .gz, the content is not gzip-compressed): no events ingested from it"},
		{"random.bin", "random.bin: not CloudTrail (neither JSON nor gzip): no events ingested from it"},
		{"other.json", "other.json: not CloudTrail (no CloudTrail events in it): no events ingested from it"},
		{"cut.json.gz", "cut.json.gz: line 1 (byte "},
	}
	data := map[string][]byte{"random.json.gz": random, "random.bin": random, "other.json": []byte(`{"foo":1}`), "cut.json.gz": full[:len(full)/2]}
	for _, c := range cases {
		p := writeInput(t, dir, c.name, data[c.name])
		code, out, errOut := run(t, "", "ingest", "--lake", t.TempDir(), p)
		if code != 1 || !strings.Contains(out, "error: "+p[:len(p)-len(c.name)]+c.want) {
			t.Errorf("%s: exit %d, want 1 and %q in:\n%s%s", c.name, code, c.want, out, errOut)
		}
	}
	// The cut gzip file is a truncated gzip stream, not invalid JSON.
	_, out, _ := run(t, "", "ingest", "--lake", t.TempDir(), filepath.Join(dir, "cut.json.gz"))
	if !strings.Contains(out, "truncated gzip stream") || strings.Contains(out, "invalid JSON") {
		t.Errorf("cut gzip:\n%s", out)
	}
	// In a folder, the files that are not CloudTrail are skipped; only the cut one fails.
	os.Remove(filepath.Join(dir, "cut.json.gz"))
	out = mustRun(t, 0, "ingest", "--lake", t.TempDir(), dir)
	if !strings.Contains(out, "3 skipped, 0 failed") {
		t.Errorf("folder:\n%s", out)
	}
}

// `ingest -` reads standard input, gzip or JSON by its content, names it "standard input", and
// recognises the same bytes piped again.
func TestIngestStdin(t *testing.T) {
	lk := t.TempDir()
	doc := logFile(3)
	code, out, errOut := run(t, string(gzipped(t, doc)), "ingest", "--lake", lk, "-")
	if code != 0 || !strings.Contains(out, "events: 3 read, 3 added") {
		t.Fatalf("gzip on stdin: exit %d\n%s%s", code, out, errOut)
	}
	// The same bytes again: the source is known by its content, not read again.
	_, out, _ = run(t, string(gzipped(t, doc)), "ingest", "--lake", lk, "-")
	if !strings.Contains(out, "1 unchanged since the last ingest") || !strings.Contains(out, "events: 0 read") {
		t.Errorf("same bytes again:\n%s", out)
	}
	// The same events as plain JSON, their keys in another order: other bytes, same events.
	_, out, _ = run(t, strings.ReplaceAll(doc, `{"b":1,"a":2}`, `{"a":2,"b":1}`), "ingest", "--lake", lk, "-")
	if !strings.Contains(out, "events: 3 read, 0 added, 3 already present") {
		t.Errorf("JSON on stdin:\n%s", out)
	}
	if got := scalar(t, lk, "SELECT count(*) FROM cloudtrail_logs"); got != "3" {
		t.Errorf("lake holds %s events, want 3", got)
	}
	// Problems name it; nothing on stdin is a failure like any named file.
	code, out, _ = run(t, "{\"Records\":[{\"eventName\":\"x\",\"eventTime\":\"2024-03-01T1", "ingest", "--lake", lk, "-")
	if code != 1 || !strings.Contains(out, "error: standard input: line 1 (byte 54): input ends inside a JSON value") {
		t.Errorf("cut JSON on stdin: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "", "ingest", "--lake", lk, "-")
	if code != 1 || !strings.Contains(out, "error: standard input: not CloudTrail (neither JSON nor gzip): no events ingested from it") {
		t.Errorf("empty stdin: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "", "ingest", "--lake", lk, "-", "-"); code != 1 || !strings.Contains(errOut, "more than once") {
		t.Errorf("- twice: exit %d, %s", code, errOut)
	}
}
