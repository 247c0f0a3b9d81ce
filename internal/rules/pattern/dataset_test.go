package pattern_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/rules/pattern"
	"github.com/trailsql/trailsql/internal/testshared"
)

// namedPattern is one line of a testdata/*.patterns file.
type namedPattern struct {
	file, name, text string
	p                *pattern.Pattern
}

// readPatterns reads "name pattern" lines; # starts a comment line.
func readPatterns(t *testing.T, file string) []namedPattern {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []namedPattern
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, text, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s:%d: want a name and a pattern", file, n)
		}
		p, err := pattern.Parse(strings.TrimSpace(text))
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", file, n, name, err)
		}
		out = append(out, namedPattern{file: filepath.Base(file), name: name, text: strings.TrimSpace(text), p: p})
	}
	return out
}

// event is one distinct event of the inputs: its raw JSON as each input wrote it (the copies
// of one record), and the record the lake keeps.
type event struct {
	raws [][]byte
	rec  *cloudtrail.Record
	from string
}

// TestDatasets is the comparison the rules rest on: for every pattern of testdata/cis.patterns
// (the CIS AWS Foundations 4.1–4.15 / Security Hub CloudWatch.1–14 metric filters) and
// testdata/features.patterns (every part of the grammar), over every CloudTrail event of
// ../shared/datasets and testdata/events.json, the pattern's SQL run by trailsql's engine over the
// ingested lake selects exactly the events that Match, an independent evaluation of the grammar
// over each event's raw JSON, matches.
//
// The lake keeps a field that was null like an absent one (and derives eventTime from Logstash's
// @timestamp): where that changes a pattern's outcome the SQL follows the lake, so the test also
// evaluates Match over the record the lake rebuilds (cloudtrail.Rebuild) and requires SQL to
// agree with it on every event; the events where the raw JSON and the rebuilt record disagree
// are counted and listed, and for the CIS patterns there must be none.
func TestDatasets(t *testing.T) {
	datasets := testshared.Dir(t, "datasets")
	files, events := collectEvents(t, datasets, "testdata/events.json")
	query := answertest.Ingested(t, files...)

	patterns := append(readPatterns(t, "testdata/cis.patterns"), readPatterns(t, "testdata/features.patterns")...)
	cols := []string{"eventid", "eventtime", "requestid", "eventname", "eventsource", "awsregion",
		"sourceipaddress", "useragent", "errorcode", "errormessage", "requestparameters",
		"responseelements", "additionaleventdata", "residual", "useridentity.arn",
		"useridentity.principalid", "useridentity.type", "recipientaccountid", "readonly", "sharedeventid",
		"eventversion", "eventtype", "apiversion", "useridentity.accountid", "useridentity.accesskeyid",
		"useridentity.username", "serviceeventdetails", "useridentity.invokedby",
		"useridentity.sessioncontext.sessionissuer.arn", "useridentity.sessioncontext.attributes.mfaauthenticated",
		"useridentity.sessioncontext.attributes.creationdate", "vpcendpointid", "eventcategory",
		"tlsdetails.tlsversion", "sessioncredentialfromconsole", "CAST(managementevent AS VARCHAR)", "insightdetails",
		"CASE WHEN resources IS NOT NULL THEN '[' || coalesce(array_join(transform(resources, r -> concat(coalesce(r.arn, '~'), '|', coalesce(r.accountid, '~'), '|', coalesce(r.type, '~'))), ';'), '') || ']' END"}
	sel := append([]string{}, cols...)
	for i, np := range patterns {
		s, err := np.p.SQL()
		if err != nil {
			t.Fatalf("%s: SQL: %v", np.name, err)
		}
		sel = append(sel, s+" AS p"+itoa(i))
	}
	res, err := query(context.Background(), "SELECT "+strings.Join(sel, ",\n")+"\nFROM cloudtrail_logs")
	if err != nil {
		t.Fatal(err)
	}

	// Join the lake's rows with the events by a key of their columns, which must tell every
	// distinct record apart (eventID alone does not: Panther's test events share them).
	byKey := map[string]*event{}
	for _, ev := range events {
		k := recordKey(ev.rec)
		if other, dup := byKey[k]; dup {
			t.Fatalf("the join key does not tell apart two records:\n%s\n%s", other.raws[0], ev.raws[0])
		}
		byKey[k] = ev
	}
	if len(res.Rows) != len(events) {
		t.Fatalf("the lake holds %d events, the inputs %d distinct ones", len(res.Rows), len(events))
	}
	sqlMatch := make([]map[*event]bool, len(patterns))
	for i := range patterns {
		sqlMatch[i] = map[*event]bool{}
	}
	for _, row := range res.Rows {
		vals := make([]*string, len(cols))
		for j := range cols {
			if row[j] != nil {
				s := answer.String(row[j])
				vals[j] = &s
			}
		}
		ev := byKey[key(vals)]
		if ev == nil {
			for _, e := range events {
				if e.rec.EventID != nil && vals[0] != nil && *e.rec.EventID == *vals[0] {
					a, b := strings.Split(recordKey(e.rec), "\x00"), strings.Split(key(vals), "\x00")
					for j := range a {
						if j < len(b) && a[j] != b[j] {
							t.Logf("same eventID, column %d: %q vs %q", j, a[j], b[j])
						}
					}
				}
			}
			t.Fatalf("a row of the lake matches no input event: %v", row[:len(cols)])
		}
		for i := range patterns {
			b, ok := row[len(cols)+i].(bool)
			if !ok {
				t.Fatalf("%s: SQL gave %v (%T), want a boolean", patterns[i].name, row[len(cols)+i], row[len(cols)+i])
			}
			sqlMatch[i][ev] = b
		}
	}

	t.Logf("%d events (%d distinct records) from %d files", countRaws(events), len(events), len(files))
	for i, np := range patterns {
		raw, lakeLoss := 0, 0
		var losses []string
		for _, ev := range events {
			m := mustMatch(t, np, ev.raws[0])
			for _, r := range ev.raws[1:] {
				if mustMatch(t, np, r) != m {
					t.Fatalf("%s: two copies of one record match differently:\n%s\n%s", np.name, ev.raws[0], r)
				}
			}
			rebuilt := mustMatch(t, np, cloudtrail.Rebuild(ev.rec))
			got := sqlMatch[i][ev]
			if got != rebuilt {
				t.Errorf("%s %s: SQL says %v, Match over the lake's record %v, over the raw event %v (%s)\nraw: %s\nrebuilt: %s",
					np.file, np.name, got, rebuilt, m, ev.from, ev.raws[0], cloudtrail.Rebuild(ev.rec))
			}
			if m != rebuilt {
				lakeLoss++
				losses = append(losses, ev.from)
			}
			if m {
				raw++
			}
		}
		if raw == 0 || raw == len(events) {
			t.Errorf("%s %s matches %d of %d events: a comparison that proves nothing; add events to testdata/events.json", np.file, np.name, raw, len(events))
		}
		if lakeLoss > 0 && np.file == "cis.patterns" {
			t.Errorf("%s: %d events match differently in the raw JSON and in the lake's record: %v", np.name, lakeLoss, losses)
		}
		note := ""
		if lakeLoss > 0 {
			note = " (differs from the raw JSON on " + itoa(lakeLoss) + " events where the lake keeps a null field as absent, derives eventTime or spells a field as CloudTrail does: " + strings.Join(losses, ", ") + ")"
		}
		t.Logf("%-14s %-34s %4d of %d%s", np.file, np.name, raw, len(events), note)
	}
}

func mustMatch(t *testing.T, np namedPattern, raw []byte) bool {
	t.Helper()
	m, err := np.p.Match(raw)
	if err != nil {
		t.Fatalf("%s: %v", np.name, err)
	}
	return m
}

func countRaws(evs []*event) int {
	n := 0
	for _, e := range evs {
		n += len(e.raws)
	}
	return n
}

// recordKey is the join key of a record: the columns selected by the query, in its order.
func recordKey(r *cloudtrail.Record) string {
	u := r.UserIdentity
	if u == nil {
		u = &cloudtrail.UserIdentity{}
	}
	return key([]*string{r.EventID, r.EventTime, r.RequestID, r.EventName, r.EventSource, r.AWSRegion,
		r.SourceIPAddress, r.UserAgent, r.ErrorCode, r.ErrorMessage, r.RequestParameters,
		r.ResponseElements, r.AdditionalEventData, r.Residual, u.ARN, u.PrincipalID, u.Type,
		r.RecipientAccountID, r.ReadOnly, r.SharedEventID, r.EventVersion, r.EventType, r.APIVersion,
		u.AccountID, u.AccessKeyID, u.UserName, r.ServiceEventDetails, u.InvokedBy, issuerARN(u), mfa(u, true),
		mfa(u, false), r.VPCEndpointID, r.EventCategory, tlsVersion(r), r.SessionCredentialFromConsole,
		boolText(r.ManagementEvent), r.InsightDetails, resourcesKey(r.Resources)})
}

func issuerARN(u *cloudtrail.UserIdentity) *string {
	if u.SessionContext == nil || u.SessionContext.SessionIssuer == nil {
		return nil
	}
	return u.SessionContext.SessionIssuer.ARN
}

func mfa(u *cloudtrail.UserIdentity, authenticated bool) *string {
	if u.SessionContext == nil || u.SessionContext.Attributes == nil {
		return nil
	}
	if authenticated {
		return u.SessionContext.Attributes.MFAAuthenticated
	}
	return u.SessionContext.Attributes.CreationDate
}

func tlsVersion(r *cloudtrail.Record) *string {
	if r.TLSDetails == nil {
		return nil
	}
	return r.TLSDetails.TLSVersion
}

func boolText(b *bool) *string {
	if b == nil {
		return nil
	}
	s := strconv.FormatBool(*b)
	return &s
}

// resourcesKey renders the resources column as the query's key column does.
func resourcesKey(rs []cloudtrail.Resource) *string {
	if rs == nil {
		return nil
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		or := func(p *string) string {
			if p == nil {
				return "~"
			}
			return *p
		}
		parts[i] = or(r.ARN) + "|" + or(r.AccountID) + "|" + or(r.Type)
	}
	s := "[" + strings.Join(parts, ";") + "]"
	return &s
}

func key(vals []*string) string {
	var b strings.Builder
	for _, v := range vals {
		if v == nil {
			b.WriteString("\x00N")
		} else {
			b.WriteString("\x00S" + *v)
		}
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// collectEvents finds the CloudTrail events of every JSON file under dir and of the extra files,
// reading each file independently of internal/cloudtrail's decoder: a CloudTrail log file
// ({"Records": […]}), a JSON array, JSON values one after another (JSON lines), LookupEvents
// items (the record as the string CloudTrailEvent), OpenSearch documents (aws.cloudtrail) and
// EventBridge events (detail). A file that is not wholly valid JSON is left out (the processing
// library's deliberately broken fixture). It returns the files holding events and the distinct
// records, in the order first seen, each with the raw JSON of every copy.
func collectEvents(t *testing.T, dir string, extra ...string) ([]string, []*event) {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if n := d.Name(); strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".json.gz") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	paths = append(paths, extra...)
	var files []string
	var events []*event
	byHash := map[uint64]*event{}
	var norm cloudtrail.Normalizer
	for _, p := range paths {
		raws, err := rawEvents(p)
		if err != nil {
			t.Logf("left out %s: %v", p, err)
			continue
		}
		if len(raws) == 0 {
			continue
		}
		files = append(files, p)
		for i, raw := range raws {
			rec, _, err := norm.Normalize(raw)
			if err != nil {
				t.Fatalf("%s record %d: %v", p, i, err)
			}
			h := cloudtrail.Hash(rec)
			if ev := byHash[h]; ev != nil {
				ev.raws = append(ev.raws, raw)
				continue
			}
			ev := &event{raws: [][]byte{raw}, rec: rec, from: filepath.Base(p) + "#" + itoa(i)}
			byHash[h] = ev
			events = append(events, ev)
		}
	}
	return files, events
}

// rawEvents returns the raw JSON of the CloudTrail events of one file.
func rawEvents(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		v = bytes.TrimSpace(v)
		switch v[0] {
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, err
			}
			for _, it := range items {
				out = appendEvent(out, it, false)
			}
		case '{':
			var top map[string]json.RawMessage
			if err := json.Unmarshal(v, &top); err != nil {
				return nil, err
			}
			if recs, ok := top["Records"]; ok && bytes.HasPrefix(bytes.TrimSpace(recs), []byte("[")) {
				var items []json.RawMessage
				if err := json.Unmarshal(recs, &items); err != nil {
					return nil, err
				}
				for _, it := range items {
					out = appendEvent(out, it, true)
				}
				continue
			}
			out = appendEvent(out, v, false)
		}
	}
}

// eventKeys are the members that make an object a CloudTrail event (in any case).
var eventKeys = map[string]bool{"eventname": true, "eventsource": true, "eventversion": true, "useridentity": true,
	"insightdetails": true, "recipientaccountid": true, "eventtype": true}

// appendEvent appends an item's event, unwrapped from its envelope, when it is one. Every object
// of a log file's Records is an event.
func appendEvent(out [][]byte, item json.RawMessage, inRecords bool) [][]byte {
	item = bytes.TrimSpace(item)
	if len(item) == 0 || item[0] != '{' {
		return out
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(item, &m) != nil {
		return out
	}
	hasKeys := func(m map[string]json.RawMessage) bool {
		for k := range m {
			if eventKeys[strings.ToLower(k)] {
				return true
			}
		}
		return false
	}
	for k, v := range m {
		if strings.EqualFold(k, "CloudTrailEvent") {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return append(out, []byte(s))
			}
		}
	}
	if inRecords || hasKeys(m) {
		return append(out, item)
	}
	for _, env := range [][]string{{"detail"}, {"aws", "cloudtrail"}} {
		inner, cur := json.RawMessage(nil), m
		for _, k := range env {
			var next map[string]json.RawMessage
			if cur == nil || json.Unmarshal(cur[k], &next) != nil {
				cur = nil
				break
			}
			inner, cur = cur[k], next
		}
		if cur != nil && hasKeys(cur) {
			return append(out, bytes.TrimSpace(inner))
		}
	}
	return out
}
