// Package lookuptest is a FAKE CloudTrail endpoint for tests. No real CloudTrail API can run
// here, so this httptest server speaks the wire protocol the AWS SDK for Go v2 uses for
// LookupEvents: a POST with X-Amz-Target: CloudTrail_20131101.LookupEvents and Content-Type
// application/x-amz-json-1.1, StartTime/EndTime as epoch seconds, MaxResults (1 to 50) and
// NextToken paging, events newest first with CloudTrailEvent as a JSON string, and errors as
// {"__type": …, "message": …} — ThrottlingException, as the real API answers beyond its quota of
// 2 requests per second. The region is read from the request's SigV4 credential scope.
package lookuptest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one event the fake serves.
type Event struct {
	ID, Name, Source string
	Time             time.Time
	// Record is the CloudTrailEvent string.
	Record string
	// Missing answers the event without a CloudTrailEvent.
	Missing bool
}

// Server is the fake. Set its fields before the first request.
type Server struct {
	*httptest.Server
	// ThrottleEvery makes every n-th request of a region answer ThrottlingException.
	ThrottleEvery int
	// AlwaysThrottle lists regions that only ever answer ThrottlingException.
	AlwaysThrottle map[string]bool
	// NotEnabled lists regions that refuse the credentials (opt-in regions not enabled).
	NotEnabled map[string]bool

	mu        sync.Mutex
	events    map[string][]Event
	requests  map[string][]time.Time
	throttled int
}

// New starts a fake; Close stops it.
func New() *Server {
	s := &Server{events: map[string][]Event{}, requests: map[string][]time.Time{}, AlwaysThrottle: map[string]bool{}, NotEnabled: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add serves events in a region.
func (s *Server) Add(region string, evs ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append(s.events[region], evs...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.After(all[j].Time) })
	s.events[region] = all
}

// Requests returns when each request of a region arrived.
func (s *Server) Requests(region string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.requests[region]...)
}

// Regions returns the regions asked.
func (s *Server) Regions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for r := range s.requests {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Throttled returns the number of ThrottlingException answers.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

var scopeRe = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/cloudtrail/aws4_request`)

func fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fake")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "CloudTrail_20131101.LookupEvents" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		fail(w, 400, "UnknownOperationException", fmt.Sprintf("%s %s target %q content type %q", r.Method, r.URL, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type")))
		return
	}
	m := scopeRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		fail(w, 400, "MissingAuthenticationTokenException", "no SigV4 credential scope")
		return
	}
	region := m[1]
	var in struct {
		StartTime, EndTime float64
		MaxResults         int
		NextToken          string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, 400, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.requests[region] = append(s.requests[region], time.Now())
	n := len(s.requests[region])
	all := s.events[region]
	throttle := s.AlwaysThrottle[region] || s.ThrottleEvery > 0 && n%s.ThrottleEvery == 0
	if throttle {
		s.throttled++
	}
	s.mu.Unlock()
	switch {
	case s.NotEnabled[region]:
		fail(w, 400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	case throttle:
		fail(w, 400, "ThrottlingException", "Rate exceeded")
		return
	case in.MaxResults < 1 || in.MaxResults > 50:
		fail(w, 400, "InvalidLookupAttributesException", "MaxResults must be 1 to 50")
		return
	}
	from, to := time.Unix(0, int64(in.StartTime*1e9)), time.Unix(0, int64(in.EndTime*1e9))
	var sel []Event
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
			fail(w, 400, "InvalidNextTokenException", "bad token "+in.NextToken)
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

// FromRecords turns S3-style records into the events LookupEvents would serve, each with the
// API's copy of the record (see APICopy), by region.
func FromRecords(records []map[string]any) map[string][]Event {
	out := map[string][]Event{}
	for _, rec := range records {
		ev := Event{ID: str(rec["eventID"]), Name: str(rec["eventName"]), Source: str(rec["eventSource"]), Record: APICopy(rec)}
		ev.Time, _ = time.Parse(time.RFC3339, str(rec["eventTime"]))
		region := str(rec["awsRegion"])
		out[region] = append(out[region], ev)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// APICopy returns the CloudTrailEvent string of a record the way it differs from the S3 copy in
// the real LookupEvents items of ../shared/datasets/plaso-lookup-events: an IAM user's
// sessionContext holds empty sessionIssuer and webIdFederationData objects, which AWS's S3
// records of IAM users leave out. Keys are also re-ordered (alphabetically, at every depth),
// which no hash over the payloads' text survives.
func APICopy(rec map[string]any) string {
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

// ReadTrail returns the records of the log files under dir (gzip {"Records":[…]} files, as the
// generator writes them; digest files are left out), numbers kept as written.
func ReadTrail(dir string) ([]map[string]any, error) {
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
			return fmt.Errorf("%s: %w", p, err)
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
	return out, err
}

// Management returns the management events of records: what Event history keeps.
func Management(records []map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range records {
		if r["managementEvent"] == true {
			out = append(out, r)
		}
	}
	return out
}
