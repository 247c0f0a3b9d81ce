package rules

import (
	"strings"
	"testing"
	"unsafe"
)

// A packed alert is made again field for field, whatever the shape of its dedup key: the
// default one (made by the packer), a rule's that holds the event's id and time as the default
// one does, and one that does not. An alert whose event id is too long to pack is left as it is.
func TestPackedAlertsAreMadeAgain(t *testing.T) {
	r := &Rule{ID: "r1", Severity: "high"}
	c := &compiled{r: r}
	base := Alert{Rule: "r1", Severity: "high", Title: "Root sign-in", EventID: "6a0f4c1e-1111-4a4a-9b9b-123456789abc",
		EventTime: "2026-11-05T10:11:12Z", EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		Principal: "arn:aws:iam::111122223333:root", SourceIP: "198.51.100.7", Account: "111122223333",
		Region: "us-east-1", Day: "2026-11-05", Count: 1, FirstTime: "2026-11-05T10:11:12Z"}
	pk := newPacker(newKeeper(nil, 2), 2)
	var ms matches
	for _, tc := range []struct {
		name, dedup  string
		defaultDedup bool
	}{
		{"default key", base.EventID + "|" + base.EventTime + "|" + base.EventSource, true},
		{"a key holding the id and time", base.EventID + "|" + base.EventTime + "|signin", false},
		{"a key of the caller", base.Principal + "|ConsoleLogin", false},
		{"an empty key", "", false},
	} {
		want := base
		want.Dedup = tc.dedup
		in := want
		if tc.defaultDedup {
			in.Dedup = ""
		}
		pk.row++ // each on a row of its own
		if !pk.pack(&ms, 0, c, &in, tc.defaultDedup) {
			t.Fatalf("%s: not packed", tc.name)
		}
		p := &ms.packed[len(ms.packed)-1][len(ms.packed[len(ms.packed)-1])-1]
		var got Alert
		p.alert(&got)
		if got != want {
			t.Errorf("%s: made again as\n%+v\nwant\n%+v", tc.name, got, want)
		}
		if holds := len(p.text) == int(p.dedupLen); holds != dedupHolds(&want) {
			t.Errorf("%s: the key holds the id and time: %v, packed as if %v", tc.name, dedupHolds(&want), holds)
		}
	}
	if ms.n != 4 || ms.full != 0 || len(pk.events) != 1 {
		t.Errorf("%d alerts (%d not packed), %d shared parts; want 4 packed sharing one", ms.n, ms.full, len(pk.events))
	}
	// Two rules matching one row share its default key; the next row has its own.
	other := &compiled{r: &Rule{ID: "r2", Severity: "low"}}
	second := base
	second.EventID = "7b1f5d2f-2222-4b4b-8c8c-23456789abcd"
	var two matches
	pk.row++
	for i, c := range []*compiled{c, other} {
		in := base
		in.Rule, in.Severity, in.Dedup = c.r.ID, c.r.Severity, ""
		pk.pack(&two, i, c, &in, true)
	}
	pk.row++
	in := second
	in.Dedup = ""
	pk.pack(&two, 0, c, &in, true)
	ps := two.packed[0]
	var got [3]Alert
	for i := range ps {
		ps[i].alert(&got[i])
	}
	if got[0].Rule != "r1" || got[1].Rule != "r2" || got[0].Dedup != got[1].Dedup || unsafe.StringData(ps[0].text) != unsafe.StringData(ps[1].text) {
		t.Errorf("two rules on one row: %q %q, %q %q: want r1 and r2 sharing one key", got[0].Rule, got[0].Dedup, got[1].Rule, got[1].Dedup)
	}
	if want := second.EventID + "|" + second.EventTime + "|" + second.EventSource; got[2].Dedup != want || got[2].EventID != second.EventID {
		t.Errorf("the next row's alert has key %q, event %q; want %q", got[2].Dedup, got[2].EventID, want)
	}
	long := base
	long.EventID = strings.Repeat("x", 1<<16)
	if pk.pack(&ms, 0, c, &long, true) || ms.n != 4 {
		t.Error("an alert whose event id is 64 KiB long was packed")
	}
}
