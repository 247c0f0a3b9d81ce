package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func readAll(t testing.TB, r io.Reader, csv bool) ([]Event, Result) {
	t.Helper()
	var evs []Event
	res, err := ReadEvents(r, csv, func(e Event) error {
		e.Warnings = append([]Warning(nil), e.Warnings...)
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, res
}

// The event counts of every CloudTrail-bearing file of the shared datasets, as their SOURCE.md
// files give them.
func TestSharedDatasetCounts(t *testing.T) {
	dir := sharedDatasets(t)
	cases := []struct {
		file   string
		events int
	}{
		{"stratus-red-team/stratus_detonation_logs.json", 310},
		{"panther-analysis/panther_cloudtrail_test_events.json", 438},
		{"panther-analysis/panther_test_scenarios_cloudtrail.json", 27},
		{"opensearch-observability-samples/samples_cloudtrail_records.json", 50},
		{"opensearch-observability-samples/samples_opensearch_wrapped.json", 50},
		{"opensearch-observability-samples/raw-sample.json", 1},
		{"otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json", 103},
		{"awsdocs-cloudtrail-user-guide/cloudtrail_user_guide_example_events.json", 21},
		{"plaso-lookup-events/aws_cloudtrail_lookup_events.jsonl", 6},
		{"iam/trailscraper/fixtures/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json", 2},
		{"iam/trailscraper/fixtures/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", 2},
		{"iam/trailscraper/fixtures/events-for-smoke-test.json", 3},
		{"aws-cloudtrail-processing-library/SerializerTestFileCompact.json.gz", 6},
		{"aws-cloudtrail-processing-library/SerializerAllFieldsNull.json", 2},
		{"aws-cloudtrail-processing-library/SerializerTestFileBadFieldName.json", 2},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			evs, res := readAll(t, f, false)
			if len(evs) != c.events || res.Fatal != nil || len(res.Errors) != 0 {
				t.Fatalf("got %d events (fatal %v, errors %v), want %d", len(evs), res.Fatal, res.Errors, c.events)
			}
		})
	}
	// The processing library's invalid fixture is an error that names where it is.
	f, err := os.Open(filepath.Join(dir, "aws-cloudtrail-processing-library/SerializerTestFileBadJsonFormat.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, res := readAll(t, f, false)
	var de *DecodeError
	if !errors.As(res.Fatal, &de) || de.Line != 37 {
		t.Fatalf("bad JSON fixture: got %v, want a decode error at line 37", res.Fatal)
	}
}

// Every event of the shared datasets rebuilds from its columns and residual into the record it
// was, up to key order and fields that were null.
func TestRebuildSharedDatasets(t *testing.T) {
	dir := sharedDatasets(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json*"))
	n := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(zr)
		}
		dec, _ := NewDecoder(bytes.NewReader(data))
		var norm Normalizer
		for {
			it, err := dec.Next()
			if err != nil {
				break
			}
			raw, ok, _ := classify(it)
			if !ok {
				continue
			}
			rec, _, err := norm.Normalize(raw)
			if err != nil {
				continue
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s record %d: %v", p, it.Index, err)
			}
			if err := json.Unmarshal(Rebuild(rec), &got); err != nil {
				t.Fatalf("%s record %d: rebuilt JSON invalid: %v\n%s", p, it.Index, err, Rebuild(rec))
			}
			want, got = foldKeys(dropNulls(want)), foldKeys(dropNulls(got))
			if w, ok := want.(map[string]any); ok {
				if _, has := w["eventtime"]; !has {
					delete(got.(map[string]any), "eventtime") // derived from Logstash's @timestamp
				}
			}
			if !reflect.DeepEqual(want, got) {
				wj, _ := json.Marshal(want)
				gj, _ := json.Marshal(got)
				t.Fatalf("%s record %d does not rebuild:\nwant %s\ngot  %s", filepath.Base(p), it.Index, wj, gj)
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d events checked", n)
	}
}

// foldKeys lower-cases object keys: a rebuilt record spells field names as CloudTrail does, even
// where a source spelled them otherwise.
func foldKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ToLower(k)] = foldKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = foldKeys(e)
		}
	}
	return v
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

func TestReadShapes(t *testing.T) {
	event := `{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","userName":"alice"},"requestParameters":{"bucketName":"b"},"readOnly":true,"eventID":"e1","recipientAccountId":"111122223333"}`
	quoted, _ := json.Marshal(event)
	cases := []struct {
		name, input string
		csv         bool
		want        int
	}{
		{"records", `{"Records":[` + event + `,` + event + `]}`, false, 2},
		{"records after other keys", `{"x":1,"Records":[` + event + `],"y":[1]}`, false, 1},
		{"array", `[` + event + `]`, false, 1},
		{"json lines", event + "\n" + event + "\n", false, 2},
		{"single event", event, false, 1},
		{"lookup-events output", `{"Events":[{"EventId":"e1","CloudTrailEvent":` + string(quoted) + `}],"NextToken":"x"}`, false, 1},
		{"lookup item lines", `{"EventId":"e1","CloudTrailEvent":` + string(quoted) + "}\n", false, 1},
		{"eventbridge", `{"detail-type":"AWS API Call via CloudTrail","detail":` + event + `}`, false, 1},
		{"empty records", `{"Records":[]}`, false, 0},
		{"csv with record", "Event ID,Event time,Event name,CloudTrail event\ne1,2024-01-02T03:04:05Z,GetObject," + csvQuote(event) + "\n", true, 1},
		{"csv columns only", "Event ID,Event time,User name,Event name,Event source,AWS region,AWS access key,Read-only\ne1,2024-01-02T03:04:05Z,alice,GetObject,s3.amazonaws.com,us-east-1,AKIA1,true\n", true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, res := readAll(t, strings.NewReader(c.input), c.csv)
			if len(evs) != c.want || res.Fatal != nil || len(res.Errors) > 0 {
				t.Fatalf("got %d events, fatal %v, errors %v; want %d", len(evs), res.Fatal, res.Errors, c.want)
			}
			for _, e := range evs {
				if e.Record.EventName == nil || *e.Record.EventName != "GetObject" {
					t.Fatalf("eventName not decoded: %+v", e.Record)
				}
				if !c.csv && Hash(e.Record) != Hash(evs[0].Record) {
					t.Fatal("the same event hashes differently")
				}
			}
		})
	}
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func TestReadBadInput(t *testing.T) {
	good := `{"eventName":"A","eventTime":"2024-01-02T03:04:05Z"}`
	t.Run("bad json line is skipped", func(t *testing.T) {
		evs, res := readAll(t, strings.NewReader(good+"\n{\"eventName\": tru}\n"+good+"\n"), false)
		if len(evs) != 2 || len(res.Errors) != 1 {
			t.Fatalf("got %d events, errors %v", len(evs), res.Errors)
		}
		var de *DecodeError
		if !errors.As(res.Errors[0], &de) || de.Line != 2 {
			t.Fatalf("error %v does not name line 2", res.Errors[0])
		}
	})
	t.Run("non-object record", func(t *testing.T) {
		evs, res := readAll(t, strings.NewReader(`{"Records":[`+good+`, 42, "x"]}`), false)
		if len(evs) != 1 || len(res.Errors) != 2 {
			t.Fatalf("got %d events, errors %v", len(evs), res.Errors)
		}
		var re *RecordError
		if !errors.As(res.Errors[0], &re) || re.Index != 1 {
			t.Fatalf("error %v does not name record 1", res.Errors[0])
		}
	})
	t.Run("truncated gzip keeps what came before", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(`{"Records":[` + strings.Repeat(good+",", 2000) + good + `]}`))
		zw.Close()
		data := buf.Bytes()[:buf.Len()*2/3]
		evs, res := readAll(t, bytes.NewReader(data), false)
		if res.Fatal == nil || !strings.Contains(res.Fatal.Error(), "truncated") {
			t.Fatalf("fatal = %v, want a truncation error", res.Fatal)
		}
		if len(evs) == 0 {
			t.Fatal("events before the damage were lost")
		}
	})
	t.Run("wrong value types are converted and reported", func(t *testing.T) {
		evs, res := readAll(t, strings.NewReader(`{"Records":[{"eventName":"A","readOnly":"true","managementEvent":"false","eventVersion":1.08}]}`), false)
		if len(evs) != 1 || len(res.Errors) != 0 {
			t.Fatalf("got %d events, %v", len(evs), res.Errors)
		}
		r := evs[0].Record
		if *r.ReadOnly != "true" || *r.ManagementEvent || *r.EventVersion != "1.08" || len(evs[0].Warnings) != 3 {
			t.Fatalf("got %+v warnings %v", r, evs[0].Warnings)
		}
		if r.Residual == nil || !strings.Contains(*r.Residual, `"readOnly":"true"`) {
			t.Fatalf("residual %v lacks the original value", r.Residual)
		}
	})
	t.Run("not cloudtrail", func(t *testing.T) {
		for _, in := range []string{`{"a":1}`, `[{"a":1}]`, "hello world", `{"digestStartTime":"x","logFiles":[]}`} {
			evs, res := readAll(t, strings.NewReader(in), false)
			if len(evs) != 0 || res.Fatal != nil || len(res.Errors) != 0 || res.NotEvents == 0 {
				t.Fatalf("%q: got %d events, %+v", in, len(evs), res)
			}
		}
	})
}

// A big log file streams: the decoder's buffer stays small whatever the file's size.
func TestDecoderBoundedMemory(t *testing.T) {
	ev := `{"eventName":"A","eventTime":"2024-01-02T03:04:05Z","requestParameters":{"x":"` + strings.Repeat("y", 1000) + `"}}`
	n := 60000 // ~62 MB
	r := io.MultiReader(strings.NewReader(`{"Records":[`), &repeatReader{s: ev + ",", n: n - 1}, strings.NewReader(ev+`]}`))
	dec, err := NewDecoder(r)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for {
		_, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != n || cap(dec.buf) > 1<<20 {
		t.Fatalf("count %d, buffer %d bytes", count, cap(dec.buf))
	}
}

type repeatReader struct {
	s   string
	n   int
	cur string
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.cur == "" {
		if r.n == 0 {
			return 0, io.EOF
		}
		r.n--
		r.cur = r.s
	}
	k := copy(p, r.cur)
	r.cur = r.cur[k:]
	return k, nil
}

func TestParseKey(t *testing.T) {
	cases := map[string]Key{
		"bucket/AWSLogs/o-abc123defg/111122223333/CloudTrail/us-east-1/2024/01/02/111122223333_CloudTrail_us-east-1_20240102T0000Z_x.json.gz": {Prefix: "bucket", OrgID: "o-abc123defg", Account: "111122223333", Region: "us-east-1", Year: "2024", Month: "01", Day: "02", Kind: KeyLog},
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/02/f.json.gz":                                                                      {Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "01", Day: "02", Kind: KeyLog},
		"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/01/02/f.json.gz":                                                               {Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "01", Day: "02", Kind: KeyDigest},
		"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/01/02/f.log.gz":                                                                      {Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "01", Day: "02", Kind: KeyUnknown},
		"some/file.json": {},
	}
	for in, want := range cases {
		if got := ParseKey(in); got != want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// A file of many bad items keeps MaxErrors of them and counts the rest.
func TestMaxErrors(t *testing.T) {
	in := `{"Records":[` + strings.Repeat(`1,`, 9) + `{"eventVersion":"1.08","eventName":"X","eventSource":"s3.amazonaws.com"}]}`
	for _, tc := range []struct{ max, kept, more int }{{0, 9, 0}, {3, 3, 6}, {20, 9, 0}} {
		rd := Reader{MaxErrors: tc.max}
		res, err := rd.ReadEvents(strings.NewReader(in), false, func(Event) error { return nil })
		if err != nil || res.Fatal != nil {
			t.Fatal(err, res.Fatal)
		}
		if len(res.Errors) != tc.kept || res.MoreErrors != tc.more || res.ErrorCount() != 9 || res.Events != 1 {
			t.Errorf("MaxErrors %d: %d errors kept, %d more, %d events; want %d, %d", tc.max, len(res.Errors), res.MoreErrors, res.Events, tc.kept, tc.more)
		}
	}
}

// An input cut short anywhere is reported as cut short, at its end: a gzip stream as a truncated
// gzip stream (never as invalid JSON, which the cut also leaves), a JSON document as ending
// inside a value, at the line and byte where it ends.
func TestTruncatedInput(t *testing.T) {
	good := `{"eventName":"A","eventTime":"2024-01-02T03:04:05Z","requestParameters":{"k":"a \"quoted\" value"}}`
	doc := "{\"Records\":[\n" + strings.Repeat(good+",\n", 50) + good + "\n]}\n"
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(doc))
	zw.Close()
	gz := buf.Bytes()
	for cut := 20; cut < len(gz)-8; cut += 7 {
		_, res := readAll(t, bytes.NewReader(gz[:cut]), false)
		if !errors.Is(res.Fatal, ErrTruncatedGzip) || strings.Contains(res.Fatal.Error(), "invalid JSON") {
			t.Fatalf("gzip cut at %d of %d: fatal = %v, want a truncated gzip stream", cut, len(gz), res.Fatal)
		}
	}
	for cut := 1; cut < len(doc)-3; cut++ {
		in := doc[:cut]
		_, res := readAll(t, strings.NewReader(in), false)
		var de *DecodeError
		if !errors.As(res.Fatal, &de) || !errors.Is(res.Fatal, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d (%q): fatal = %v, want the end of the input", cut, in[max(0, cut-20):], res.Fatal)
		}
		if de.Offset != int64(cut) || de.Line != 1+strings.Count(in, "\n") {
			t.Fatalf("cut at %d (…%q): reported at line %d byte %d, want line %d byte %d", cut, in[max(0, cut-20):], de.Line, de.Offset, 1+strings.Count(in, "\n"), cut)
		}
	}
}

func TestRebuildRow(t *testing.T) {
	raw := `{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"},"eventID":"e1","newField":{"x":1}}]}`
	var rec *Record
	if _, err := ReadEvents(strings.NewReader(raw), false, func(ev Event) error { rec = ev.Record; return nil }); err != nil || rec == nil {
		t.Fatalf("read: %v", err)
	}
	row, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RebuildRow(string(row))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(Rebuild(rec)) || !strings.Contains(string(got), `"newField":{"x":1}`) {
		t.Errorf("RebuildRow gives %s, Rebuild %s", got, Rebuild(rec))
	}
	if _, err := RebuildRow(`{"eventtime": 5`); err == nil || !strings.Contains(err.Error(), "rebuild record") {
		t.Errorf("a row that is not a record: %v", err)
	}
}
