package cwlsrc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/trailsql/trailsql/internal/awsconfig"
	"github.com/trailsql/trailsql/internal/cwlsrc/cwltest"
)

// The endpoint of these tests is a FAKE (cwltest): no real CloudWatch Logs can run here.

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, group, err string }{
		{"cwl://aws-cloudtrail-logs-111122223333-abc", "aws-cloudtrail-logs-111122223333-abc", ""},
		{"cwl:///aws/cloudtrail/org#1", "/aws/cloudtrail/org#1", ""},
		{"cwl://", "", "1 to 512 characters"},
		{"cwl://a:b", "", `holds ':'`},
		{"s3://bucket", "", "not a cwl://LOG_GROUP URL"},
		{"cwl://" + strings.Repeat("g", 513), "", "1 to 512 characters"},
	} {
		g, err := ParseURL(tc.in)
		if g != tc.group || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseURL(%.40q) = %q, %v; want %q, %q", tc.in, g, err, tc.group, tc.err)
		}
	}
}

func client(t *testing.T, f *cwltest.Server) *Client {
	t.Helper()
	c, err := NewClient(context.Background(), ClientOptions{EndpointURL: f.URL, Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "x", ""), Rate: 500, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Streams and events are paged to the end through throttled requests (retried) and empty pages;
// the range includes both its bounds; a missing group says what to check.
func TestPaging(t *testing.T) {
	f := cwltest.New()
	defer f.Close()
	f.ThrottleEvery, f.PageEvents, f.EmptyPageEvery = 3, 7, 4
	for i := range 120 {
		f.Add("eu-west-1", "g", fmt.Sprintf("s%03d", i), cwltest.Event{Timestamp: int64(i), Message: "{}"})
	}
	for i := range 100 {
		f.Add("eu-west-1", "g", "s000", cwltest.Event{Timestamp: int64(1000 + i), Message: "{}"})
	}
	c := client(t, f)
	var names []string
	if err := Streams(context.Background(), c.API, "g", func(s LogStream) error {
		names = append(names, aws.ToString(s.LogStreamName))
		return nil
	}); err != nil || len(names) != 120 || names[119] != "s119" {
		t.Fatalf("streams: %d, %v", len(names), err)
	}
	var got []int64
	if err := Events(context.Background(), c.API, "g", []string{"s000"}, Range{Start: 1010, End: 1050}, func(evs []FilteredLogEvent, last bool) error {
		for _, e := range evs {
			got = append(got, aws.ToInt64(e.Timestamp))
		}
		return nil
	}); err != nil || len(got) != 41 || got[0] != 1010 || got[40] != 1050 {
		t.Fatalf("events: %v, %v", got, err)
	}
	if f.Throttled() == 0 {
		t.Error("never throttled")
	}
	err := Streams(context.Background(), c.API, "missing", func(LogStream) error { return nil })
	var ae *awsconfig.APIError
	if !errors.As(err, &ae) || ae.Type != "ResourceNotFoundException" || !strings.Contains(err.Error(), "describe-log-groups") {
		t.Fatalf("missing group: %v", err)
	}
}

// sdkClient is the AWS SDK's client of the fake: what checks that the fake speaks the API's
// protocol as the SDK does.
func sdkClient(f *cwltest.Server) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(f.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "x", "")})
}

// The client reads the streams and events the AWS SDK's client reads from the same endpoint, and
// the same errors.
func TestClientReadsWhatTheSDKReads(t *testing.T) {
	f := cwltest.New()
	defer f.Close()
	f.PageEvents = 5
	for i := range 12 {
		f.Add("eu-west-1", "g", fmt.Sprintf("s%02d", i%3), cwltest.Event{Timestamp: int64(100 + i), Message: fmt.Sprintf(`{"n":%d}`, i)})
	}
	ctx := context.Background()
	ours, sdk := client(t, f).API, sdkClient(f)
	s1, err1 := ours.DescribeLogStreams(ctx, &DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: "LogStreamName"})
	s2, err2 := sdk.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: types.OrderByLogStreamName})
	if err1 != nil || err2 != nil || len(s1.LogStreams) != 3 || len(s1.LogStreams) != len(s2.LogStreams) {
		t.Fatalf("streams: %+v %v; the SDK's %+v %v", s1, err1, s2, err2)
	}
	for i, a := range s1.LogStreams {
		b := s2.LogStreams[i]
		if aws.ToString(a.LogStreamName) != aws.ToString(b.LogStreamName) || aws.ToInt64(a.FirstEventTimestamp) != aws.ToInt64(b.FirstEventTimestamp) ||
			aws.ToInt64(a.LastEventTimestamp) != aws.ToInt64(b.LastEventTimestamp) || aws.ToInt64(a.LastIngestionTime) != aws.ToInt64(b.LastIngestionTime) ||
			aws.ToInt64(a.CreationTime) != aws.ToInt64(b.CreationTime) {
			t.Errorf("stream %d: %+v, the SDK's %+v", i, a, b)
		}
	}
	in1 := &FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"s00", "s01"}, StartTime: aws.Int64(101), EndTime: aws.Int64(110)}
	in2 := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"s00", "s01"}, StartTime: aws.Int64(101), EndTime: aws.Int64(110)}
	for page := 1; ; page++ {
		e1, err1 := ours.FilterLogEvents(ctx, in1)
		e2, err2 := sdk.FilterLogEvents(ctx, in2)
		if err1 != nil || err2 != nil || len(e1.Events) != len(e2.Events) || aws.ToString(e1.NextToken) != aws.ToString(e2.NextToken) {
			t.Fatalf("page %d: %+v %v; the SDK's %+v %v", page, e1, err1, e2, err2)
		}
		for i, a := range e1.Events {
			b := e2.Events[i]
			if aws.ToString(a.EventID) != aws.ToString(b.EventId) || aws.ToString(a.LogStreamName) != aws.ToString(b.LogStreamName) || aws.ToString(a.Message) != aws.ToString(b.Message) ||
				aws.ToInt64(a.Timestamp) != aws.ToInt64(b.Timestamp) || aws.ToInt64(a.IngestionTime) != aws.ToInt64(b.IngestionTime) || a.EventID == nil {
				t.Errorf("page %d, event %d: %+v, the SDK's %+v", page, i, a, b)
			}
		}
		if e1.NextToken == nil {
			break
		}
		in1.NextToken, in2.NextToken = e1.NextToken, e2.NextToken
	}
	_, err := ours.FilterLogEvents(ctx, &FilterLogEventsInput{LogGroupName: aws.String("nope")})
	var ae *awsconfig.APIError
	_, sdkErr := sdk.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &ae) || ae.Type != "ResourceNotFoundException" || ae.Retryable() || !errors.As(sdkErr, &nf) {
		t.Fatalf("missing group: %v; the SDK's %v", err, sdkErr)
	}
}

// The fake's GetLogEvents pages forward from the head until the token given comes back, as the
// real API ends; from the tail it answers the newest events; endTime is excluded.
func TestFakeGetLogEvents(t *testing.T) {
	f := cwltest.New()
	defer f.Close()
	for i := range 25 {
		f.Add("eu-west-1", "g", "s", cwltest.Event{Timestamp: int64(i), Message: fmt.Sprint(i)})
	}
	api := sdkClient(f)
	ctx := context.Background()
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(10), EndTime: aws.Int64(24)}
	var got []string
	for range 10 {
		out, err := api.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.Message))
		}
		if aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextForwardToken
	}
	if len(got) != 24 || got[0] != "0" || got[23] != "23" {
		t.Fatalf("forward: %v", got)
	}
	out, err := api.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(3)})
	if err != nil || len(out.Events) != 3 || aws.ToString(out.Events[2].Message) != "24" {
		t.Fatalf("tail: %+v, %v", out, err)
	}
	_, err = api.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing stream: %v", err)
	}
}
