package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/lookup"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/testshared"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// fakeCloudTrail is a FAKE CloudTrail endpoint: no real CloudTrail API can run here, so this
// httptest server speaks the wire protocol the AWS SDK for Go v2 uses for LookupEvents — a POST
// with X-Amz-Target: CloudTrail_20131101.LookupEvents and Content-Type
// application/x-amz-json-1.1, StartTime/EndTime as epoch seconds, MaxResults and NextToken
// paging, events newest first with CloudTrailEvent as a JSON string, and errors as
// {"__type": …, "message": …} (ThrottlingException when asked too fast, as the real one does
// beyond 2 requests per second). The region is read from the request's SigV4 credential scope.
type fakeCloudTrail struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string][]apiEvent // per region, newest first
	// throttleEvery makes every n-th request of a region answer ThrottlingException.
	throttleEvery int
	// alwaysThrottle lists regions that never answer.
	alwaysThrottle map[string]bool
	// notEnabled lists regions that refuse the credentials (opt-in regions not enabled).
	notEnabled map[string]bool
	requests   map[string][]time.Time // per region, every request received
	throttled  int
}

type apiEvent struct {
	ID, Name, Source string
	Time             time.Time
	Record           string // the CloudTrailEvent string
	Missing          bool   // answer without CloudTrailEvent
}

var scopeRe = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/cloudtrail/aws4_request`)

func newFakeCloudTrail(t testing.TB) *fakeCloudTrail {
	f := &fakeCloudTrail{t: t, events: map[string][]apiEvent{}, requests: map[string][]time.Time{}, alwaysThrottle: map[string]bool{}, notEnabled: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloudTrail) fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fake")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}

func (f *fakeCloudTrail) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "CloudTrail_20131101.LookupEvents" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.fail(w, 400, "UnknownOperationException", fmt.Sprintf("%s %s target %q content type %q", r.Method, r.URL, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type")))
		return
	}
	m := scopeRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		f.fail(w, 400, "MissingAuthenticationTokenException", "no SigV4 credential scope")
		return
	}
	region := m[1]
	var in struct {
		StartTime, EndTime float64
		MaxResults         int
		NextToken          string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.fail(w, 400, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	f.requests[region] = append(f.requests[region], time.Now())
	n := len(f.requests[region])
	all := f.events[region]
	throttle := f.alwaysThrottle[region] || f.throttleEvery > 0 && n%f.throttleEvery == 0
	if throttle {
		f.throttled++
	}
	f.mu.Unlock()
	switch {
	case f.notEnabled[region]:
		f.fail(w, 400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	case throttle:
		f.fail(w, 400, "ThrottlingException", "Rate exceeded")
		return
	case in.MaxResults < 1 || in.MaxResults > 50:
		f.fail(w, 400, "InvalidMaxResultsException", "MaxResults must be 1 to 50")
		return
	}
	from, to := time.Unix(0, int64(in.StartTime*1e9)), time.Unix(0, int64(in.EndTime*1e9))
	var sel []apiEvent
	for _, e := range all {
		if !e.Time.Before(from) && !e.Time.After(to) {
			sel = append(sel, e)
		}
	}
	off := 0
	if in.NextToken != "" {
		rest, ok := strings.CutPrefix(in.NextToken, region+":")
		o, err := strconv.Atoi(rest)
		if !ok || err != nil || o > len(sel) {
			f.fail(w, 400, "InvalidNextTokenException", "bad token "+in.NextToken)
			return
		}
		off = o
	}
	page := sel[off:min(off+in.MaxResults, len(sel))]
	type resource struct{ ResourceType, ResourceName string }
	type item struct {
		EventId, EventName, EventSource, ReadOnly, Username string
		EventTime                                           float64
		Resources                                           []resource
		CloudTrailEvent                                     *string `json:",omitempty"`
		AccessKeyId                                         string  `json:",omitempty"`
	}
	out := struct {
		Events    []item
		NextToken string `json:",omitempty"`
	}{Events: []item{}}
	for _, e := range page {
		it := item{EventId: e.ID, EventName: e.Name, EventSource: e.Source, ReadOnly: "false", Username: "someone", EventTime: float64(e.Time.Unix()), Resources: []resource{}}
		if !e.Missing {
			it.CloudTrailEvent = &e.Record
		}
		out.Events = append(out.Events, it)
	}
	if off+len(page) < len(sel) {
		out.NextToken = fmt.Sprintf("%s:%d", region, off+len(page))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

// add serves records (S3-style JSON objects) as LookupEvents would: each turned into the API's
// copy of the event (see apiCopy).
func (f *fakeCloudTrail) add(records []map[string]any) {
	for _, rec := range records {
		ev := apiEvent{ID: rec["eventID"].(string), Name: rec["eventName"].(string), Source: rec["eventSource"].(string), Record: apiCopy(rec)}
		ev.Time, _ = time.Parse(time.RFC3339, rec["eventTime"].(string))
		region := rec["awsRegion"].(string)
		f.events[region] = append(f.events[region], ev)
	}
	for _, evs := range f.events {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.After(evs[j].Time) })
	}
}

// apiCopy returns the CloudTrailEvent string of a record the way it differs from the S3 copy in
// the LookupEvents items of ../shared/datasets/plaso-lookup-events: an IAM user's sessionContext
// with empty sessionIssuer and webIdFederationData objects. Keys are also re-ordered
// (alphabetically, at every depth), which no content hash over the payload text survives.
func apiCopy(rec map[string]any) string {
	c := deepCopy(rec).(map[string]any)
	if ui, ok := c["userIdentity"].(map[string]any); ok {
		if sc, ok := ui["sessionContext"].(map[string]any); ok && ui["type"] == "IAMUser" {
			if _, ok := sc["sessionIssuer"]; !ok {
				sc["sessionIssuer"] = map[string]any{}
			}
			if _, ok := sc["webIdFederationData"]; !ok {
				sc["webIdFederationData"] = map[string]any{}
			}
		}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = deepCopy(v)
		}
		return out
	}
	return v
}

// trailRecords reads the records of a generated trail's log files.
func trailRecords(t testing.TB, dir string) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "CloudTrail-Digest") {
			return err
		}
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(zr)
		dec.UseNumber()
		var doc struct{ Records []map[string]any }
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, doc.Records...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func management(recs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["managementEvent"] == true {
			out = append(out, r)
		}
	}
	return out
}

// lookupRun ingests what the fake serves for regions.
func lookupRun(t testing.TB, f *fakeCloudTrail, l string, rate float64, regions []string) *Stats {
	t.Helper()
	clients, err := lookup.NewClients(context.Background(), lookup.ClientOptions{
		EndpointURL: f.srv.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
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
	fake := newFakeCloudTrail(t)
	fake.add(s3Mgmt)
	fake.add(recentMgmt)
	fake.throttleEvery = 5
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
	if fake.throttled == 0 {
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
	fake := newFakeCloudTrail(t)
	fake.add(recs)
	fake.throttleEvery = 3
	l := t.TempDir()
	st := lookupRun(t, fake, l, lookup.Quota, []string{"eu-west-1"})
	if st.Failed() || st.EventsAdded != int64(len(recs)) {
		t.Fatalf("lookup: %d of %d events added, problems %v", st.EventsAdded, len(recs), st.Problems)
	}
	times := fake.requests["eu-west-1"]
	pages := (len(recs) + 49) / 50
	if len(times) < pages+pages/3 {
		t.Fatalf("%d requests for %d pages with every third throttled", len(times), pages)
	}
	for i := 1; i < len(times); i++ {
		// The limiter spaces requests 500 ms apart when they leave; the fake sees them arrive,
		// which a scheduling delay of the earlier one can bring closer by a few milliseconds.
		if d := times[i].Sub(times[i-1]); d < 450*time.Millisecond {
			t.Errorf("requests %d and %d came %s apart: over the 2 requests/s quota", i-1, i, d)
		}
	}
}

// Every region by default: regions with nothing answer empty pages, an opt-in region the account
// has not enabled is skipped, a region that keeps throttling fails (reported, the others kept),
// and an event without a readable CloudTrailEvent is reported by its EventId.
func TestLookupEventsAllRegions(t *testing.T) {
	dir, _ := genTrail(t, generate.Options{Seed: 44, Events: 300, EventsPerFile: 20, Days: 1, Accounts: 1, Regions: []string{"us-east-1", "eu-west-1"}})
	recs := management(trailRecords(t, dir))
	fake := newFakeCloudTrail(t)
	fake.add(recs)
	fake.events["eu-west-1"] = append(fake.events["eu-west-1"], apiEvent{ID: "broken-1", Name: "RunInstances", Source: "ec2.amazonaws.com", Time: end.Add(-time.Hour), Missing: true})
	fake.notEnabled["af-south-1"] = true
	fake.alwaysThrottle["ap-northeast-3"] = true
	l := t.TempDir()
	st := lookupRun(t, fake, l, 50, nil)
	if len(fake.requests) != len(lookup.Regions()) {
		t.Errorf("asked %d regions, want all %d", len(fake.requests), len(lookup.Regions()))
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
	fake := newFakeCloudTrail(t)
	fake.add(one)
	region := one[0]["awsRegion"].(string)
	// The fake's clock: the event must be within the 90 days before "now".
	ts, _ := time.Parse(time.RFC3339, one[0]["eventTime"].(string))
	clients, _ := lookup.NewClients(context.Background(), lookup.ClientOptions{EndpointURL: fake.srv.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "x", ""), Rate: 50})
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
