package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/lookup"
	"github.com/trailsql/trailsql/internal/lookup/lookuptest"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/testshared"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// The CloudTrail endpoint of these tests is a fake (lookuptest) speaking the LookupEvents wire
// protocol: no real CloudTrail API can run here.

// trailRecords reads the records of a generated trail's log files.
func trailRecords(t testing.TB, dir string) []map[string]any {
	t.Helper()
	recs, err := lookuptest.ReadTrail(dir)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

var management = lookuptest.Management

func newFake(t testing.TB, records ...[]map[string]any) *lookuptest.Server {
	f := lookuptest.New()
	t.Cleanup(f.Close)
	for _, recs := range records {
		for region, evs := range lookuptest.FromRecords(recs) {
			f.Add(region, evs...)
		}
	}
	return f
}

// lookupRun ingests what the fake serves for regions.
func lookupRun(t testing.TB, f *lookuptest.Server, l string, rate float64, regions []string) *Stats {
	t.Helper()
	clients, err := lookup.NewClients(context.Background(), lookup.ClientOptions{
		EndpointURL: f.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		Rate: rate, MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := RunObjects(context.Background(), Options{Lake: l}, LookupLister(LookupOptions{
		Regions: regions, Client: clients, Now: func() time.Time { return end.Add(48 * time.Hour) },
	}))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// identities returns the (partition, eventID, eventTime) of every row, sorted.
func identities(rows []string) []string {
	var out []string
	for _, r := range rows {
		part, rec, _ := strings.Cut(r, "\t")
		var x struct{ EventID, EventTime string }
		json.Unmarshal([]byte(rec), &x)
		out = append(out, part+" "+x.EventID+" "+x.EventTime)
	}
	sort.Strings(out)
	return out
}

// LookupEvents and S3 in either order store each event once: the API copies (which differ from
// the S3 records in empty objects and key order) of events delivered to S3 are recognised, and
// the events only the API has (not yet delivered) are added. Re-running the lookup adds nothing.
func TestLookupEventsWithS3(t *testing.T) {
	srv := vgwtest.Start(t)
	client := s3Client(t, srv)
	dir, _ := genTrail(t, generate.Options{Seed: 41, Events: 3000, EventsPerFile: 20, Days: 3, Accounts: 1})
	upload(t, client, "trail", "", dir)
	recent, _ := genTrail(t, generate.Options{Seed: 41, Events: 400, EventsPerFile: 20, Days: 1, Accounts: 1, End: end.Add(24 * time.Hour)})
	s3Mgmt, recentMgmt := management(trailRecords(t, dir)), management(trailRecords(t, recent))
	fake := newFake(t, s3Mgmt, recentMgmt)
	fake.ThrottleEvery = 5
	regions := generate.DefaultRegions()
	tr := &s3src.Trail{API: client, Bucket: "trail"}

	// S3 first, then the API.
	a := t.TempDir()
	if st, err := runS3(t, a, Options{}, tr); err != nil || st.Failed() || st.EventsAdded != 3000 {
		t.Fatalf("S3 ingest: %v %+v", err, st)
	}
	st := lookupRun(t, fake, a, 50, regions)
	if st.Failed() || st.EventsRead != int64(len(s3Mgmt)+len(recentMgmt)) || st.EventsAdded != int64(len(recentMgmt)) || st.EventsPresent != int64(len(s3Mgmt)) {
		t.Fatalf("lookup after S3: %d read, %d added (want %d), %d present (want %d), problems %v", st.EventsRead, st.EventsAdded, len(recentMgmt), st.EventsPresent, len(s3Mgmt), st.Problems)
	}
	if fake.Throttled() == 0 {
		t.Error("the fake never throttled: the retry path was not exercised")
	}
	rowsA := lakeRows(t, a)
	if len(rowsA) != 3000+len(recentMgmt) {
		t.Fatalf("lake holds %d events, want %d", len(rowsA), 3000+len(recentMgmt))
	}
	if st := lookupRun(t, fake, a, 50, regions); st.EventsAdded != 0 || st.Failed() {
		t.Fatalf("second lookup added %d events", st.EventsAdded)
	}

	// The API first, then S3: the same events, once each.
	b := t.TempDir()
	st = lookupRun(t, fake, b, 50, regions)
	if st.Failed() || st.EventsAdded != int64(len(s3Mgmt)+len(recentMgmt)) {
		t.Fatalf("lookup into an empty lake: %d added, problems %v", st.EventsAdded, st.Problems)
	}
	st, err := runS3(t, b, Options{}, tr)
	if err != nil || st.Failed() || st.EventsAdded != int64(3000-len(s3Mgmt)) || st.EventsPresent != int64(len(s3Mgmt)) {
		t.Fatalf("S3 after lookup: %d added (want %d), %d present (want %d), %v", st.EventsAdded, 3000-len(s3Mgmt), st.EventsPresent, len(s3Mgmt), err)
	}
	if got, want := identities(lakeRows(t, b)), identities(rowsA); !slices.Equal(got, want) {
		t.Fatalf("API-then-S3 lake holds %d events, S3-then-API %d: not the same events", len(got), len(want))
	}
}

// Paging within the quota: requests to one region are at least half a second apart, retries of
// throttled requests included, and every page is read.
func TestLookupEventsQuota(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 43, Events: 400, EventsPerFile: 20, Days: 1, Accounts: 1, Regions: []string{"eu-west-1"}})
	recs := management(trailRecords(t, dir))
	fake := newFake(t, recs)
	fake.ThrottleEvery = 3
	l := t.TempDir()
	st := lookupRun(t, fake, l, lookup.Quota, []string{"eu-west-1"})
	if st.Failed() || st.EventsAdded != int64(len(recs)) {
		t.Fatalf("lookup: %d of %d events added, problems %v", st.EventsAdded, len(recs), st.Problems)
	}
	times := fake.Requests("eu-west-1")
	pages := (len(recs) + 49) / 50
	if len(times) < pages+pages/3 {
		t.Fatalf("%d requests for %d pages with every third throttled", len(times), pages)
	}
	// The limiter spaces requests 500 ms apart when they leave; the fake sees them arrive, and a
	// scheduling delay of one request on a loaded machine brings it closer to the next (368 ms
	// was seen). So count arrivals in every window of one second: a quota of 2 per second lets
	// at most 2 start in any second, and 3 arrive with such a delay; 4 would break it.
	for i := range times {
		n := 0
		for _, u := range times[i:] {
			if u.Sub(times[i]) < time.Second {
				n++
			}
		}
		if n > 3 {
			t.Errorf("%d requests arrived within one second from request %d: over the 2 requests/s quota", n, i)
		}
	}
	if span := times[len(times)-1].Sub(times[0]); span < time.Duration(len(times)-1)*450*time.Millisecond {
		t.Errorf("%d requests in %s: faster than 2 per second", len(times), span)
	}
}

// Every region by default: regions with nothing answer empty pages, an opt-in region the account
// has not enabled is skipped, a region that keeps throttling fails (reported, the others kept),
// and an event without a readable CloudTrailEvent is reported by its EventId.
func TestLookupEventsAllRegions(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 44, Events: 300, EventsPerFile: 20, Days: 1, Accounts: 1, Regions: []string{"us-east-1", "eu-west-1"}})
	recs := management(trailRecords(t, dir))
	fake := newFake(t, recs)
	fake.Add("eu-west-1", lookuptest.Event{ID: "broken-1", Name: "RunInstances", Source: "ec2.amazonaws.com", Time: end.Add(-time.Hour), Missing: true})
	fake.NotEnabled["af-south-1"] = true
	fake.AlwaysThrottle["ap-northeast-3"] = true
	l := t.TempDir()
	st := lookupRun(t, fake, l, 50, nil)
	if len(fake.Regions()) != len(lookup.Regions()) {
		t.Errorf("asked %d regions, want all %d", len(fake.Regions()), len(lookup.Regions()))
	}
	if st.EventsAdded != int64(len(recs)) || st.FilesFailed != 1 || st.ListErrors != 1 {
		t.Fatalf("%d of %d events added, %d failed, %d listing errors; problems %v", st.EventsAdded, len(recs), st.FilesFailed, st.ListErrors, st.Problems)
	}
	var msgs []string
	for _, p := range st.Problems {
		msgs = append(msgs, p.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"event broken-1 (RunInstances", "has no CloudTrailEvent", "LookupEvents in ap-northeast-3", "ThrottlingException"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "af-south-1") {
		t.Errorf("a region not enabled is a failure:\n%s", all)
	}
}

// Distinct records that share an eventID (Panther's fixtures: 438 records, 126 eventIDs) are all
// kept by the file path, also with identity hashes in play; an API copy of one of them is
// recognised as present.
func TestSharedEventIDsKept(t *testing.T) {
	file := filepath.Join(testshared.Dir(t, "datasets"), "panther-analysis", "panther_cloudtrail_test_events.json")
	l := t.TempDir()
	st, err := Run(context.Background(), Options{Lake: l}, []string{file})
	if err != nil || st.EventsAdded != 438 {
		t.Fatalf("panther: %d added, %v", st.EventsAdded, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []map[string]any }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var one []map[string]any
	for _, r := range doc.Records {
		if _, ok := r["eventID"].(string); ok {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(r["eventTime"])); err == nil && r["awsRegion"] != nil && r["eventName"] != nil && r["eventSource"] != nil {
				one = append(one, r)
				break
			}
		}
	}
	fake := newFake(t, one)
	region := one[0]["awsRegion"].(string)
	// The fake's clock: the event must be within the 90 days before "now".
	ts, _ := time.Parse(time.RFC3339, one[0]["eventTime"].(string))
	clients, _ := lookup.NewClients(context.Background(), lookup.ClientOptions{EndpointURL: fake.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "x", ""), Rate: 50})
	st, err = RunObjects(context.Background(), Options{Lake: l}, LookupLister(LookupOptions{Regions: []string{region}, Client: clients, Now: func() time.Time { return ts.Add(time.Hour) }}))
	if err != nil || st.EventsRead != 1 || st.EventsPresent != 1 {
		t.Fatalf("API copy of a panther event: %d read, %d present, %v %v", st.EventsRead, st.EventsPresent, err, st.Problems)
	}
	// The same records again, from another file: nothing added, none lost.
	cp := filepath.Join(t.TempDir(), "copy.json")
	os.WriteFile(cp, data, 0o644)
	st, err = Run(context.Background(), Options{Lake: l}, []string{cp})
	if err != nil || st.EventsAdded != 0 || st.EventsPresent != 438 {
		t.Fatalf("copy: %d added, %d present, %v", st.EventsAdded, st.EventsPresent, err)
	}
	snap, _ := lake.OpenSnapshot(l)
	if snap.Rows() != 438 {
		t.Fatalf("lake holds %d rows, want 438", snap.Rows())
	}
}
