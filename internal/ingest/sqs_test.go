package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/goaws/goawstest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/sqs"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// s3Notification is an S3 event notification (event structure 2.1) naming objects, written for
// these tests; keys are encoded as S3 encodes them (form encoding, + for a space).
func s3Notification(bucket string, objs ...s3src.Object) string {
	type obj struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"eTag"`
	}
	type rec struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		EventName    string `json:"eventName"`
		S3           struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object obj `json:"object"`
		} `json:"s3"`
	}
	var recs []rec
	for _, o := range objs {
		r := rec{EventVersion: "2.1", EventSource: "aws:s3", EventName: "ObjectCreated:Put"}
		r.S3.Bucket.Name = bucket
		r.S3.Object = obj{Key: url.QueryEscape(o.Key), Size: o.Size, ETag: strings.Trim(o.ETag, `"`)}
		recs = append(recs, r)
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

// eventBridgeNotification is an EventBridge "Object Created" event, as EventBridge delivers it
// to an SQS target, written for these tests.
func eventBridgeNotification(bucket string, o s3src.Object) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "eb-" + o.Key, "detail-type": "Object Created", "source": "aws.s3",
		"account": "111122223333", "region": "us-east-1", "resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{"version": "0", "bucket": map[string]string{"name": bucket},
			"object": map[string]any{"key": o.Key, "size": o.Size, "etag": strings.Trim(o.ETag, `"`)}, "reason": "PutObject"},
	})
	return string(b)
}

// queued is how many messages the queue holds, in flight included (GoAws counts them so).
func queued(t testing.TB, qc *sqs.Client) int {
	t.Helper()
	attrs, err := qc.Attributes(context.Background(), "ApproximateNumberOfMessages")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(attrs["ApproximateNumberOfMessages"], &n)
	return n
}

// publish sends a message to an SNS topic of GoAws, which delivers it to the subscribed queue
// wrapped in an SNS notification (GoAws does not check signatures: none is made).
func publish(t testing.TB, srv *goaws.Server, topic, message string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL, url.Values{"Action": {"Publish"}, "TopicArn": {srv.TopicARN(topic)}, "Message": {message}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SNS Publish: %s", resp.Status)
	}
}

// watchedQueue is the queue as the source sees it, checking at every deletion that the objects
// of the messages deleted are in the lake's committed ledger.
type watchedQueue struct {
	SQSAPI
	t    testing.TB
	lake string

	mu         sync.Mutex
	deleted    map[string]bool // bodies
	violations []string
	checks     int
}

func (w *watchedQueue) Delete(ctx context.Context, msgs []sqs.Message) (map[string]error, error) {
	committed := map[string]bool{}
	srcs, err := lake.ReadSources(w.lake, "s3://")
	if err != nil && !os.IsNotExist(err) {
		w.t.Errorf("read the ledger: %v", err)
	}
	for _, s := range srcs {
		committed[s.Name] = true
	}
	w.mu.Lock()
	for _, m := range msgs {
		n, err := sqs.Parse(m.Body)
		if err != nil {
			w.violations = append(w.violations, "deleted a message that is not a notification: "+m.ID)
			continue
		}
		for _, o := range n.Objects {
			if k := cloudtrail.ParseKey(o.Key).Kind; k == cloudtrail.KeyDigest || k == cloudtrail.KeyUnknown {
				continue
			}
			w.checks++
			if name := "s3://" + o.Bucket + "/" + o.Key; !committed[name] {
				w.violations = append(w.violations, fmt.Sprintf("message %s deleted before the commit of %s", m.ID, name))
			}
		}
		w.deleted[m.Body] = true
	}
	w.mu.Unlock()
	return w.SQSAPI.Delete(ctx, msgs)
}

// Against a real SQS server (GoAws) and a real S3 server (versitygw): about a thousand trail
// objects notified directly, through SNS (GoAws' own envelope), by EventBridge, some twice, with
// poison messages among them. Every object is stored once, the lake holds what ingesting the
// same files from disk stores, no message is deleted before the commit of its objects, and the
// poison messages are left in the queue.
func TestSQSIngest(t *testing.T) {
	s3srv := vgwtest.Start(t)
	q := goawstest.Start(t, goaws.Options{Queues: []string{"trail"}, Topics: map[string][]string{"trail-topic": {"trail"}}, VisibilityTimeout: 5})
	ctx := context.Background()
	client := s3Client(t, s3srv)
	dir, truth := genTrail(t, generate.Options{Seed: 31, Events: 5000, EventsPerFile: 5, Days: 4, Accounts: 2})
	upload(t, client, "trail", "", dir)
	junkKey := "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/20/111122223333_CloudTrail_us-east-1_20240320T0000Z_junk.json.gz"
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(junkKey), Body: strings.NewReader("not gzip, not JSON")}); err != nil {
		t.Fatal(err)
	}
	// The objects as S3 lists them: keys, sizes, ETags for the notifications.
	var logs, digests []s3src.Object
	var junk s3src.Object
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("trail")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			so := s3src.Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}
			switch {
			case so.Key == junkKey:
				junk = so
			case cloudtrail.ParseKey(so.Key).Kind == cloudtrail.KeyDigest:
				digests = append(digests, so)
			default:
				logs = append(logs, so)
			}
		}
	}
	if len(logs) != truth.LogFiles || len(logs) < 900 {
		t.Fatalf("%d log objects listed, the generator wrote %d", len(logs), truth.LogFiles)
	}
	qc, err := sqs.Open(ctx, sqs.Options{QueueURL: q.QueueURL("trail"), Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	viaSNS, viaEB, twice := 0, 0, 0
	for i := 0; i < len(logs); i++ {
		o := logs[i]
		switch {
		case i%5 == 0:
			publish(t, q, "trail-topic", s3Notification("trail", o))
			viaSNS++
		case i%5 == 1:
			bodies = append(bodies, eventBridgeNotification("trail", o))
			viaEB++
		case i%5 == 2 && i+1 < len(logs):
			bodies = append(bodies, s3Notification("trail", o, logs[i+1])) // one message, two records
			i++
		default:
			bodies = append(bodies, s3Notification("trail", o))
		}
		if i%13 == 0 { // notified again, at once and once more at the end
			bodies = append(bodies, eventBridgeNotification("trail", o))
			twice++
		}
	}
	for i := 0; i < len(logs); i += 97 {
		bodies = append(bodies, s3Notification("trail", logs[i]))
		twice++
	}
	for _, d := range digests[:min(5, len(digests))] {
		bodies = append(bodies, s3Notification("trail", d)) // digest files: nothing to ingest
	}
	bodies = append(bodies,
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-03-20T18:00:00.000Z","Bucket":"trail","RequestId":"R1","HostId":"H1"}`,
		`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"trail"},"object":{"key":"x"}}}]}`)
	missing := s3src.Object{Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/20/111122223333_CloudTrail_us-east-1_20240320T0000Z_gone.json.gz", Size: 10, ETag: "abc"}
	poison := []string{
		"this is not a notification",
		s3Notification("trail", missing),
		s3Notification("trail", junk),
		s3Notification("trail", logs[3], missing), // logs[3] is stored, the message left
		`{"detail-type":"Object Created","source":"aws.ec2","detail":{}}`,
	}
	bodies = append(bodies, poison...)
	if _, err := qc.Send(ctx, bodies); err != nil {
		t.Fatal(err)
	}
	total := len(bodies) + viaSNS

	l := t.TempDir()
	wq := &watchedQueue{SQSAPI: qc, t: t, lake: l, deleted: map[string]bool{}}
	reported := map[string]Poison{}
	var pmu sync.Mutex
	s3opt := s3src.ClientOptions{EndpointURL: s3srv.URL, Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(s3srv.AccessKey(), s3srv.SecretKey(), "")}
	// Runs until the queue holds only the poison messages: one is enough, unless the machine is
	// so slow that a held message's visibility lapsed before its renewal (it then comes back, as
	// on SQS, and a later run acknowledges it).
	var qs SQSStats
	commits, runs := 0, 0
	start := time.Now()
	for runs == 0 || queued(t, qc) > len(poison) {
		if runs++; runs > 5 {
			t.Fatalf("the queue still holds %d messages after 5 runs", queued(t, qc))
		}
		src := NewSQSQueue(SQSOptions{Queue: wq, Visibility: 5 * time.Second, S3: s3opt,
			Poison: func(p Poison) { pmu.Lock(); reported[p.MessageID] = p; pmu.Unlock() }})
		st, err := RunObjects(ctx, Options{Lake: l, Workers: 2, Prefetch: 32, CommitRows: 400, AfterCommit: src.AfterCommit}, src.Lister())
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := src.Stats()
		qs.Received += s.Received
		qs.Deleted += s.Deleted
		qs.DeleteFailed += s.DeleteFailed
		qs.Ignored += s.Ignored
		qs.Duplicates += s.Duplicates
		qs.Renewed += s.Renewed
		if runs == 1 {
			qs.Poison = s.Poison
		}
		commits += st.Commits
	}
	elapsed := time.Since(start)
	t.Logf("%d messages (%d objects, %d via SNS, %d via EventBridge, %d notified twice, %d poison): %d received, %d deleted (%d deletions failed), %d ignored, %d duplicates in flight, %d renewals, %d commits, %d runs, in %s",
		total, len(logs), viaSNS, viaEB, twice, len(poison), qs.Received, qs.Deleted, qs.DeleteFailed, qs.Ignored, qs.Duplicates, qs.Renewed, commits, runs, elapsed.Round(time.Millisecond))

	wq.mu.Lock()
	if len(wq.violations) > 0 {
		t.Errorf("%d messages deleted before their commit, e.g. %s", len(wq.violations), wq.violations[0])
	}
	if wq.checks < len(logs) {
		t.Errorf("only %d objects checked at deletion, want %d at least", wq.checks, len(logs))
	}
	for _, b := range poison {
		if wq.deleted[b] {
			t.Errorf("poison message deleted: %.80s", b)
		}
	}
	wq.mu.Unlock()
	if commits < 3 {
		t.Errorf("%d commits: the test wants several, to check deletions between them", commits)
	}

	// Every object once, the same rows as from disk.
	srcs, err := lake.ReadSources(l, "s3://trail/")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, s := range srcs {
		seen[s.Name]++
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s recorded %d times in the ledger", name, n)
		}
	}
	if len(seen) != len(logs) {
		t.Errorf("ledger holds %d objects, want the %d notified", len(seen), len(logs))
	}
	sameRows(t, "sqs ingest vs disk", lakeRows(t, l), lakeRows(t, ingestLocal(t, dir)))

	// The poison messages: reported with a reason, and left in the queue.
	if len(reported) != len(poison) || qs.Poison != len(poison) {
		t.Fatalf("%d poison messages reported (stats %d), want %d: %+v", len(reported), qs.Poison, len(poison), reported)
	}
	for _, want := range []string{"gone.json.gz", "junk.json.gz: not gzip", "not a JSON object", `"aws.ec2"`} {
		found := false
		for _, p := range reported {
			found = found || strings.Contains(p.Reason, want) && p.MessageID != ""
		}
		if !found {
			t.Errorf("no poison message reported with %q: %+v", want, reported)
		}
	}
	if qs.Deleted != total-len(poison) {
		t.Errorf("%d messages deleted, want %d", qs.Deleted, total-len(poison))
	}
	if n := queued(t, qc); n != len(poison) {
		t.Errorf("the queue holds %d messages, want the %d poison ones", n, len(poison))
	}
	left := map[string]bool{}
	deadline := time.Now().Add(time.Minute)
	for len(left) < len(poison) && time.Now().Before(deadline) {
		msgs, err := qc.Receive(ctx, 10, 5*time.Second, 0) // they come back after their 5 s visibility timeout
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			left[m.Body] = true
		}
	}
	for _, b := range poison {
		if !left[b] {
			t.Errorf("poison message not back in the queue: %.80s", b)
		}
	}

	// A second run: the poison messages come back and are left again; nothing is stored twice.
	src2 := NewSQSQueue(SQSOptions{Queue: qc, Visibility: 5 * time.Second, S3: s3opt})
	st2, err := RunObjects(ctx, Options{Lake: l, Workers: 2, AfterCommit: src2.AfterCommit}, src2.Lister())
	src2.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st2.EventsAdded != 0 {
		t.Errorf("second run added %d events", st2.EventsAdded)
	}
}
