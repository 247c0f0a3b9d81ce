package s3src

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// counting counts the HTTP requests that reach the server, by kind, independently of the
// package's own counters.
type counting struct {
	next  aws.HTTPClient
	lists atomic.Int64
	gets  atomic.Int64
	// fail, when set, decides per request whether to break it (see faulty).
	fail func(*http.Request) (*http.Response, error)
}

func (c *counting) Do(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodGet && req.URL.Query().Get("list-type") == "2":
		c.lists.Add(1)
	case req.Method == http.MethodGet:
		c.gets.Add(1)
	}
	if c.fail != nil {
		if resp, err := c.fail(req); resp != nil || err != nil {
			return resp, err
		}
	}
	return c.next.Do(req)
}

func newClient(t testing.TB, srv *versitygw.Server, rt *counting, opts ...func(*ClientOptions)) *s3.Client {
	t.Helper()
	opt := ClientOptions{
		EndpointURL: srv.URL, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey(), srv.SecretKey(), ""),
		MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond,
	}
	if rt != nil {
		opt.Wrap = func(next aws.HTTPClient) aws.HTTPClient { rt.next = next; return rt }
	}
	for _, o := range opts {
		o(&opt)
	}
	c, err := NewClient(context.Background(), opt, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// place writes objects straight into the server's folder (the posix backend serves files put
// there, with the server's default ETag), which is how a test gets tens of thousands of objects
// into a bucket in a second.
func place(t testing.TB, root, bucket string, keys []string) {
	t.Helper()
	for _, k := range keys {
		p := filepath.Join(root, bucket, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// layoutKeys returns the keys of a trail under base (…/AWSLogs/[org/]) for the accounts and
// regions, perDay log files a day from first for days days, plus a digest file a day.
func layoutKeys(base string, accounts, regions []string, first time.Time, days, perDay int) []string {
	var out []string
	for _, a := range accounts {
		for _, r := range regions {
			for d := 0; d < days; d++ {
				day := first.AddDate(0, 0, d)
				dir := fmt.Sprintf("%s%s/CloudTrail/%s/%s/", base, a, r, day.Format("2006/01/02"))
				for i := 0; i < perDay; i++ {
					out = append(out, fmt.Sprintf("%s%s_CloudTrail_%s_%sT%02d%02dZ_%04d.json.gz", dir, a, r, day.Format("20060102"), i/60%24, i%60, i))
				}
				out = append(out, fmt.Sprintf("%s%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_t_%s_%sT0000Z.json.gz", base, a, r, day.Format("2006/01/02"), a, r, "trail", day.Format("20060102")))
			}
		}
	}
	return out
}

func listAll(t testing.TB, tr *Trail, f Filter) []string {
	t.Helper()
	var keys []string
	if err := tr.List(context.Background(), f, func(o Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// want returns the keys of all that pass keep, sorted.
func want(all []string, keep func(string) bool) []string {
	var out []string
	for _, k := range all {
		if keep(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// The listing-cost test: 30,000 log objects over 100 days in an organization trail under a custom
// prefix, and a two-day window costs a dozen LIST requests (discovery of the organization, the
// accounts, their CloudTrail folders and regions, then one page per region), where listing the
// bucket would cost at least one request per 1,000 objects.
func TestListingCost(t *testing.T) {
	srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: "00000000000000000000000000000000"})
	accounts, regions := []string{"111111111111", "222222222222"}, []string{"us-east-1", "eu-west-1"}
	first := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	all := layoutKeys("trails/AWSLogs/o-abcdef1234/", accounts, regions, first, 100, 75)
	all = append(all, "trails/AWSLogs/o-abcdef1234/111111111111/vpcflowlogs/us-east-1/2024/03/10/x.log.gz", "trails/README.txt")
	place(t, srv.Root(), "org", all)

	rt := &counting{}
	tr := &Trail{API: newClient(t, srv, rt), Bucket: "org", Prefix: "trails"}
	f := Filter{From: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC)}
	got := listAll(t, tr, f)
	exp := want(all, func(k string) bool {
		return strings.Contains(k, "/CloudTrail/") && (strings.Contains(k, "/2024/03/10/") || strings.Contains(k, "/2024/03/11/"))
	})
	if !slices.Equal(got, exp) {
		t.Fatalf("listed %d objects, want %d", len(got), len(exp))
	}
	// trails/, AWSLogs/, the organization, 2 accounts, 4 regions' windows (one page each).
	const wantLists = 1 + 1 + 1 + 2 + 2 + 4
	if n := rt.lists.Load(); n != wantLists || tr.Stats.Lists.Load() != wantLists {
		t.Errorf("%d LIST requests reached the server (%d counted by the lister), want %d", n, tr.Stats.Lists.Load(), wantLists)
	}
	t.Logf("%d objects in the bucket, %d in the window: %d LIST requests", len(all), len(got), rt.lists.Load())

	// The same window without its start lists every day before it: what a naive lister pays.
	rt.lists.Store(0)
	tr.Stats = nil
	listAll(t, tr, Filter{To: f.To})
	if n := rt.lists.Load(); n < int64(len(all)/1000) {
		t.Errorf("a listing from the first day took %d requests, fewer than the %d pages of keys before the window", n, len(all)/1000)
	}
}

// Organization and single-account trails, filters, prefixes that stop anywhere in the layout, and
// a folder that is not a trail.
func TestListLayouts(t *testing.T) {
	srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: "00000000000000000000000000000000"})
	first := time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC)
	accounts, regions := []string{"111111111111", "222222222222", "333333333333"}, []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	org := layoutKeys("AWSLogs/o-abcdef1234/", accounts, regions, first, 4, 3)
	org = append(org, "AWSLogs/o-abcdef1234/111111111111/CloudTrail-Insight/us-east-1/2024/02/28/111111111111_CloudTrail-Insight_us-east-1_20240228T0000Z_x.json.gz")
	single := layoutKeys("AWSLogs/", accounts[:1], regions, first, 4, 3)
	place(t, srv.Root(), "org", org)
	place(t, srv.Root(), "single", single)
	place(t, srv.Root(), "mixed", append(append([]string{}, single...), layoutKeys("AWSLogs/o-zzzzzzzzzz/", accounts[1:2], regions[:1], first, 1, 2)...))
	place(t, srv.Root(), "exports", []string{"2024/a.json", "2024/b.json.gz", "2024/c/d.json"})
	logs := func(k string) bool {
		return strings.Contains(k, "/CloudTrail/") || strings.Contains(k, "/CloudTrail-Insight/")
	}
	and := func(fs ...func(string) bool) func(string) bool {
		return func(k string) bool {
			for _, f := range fs {
				if !f(k) {
					return false
				}
			}
			return true
		}
	}
	has := func(s string) func(string) bool { return func(k string) bool { return strings.Contains(k, s) } }
	client := newClient(t, srv, nil)
	for _, tc := range []struct {
		name, bucket, prefix string
		f                    Filter
		all                  []string
		keep                 func(string) bool
	}{
		{"org whole", "org", "", Filter{}, org, logs},
		{"org accounts", "org", "", Filter{Accounts: []string{"222222222222"}}, org, and(logs, has("/222222222222/"))},
		{"org regions", "org", "", Filter{Regions: []string{"eu-west-1", "us-east-1"}}, org, and(logs, func(k string) bool { return !strings.Contains(k, "ap-southeast-2") })},
		{"org one day", "org", "", Filter{From: first.AddDate(0, 0, 1), To: first.AddDate(0, 0, 1).Add(10 * time.Hour)}, org, and(logs, has("/2024/02/28/"))},
		// 23:00 to 23:30 on the 29th: the objects delivered on the 29th (at 00:00-00:02) are too
		// early, those delivered on March 1st at 00:00-00:02 may hold the window's last events.
		{"org day over month end", "org", "", Filter{From: first.AddDate(0, 0, 2).Add(23 * time.Hour), To: first.AddDate(0, 0, 2).Add(23*time.Hour + 30*time.Minute)}, org, and(logs, has("/2024/03/01/"))},
		{"org delivery times", "org", "", Filter{From: first.Add(time.Minute), To: first.Add(-59 * time.Minute)}, org, and(logs, func(k string) bool { return strings.Contains(k, "/2024/02/27/") && strings.Contains(k, "T0001Z") })},
		{"prefix AWSLogs/org", "org", "AWSLogs/o-abcdef1234", Filter{}, org, logs},
		{"prefix account", "org", "AWSLogs/o-abcdef1234/333333333333/", Filter{}, org, and(logs, has("/333333333333/"))},
		{"prefix account not in filter", "org", "AWSLogs/o-abcdef1234/333333333333/", Filter{Accounts: []string{"111111111111"}}, org, func(string) bool { return false }},
		{"prefix region", "org", "AWSLogs/o-abcdef1234/111111111111/CloudTrail/eu-west-1", Filter{}, org, and(logs, has("/111111111111/CloudTrail/eu-west-1/"))},
		{"prefix below region", "org", "AWSLogs/o-abcdef1234/111111111111/CloudTrail/eu-west-1/2024/02/", Filter{}, org, and(logs, has("/111111111111/CloudTrail/eu-west-1/2024/02/"))},
		{"single", "single", "", Filter{}, single, logs},
		{"single window", "single", "AWSLogs/", Filter{From: first.AddDate(0, 0, 3)}, single, and(logs, has("/2024/03/01/"))},
		{"org and single in one bucket", "mixed", "", Filter{}, nil, nil},
		{"not a trail", "exports", "2024", Filter{}, []string{"2024/a.json", "2024/b.json.gz", "2024/c/d.json"}, func(string) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Trail{API: client, Bucket: tc.bucket, Prefix: tc.prefix}
			got := listAll(t, tr, tc.f)
			if tc.all == nil {
				if len(got) != len(single)-12+2 {
					t.Errorf("listed %d objects, want %d", len(got), len(single)-12+2)
				}
				return
			}
			if exp := want(tc.all, tc.keep); !slices.Equal(got, exp) {
				t.Errorf("listed %d objects, want %d\ngot  %.3q…\nwant %.3q…", len(got), len(exp), got, exp)
			}
		})
	}
}

// A body cut short midway is resumed with a Range request; SlowDown and 503 answers are retried;
// an object replaced after listing fails instead of mixing versions.
func TestOpenResumesAndRetries(t *testing.T) {
	srv := vgwtest.Start(t)
	rt := &counting{}
	client := newClient(t, srv, rt)
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	obj := Object{Key: "k", Size: int64(len(data)), ETag: aws.ToString(put.ETag)}
	tr := &Trail{API: client, Bucket: "bkt", ResumePause: time.Millisecond}

	// Every GET without a Range is cut after 100 KB; the first two answers are SlowDown and 503.
	var mu sync.Mutex
	var ranges []string
	answers := 0
	rt.fail = func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet {
			return nil, nil
		}
		mu.Lock()
		defer mu.Unlock()
		answers++
		switch answers {
		case 1:
			return errorResponse(req, 503, "SlowDown", "Please reduce your request rate."), nil
		case 2:
			return errorResponse(req, 503, "ServiceUnavailable", "try again"), nil
		}
		ranges = append(ranges, req.Header.Get("Range"))
		resp, err := rt.next.Do(req)
		if err == nil && req.Header.Get("Range") == "" {
			resp.Body = &cutBody{r: resp.Body, left: 100_000}
		}
		return resp, err
	}
	r, err := tr.Open(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the object's %d", len(got), len(data))
	}
	if !slices.Equal(ranges, []string{"", "bytes=100000-"}) || tr.Stats.Resumes.Load() != 1 {
		t.Errorf("requests with ranges %q, %d resumes; want one full GET cut short and one resumed at 100000", ranges, tr.Stats.Resumes.Load())
	}

	// The object replaced between listing and reading: 412, named as such.
	rt.fail = nil
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Open(ctx, obj); err == nil || !strings.Contains(err.Error(), "changed since it was listed") {
		t.Errorf("open of a replaced object: %v", err)
	}

	// A body that keeps breaking fails after the resumptions, naming the object and the offset.
	put, _ = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: bytes.NewReader(data)})
	obj.ETag = aws.ToString(put.ETag)
	rt.fail = func(req *http.Request) (*http.Response, error) {
		resp, err := rt.next.Do(req)
		if err == nil && req.Method == http.MethodGet {
			resp.Body = &cutBody{r: resp.Body, left: 10}
		}
		return resp, err
	}
	r, err = tr.Open(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "s3://bkt/k at byte 60") {
		t.Errorf("read of an always-broken body: %v", err)
	}
}

func errorResponse(req *http.Request, status int, code, msg string) *http.Response {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}
}

// cutBody ends a body with a reset-like error after left bytes.
type cutBody struct {
	r    io.ReadCloser
	left int
}

var errCut = errors.New("connection reset by peer (injected)")

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCut
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

func (c *cutBody) Close() error { return c.r.Close() }
