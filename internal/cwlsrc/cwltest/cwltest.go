// Package cwltest is a FAKE CloudWatch Logs endpoint for tests. No real CloudWatch Logs can run
// here, so this httptest server speaks the wire protocol the AWS SDK for Go v2 uses: a POST with
// X-Amz-Target: Logs_20140328.<Operation> and Content-Type application/x-amz-json-1.1, JSON
// bodies with camelCase members, timestamps as epoch milliseconds, nextToken paging, and errors
// as {"__type": …, "message": …}: ResourceNotFoundException for a log group that does not exist,
// ThrottlingException beyond the quota (injected), InvalidParameterException for a bad request.
// It serves DescribeLogStreams, FilterLogEvents and GetLogEvents. The region is read from the
// request's SigV4 credential scope; log groups are per region.
package cwltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one log event.
type Event struct {
	Timestamp     int64 // epoch milliseconds
	IngestionTime int64 // epoch milliseconds; 0: the time Add was called
	Message       string
	ID            string // set by Add
}

type stream struct {
	name     string
	created  int64
	events   []Event // by timestamp, then ingestion order
	lastIngo int64
}

// Server is the fake. Set its exported fields before the first request.
type Server struct {
	*httptest.Server
	// ThrottleEvery makes every n-th request answer ThrottlingException.
	ThrottleEvery int
	// PageEvents bounds the events of one FilterLogEvents page (default 10,000, the API's).
	PageEvents int
	// EmptyPageEvery makes every n-th FilterLogEvents page come back empty with a nextToken, as
	// the real API may when it scans a range without a match.
	EmptyPageEvery int
	// Stall, when set, is called before each FilterLogEvents answer (a test's way to interrupt a
	// run at a known point); its request waits until it returns.
	Stall func(op string, n int)

	mu        sync.Mutex
	groups    map[string]map[string]*stream // region+"\x00"+group -> streams
	nextID    int64
	requests  map[string][]time.Time // by operation
	throttled int
	served    int // events answered by FilterLogEvents and GetLogEvents
}

// New starts a fake; Close stops it.
func New() *Server {
	s := &Server{groups: map[string]map[string]*stream{}, requests: map[string][]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// CreateGroup creates an empty log group.
func (s *Server) CreateGroup(region, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[region+"\x00"+group] == nil {
		s.groups[region+"\x00"+group] = map[string]*stream{}
	}
}

// Add puts events into a stream of a group (both created if needed), giving each an event ID and,
// where it has none, the current time as its ingestion time.
func (s *Server) Add(region, group, streamName string, evs ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[region+"\x00"+group]
	if g == nil {
		g = map[string]*stream{}
		s.groups[region+"\x00"+group] = g
	}
	st := g[streamName]
	now := time.Now().UnixMilli()
	if st == nil {
		st = &stream{name: streamName, created: now}
		g[streamName] = st
	}
	for _, e := range evs {
		s.nextID++
		// Real event IDs are 56 digits.
		e.ID = fmt.Sprintf("%056d", s.nextID)
		if e.IngestionTime == 0 {
			e.IngestionTime = now
		}
		st.lastIngo = max(st.lastIngo, e.IngestionTime)
		st.events = append(st.events, e)
	}
	sort.SliceStable(st.events, func(i, j int) bool { return st.events[i].Timestamp < st.events[j].Timestamp })
}

// Requests returns when each request of an operation (FilterLogEvents, …) arrived.
func (s *Server) Requests(op string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.requests[op]...)
}

// Throttled returns the number of ThrottlingException answers.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Served returns the number of events answered so far.
func (s *Server) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

var scopeRe = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/logs/aws4_request`)

func fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fake")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fake")
	json.NewEncoder(w).Encode(v)
}

// request holds the members of the three operations' inputs this fake reads.
type request struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamName       string   `json:"logStreamName"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	Limit               *int     `json:"limit"`
	NextToken           string   `json:"nextToken"`
	StartFromHead       bool     `json:"startFromHead"`
	OrderBy             string   `json:"orderBy"`
	Descending          bool     `json:"descending"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328.")
	if r.Method != http.MethodPost || !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		fail(w, "UnknownOperationException", fmt.Sprintf("%s %s target %q content type %q", r.Method, r.URL, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type")))
		return
	}
	m := scopeRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		fail(w, "MissingAuthenticationTokenException", "no SigV4 credential scope for the logs service")
		return
	}
	region := m[1]
	var in request
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&in); err != nil {
		fail(w, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.requests[op] = append(s.requests[op], time.Now())
	n := 0
	for _, t := range s.requests {
		n += len(t)
	}
	throttle := s.ThrottleEvery > 0 && n%s.ThrottleEvery == 0
	if throttle {
		s.throttled++
	}
	nOp := len(s.requests[op])
	s.mu.Unlock()
	if throttle {
		fail(w, "ThrottlingException", "Rate exceeded")
		return
	}
	if op == "FilterLogEvents" && s.Stall != nil {
		s.Stall(op, nOp)
	}
	group := in.LogGroupName
	if group == "" {
		group = in.LogGroupIdentifier
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[region+"\x00"+group]
	if g == nil {
		fail(w, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	switch op {
	case "DescribeLogStreams":
		s.describe(w, g, in)
	case "FilterLogEvents":
		s.filter(w, g, in, nOp)
	case "GetLogEvents":
		s.get(w, g, in)
	default:
		fail(w, "UnknownOperationException", "this fake does not serve "+op)
	}
}

// offset reads a paging token of this fake: prefix and a number.
func offset(tok, prefix string, limit int) (int, bool) {
	if tok == "" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(tok, prefix)
	o, err := strconv.Atoi(rest)
	return o, ok && err == nil && o >= 0 && o <= limit
}

// limitOf returns a request's limit (default and at most most), or answers the error.
func limitOf(w http.ResponseWriter, in request, most int) (int, bool) {
	if in.Limit == nil {
		return most, true
	}
	if *in.Limit < 1 || *in.Limit > most {
		fail(w, "InvalidParameterException", fmt.Sprintf("limit must be 1 to %d", most))
		return 0, false
	}
	return *in.Limit, true
}

func (s *Server) describe(w http.ResponseWriter, g map[string]*stream, in request) {
	limit, ok := limitOf(w, in, 50)
	if !ok {
		return
	}
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != "" {
		fail(w, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
		return
	}
	var names []string
	for n := range g {
		if strings.HasPrefix(n, in.LogStreamNamePrefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	off, ok := offset(in.NextToken, "streams/", len(names))
	if !ok {
		fail(w, "InvalidParameterException", "The specified nextToken is invalid.")
		return
	}
	type logStream struct {
		LogStreamName       string `json:"logStreamName"`
		CreationTime        int64  `json:"creationTime"`
		FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
		LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
		LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
		Arn                 string `json:"arn"`
	}
	out := struct {
		LogStreams []logStream `json:"logStreams"`
		NextToken  string      `json:"nextToken,omitempty"`
	}{LogStreams: []logStream{}}
	end := min(off+limit, len(names))
	for _, n := range names[off:end] {
		st := g[n]
		ls := logStream{LogStreamName: n, CreationTime: st.created, LastIngestionTime: st.lastIngo, Arn: "arn:aws:logs:fake:log-stream:" + n}
		if len(st.events) > 0 {
			ls.FirstEventTimestamp, ls.LastEventTimestamp = st.events[0].Timestamp, st.events[len(st.events)-1].Timestamp
		}
		out.LogStreams = append(out.LogStreams, ls)
	}
	if end < len(names) {
		out.NextToken = fmt.Sprintf("streams/%d", end)
	}
	reply(w, out)
}

type filtered struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

func (s *Server) filter(w http.ResponseWriter, g map[string]*stream, in request, n int) {
	limit, ok := limitOf(w, in, 10000)
	if !ok {
		return
	}
	if s.PageEvents > 0 {
		limit = min(limit, s.PageEvents)
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		fail(w, "InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive")
		return
	}
	var sel []filtered
	for name, st := range g {
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, name) || !strings.HasPrefix(name, in.LogStreamNamePrefix) {
			continue
		}
		for _, e := range st.events {
			// startTime and endTime both include their bound.
			if in.StartTime != nil && e.Timestamp < *in.StartTime || in.EndTime != nil && e.Timestamp > *in.EndTime {
				continue
			}
			sel = append(sel, filtered{LogStreamName: name, Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.IngestionTime, EventID: e.ID})
		}
	}
	// Interleaved: by timestamp across streams.
	sort.SliceStable(sel, func(i, j int) bool {
		if sel[i].Timestamp != sel[j].Timestamp {
			return sel[i].Timestamp < sel[j].Timestamp
		}
		return sel[i].EventID < sel[j].EventID
	})
	off, ok := offset(in.NextToken, "filter/", len(sel))
	if !ok {
		fail(w, "InvalidParameterException", "The specified nextToken is invalid.")
		return
	}
	out := struct {
		Events    []filtered `json:"events"`
		NextToken string     `json:"nextToken,omitempty"`
	}{Events: []filtered{}}
	if s.EmptyPageEvery > 0 && n%s.EmptyPageEvery == 0 && off < len(sel) {
		out.NextToken = fmt.Sprintf("filter/%d", off)
		reply(w, out)
		return
	}
	end := min(off+limit, len(sel))
	out.Events = append(out.Events, sel[off:end]...)
	s.served += end - off
	if end < len(sel) {
		out.NextToken = fmt.Sprintf("filter/%d", end)
	}
	reply(w, out)
}

func (s *Server) get(w http.ResponseWriter, g map[string]*stream, in request) {
	st := g[in.LogStreamName]
	if st == nil {
		fail(w, "ResourceNotFoundException", "The specified log stream does not exist.")
		return
	}
	limit, ok := limitOf(w, in, 10000)
	if !ok {
		return
	}
	var sel []Event
	for _, e := range st.events {
		// GetLogEvents: startTime included, endTime excluded.
		if in.StartTime != nil && e.Timestamp < *in.StartTime || in.EndTime != nil && e.Timestamp >= *in.EndTime {
			continue
		}
		sel = append(sel, e)
	}
	// Tokens are positions in sel: f/<i> reads forward from i, b/<i> backward to before i. At
	// either end the token given comes back, which is how a reader knows it is done.
	var lo, hi int
	switch {
	case strings.HasPrefix(in.NextToken, "b/"):
		i, ok := offset(in.NextToken, "b/", len(sel))
		if !ok {
			fail(w, "InvalidParameterException", "The specified nextToken is invalid.")
			return
		}
		lo, hi = max(0, i-limit), i
	case in.NextToken != "":
		i, ok := offset(in.NextToken, "f/", len(sel))
		if !ok {
			fail(w, "InvalidParameterException", "The specified nextToken is invalid.")
			return
		}
		lo, hi = i, min(len(sel), i+limit)
	case in.StartFromHead:
		lo, hi = 0, min(len(sel), limit)
	default:
		lo, hi = max(0, len(sel)-limit), len(sel)
	}
	type outEvent struct {
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
	}
	out := struct {
		Events            []outEvent `json:"events"`
		NextForwardToken  string     `json:"nextForwardToken"`
		NextBackwardToken string     `json:"nextBackwardToken"`
	}{Events: []outEvent{}, NextForwardToken: fmt.Sprintf("f/%d", hi), NextBackwardToken: fmt.Sprintf("b/%d", lo)}
	for _, e := range sel[lo:hi] {
		out.Events = append(out.Events, outEvent{e.Timestamp, e.Message, e.IngestionTime})
	}
	s.served += hi - lo
	reply(w, out)
}
