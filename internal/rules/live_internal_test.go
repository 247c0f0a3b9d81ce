package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// The alerts Live holds, packed or not, hold none of the rows' memory: an ingest reuses or frees
// it (a record's strings are carved out of chunks shared with its neighbours'). The rows' strings
// here are in one buffer, overwritten once Live has seen them: the alerts are unchanged.
func TestLiveAlertsHoldNoRowMemory(t *testing.T) {
	rs := []*Rule{
		{ID: "any-sign-in", Title: "A sign-in", Severity: Low, Condition: "eventname = 'ConsoleLogin'"},
		{ID: "by-caller", Title: "{{ eventname }} from {{ sourceipaddress }}", Severity: Medium,
			Condition: "eventname LIKE 'Console%'", Dedup: []string{"useridentity.arn"}},
		{ID: "as-default", Title: "{{ eventid }}", Severity: High, Condition: "eventsource = 'signin.amazonaws.com'",
			Dedup: []string{"eventid", "eventtime", "eventsource"}},
		{ID: "burst", Title: "Burst by {{ useridentity.arn }}", Severity: High, Condition: "eventname = 'ConsoleLogin'",
			Threshold: &Threshold{Count: 2, Window: time.Hour, GroupBy: []string{"useridentity.arn"}}},
	}
	l := NewLive(rs)
	if len(l.Rest) > 0 {
		t.Fatalf("rules not evaluated as rows arrive: %v", l.Why)
	}
	type row struct{ id, time, ip, arn string }
	var rows []row
	for i := range 40 {
		rows = append(rows, row{fmt.Sprintf("0c5e%04d-1111-4a4a-9b9b-123456789abc", i), fmt.Sprintf("2026-11-05T10:%02d:12Z", i),
			fmt.Sprintf("198.51.100.%d", i%5), fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", i%3)})
	}
	// Every string in buf, which does not grow once the records point into it.
	var buf []byte
	for _, r := range rows {
		buf = append(buf, r.id+r.time+r.ip+r.arn+"ConsoleLogin"+"signin.amazonaws.com"...)
	}
	at := 0
	next := func(n int) *string {
		s := unsafe.String(&buf[at], n)
		at += n
		return &s
	}
	var recs []*cloudtrail.Record
	for _, r := range rows {
		rec := &cloudtrail.Record{EventID: next(len(r.id)), EventTime: next(len(r.time)), SourceIPAddress: next(len(r.ip))}
		rec.UserIdentity = &cloudtrail.UserIdentity{ARN: next(len(r.arn))}
		rec.EventName, rec.EventSource = next(len("ConsoleLogin")), next(len("signin.amazonaws.com"))
		recs = append(recs, rec)
	}
	p := lake.Partition{Account: "111122223333", Region: "us-east-1", Year: "2026", Month: "11", Day: "05"}
	l.Rows("c1", p, recs)
	l.Committed("c1", 1)
	lc, ok := l.take(1, 1)
	if !ok {
		t.Fatal("Live did not see commit 1")
	}
	all := func() []string {
		var out []string
		for _, a := range sorted(lc.alerts, lc.packed, nil).All() {
			out = append(out, fmt.Sprintf("%+v", *a))
		}
		for _, cs := range lc.matches {
			for _, c := range cs {
				for _, m := range c {
					out = append(out, fmt.Sprintf("%+v %s", m.alert, m.group))
				}
			}
		}
		return out
	}
	before := all()
	if matchCount(lc.packed) != 40+40+40 || matchCount(lc.alerts) != 0 || len(lc.matches["burst"]) == 0 {
		t.Fatalf("%d alerts packed, %d not, %d threshold chunks: want 120 packed", matchCount(lc.packed), matchCount(lc.alerts), len(lc.matches["burst"]))
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if after := all(); !slices.Equal(before, after) {
		t.Errorf("the alerts changed with the rows' memory:\n%s\nwas\n%s", strings.Join(after[:3], "\n"), strings.Join(before[:3], "\n"))
	}
}
