package daemon_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/cwlsrc/cwltest"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/goaws/goawstest"
	"github.com/trailsql/trailsql/internal/sqs"
	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// awsEnv: see vgwtest.AWSEnv.
func awsEnv(t *testing.T, access, secret string) { vgwtest.AWSEnv(t, access, secret) }

// sourcesConfig writes a run config with the given sources section (under "sources:") that
// sends to the receiver, and reads it.
func (r *receiver) sourcesConfig(t *testing.T, sources string) *daemon.Config {
	t.Helper()
	text := fmt.Sprintf(`sources:
  interval: 50ms
%s
notify:
  destinations:
    hook: {type: webhook, url: %s, secret_env: HOOK_SECRET}
  routes:
    - destinations: [hook]
  queue: {drain_timeout: 30s, min_backoff: 10ms}
`, sources, r.srv.URL)
	return r.load(t, text)
}

// TestRunCloudWatchLogs: a run collects a log group of a FAKE CloudWatch Logs endpoint
// (cwltest, speaking the Logs_20140328 JSON protocol; no real one can run here), cycle after
// cycle: the events of the group, then one added to it later, each stored once and its alerts
// sent; an event delivered 40 minutes behind its stream is collected because the source's
// lateness is 1h.
func TestRunCloudWatchLogs(t *testing.T) {
	awsEnv(t, "AKIDFAKE", "fake-secret")
	fake := cwltest.New()
	defer fake.Close()
	fake.ThrottleEvery = 4
	const group, stream = "aws-cloudtrail-logs-111122223333", "111122223333_CloudTrail_us-east-1"
	put := func(rec, at string, ingested int64) {
		ts, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		fake.Add("us-east-1", group, stream, cwltest.Event{Timestamp: ts.UnixMilli(), IngestionTime: ingested, Message: rec})
	}
	base := time.Date(2024, 3, 20, 12, 0, 0, 0, time.UTC).UnixMilli()
	put(rootLogin, "2024-03-20T10:32:05Z", base)
	put(keyForBob, "2024-03-20T11:00:00Z", base)
	r := newReceiver(t, false)
	cfg := r.sourcesConfig(t, fmt.Sprintf("  cloudwatch_logs:\n    - {group: %s, region: us-east-1, endpoint_url: %q, lateness: 1h}", group, fake.URL))
	lake := filepath.Join(t.TempDir(), "lake")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health, done, totals := start(ctx, lake, cfg)
	h := wait(t, health, "first cycle")
	t.Log(h)
	if h.EventsAdded != 2 || h.FilesFailed != 0 || h.Alerts == 0 {
		t.Fatalf("first cycle: %s; want the group's 2 events and their alerts", h)
	}
	alerts := h.Alerts
	// An event 40 minutes behind the newest read (11:00): within the source's lateness.
	late := event("e-late-1", "Root", "arn:aws:iam::111122223333:root", "", "CreateUser", "iam.amazonaws.com", "203.0.113.9", "2024-03-20T10:20:00Z", `{"userName":"eve"}`)
	put(late, "2024-03-20T10:20:00Z", base+60_000)
	// A cycle under way when it was put may have read the stream already: the next one reads it.
	added := int64(0)
	for i := 0; added == 0 && i < 3; i++ {
		h = wait(t, health, "cycle")
		if h.FilesFailed != 0 {
			t.Fatalf("cycle: %s", h)
		}
		added = h.EventsAdded
		alerts += h.Alerts
	}
	if added != 1 {
		t.Fatalf("the late event's cycle: %s; want 1 event within 3 cycles", h)
	}
	wait(t, health, "an idle cycle")
	cancel()
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	if tot := totals(); tot.Ingest.EventsAdded != 3 || tot.Alerts != alerts || tot.Destinations["hook"].Delivered != alerts {
		t.Fatalf("totals: %d events, %d alerts, hook %+v; want 3 events and %d alerts delivered", tot.Ingest.EventsAdded, tot.Alerts, tot.Destinations["hook"], alerts)
	}
	if fake.Throttled() == 0 {
		t.Error("the fake never throttled: the retry path was not exercised")
	}
}

// s3Notification is an S3 ObjectCreated notification (event structure 2.1), written for these
// tests.
func s3Notification(bucket, key string, size int64, etag string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key), "size": size, "eTag": etag}},
	}}})
	return string(b)
}

// TestRunSQS: a run reads a real SQS queue (GoAws) of S3 notifications naming trail objects in
// a real S3 server (versitygw), cycle after cycle: each object notified is stored once (the
// second notification of an object is recognised), its alerts sent, and its message deleted
// after the commit; a message that is not a notification is left in the queue.
func TestRunSQS(t *testing.T) {
	const etag = "00000000000000000000000000000007"
	s3srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: etag})
	awsEnv(t, s3srv.AccessKey(), s3srv.SecretKey())
	q := goawstest.Start(t, goaws.Options{Queues: []string{"trail"}, VisibilityTimeout: 3})
	qc, err := sqs.Open(context.Background(), sqs.Options{QueueURL: q.QueueURL("trail"), Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	// put writes a gzipped trail file into the bucket's folder and returns its notification.
	put := func(name string, records ...string) string {
		key := "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/20/111122223333_CloudTrail_us-east-1_20240320T1100Z_" + name + ".json.gz"
		p := filepath.Join(s3srv.Root(), "trail", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(records, ","))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return s3Notification("trail", key, info.Size(), etag)
	}
	send := func(bodies ...string) {
		if _, err := qc.Send(context.Background(), bodies); err != nil {
			t.Fatal(err)
		}
	}
	first := put("a1", rootLogin)
	send(first, "not a notification")

	r := newReceiver(t, false)
	cfg := r.sourcesConfig(t, fmt.Sprintf("  sqs:\n    - {queue_url: %q, region: us-east-1, s3_endpoint_url: %q, visibility_timeout: 3s}", q.QueueURL("trail"), s3srv.URL))
	lake := filepath.Join(t.TempDir(), "lake")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health, done, totals := start(ctx, lake, cfg)
	h := wait(t, health, "first cycle")
	t.Log(h)
	if h.EventsAdded != 1 || h.Alerts == 0 {
		t.Fatalf("first cycle: %s; want the object's event and its alerts", h)
	}
	alerts := h.Alerts
	// A new object, and the first one notified again.
	send(put("b2", keyForBob), first)
	added := int64(0)
	for i := 0; added == 0 && i < 3; i++ {
		h = wait(t, health, "cycle")
		t.Log(h)
		added = h.EventsAdded
		alerts += h.Alerts
	}
	if added != 1 {
		t.Fatalf("the second object's cycle: %s; want 1 event within 3 cycles", h)
	}
	cancel()
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	if tot := totals(); tot.Ingest.EventsAdded != 2 || tot.Alerts != alerts || tot.Destinations["hook"].Delivered != alerts {
		t.Fatalf("totals: %d events, %d alerts, hook %+v; want 2 events and %d alerts delivered", tot.Ingest.EventsAdded, tot.Alerts, tot.Destinations["hook"], alerts)
	}
	attrs, err := qc.Attributes(context.Background(), "ApproximateNumberOfMessages")
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs["ApproximateNumberOfMessages"]; n != "1" {
		t.Fatalf("the queue holds %s messages, want the poison one alone (the others deleted after their commit)", n)
	}
}
