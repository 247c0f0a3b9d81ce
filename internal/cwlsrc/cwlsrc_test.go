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
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

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
	if err := Streams(context.Background(), c.API, "g", func(s types.LogStream) error {
		names = append(names, aws.ToString(s.LogStreamName))
		return nil
	}); err != nil || len(names) != 120 || names[119] != "s119" {
		t.Fatalf("streams: %d, %v", len(names), err)
	}
	var got []int64
	if err := Events(context.Background(), c.API, "g", "s000", Range{Start: 1010, End: 1050}, func(evs []types.FilteredLogEvent, last bool) error {
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
	err := Streams(context.Background(), c.API, "missing", func(types.LogStream) error { return nil })
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "describe-log-groups") {
		t.Fatalf("missing group: %v", err)
	}
}
