package rules_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
)

// detectLake is a lake the detection tests fill run by run, with an engine over it.
type detectLake struct {
	t      *testing.T
	root   string
	e      *engine.Engine
	groups [][]string
	det    *rules.Detector
}

func newDetectLake(t *testing.T, runs int, rs []*rules.Rule) *detectLake {
	t.Helper()
	trail := t.TempDir()
	_, err := generate.Generate(context.Background(), trail, generate.Options{Seed: 7, Events: 4000, EventsPerFile: 40, Days: 3, Accounts: 1, End: time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(trail, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	l := &detectLake{t: t, root: filepath.Join(t.TempDir(), "lake"), groups: make([][]string, runs)}
	for i, f := range files {
		l.groups[i%runs] = append(l.groups[i%runs], f)
	}
	l.ingest(0)
	if l.e, err = local.Open(context.Background(), engine.Options{Lake: l.root}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.e.Close() })
	l.det = &rules.Detector{Store: rules.OpenStore(l.root), Rules: rs, PathOf: l.e.PathOf}
	return l
}

// ingest ingests run i without compacting.
func (l *detectLake) ingest(i int) {
	l.t.Helper()
	if _, err := ingest.Run(context.Background(), ingest.Options{Lake: l.root, Workers: 1, CompactFiles: -1}, l.groups[i]); err != nil {
		l.t.Fatal(err)
	}
}

func (l *detectLake) compact() {
	l.t.Helper()
	w, err := lake.OpenWriter(context.Background(), l.root, lake.WriterOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Compact(context.Background(), 2, time.Hour); err != nil {
		l.t.Fatal(err)
	}
}

// detect evaluates the new commits, as ingest does after each run.
func (l *detectLake) detect() *rules.Detection {
	l.t.Helper()
	ctx := context.Background()
	p, release, err := l.e.Pin(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	defer release()
	d, err := l.det.Run(ctx, local.Engine(p), p.Snapshot())
	if err != nil {
		l.t.Fatal(err)
	}
	return d
}

// backtest evaluates every event of the lake at once.
func (l *detectLake) backtest() []string {
	l.t.Helper()
	alerts, err := rules.Evaluate(context.Background(), local.Engine(l.e), l.det.Rules, rules.Scope{})
	if err != nil {
		l.t.Fatal(err)
	}
	return keys(alerts)
}

func (l *detectLake) stored() []string {
	l.t.Helper()
	alerts, err := l.det.Store.Alerts()
	if err != nil {
		l.t.Fatal(err)
	}
	var refs []*rules.Alert
	for i := range alerts {
		refs = append(refs, &alerts[i])
	}
	return keys(refs)
}

func keys(alerts []*rules.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Rule+" "+a.EventID+" "+a.EventTime)
	}
	sort.Strings(out)
	return out
}

// perEvent are the built-in rules that fire on single events (thresholds count across runs and
// are tested on their own).
func perEvent(t *testing.T) []*rules.Rule {
	var out []*rules.Rule
	for _, r := range builtin(t) {
		if r.Threshold == nil {
			out = append(out, r)
		}
	}
	return out
}

// Run by run, each commit's events are evaluated once: the alerts stored equal a backtest of
// the whole lake, none twice; a compaction of evaluated files evaluates nothing again; a
// compaction that merged an unevaluated run with evaluated ones (as 'trailsql compact' between
// an ingest and its detection would) evaluates the merged file and stores only what is new.
func TestDetectorEachEventOnce(t *testing.T) {
	l := newDetectLake(t, 6, perEvent(t))
	d := l.detect()
	if d.From != 1 || d.To != 1 || d.Files == 0 {
		t.Fatalf("first detection: %+v", d)
	}
	for i := 1; i < 3; i++ {
		l.ingest(i)
		if d := l.detect(); d.Files == 0 || d.Repeated != 0 {
			t.Fatalf("run %d: %+v", i, d)
		}
	}
	if d := l.detect(); d.From <= d.To {
		t.Fatalf("nothing new, yet %s", d)
	}
	l.compact()
	if d := l.detect(); d.Files != 0 || d.Alerts.Len() != 0 {
		t.Fatalf("after a compaction of evaluated files: %s", d)
	}
	// A run not evaluated before the compaction that merges it with evaluated files.
	l.ingest(3)
	l.compact()
	d = l.detect()
	if d.Files == 0 || d.Repeated == 0 {
		t.Fatalf("a compacted file of new and evaluated rows: %+v", d)
	}
	l.ingest(4)
	l.ingest(5)
	l.detect()
	got, want := l.stored(), l.backtest()
	if len(want) < 20 {
		t.Fatalf("the trail fires %d alerts: the test proves little", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored %d alerts, a backtest finds %d:\n%s", len(got), len(want), diff(got, want))
	}
	if cursor, _ := l.det.Store.Cursor(); cursor != l.e.Snapshot().Seq {
		t.Errorf("cursor %d, lake at commit %d", cursor, l.e.Snapshot().Seq)
	}
}

// diff lists what one sorted list has and the other has not.
func diff(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("  stored, not found: " + g + "\n")
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("  found, not stored: " + w + "\n")
		}
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			b.WriteString("  stored twice: " + g + "\n")
		}
		seen[g] = true
	}
	return b.String()
}

// The alerts the detections stored are a table in SQL, beside cloudtrail_logs: empty before
// any, then what the store holds, seen by an open engine as soon as they are written.
func TestAlertsTable(t *testing.T) {
	l := newDetectLake(t, 2, perEvent(t))
	ctx := context.Background()
	query := local.Engine(l.e)
	fromSQL := func() []string {
		t.Helper()
		res, err := query(ctx, "SELECT rule, event_id, event_time, count, \"commit\" FROM alerts")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Rows {
			if r[3] != int64(1) || r[4] == nil {
				t.Errorf("alert row %v: count or commit wrong", r)
			}
			out = append(out, fmt.Sprint(r[0], " ", r[1], " ", r[2]))
		}
		sort.Strings(out)
		return out
	}
	if got := fromSQL(); len(got) != 0 {
		t.Fatalf("before any detection: %d alerts", len(got))
	}
	l.detect()
	l.ingest(1)
	l.detect()
	want := l.stored()
	if len(want) == 0 {
		t.Fatal("the detections stored no alert: the test says nothing")
	}
	if got := fromSQL(); !slices.Equal(got, want) {
		t.Errorf("SELECT … FROM alerts: %d rows, the store holds %d", len(got), len(want))
	}
	res, err := query(ctx, "SELECT a.rule, c.eventname FROM alerts a JOIN cloudtrail_logs c ON a.event_id = c.eventid AND a.event_time = c.eventtime WHERE a.rule = 'root-activity'")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 {
		t.Error("alerts joined with their events: no row for root-activity")
	}
}
