package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules/roweval"
	"github.com/trailsql/trailsql/internal/testshared"
)

// The Go scan reads the lake's files itself: it finds the rules' matches there, and a file it
// cannot read fails the scan with an error naming it, never an answer of nothing.
func TestLocalScanReadsTheFiles(t *testing.T) {
	rs, errs := Builtin()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	l := answertest.Generated(t, 3, 3000)
	snap, err := lake.OpenSnapshot(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := compileBase()
	if err != nil {
		t.Fatal(err)
	}
	inGo, _ := newPlan(rs).live()
	lk := &Local{Snap: snap}
	ranks, ranked := rankRules(slices.Collect(func(yield func(string) bool) {
		for _, lr := range inGo {
			yield(lr.c.r.ID)
		}
	}))
	byRule, runs, retry, err := lk.scan(context.Background(), inGo, base, Scope{}, ranks, ranked)
	if err != nil || len(retry) > 0 {
		t.Fatal(err, retry)
	}
	n, packedN := 0, 0
	for _, ms := range byRule {
		n += ms.len()
		packedN += ms.n - matchCount(ms.chunks)
	}
	if n == 0 {
		t.Fatal("the scan found nothing")
	}
	// The packed alerts are in the runs, each once, each run sorted.
	inRuns := map[*packed]bool{}
	for _, r := range runs {
		if !slices.IsSortedFunc(r.keys, r.compare) {
			t.Fatal("a run is not sorted")
		}
		for _, k := range r.keys {
			inRuns[r.items[k.i].p] = true
		}
	}
	if len(inRuns) != packedN || packedN == 0 {
		t.Fatalf("%d packed alerts in the runs, %d packed", len(inRuns), packedN)
	}
	t.Logf("%d matches of %d rules", n, len(byRule))

	// A rule roweval cannot decide on a row goes back to the engine, with no match of its own.
	undecided := &Rule{ID: "undecided", Title: "x", Condition: "TRY_CAST(regexp_replace(eventid, '[^0-9]', '_') AS DOUBLE) IS NULL"}
	lr, err := compileLive(newPlan([]*Rule{undecided}).rules[0])
	if err != nil {
		t.Fatal(err)
	}
	byRule, runs, retry, err = lk.scan(context.Background(), append(inGo, lr), base, Scope{}, ranks, ranked)
	for _, r := range runs {
		for _, k := range r.keys {
			if p := r.items[k.i].p; p == nil || p.ev.rule == "undecided" {
				t.Fatalf("a run holds %+v", r.items[k.i])
			}
		}
	}
	if err != nil || len(retry) != 1 || retry[0] != undecided || byRule["undecided"] != nil {
		t.Fatalf("retry %v, matches %d, err %v; want the undecided rule back for the engine", retry, byRule["undecided"].len(), err)
	}
	if len(byRule) == 0 {
		t.Fatal("the other rules found nothing")
	}
	if _, err := lr.cond.Holds(&roweval.Row{Rec: l.Records[0]}); !errors.Is(err, roweval.ErrUnsupported) {
		t.Fatalf("the undecided rule on a row: %v, want ErrUnsupported", err)
	}

	// A file replaced by a link (to a file of the same size: the link is what is refused) is not
	// read, as the engine does not let DuckDB open it.
	linked := snap.Files[1]
	linkPath := filepath.Join(l.Dir, filepath.FromSlash(linked.Path))
	data, err := os.ReadFile(linkPath)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "copy.parquet")
	if err := os.WriteFile(elsewhere, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(linkPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, linkPath); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := lk.scan(context.Background(), inGo, base, Scope{}, nil, false); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("scan over a linked file: %v, want an error saying it is a link", err)
	}
	if err := os.Remove(linkPath); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(linkPath, data, 0o644); err != nil {
		t.Fatal(err)
	}

	damaged := snap.Files[len(snap.Files)/2]
	// Of the recorded size, so that the Parquet reader is what finds the damage.
	if err := os.WriteFile(filepath.Join(l.Dir, filepath.FromSlash(damaged.Path)), make([]byte, damaged.Bytes), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := lk.scan(context.Background(), inGo, base, Scope{}, nil, false); err == nil || !strings.Contains(err.Error(), damaged.Path) {
		t.Fatalf("scan over a damaged file: %v, want an error naming %s", err, damaged.Path)
	}
}

// The alert columns read from the record directly are what their expressions give, on every
// event of ../shared/datasets and a generated trail, in a partition with and without an account.
func TestBaseColumnsOfEqualsTheExpressions(t *testing.T) {
	base, err := compileBase()
	if err != nil {
		t.Fatal(err)
	}
	recs := answertest.Decode(t, testshared.Dir(t, "datasets"))
	recs = append(recs, answertest.Generated(t, 4, 2000).Records...)
	for _, p := range []lake.Partition{{Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "03", Day: "09"}, {Year: "2025", Month: "12", Day: "31"}} {
		for i, rec := range recs {
			row := &roweval.Row{Rec: rec, Part: p}
			var got Alert
			if !baseColumnsOf(row, partitionDay(p), &got) {
				t.Fatalf("row %d: not read directly", i)
			}
			vals := make([]any, len(base))
			if err := texts(base, row, vals, ""); err != nil {
				t.Fatal(err)
			}
			if want := baseAlert(vals); got != want {
				t.Fatalf("row %d in %+v: %+v, the expressions give %+v", i, p, got, want)
			}
		}
	}
	var a Alert
	if baseColumnsOf(&roweval.Row{Rec: recs[0]}, partitionDay(lake.Partition{}), &a) {
		t.Error("a row without a day was read directly")
	}
	t.Logf("%d rows", len(recs))
}

// Many alerts are sorted in buckets of their time's minute, each sorted on its own: the same
// order as one sort, whether they are held as they are, in chunks of matches, or packed.
func TestSortedAlertsInBuckets(t *testing.T) {
	var as []Alert
	for i := range 70000 {
		// Times of the usual 20 bytes over many minutes, each of five alerts of rules in turn
		// (ties on the time), and some that only differ past the 24 sorted by number first, or
		// end before them, or within the 16 of the minute.
		j := i / 5
		t := fmt.Sprintf("2026-01-%02dT%02d:%02d:%02dZ", j%28+1, j/7%24, j/3%60, j%60)
		switch i % 11 {
		case 0:
			t = fmt.Sprintf("2026-01-01T00:00:00.0000%d", i%13)
		case 1:
			t = t[:i%21]
		}
		as = append(as, Alert{EventTime: t, FirstTime: t, Count: 1, Rule: fmt.Sprint("r", i%7), Severity: "low",
			EventID: fmt.Sprint(i%1000, strings.Repeat("x", i%9)), Title: fmt.Sprint(i), EventSource: "s", EventName: fmt.Sprint("n", i%5)})
	}
	want := slices.Clone(as)
	slices.SortFunc(want, func(a, b Alert) int { return compareAlerts(&a, &b) })
	got := sortedValues(nil, as)
	if !slices.Equal(got, want) {
		t.Fatal("the sorted buckets are not in order")
	}
	// The same alerts, most of them still in chunks of matches, the rest in parts.
	var chunks [][]match
	for i := 0; i < 50000; i += 512 {
		var c []match
		for _, a := range as[i:min(i+512, 50000)] {
			c = append(c, match{alert: a})
		}
		chunks = append(chunks, c)
	}
	if got := sortedValues(chunks, as[50000:]); !slices.Equal(got, want) {
		t.Fatal("the alerts of chunks and parts are not in order")
	}
	// Packed, with some in chunks and parts.
	pk := newPacker(newKeeper(nil, 7), 7)
	var ms matches
	for i, a := range as[:40000] {
		pk.row++
		if !pk.pack(&ms, i%7, &compiled{r: &Rule{ID: a.Rule, Severity: a.Severity}}, &a, false) {
			t.Fatal("not packed")
		}
	}
	refs := refsOf(chunks[len(chunks)*4/5:], ms.packed, refsTo(as[50000:]))
	refs.sort()
	all := (&Alerts{items: refs.inOrder()}).All()
	got = got[:0]
	for _, a := range all {
		got = append(got, *a)
	}
	exp := slices.Concat(as[:40000], as[len(chunks)*4/5*512:])
	slices.SortFunc(exp, func(a, b Alert) int { return compareAlerts(&a, &b) })
	if !slices.Equal(got, exp) {
		t.Fatalf("%d packed alerts, %d others: not in order", 40000, len(exp)-40000)
	}
	// Sorted or reversed already, odd counts too.
	reversed := func(as []Alert) []Alert {
		r := slices.Clone(as)
		slices.Reverse(r)
		return r
	}
	for _, in := range [][]Alert{want, reversed(want), want[:len(want)-1], reversed(want[1:])} {
		exp := slices.Clone(in)
		slices.SortFunc(exp, func(a, b Alert) int { return compareAlerts(&a, &b) })
		if got := sortedValues(nil, in); !slices.Equal(got, exp) {
			t.Fatalf("%d alerts, sorted or reversed already, are not in order", len(in))
		}
	}
}

// An alerts file keeps the bounds of the time columns, by which its row groups are read, and of no
// column named in alertsWithoutBounds — every one of which is a column of the file.
func TestAlertFileBounds(t *testing.T) {
	var as []Alert
	for i := range 3 * alertRowGroupRows / 2 {
		as = append(as, Alert{Rule: "r", Title: fmt.Sprint("t", i), EventID: fmt.Sprint(i), EventTime: fmt.Sprintf("2026-01-01T00:%02d:%02dZ", i/60%60, i%60)})
	}
	s := OpenStore(t.TempDir())
	if err := s.write(1, 1, sorted(nil, nil, refsTo(as))); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(s.dir, alertFileName(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 2 {
		t.Fatalf("%d row groups, want 2 of at most %d rows", n, alertRowGroupRows)
	}
	for _, col := range alertsWithoutBounds {
		if _, ok := pf.Schema().Lookup(col); !ok {
			t.Errorf("alertsWithoutBounds names %q, which is no column of an alerts file", col)
		}
	}
	for i, rg := range pf.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			name := cc.MetaData.PathInSchema[0]
			has := len(cc.MetaData.Statistics.MinValue) > 0
			switch {
			case slices.Contains(alertsWithoutBounds, name) && has:
				t.Errorf("row group %d: %s has bounds", i, name)
			case name == "event_time" && !has:
				t.Errorf("row group %d: event_time has no bounds", i)
			}
		}
	}
}

// Detached alerts hold the same values in memory of their own: none of their strings points into
// the block the record's strings were carved out of.
func TestDetachedAlertsHoldNoRecordMemory(t *testing.T) {
	arena := []byte("evt-1|2026-01-01T00:00:00Z|sts.amazonaws.com|AssumeRole|arn:aws:iam::1:role/r|10.0.0.1|title|g|111122223333|us-east-1|2026-01-01")
	var parts []string
	for rest := arena; len(rest) > 0; {
		i := bytes.IndexByte(rest, '|')
		if i < 0 {
			i = len(rest)
		}
		parts = append(parts, unsafe.String(&rest[0], i))
		rest = rest[min(i+1, len(rest)):]
	}
	a := Alert{Rule: "r", EventID: parts[0], EventTime: parts[1], FirstTime: parts[1], EventSource: parts[2], EventName: parts[3],
		Principal: parts[4], SourceIP: parts[5], Title: parts[6], Dedup: parts[0], Account: parts[8], Region: parts[9], Day: parts[10]}
	// The third's dedup key is the default one (id|time|source), in the record's memory too: the
	// id and time become substrings of its copy.
	def := a
	def.Dedup = unsafe.String(&arena[0], len(parts[0])+len(parts[1])+len(parts[2])+2)
	ms := []match{{alert: a, group: parts[7]}, {alert: a}, {alert: def}}
	ms[1].alert.FirstTime = parts[10]
	detach([][]match{ms[:1], ms[1:]})
	lo, hi := uintptr(unsafe.Pointer(&arena[0])), uintptr(unsafe.Pointer(&arena[len(arena)-1]))
	for i, m := range ms {
		want := a
		switch i {
		case 1:
			want.FirstTime = parts[10]
		case 2:
			want = def
			d := m.alert.Dedup
			if unsafe.StringData(m.alert.EventID) != unsafe.StringData(d) || unsafe.StringData(m.alert.EventTime) != unsafe.StringData(d[len(parts[0])+1:]) {
				t.Error("the id and time of an alert of the default dedup key are not substrings of it")
			}
		}
		if m.alert != want {
			t.Errorf("match %d: %+v, want %+v", i, m.alert, want)
		}
		v := reflect.ValueOf(m.alert)
		for f := range v.NumField() {
			if s, ok := v.Field(f).Interface().(string); ok && s != "" && s != "r" {
				if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p >= lo && p <= hi {
					t.Errorf("match %d: %s still points into the record's memory", i, v.Type().Field(f).Name)
				}
			}
		}
	}
	if p := uintptr(unsafe.Pointer(unsafe.StringData(ms[0].group))); ms[0].group != "g" || p >= lo && p <= hi {
		t.Errorf("group %q, in the record's memory: %v", ms[0].group, p >= lo && p <= hi)
	}
}

// refsTo is the alerts of as by reference.
func refsTo(as []Alert) []*Alert {
	refs := make([]*Alert, len(as))
	for i := range as {
		refs[i] = &as[i]
	}
	return refs
}

// sortedValues is sortedRefs of chunks and found, copied out.
func sortedValues(chunks [][]match, found []Alert) []Alert {
	var out []Alert
	for _, a := range sorted(chunks, nil, refsTo(found)).All() {
		out = append(out, *a)
	}
	return out
}

// Sorted runs of alerts, merged, are in the order of one sort: runs of disjoint spans of time
// (a lake file's day), runs that overlap (the files of one day), runs of one alert, and runs
// whose alerts are the same time.
func TestMergedRuns(t *testing.T) {
	var as []Alert
	for i := range 30000 {
		j := i / 3
		tm := fmt.Sprintf("2026-01-%02dT%02d:%02d:%02dZ", j/1000+1, j/50%24, j%60, j%7)
		if i%97 == 0 {
			tm = tm[:i%21] // ends early: told apart by the alerts, not their keys
		}
		as = append(as, Alert{EventTime: tm, FirstTime: tm, Count: 1, Rule: fmt.Sprint("r", i%5), Severity: "low",
			EventID: fmt.Sprint(i%700, strings.Repeat("x", i%4)), Title: fmt.Sprint(i), EventSource: "s", EventName: fmt.Sprint("n", i%3)})
	}
	want := slices.Clone(as)
	slices.SortFunc(want, func(a, b Alert) int { return compareAlerts(&a, &b) })
	ranks, ranked := rankRules([]string{"r0", "r1", "r2", "r3", "r4", "r9"})
	for _, split := range []func(i int) int{
		func(i int) int { return i / 3000 },          // disjoint: by day
		func(i int) int { return i / 1000 },          // disjoint: by third of a day
		func(i int) int { return i / 3000 * 3 % 7 },  // days shared by runs that overlap
		func(i int) int { return i % 9 },             // all overlap
		func(i int) int { return min(i%500, 3) * 0 }, // one run
		func(i int) int { return i % 10000 },         // runs of three, most disjoint
		func(i int) int { // a run over three days, and one of the day between
			switch d := i / 3000; {
			case d%3 == 1, d%3 == 0 && i%2 == 0:
				return d
			default:
				return 1000 + d/3
			}
		},
	} {
		byRun := map[int][]*Alert{}
		for i := range as {
			byRun[split(i)] = append(byRun[split(i)], &as[i])
		}
		var runs []alertRefs
		for _, rs := range byRun {
			r := refsRanked(nil, nil, rs, ranks, ranked)
			slices.SortFunc(r.keys, r.compare)
			runs = append(runs, r)
		}
		var got []Alert
		for _, it := range merge(runs) {
			got = append(got, *it.a)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%d runs merged: not in order", len(runs))
		}
	}
	// A run reaching past the first of its group's, and one that starts after the first's end
	// but before its own.
	at := func(ts ...string) alertRefs {
		var rs []*Alert
		for _, tm := range ts {
			rs = append(rs, &Alert{EventTime: tm, Rule: "r0", EventID: tm})
		}
		r := refsRanked(nil, nil, rs, ranks, ranked)
		slices.SortFunc(r.keys, r.compare)
		return r
	}
	for _, runs := range [][]alertRefs{
		{at("2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z"), at("2026-01-01T12:00:00Z", "2026-01-01T09:30:00Z"), at("2026-01-01T11:00:00Z")},
		{at("2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z"), at("2026-01-03T00:00:00Z", "2026-01-01T09:30:00Z"), at("2026-01-02T00:00:00Z")},
	} {
		var times []string
		for _, it := range merge(runs) {
			times = append(times, it.a.EventTime)
		}
		if !slices.IsSorted(times) || len(times) != 5 {
			t.Fatalf("merged: %v", times)
		}
	}
	if len(merge(nil)) != 0 {
		t.Fatal("no runs merged gave alerts")
	}
}

// A run of one day's alerts is sorted in buckets of their minute: the order of one sort. So is
// one with a time of another day, or a time that is not "hh:mm", sorted whole.
func TestSortDay(t *testing.T) {
	ranks, ranked := rankRules([]string{"r0", "r1", "r2"})
	var counts []int32
	for _, odd := range []string{"", "2026-01-03T00:00:00Z", "2026-01-02T1", "2026-01-02T1x:00:00Z"} {
		var as []*Alert
		for i := range 5000 {
			tm := fmt.Sprintf("2026-01-02T%02d:%02d:%02dZ", i*7%24, i*13%60, i%3)
			if i%5 == 0 {
				tm = tm[:19] + fmt.Sprintf(".%dZ", i%4) // fractions: past the key's first bytes
			}
			as = append(as, &Alert{EventTime: tm, Rule: fmt.Sprint("r", i%3), EventID: fmt.Sprint(i % 11), Title: fmt.Sprint(i)})
		}
		if odd != "" {
			as = append(as, &Alert{EventTime: odd, Rule: "r0", EventID: "odd"})
		}
		r := refsRanked(nil, nil, as, ranks, ranked)
		want := slices.Clone(r.keys)
		slices.SortFunc(want, r.compare)
		got := sortDay(r.keys, &r, &counts)
		var gotAs, wantAs []*Alert
		for i := range got {
			gotAs, wantAs = append(gotAs, r.items[got[i].i].a), append(wantAs, r.items[want[i].i].a)
		}
		if !slices.EqualFunc(gotAs, wantAs, func(a, b *Alert) bool { return *a == *b }) {
			t.Fatalf("with %q: not in order", odd)
		}
	}
}
