package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/cwlsrc"
	"github.com/trailsql/trailsql/internal/cwlsrc/cwltest"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/testshared"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// The CloudWatch Logs endpoint of these tests is a fake (cwltest) speaking the Logs_20140328
// JSON 1.1 protocol: no real CloudWatch Logs can run here.

const cwlRegion, cwlGroup = "us-east-1", "aws-cloudtrail-logs-trail"

func cwlLister(t testing.TB, f *cwltest.Server, l string, mod ...func(*CWLOptions)) Lister {
	t.Helper()
	c, err := cwlsrc.NewClient(context.Background(), cwlsrc.ClientOptions{
		EndpointURL: f.URL, Region: cwlRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		Rate: 200, MaxBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	opt := CWLOptions{API: c.API, Region: c.Region, Group: cwlGroup, Lake: l}
	for _, m := range mod {
		m(&opt)
	}
	return CWLLister(opt)
}

func cwlRun(t testing.TB, f *cwltest.Server, l string, opt Options) *Stats {
	t.Helper()
	opt.Lake = l
	st, err := RunObjects(context.Background(), opt, cwlLister(t, f, l))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// putRows puts lake rows ("partition dir <tab> record") into the fake's log group as CloudTrail
// writes them: one record per log event, the message its JSON, the timestamp its eventTime,
// streams <account>_CloudTrail_<region>, every third event in a second stream of the same name
// with _2.
func putRows(f *cwltest.Server, rows []string) {
	for i, r := range rows {
		part, rec, _ := strings.Cut(r, "\t")
		acct, region := "unknown", "unknown"
		for _, seg := range strings.Split(part, "/") {
			if v, ok := strings.CutPrefix(seg, "account="); ok {
				acct = v
			}
			if v, ok := strings.CutPrefix(seg, "region="); ok {
				region = v
			}
		}
		stream := acct + "_CloudTrail_" + region
		if i%3 == 0 {
			stream += "_2"
		}
		putRecord(f, stream, rec)
	}
}

func putRecord(f *cwltest.Server, stream, rec string) {
	var x struct{ EventTime string }
	json.Unmarshal([]byte(rec), &x)
	ts := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if p, err := time.Parse(time.RFC3339, x.EventTime); err == nil {
		ts = p
	}
	f.Add(cwlRegion, cwlGroup, stream, cwltest.Event{Timestamp: ts.UnixMilli(), Message: rec})
}

// The events of ../shared/datasets, from a log group, make the same rows as from their files,
// through small pages, empty pages and throttling; a re-run reads nothing; reading the log group
// into the lake the files made adds nothing.
func TestCWLDatasets(t *testing.T) {
	// Some of the files are broken on purpose: what they hold that can be stored is the reference.
	files := t.TempDir()
	if _, err := Run(context.Background(), Options{Lake: files}, []string{testshared.Dir(t, "datasets")}); err != nil {
		t.Fatal(err)
	}
	want := lakeRows(t, files)
	f := cwltest.New()
	t.Cleanup(f.Close)
	f.PageEvents, f.EmptyPageEvery, f.ThrottleEvery = 40, 5, 4
	putRows(f, want)

	l := t.TempDir()
	st := cwlRun(t, f, l, Options{CommitRows: 100})
	if st.Failed() {
		t.Fatalf("CWL ingest failed: %v", st.Problems)
	}
	sameRows(t, "log group vs files", lakeRows(t, l), want)
	if f.Throttled() == 0 {
		t.Error("the fake never throttled: the retry path was not exercised")
	}

	filters := len(f.Requests("FilterLogEvents"))
	st = cwlRun(t, f, l, Options{})
	if st.EventsRead != 0 || st.FilesRead != 0 || st.Failed() {
		t.Fatalf("re-run read %d events in %d pages, problems %v", st.EventsRead, st.FilesRead, st.Problems)
	}
	if n := len(f.Requests("FilterLogEvents")); n != filters {
		t.Errorf("re-run asked FilterLogEvents %d times: nothing arrived, the streams need not be read", n-filters)
	}

	st = cwlRun(t, f, files, Options{})
	if st.Failed() || st.EventsAdded != 0 || st.EventsPresent != int64(len(want)) {
		t.Fatalf("log group after files: %d added, %d present of %d, problems %v", st.EventsAdded, st.EventsPresent, len(want), st.Problems)
	}
	sameRows(t, "files then log group", lakeRows(t, files), want)
}

// S3 then CloudWatch Logs, and CloudWatch Logs then S3, store each event once.
func TestCWLWithS3(t *testing.T) {
	srv := vgwtest.Start(t)
	client := s3Client(t, srv)
	dir, _ := genTrail(t, generate.Options{Seed: 51, Events: 1500, EventsPerFile: 20, Days: 2, Accounts: 2})
	upload(t, client, "trail", "", dir)
	tr := &s3src.Trail{API: client, Bucket: "trail"}
	a := t.TempDir()
	if st, err := runS3(t, a, Options{}, tr); err != nil || st.Failed() || st.EventsAdded != 1500 {
		t.Fatalf("S3 ingest: %v %+v", err, st)
	}
	// The log group carries the same records, as their JSON.
	f := cwltest.New()
	t.Cleanup(f.Close)
	putRows(f, lakeRows(t, a))
	st := cwlRun(t, f, a, Options{})
	if st.Failed() || st.EventsRead != 1500 || st.EventsAdded != 0 || st.EventsPresent != 1500 {
		t.Fatalf("CWL after S3: %d read, %d added, %d present, problems %v", st.EventsRead, st.EventsAdded, st.EventsPresent, st.Problems)
	}
	b := t.TempDir()
	if st := cwlRun(t, f, b, Options{}); st.Failed() || st.EventsAdded != 1500 {
		t.Fatalf("CWL into an empty lake: %d added, problems %v", st.EventsAdded, st.Problems)
	}
	if st, err := runS3(t, b, Options{}, tr); err != nil || st.Failed() || st.EventsAdded != 0 || st.EventsPresent != 1500 {
		t.Fatalf("S3 after CWL: %v %+v", err, st)
	}
	sameRows(t, "CWL then S3 vs S3 then CWL", lakeRows(t, b), lakeRows(t, a))
}

// A run cancelled in the middle (pages committed out of order by parallel workers) and run
// again stores the same rows as a run that was not interrupted.
func TestCWLInterrupted(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 52, Events: 3000, EventsPerFile: 20, Days: 2, Accounts: 1})
	want := lakeRows(t, ingestLocal(t, dir))
	for _, stop := range []int{3, 11, 25} {
		t.Run(fmt.Sprint(stop), func(t *testing.T) {
			f := cwltest.New()
			t.Cleanup(f.Close)
			f.PageEvents = 37
			putRows(f, want)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			f.Stall = func(_ string, n int) {
				if n >= stop {
					once.Do(cancel)
				}
			}
			l := t.TempDir()
			st, err := RunObjects(ctx, Options{Lake: l, Workers: 4, CommitRows: 50, ChunkEvents: 16}, cwlLister(t, f, l))
			if !errors.Is(err, context.Canceled) || !st.Interrupted {
				t.Fatalf("interrupted run: %v", err)
			}
			if st.EventsAdded >= int64(len(want)) {
				t.Fatalf("the interruption came after every event (%d added)", st.EventsAdded)
			}
			f.Stall = nil
			st = cwlRun(t, f, l, Options{})
			if st.Failed() {
				t.Fatalf("re-run: %v", st.Problems)
			}
			sameRows(t, "interrupted and run again", lakeRows(t, l), want)
			if st := cwlRun(t, f, l, Options{}); st.EventsRead != 0 {
				t.Fatalf("third run read %d events", st.EventsRead)
			}
		})
	}
}

// Watching: a pass reads what arrived since the last one, late events (older than the cursor,
// within Lateness) included; a message that is not JSON is reported once.
func TestCWLWatch(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 53, Events: 300, EventsPerFile: 20, Days: 1, Accounts: 1, Regions: []string{"eu-west-1"}})
	rows := lakeRows(t, ingestLocal(t, dir))
	f := cwltest.New()
	t.Cleanup(f.Close)
	first, late, last := rows[:200], rows[200:250], rows[250:]
	// Events arrive in eventTime order except the late ones, held back.
	putRows(f, first)
	l := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var passes []Stats
	opt := Options{Lake: l, Watch: time.Millisecond, PassDone: func(s Stats) {
		passes = append(passes, s)
		switch len(passes) {
		case 1:
			putRows(f, last)
			f.Add(cwlRegion, cwlGroup, "broken", cwltest.Event{Timestamp: end.UnixMilli(), Message: "not json {"})
		case 2:
			putRows(f, late)
		case 4:
			cancel()
		}
	}}
	st, err := RunObjects(ctx, opt, cwlLister(t, f, l, func(o *CWLOptions) { o.Lateness = 48 * time.Hour }))
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if st.EventsAdded != int64(len(rows)) || st.EventsPresent != 0 || st.FilesFailed != 1 {
		t.Fatalf("watch: %d added of %d, %d present, %d failed, problems %v", st.EventsAdded, len(rows), st.EventsPresent, st.FilesFailed, st.Problems)
	}
	if !strings.Contains(fmt.Sprint(st.Problems), "is not JSON") {
		t.Errorf("the broken message is not reported: %v", st.Problems)
	}
	sameRows(t, "watched", lakeRows(t, l), rows)
}

// A log group that does not exist fails the listing with ResourceNotFoundException and says
// what to check.
func TestCWLMissingGroup(t *testing.T) {
	f := cwltest.New()
	t.Cleanup(f.Close)
	st := cwlRun(t, f, t.TempDir(), Options{})
	msg := fmt.Sprint(st.Problems)
	if st.ListErrors != 1 || !strings.Contains(msg, "ResourceNotFoundException") || !strings.Contains(msg, "describe-log-groups") {
		t.Fatalf("missing group: %d listing errors, problems %s", st.ListErrors, msg)
	}
}

func TestCWLCursorRoundTrip(t *testing.T) {
	for _, c := range []cwlCursor{{T: 0, I: 0}, {T: 1700000000000, I: 1700000000123, End: true, IDs: []uint64{1, 0xffffffffffffffff}}, {T: -5, I: 3, IDs: []uint64{42}}} {
		got, err := parseCursor(c.encode())
		if err != nil || got.encode() != c.encode() {
			t.Errorf("%+v: parsed %+v, %v", c, got, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add("cwl1 t=1 i=2 end=0 ids=a,b")
	f.Add("cwl1 t=1 i=2 end=1 ids=")
	f.Add("cwl1 t=x")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if _, err := parseCursor(c.encode()); err != nil {
			t.Fatalf("%q parsed to %+v, which does not parse again: %v", s, c, err)
		}
	})
}

// cwlEvent is a small CloudTrail record at ts, with eventID id.
func cwlEvent(id string, ts time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","eventID":%q,"readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, ts.Format(time.RFC3339), id)
}

// Late events that come back on different pages of one read, the later page's ingested first,
// are all taken: a read judges its pages by the cursor it started from. Events at the cursor's
// own second that arrive later are taken too.
func TestCWLLateEvents(t *testing.T) {
	f := cwltest.New()
	t.Cleanup(f.Close)
	f.PageEvents = 20
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	const stream = "111122223333_CloudTrail_eu-west-1"
	ingested := at.Add(time.Hour).UnixMilli()
	for i := range 100 {
		ts := at.Add(time.Duration(i) * time.Second)
		f.Add("eu-west-1", cwlGroup, stream, cwltest.Event{Timestamp: ts.UnixMilli(), IngestionTime: ingested, Message: cwlEvent(fmt.Sprintf("e%03d", i), ts)})
	}
	l := t.TempDir()
	lister := func() Lister {
		c, err := cwlsrc.NewClient(context.Background(), cwlsrc.ClientOptions{EndpointURL: f.URL, Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "x", ""), Rate: 200})
		if err != nil {
			t.Fatal(err)
		}
		return CWLLister(CWLOptions{API: c.API, Region: c.Region, Group: cwlGroup, Lake: l, Lateness: time.Hour})
	}
	run := func() *Stats {
		st, err := RunObjects(context.Background(), Options{Lake: l}, lister())
		if err != nil || st.Failed() {
			t.Fatalf("%v %v", err, st.Problems)
		}
		return st
	}
	if st := run(); st.EventsAdded != 100 {
		t.Fatalf("first run added %d", st.EventsAdded)
	}
	last := at.Add(99 * time.Second)
	f.Add("eu-west-1", cwlGroup, stream,
		cwltest.Event{Timestamp: at.Add(10 * time.Second).UnixMilli(), IngestionTime: ingested + 200, Message: cwlEvent("late-1", at.Add(10*time.Second))},
		cwltest.Event{Timestamp: at.Add(90 * time.Second).UnixMilli(), IngestionTime: ingested + 100, Message: cwlEvent("late-2", at.Add(90*time.Second))},
		cwltest.Event{Timestamp: last.UnixMilli(), IngestionTime: ingested + 300, Message: cwlEvent("same-second", last)})
	if st := run(); st.EventsRead != 3 || st.EventsAdded != 3 {
		t.Fatalf("second run: %d read, %d added, want the 3 late events", st.EventsRead, st.EventsAdded)
	}
	if st := run(); st.EventsRead != 0 {
		t.Fatalf("third run read %d", st.EventsRead)
	}
}

// The cursor of a stream is the end of the chain of its pages from the start: a page committed
// after a gap (the page before it lost to an interruption) does not count.
func TestCWLCursorChain(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := cwlCursor{T: 10, I: 1, IDs: []uint64{1}}
	b := cwlCursor{T: 20, I: 1, IDs: []uint64{2}}
	c := cwlCursor{T: 30, I: 5, IDs: []uint64{3}, End: true}
	other := cwlCursor{T: 99, I: 9, End: true}
	p := cwlPrefix("eu-west-1", "g")
	for _, s := range []lake.Source{
		{Name: p + "s1@" + cwlStart, ETag: a.encode()},
		{Name: p + "s1@" + b.digest(), ETag: c.encode()}, // b itself is missing
		{Name: p + "s2@" + cwlStart, ETag: a.encode()},
		{Name: p + "s2@" + a.digest(), ETag: b.encode()},
		{Name: p + "s2@" + b.digest(), ETag: c.encode()},
		{Name: p + "s3@not-a-start", ETag: other.encode()},
		{Name: p + "s4@" + cwlStart, ETag: "garbage"},
	} {
		w.AddSource(s)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := cwlCursors(root, p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["s1"].cur.encode() != a.encode() || got["s1"].prev != a.digest() || got["s2"].cur.encode() != c.encode() {
		t.Fatalf("cursors: %+v", got)
	}
}

// BenchmarkCWLIngest reads 20,000 generated events from the fake log group (pages of 1,000, no
// quota) into a new lake.
func BenchmarkCWLIngest(b *testing.B) {
	dir, _ := genTrail(b, generate.Options{Seed: 54, Events: 20000, EventsPerFile: 50, Days: 2, Accounts: 2})
	rows := lakeRows(b, ingestLocal(b, dir))
	f := cwltest.New()
	b.Cleanup(f.Close)
	f.PageEvents = 1000
	putRows(f, rows)
	b.ResetTimer()
	for range b.N {
		l := b.TempDir()
		st, err := RunObjects(context.Background(), Options{Lake: l}, cwlLister(b, f, l))
		if err != nil || st.EventsAdded != int64(len(rows)) {
			b.Fatalf("%v %d", err, st.EventsAdded)
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// LookupEvents then CloudWatch Logs, and CloudWatch Logs then LookupEvents, store each event once:
// the API's copies differ from the records, and are known by their identity.
func TestCWLWithLookupEvents(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 55, Events: 800, EventsPerFile: 20, Days: 1, Accounts: 1, Regions: []string{"eu-west-1"}})
	rows := lakeRows(t, ingestLocal(t, dir))
	mgmt := management(trailRecords(t, dir))
	lf := newFake(t, mgmt)
	f := cwltest.New()
	t.Cleanup(f.Close)
	putRows(f, rows)
	regions := []string{"eu-west-1"}

	a := t.TempDir()
	if st := lookupRun(t, lf, a, 50, regions); st.EventsAdded != int64(len(mgmt)) {
		t.Fatalf("lookup: %d added of %d", st.EventsAdded, len(mgmt))
	}
	if st := cwlRun(t, f, a, Options{}); st.Failed() || st.EventsAdded != int64(len(rows)-len(mgmt)) || st.EventsPresent != int64(len(mgmt)) {
		t.Fatalf("CWL after lookup: %d added, %d present, want %d and %d", st.EventsAdded, st.EventsPresent, len(rows)-len(mgmt), len(mgmt))
	}
	b := t.TempDir()
	cwlRun(t, f, b, Options{})
	if st := lookupRun(t, lf, b, 50, regions); st.EventsAdded != 0 || st.EventsPresent != int64(len(mgmt)) {
		t.Fatalf("lookup after CWL: %d added, %d present", st.EventsAdded, st.EventsPresent)
	}
	if got, want := identities(lakeRows(t, a)), identities(lakeRows(t, b)); !slices.Equal(got, want) || len(got) != len(rows) {
		t.Fatalf("lookup-then-CWL holds %d events, CWL-then-lookup %d, want %d", len(got), len(want), len(rows))
	}
}

// Many streams share FilterLogEvents scans (100 streams a request); a pass after a few streams
// received events asks only those; --from bounds streams not read before.
func TestCWLManyStreams(t *testing.T) {
	f := cwltest.New()
	t.Cleanup(f.Close)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for s := range 250 {
		for i := range 4 {
			ts := at.Add(time.Duration(i) * time.Second)
			f.Add(cwlRegion, cwlGroup, fmt.Sprintf("111122223333_CloudTrail_eu-west-1_%d", s), cwltest.Event{Timestamp: ts.UnixMilli(), Message: cwlEvent(fmt.Sprintf("s%d-%d", s, i), ts)})
		}
	}
	l := t.TempDir()
	if st := cwlRun(t, f, l, Options{}); st.EventsAdded != 1000 {
		t.Fatalf("first run added %d", st.EventsAdded)
	}
	if n := len(f.Requests("FilterLogEvents")); n != 3 {
		t.Errorf("250 streams took %d FilterLogEvents requests, want 3", n)
	}
	for s := range 5 {
		ts := at.Add(time.Minute)
		f.Add(cwlRegion, cwlGroup, fmt.Sprintf("111122223333_CloudTrail_eu-west-1_%d", s*40), cwltest.Event{Timestamp: ts.UnixMilli(), Message: cwlEvent(fmt.Sprintf("new-%d", s), ts)})
	}
	if st := cwlRun(t, f, l, Options{}); st.EventsAdded != 5 || st.EventsRead != 5 {
		t.Fatalf("second run: %d read, %d added", st.EventsRead, st.EventsAdded)
	}
	if n := len(f.Requests("FilterLogEvents")); n != 4 {
		t.Errorf("5 streams with new events took %d more requests, want 1", n-3)
	}
	from := t.TempDir()
	st, err := RunObjects(context.Background(), Options{Lake: from}, cwlLister(t, f, from, func(o *CWLOptions) { o.From = at.Add(2 * time.Second) }))
	if err != nil || st.EventsAdded != 505 {
		t.Fatalf("--from: %d added, want 505: %v", st.EventsAdded, err)
	}
}
