package cloudtrail

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Event is one decoded event of an input.
type Event struct {
	Record   *Record
	Index    int // the item's position in the input (the record index of a log file)
	Line     int // the line it starts on
	Warnings []Warning
}

// RecordError is a problem with one item of an input; the rest of the input was still read.
type RecordError struct {
	Index int
	Line  int
	Err   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d (line %d): %v", e.Index, e.Line, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Result summarises one input.
type Result struct {
	Events    int     // events passed to emit
	NotEvents int     // items that are not CloudTrail events
	Digest    bool    // the input is a CloudTrail digest file
	Errors    []error // per-item errors (*RecordError, or a non-fatal *DecodeError)
	// MoreErrors counts the per-item errors beyond Reader.MaxErrors, not kept in Errors.
	MoreErrors int
	// Fatal is set when the input could not be read to its end (invalid JSON inside a log file,
	// a truncated gzip stream). The events before the damage were emitted.
	Fatal error
	// Gzip is set when the input was gzip-compressed (told by its content, not its name).
	Gzip bool
	// NotJSON is set when the (decompressed) input is empty or does not start with '{' or '['.
	NotJSON bool
}

// IsCloudTrail reports whether the input held CloudTrail events (or was meant to: a log file
// with a Records array, even an empty or damaged one).
func (r *Result) IsCloudTrail() bool { return r.Events > 0 || r.ErrorCount() > 0 && r.NotEvents == 0 }

// ErrorCount is the number of per-item errors, kept in Errors or only counted.
func (r *Result) ErrorCount() int { return len(r.Errors) + r.MoreErrors }

// addError keeps a per-item error, or only counts it once max are kept (max 0: no bound).
func (r *Result) addError(err error, max int) {
	if max > 0 && len(r.Errors) >= max {
		r.MoreErrors++
		return
	}
	r.Errors = append(r.Errors, err)
}

// ReadEvents decodes every event of one input, whatever its shape: a CloudTrail log file
// ({"Records":[…]}, plain or gzip), a JSON array of events, JSON lines, a single event, the output
// of `aws cloudtrail lookup-events` or the console's Event history download (JSON items whose
// CloudTrailEvent holds the record as a string, or the CSV download when csvInput is true).
// emit is called for each event in input order; an error from emit stops reading.
func ReadEvents(r io.Reader, csvInput bool, emit func(Event) error) (Result, error) {
	var rd Reader
	return rd.ReadEvents(r, csvInput, emit)
}

// Reader decodes inputs one after another, reusing its buffers; one per goroutine.
type Reader struct {
	// MaxErrors bounds the per-item errors kept in Result.Errors, so that an input of millions of
	// bad items does not hold millions of errors; the rest are counted in Result.MoreErrors
	// (0: all are kept).
	MaxErrors int

	n   Normalizer
	dec Decoder
}

// ReadEvents is the package's ReadEvents, reusing the Reader's buffers.
func (rd *Reader) ReadEvents(r io.Reader, csvInput bool, emit func(Event) error) (Result, error) {
	var res Result
	n := &rd.n
	if csvInput {
		return res, readCSV(r, n, &res, rd.MaxErrors, emit)
	}
	dec := &rd.dec
	err := dec.Reset(r)
	res.Gzip = dec.Gzip
	if err != nil {
		res.Fatal = err
		return res, nil
	}
	if c, ok := dec.First(); !ok || (c != '{' && c != '[') {
		if dec.err != nil {
			res.Fatal = dec.err
			return res, nil
		}
		res.NotJSON = true
		res.NotEvents++ // not a JSON document: not CloudTrail
		return res, nil
	}
	for {
		it, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var de *DecodeError
			if errors.As(err, &de) && !de.Fatal {
				res.addError(err, rd.MaxErrors)
				continue
			}
			res.Fatal = err
			break
		}
		raw, isEvent, why := classify(it)
		if !isEvent {
			if it.InRecords {
				res.addError(&RecordError{it.Index, it.Line, errors.New(why)}, rd.MaxErrors)
			} else {
				res.NotEvents++
			}
			continue
		}
		var rec *Record
		var warns []Warning
		if it.spans != nil && len(raw) == len(it.Raw) && &raw[0] == &it.Raw[0] {
			rec, warns = n.normalizeSpans(raw, it.spans)
		} else {
			rec, warns, err = n.Normalize(raw)
		}
		if err != nil {
			res.addError(&RecordError{it.Index, it.Line, err}, rd.MaxErrors)
			continue
		}
		res.Events++
		if err := emit(Event{Record: rec, Index: it.Index, Line: it.Line, Warnings: warns}); err != nil {
			return res, err
		}
	}
	res.Digest = dec.Digest && res.Events == 0
	return res, nil
}

var cloudTrailKeys = map[string]bool{
	"eventname": true, "eventsource": true, "eventversion": true, "useridentity": true,
	"insightdetails": true, "recipientaccountid": true, "eventtype": true,
}

// classify decides whether an item is an event and unwraps the envelopes events come in:
// LookupEvents items (CloudTrailEvent as a JSON string), EventBridge events (detail) and
// OpenSearch documents (aws.cloudtrail).
func classify(it Item) (raw []byte, isEvent bool, why string) {
	raw = it.Raw
	if raw[0] != '{' {
		return raw, false, fmt.Sprintf("%s where a CloudTrail event (an object) belongs", jsonKind(raw))
	}
	// Fast path: a log file's record with no envelope.
	if it.InRecords && !bytes.Contains(raw, []byte(`CloudTrailEvent`)) {
		return raw, true, ""
	}
	var kb []byte
	found := false
	var inner, detail, aws []byte
	eachMember(raw, func(k []byte, kesc bool, v []byte) {
		if kesc {
			return
		}
		kb = lowerKey(kb, k)
		switch key := string(kb); {
		case key == "cloudtrailevent" && v[0] == '"':
			inner = []byte(unquote(v, true))
		case key == "detail" && v[0] == '{':
			detail = v
		case key == "aws" && v[0] == '{':
			aws = v
		case cloudTrailKeys[key]:
			found = true
		}
	})
	if inner != nil {
		start := skipWS(inner, 0)
		end, err := skipValue(append(inner, ' '), start)
		if err != nil || skipWS(inner, end) != len(inner) {
			return raw, false, "CloudTrailEvent is not a valid JSON object"
		}
		return inner[start:end], true, ""
	}
	if found || it.InRecords {
		return raw, true, ""
	}
	if detail != nil && hasEventKeys(detail) {
		return detail, true, ""
	}
	if aws != nil {
		var ct []byte
		eachMember(aws, func(k []byte, _ bool, v []byte) {
			if strings.EqualFold(string(k), `"cloudtrail"`) && v[0] == '{' {
				ct = v
			}
		})
		if ct != nil && hasEventKeys(ct) {
			return ct, true, ""
		}
	}
	return raw, false, "an object with none of the fields of a CloudTrail event"
}

func hasEventKeys(obj []byte) bool {
	var kb []byte
	found := false
	eachMember(obj, func(k []byte, kesc bool, _ []byte) {
		if !kesc && cloudTrailKeys[string(lowerKey(kb, k))] {
			found = true
		}
	})
	return found
}

// csvColumns maps the normalised header names of the console's Event history CSV download to the
// CloudTrail fields they hold.
var csvColumns = map[string]string{
	"eventid": "eventID", "eventtime": "eventTime", "eventname": "eventName",
	"eventsource": "eventSource", "awsregion": "awsRegion", "region": "awsRegion",
	"errorcode": "errorCode", "errormessage": "errorMessage", "sourceipaddress": "sourceIPAddress",
	"readonly": "readOnly", "requestid": "requestID", "useragent": "userAgent",
	"eventtype": "eventType", "recipientaccountid": "recipientAccountId",
}

func normHeader(h string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// readCSV reads the console's Event history CSV download. Columns are matched by header name;
// when a "CloudTrail event" column holds the full record, that record is used.
func readCSV(r io.Reader, n *Normalizer, res *Result, maxErrors int, emit func(Event) error) error {
	dec, err := NewDecoder(r) // only for gzip detection
	if err != nil {
		res.Fatal = err
		return nil
	}
	cr := csv.NewReader(dec.r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		res.Fatal = fmt.Errorf("read CSV header: %w", err)
		return nil
	}
	full, user, key := -1, -1, -1
	fields := map[int]string{}
	for i, h := range header {
		switch nh := normHeader(h); nh {
		case "cloudtrailevent":
			full = i
		case "username":
			user = i
		case "awsaccesskey", "accesskeyid", "accesskey":
			key = i
		default:
			if f, ok := csvColumns[nh]; ok {
				fields[i] = f
			}
		}
	}
	hasName, hasTime := false, false
	for _, f := range fields {
		hasName = hasName || f == "eventName"
		hasTime = hasTime || f == "eventTime"
	}
	if full < 0 && !(hasName && hasTime) {
		res.NotEvents++ // not an Event history download
		return nil
	}
	for idx := 0; ; idx++ {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				res.addError(&RecordError{idx, pe.Line, err}, maxErrors)
				continue
			}
			res.Fatal = err
			return nil
		}
		var raw []byte
		if full >= 0 && full < len(row) && strings.HasPrefix(strings.TrimSpace(row[full]), "{") {
			raw = []byte(strings.TrimSpace(row[full]))
			if end, err := skipValue(append(raw, ' '), 0); err != nil || skipWS(raw, end) != len(raw) {
				res.addError(&RecordError{idx, line, errors.New("the CloudTrail event column is not valid JSON")}, maxErrors)
				continue
			}
		} else {
			raw = csvRecord(row, fields, user, key)
		}
		rec, warns, err := n.Normalize(raw)
		if err != nil {
			res.addError(&RecordError{idx, line, err}, maxErrors)
			continue
		}
		res.Events++
		if err := emit(Event{Record: rec, Index: idx, Line: line, Warnings: warns}); err != nil {
			return err
		}
	}
}

// csvRecord builds the JSON of an event from the columns of a CSV row that lacks the full record.
func csvRecord(row []string, fields map[int]string, user, key int) []byte {
	b := []byte{'{'}
	add := func(k, v string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = AppendJSONString(b, v)
	}
	for i, f := range fields {
		if i >= len(row) || row[i] == "" {
			continue
		}
		v := row[i]
		switch f {
		case "eventTime":
			if t, ok := ParseTime(v); ok {
				v = t.Format("2006-01-02T15:04:05Z")
			}
		case "readOnly":
			if lv := strings.ToLower(v); lv == "true" || lv == "false" {
				if len(b) > 1 {
					b = append(b, ',')
				}
				b = append(b, `"readOnly":`+lv...)
				continue
			}
		}
		add(f, v)
	}
	u, k := "", ""
	if user >= 0 && user < len(row) {
		u = row[user]
	}
	if key >= 0 && key < len(row) {
		k = row[key]
	}
	if u != "" || k != "" {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"userIdentity":{`...)
		if u != "" {
			b = append(b, `"userName":`...)
			b = AppendJSONString(b, u)
		}
		if k != "" {
			if u != "" {
				b = append(b, ',')
			}
			b = append(b, `"accessKeyId":`...)
			b = AppendJSONString(b, k)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
