package athenaapi_test

// These tests run against athenafake, a FAKE Athena endpoint (no real Athena can run here) that
// speaks Athena's JSON 1.1 wire format and checks SigV4 signatures.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailsql/trailsql/internal/athenaapi"
	"github.com/trailsql/trailsql/internal/athenaapi/athenafake"
)

func open(t *testing.T, fake *athenafake.Server, mod func(*athenaapi.Options)) *athenaapi.Client {
	t.Helper()
	opt := athenaapi.Options{Region: athenafake.Region, Endpoint: fake.URL, Credentials: athenafake.Credentials(),
		WorkGroup: "security", Database: "trail", OutputLocation: "s3://results/trailsql/",
		MinPoll: time.Millisecond, MaxPoll: 2 * time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	if mod != nil {
		mod(&opt)
	}
	c, err := athenaapi.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPagedAnswer(t *testing.T) {
	const n = 2500
	fake := athenafake.New(func(stmt string) athenafake.Answer {
		a := athenafake.Answer{Columns: []athenafake.Column{{Name: "arn", Type: "varchar"}, {Name: "calls", Type: "bigint"}}, Scanned: 123 << 20, Running: 2}
		for i := range n {
			a.Rows = append(a.Rows, []*string{aws.String(fmt.Sprintf("arn:aws:iam::012345678901:role/r%04d", i)), aws.String(fmt.Sprint(i))})
		}
		return a
	})
	defer fake.Close()
	res, err := open(t, fake, nil).Query(context.Background(), "SELECT arn, count(*) AS calls FROM cloudtrail_logs WHERE eventtime >= ? AND account = ? GROUP BY 1", "2026-01-01T00:00:00Z", "012345678901")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != n || !reflect.DeepEqual(res.Columns, []string{"arn", "calls"}) || !reflect.DeepEqual(res.Types, []string{"VARCHAR", "BIGINT"}) {
		t.Fatalf("%d rows, columns %v %v; want %d rows, arn and calls", len(res.Rows), res.Columns, res.Types, n)
	}
	for i, r := range res.Rows {
		if r[0] != fmt.Sprintf("arn:aws:iam::012345678901:role/r%04d", i) || r[1] != int64(i) {
			t.Fatalf("row %d is %v", i, r)
		}
	}
	if res.Scan.BytesRead != 123<<20 {
		t.Errorf("scanned %d bytes, want %d", res.Scan.BytesRead, 123<<20)
	}
	if got := fake.Calls("GetQueryResults"); got != 3 {
		t.Errorf("%d pages fetched, want 3 (2,500 rows and the header, 1,000 a page)", got)
	}
	got := fake.Received()
	if len(got) != 1 {
		t.Fatalf("received %d statements", len(got))
	}
	r := got[0]
	if r.Statement != "SELECT arn, count(*) AS calls FROM cloudtrail_logs WHERE eventtime >= '2026-01-01T00:00:00Z' AND account = '012345678901' GROUP BY 1" ||
		r.WorkGroup != "security" || r.Database != "trail" || r.OutputLocation != "s3://results/trailsql/" || len(r.ClientRequestToken) < 32 {
		t.Errorf("received %+v", r)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   athenafake.Answer
		throttle int
		attempts int
		want     string
		check    func(error) bool
	}{
		{name: "failed", answer: athenafake.Answer{Fail: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved", Running: 1},
			want: "FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
			check: func(err error) bool {
				var qe *athenaapi.QueryError
				return errors.As(err, &qe) && qe.State == "FAILED" && qe.ErrorType == 1006
			}},
		{name: "cancelled", answer: athenafake.Answer{Cancel: true}, want: "CANCELLED: Query was cancelled by the user"},
		{name: "throttled then answered", throttle: 3, attempts: 8},
		{name: "throttled throughout", throttle: 100, attempts: 3, want: "athena StartQueryExecution: ThrottlingException: Rate exceeded (still refused after 3 attempts",
			check: func(err error) bool {
				var ae *athenaapi.APIError
				return errors.As(err, &ae) && ae.Attempts == 3 && ae.Type == "ThrottlingException"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := athenafake.New(func(string) athenafake.Answer {
				a := tc.answer
				a.Columns = []athenafake.Column{{Name: "n", Type: "bigint"}}
				a.Rows = [][]*string{{aws.String("7")}}
				return a
			})
			defer fake.Close()
			fake.Throttle = tc.throttle
			c := open(t, fake, func(o *athenaapi.Options) { o.MaxAttempts = tc.attempts })
			res, err := c.Query(context.Background(), "SELECT 7 AS n")
			if tc.want == "" {
				if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != int64(7) {
					t.Fatalf("got %v, %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("error %#v", err)
			}
		})
	}
}

// TestBadSignature: requests signed with other credentials are refused, and the error says so.
func TestBadSignature(t *testing.T) {
	fake := athenafake.New(nil)
	defer fake.Close()
	c := open(t, fake, func(o *athenaapi.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: athenafake.AccessKey, SecretAccessKey: "wrong"}, nil
		})
	})
	_, err := c.Query(context.Background(), "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("got %v", err)
	}
}

// TestCancelStopsTheQuery: a caller that gives up stops the query, so Athena does not bill a
// scan nobody reads.
func TestCancelStopsTheQuery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fake := athenafake.New(func(string) athenafake.Answer { return athenafake.Answer{Running: 1 << 30} })
	defer fake.Close()
	fake.OnRequest = func(op string) {
		if op == "GetQueryExecution" {
			cancel() // the caller gives up while the query runs
		}
	}
	_, err := open(t, fake, nil).Query(ctx, "SELECT 1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := fake.Stopped(); len(got) != 1 {
		t.Errorf("stopped %v, want the query", got)
	}
}

func TestOpenNeedsDatabase(t *testing.T) {
	_, err := athenaapi.Open(context.Background(), athenaapi.Options{Region: "eu-west-1", Credentials: athenafake.Credentials()})
	if err == nil || !strings.Contains(err.Error(), "--database") {
		t.Fatalf("got %v", err)
	}
}

func TestLiterals(t *testing.T) {
	got, err := athenaapi.Literals([]any{"it's", 3, int64(-4), 1.5, true, json.Number("12.50"), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), nil})
	want := []string{"'it''s'", "3", "-4", "1.5", "true", "12.50", "TIMESTAMP '2026-01-02 03:04:05.000'", "NULL"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := athenaapi.Literals([]any{struct{}{}}); err == nil || !strings.Contains(err.Error(), "parameter 1") {
		t.Errorf("got %v", err)
	}
}
