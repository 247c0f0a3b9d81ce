package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/goaws/goawstest"
	"github.com/trailsql/trailsql/internal/sqs"
)

// The notifications below are written for these tests in the shapes AWS documents for S3 event
// notifications (event structure version 2.1), SNS notifications and EventBridge's "Object
// Created" events.

const s3Event = `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2024-05-01T10:00:00.000Z",
"eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"trail-bucket","arn":"arn:aws:s3:::trail-bucket"},
"object":{"key":"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a+b%3Dc.json.gz","size":1234,"eTag":"0123abcd","sequencer":"0A1B"}}},
{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"trail-bucket"},"object":{"key":"old.json.gz"}}}]}`

const ebEvent = `{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",
"account":"111122223333","time":"2024-05-01T10:00:00Z","region":"eu-west-1","resources":["arn:aws:s3:::trail-bucket"],
"detail":{"version":"0","bucket":{"name":"trail-bucket"},"object":{"key":"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a b.json.gz","size":99,"etag":"\"ff00\""},"reason":"PutObject"}}`

func TestParse(t *testing.T) {
	sns := fmt.Sprintf(`{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:eu-west-1:111122223333:t","Subject":"Amazon S3 Notification","Message":%q,"Timestamp":"2024-05-01T10:00:01.000Z"}`, s3Event)
	created := sqs.ObjectRef{Bucket: "trail-bucket", Key: "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a b=c.json.gz", Size: 1234, ETag: "0123abcd"}
	for _, tc := range []struct {
		name, body string
		want       sqs.Notification
		err        string
	}{
		{"direct", s3Event, sqs.Notification{Via: "s3", Objects: []sqs.ObjectRef{created}, Ignored: 1}, ""},
		{"sns", sns, sqs.Notification{Via: "sns", Objects: []sqs.ObjectRef{created}, Ignored: 1}, ""},
		{"eventbridge", ebEvent, sqs.Notification{Via: "eventbridge", Objects: []sqs.ObjectRef{{Bucket: "trail-bucket", Key: "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a b.json.gz", Size: 99, ETag: "ff00"}}}, ""},
		{"eventbridge deleted", `{"detail-type":"Object Deleted","source":"aws.s3","detail":{}}`, sqs.Notification{Via: "eventbridge", Ignored: 1}, ""},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T10:00:00.000Z","Bucket":"trail-bucket","RequestId":"R","HostId":"H"}`, sqs.Notification{Via: "test"}, ""},
		{"test event via sns", fmt.Sprintf(`{"Type":"Notification","Message":%q}`, `{"Event":"s3:TestEvent"}`), sqs.Notification{Via: "test"}, ""},
		{"not json", "hello", sqs.Notification{}, "not a JSON object"},
		{"other json", `{"hello":"world"}`, sqs.Notification{}, "no Records"},
		{"other source", `{"Records":[{"eventSource":"aws:dynamodb"}]}`, sqs.Notification{}, `eventSource "aws:dynamodb"`},
		{"bad key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}`, sqs.Notification{}, "not URL-encoded"},
		{"no key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, sqs.Notification{}, "no bucket or no key"},
		{"eventbridge other source", `{"detail-type":"Object Created","source":"aws.ec2","detail":{}}`, sqs.Notification{}, `"aws.ec2"`},
		{"sns of garbage", `{"Type":"Notification","Message":"nope"}`, sqs.Notification{}, "SNS notification's Message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sqs.Parse(tc.body)
			if tc.err != "" {
				if err == nil || !errors.Is(err, sqs.ErrNotNotification) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse: err %v, want one wrapping ErrNotNotification saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(s3Event)
	f.Add(ebEvent)
	f.Add(`{"Type":"Notification","Message":"{\"Records\":[]}"}`)
	f.Add(`{"Event":"s3:TestEvent"}`)
	f.Fuzz(func(t *testing.T, body string) {
		n, err := sqs.Parse(body)
		if err != nil {
			if !errors.Is(err, sqs.ErrNotNotification) {
				t.Fatalf("error %v does not wrap ErrNotNotification", err)
			}
			return
		}
		for _, o := range n.Objects {
			if o.Bucket == "" || o.Key == "" {
				t.Fatalf("object without bucket or key: %+v", o)
			}
		}
	})
}

func TestRegionOf(t *testing.T) {
	for host, want := range map[string]string{
		"sqs.eu-west-1.amazonaws.com":     "eu-west-1",
		"sqs.cn-north-1.amazonaws.com.cn": "cn-north-1",
		"us-east-2.queue.amazonaws.com":   "us-east-2",
		"localhost:4100":                  "",
		"127.0.0.1":                       "",
	} {
		if got := sqs.RegionOf(host); got != want {
			t.Errorf("RegionOf(%q) = %q, want %q", host, got, want)
		}
	}
}

// TestClient runs the client against a real SQS server (GoAws).
func TestClient(t *testing.T) {
	srv := goawstest.Start(t, goaws.Options{Queues: []string{"q"}, VisibilityTimeout: 2})
	ctx := context.Background()
	c, err := sqs.Open(ctx, sqs.Options{QueueURL: srv.QueueURL("q"), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for i := range 25 {
		bodies = append(bodies, fmt.Sprintf("message %d", i))
	}
	ids, err := c.Send(ctx, bodies)
	if err != nil || len(ids) != 25 {
		t.Fatalf("Send: %d ids, %v", len(ids), err)
	}
	attrs, err := c.Attributes(ctx, "ApproximateNumberOfMessages")
	if err != nil || attrs["ApproximateNumberOfMessages"] != "25" {
		t.Fatalf("Attributes: %v, %v; want 25 messages", attrs, err)
	}
	var got []sqs.Message
	for len(got) < 25 {
		ms, err := c.Receive(ctx, 10, time.Second, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatalf("received %d of 25, then nothing", len(got))
		}
		if len(ms) > 10 {
			t.Fatalf("received %d messages at once, asked for 10 at most", len(ms))
		}
		got = append(got, ms...)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.Body] = true
		if m.ReceiptHandle == "" || m.ID == "" {
			t.Fatalf("message without id or receipt handle: %+v", m)
		}
	}
	if len(seen) != 25 {
		t.Fatalf("received %d distinct bodies, want 25", len(seen))
	}
	// All in flight: the queue looks empty.
	if ms, err := c.Receive(ctx, 10, 0, 0); err != nil || len(ms) != 0 {
		t.Fatalf("receive with all in flight: %d messages, %v", len(ms), err)
	}
	// Keep the first one hidden past the queue's 2 s timeout; let the others come back.
	keep := got[0]
	deadline := time.Now().Add(5 * time.Second)
	back := 0
	for back < 24 && time.Now().Before(deadline) {
		if err := c.ChangeVisibility(ctx, keep, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		ms, err := c.Receive(ctx, 10, time.Second, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Body == keep.Body {
				t.Fatalf("the message kept hidden came back")
			}
		}
		got = append(got, ms...)
		back += len(ms)
	}
	if back != 24 {
		t.Fatalf("%d of 24 messages came back after the visibility timeout", back)
	}
	// Delete the messages with their latest receipt handles, and one unknown handle.
	latest := map[string]sqs.Message{}
	for _, m := range got {
		latest[m.Body] = m
	}
	var del []sqs.Message
	for _, m := range latest {
		del = append(del, m)
	}
	sort.Slice(del, func(i, j int) bool { return del[i].Body < del[j].Body })
	del = append(del, sqs.Message{ID: "unknown", ReceiptHandle: "no-such-handle"})
	failed, err := c.Delete(ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed["unknown"] == nil {
		t.Fatalf("Delete failures %v, want only the unknown handle", failed)
	}
	if ms, err := c.Receive(ctx, 10, time.Second, 0); err != nil || len(ms) != 0 {
		t.Fatalf("after deleting all: %d messages, %v", len(ms), err)
	}
	// A queue that does not exist is an API error naming the operation.
	bad, err := sqs.Open(ctx, sqs.Options{QueueURL: srv.URL + "/" + goaws.AccountID + "/nope", Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Receive(ctx, 1, 0, 0)
	var ae *sqs.APIError
	if !errors.As(err, &ae) || ae.Op != "ReceiveMessage" {
		t.Fatalf("receive from a missing queue: %v, want an APIError", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"", "sqs://x", "https://sqs.eu-west-1.amazonaws.com", "not a url"} {
		if _, err := sqs.Open(context.Background(), sqs.Options{QueueURL: u}); err == nil {
			t.Errorf("Open(%q): no error", u)
		}
	}
}
