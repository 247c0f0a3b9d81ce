package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
)

// event returns one CloudTrail record as a line of JSON.
func event(i int, account, region, when string) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":%q,"eventID":"id-%d","recipientAccountId":%q}`, when, region, i, account)
}

// logFile writes a {"Records":[…]} file with one record a line (record i on line i+2).
func logFile(t testing.TB, path string, records []string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := "{\"Records\":[\n" + strings.Join(records, ",\n") + "\n]}\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// partitionCounts returns the rows of a lake per partition folder.
func partitionCounts(t testing.TB, root string) map[string]int64 {
	t.Helper()
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, f := range snap.Files {
		out[strings.TrimPrefix(f.Partition.Dir(), lake.Table+"/")] += f.Rows
	}
	return out
}

// One record with a 5,000-character account, a 300-character region or a date that does not
// exist cannot stop its file: the 30 good events are stored, the bad ones are stored whole in the
// quarantine (or NULL date) partitions with a warning naming file, record, line and field, and a
// run again adds nothing.
func TestPoisonRecords(t *testing.T) {
	const good = "111122223333"
	in := filepath.Join(t.TempDir(), "poison.json")
	var recs []string
	for i := range 30 {
		recs = append(recs, event(i, good, "us-east-1", fmt.Sprintf("2024-03-01T10:%02d:00Z", i)))
	}
	longAccount := strings.Repeat("1", 5000)
	recs = append(recs[:10], append([]string{event(100, longAccount, "us-east-1", "2024-03-01T11:00:00Z")}, recs[10:]...)...)
	recs = append(recs[:20], append([]string{event(101, good, strings.Repeat("r", 300), "2024-03-01T11:00:00Z")}, recs[20:]...)...)
	recs = append(recs, event(102, good, "us-east-1", "2024-13-45T99:99:99Z"))
	logFile(t, in, recs)
	l := t.TempDir()

	st, err := Run(context.Background(), Options{Lake: l}, []string{in})
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() || st.EventsAdded != 33 || st.Warnings != 2 || st.EventsNoTime != 1 {
		t.Fatalf("added %d, warnings %d, no time %d, failed %v: %v", st.EventsAdded, st.Warnings, st.EventsNoTime, st.Failed(), st.Problems)
	}
	want := map[string]int64{
		"account=111122223333/region=us-east-1/year=2024/month=03/day=01":                                                                       30,
		"account=__invalid__/region=us-east-1/year=2024/month=03/day=01":                                                                        1,
		"account=111122223333/region=__invalid__/year=2024/month=03/day=01":                                                                     1,
		"account=111122223333/region=us-east-1/year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__": 1,
	}
	got := partitionCounts(t, l)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partitions %v, want %v", got, want)
	}
	// The quarantined records keep their true values.
	var long bool
	for _, row := range lakeRows(t, l) {
		long = long || strings.Contains(row, `"recipientAccountId":"`+longAccount+`"`)
	}
	if !long {
		t.Error("the 5,000-character recipientAccountId is not stored whole")
	}
	for _, w := range []struct {
		record, line int
		field        string
	}{{10, 12, "recipientAccountId"}, {20, 22, "awsRegion"}, {32, 34, "eventTime"}} {
		found := false
		for _, p := range st.Problems {
			found = found || p.File == in && p.Record == w.record && p.Line == w.line && p.Warning && strings.Contains(p.Message, w.field) && len(p.Message) < 300
		}
		if !found {
			t.Errorf("no warning on record %d (line %d) naming %s: %v", w.record, w.line, w.field, st.Problems)
		}
	}

	st, err = Run(context.Background(), Options{Lake: l}, []string{in})
	if err != nil || st.FilesUnchanged != 1 || st.EventsRead != 0 {
		t.Fatalf("run again: %v, %d unchanged, %d read", err, st.FilesUnchanged, st.EventsRead)
	}
	// Read again (changed time): every event is recognised, in quarantine too.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(in, later, later); err != nil {
		t.Fatal(err)
	}
	st, err = Run(context.Background(), Options{Lake: l}, []string{in})
	if err != nil || st.EventsAdded != 0 || st.EventsPresent != 33 {
		t.Fatalf("read again: %v, %d added, %d present", err, st.EventsAdded, st.EventsPresent)
	}
}

// A file's problems are bounded: beyond MaxProblems they are counted, not kept.
func TestProblemsPerFileBounded(t *testing.T) {
	in := filepath.Join(t.TempDir(), "bad-regions.json")
	var recs []string
	for i := range 50 {
		recs = append(recs, event(i, "111122223333", "nowhere", "2024-03-01T10:00:00Z"))
	}
	logFile(t, in, recs)
	st, err := Run(context.Background(), Options{Lake: t.TempDir(), MaxProblems: 10}, []string{in})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) != 10 || st.MoreProblems != 40 || st.Warnings != 50 || st.EventsAdded != 50 {
		t.Fatalf("%d problems kept, %d more, %d warnings, %d added", len(st.Problems), st.MoreProblems, st.Warnings, st.EventsAdded)
	}
}

// A file whose events spread over more partitions than WarnPartitions is reported once.
func TestFanOutWarning(t *testing.T) {
	in := filepath.Join(t.TempDir(), "accounts.json")
	var recs []string
	for i := range 12 {
		recs = append(recs, event(i, fmt.Sprintf("%012d", 100000000000+i), "us-east-1", "2024-03-01T10:00:00Z"))
	}
	logFile(t, in, recs)
	for _, tc := range []struct {
		limit, warnings int
	}{{10, 1}, {12, 0}} {
		st, err := Run(context.Background(), Options{Lake: t.TempDir(), WarnPartitions: tc.limit}, []string{in})
		if err != nil || st.EventsAdded != 12 || st.Failed() {
			t.Fatalf("%v, %d added", err, st.EventsAdded)
		}
		n := 0
		for _, p := range st.Problems {
			if p.Warning && p.Record < 0 && strings.Contains(p.Message, "12 partitions") {
				n++
			}
		}
		if n != tc.warnings {
			t.Errorf("limit %d: %d fan-out warnings, want %d: %v", tc.limit, n, tc.warnings, st.Problems)
		}
	}
}

// floodObject is one object of a generated file of n small events, read at most 4 KiB at a
// time; lag is told, at every read, how many events were made that the run has not taken.
func floodObject(n int, taken *atomic.Int64, lag func(int64)) Object {
	return Object{
		Source: lake.Source{Name: "flood.json", Size: 1},
		Open: func(context.Context) (io.ReadCloser, error) {
			f := generate.NewFlood(n, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
			return io.NopCloser(readFunc(func(p []byte) (int, error) {
				lag(int64(f.Emitted()) - taken.Load())
				return f.Read(p[:min(len(p), 4<<10)])
			})), nil
		},
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

func oneObject(o Object) Lister {
	return func(ctx context.Context, yield func(Object) error) error { return yield(o) }
}

// The events of one file reach the lake writer in chunks while the file is read, so that the
// events held at once are bounded whatever the file's size: chunks in flight between the
// worker and the run (4 with one worker, 100 events each), the chunk being filled and the read
// ahead (a few KiB), far below the file's 30,000 events.
func TestFileReadInChunks(t *testing.T) {
	const n, chunkEvents, bound = 30_000, 100, 2_000
	var taken atomic.Int64
	var maxLag atomic.Int64
	o := floodObject(n, &taken, func(l int64) {
		if l > maxLag.Load() {
			maxLag.Store(l)
		}
	})
	l := t.TempDir()
	opt := Options{Lake: l, Workers: 1, ChunkEvents: chunkEvents, CommitRows: 5_000, Progress: func(s Stats) { taken.Store(s.EventsRead) }}
	st, err := RunObjects(context.Background(), opt, oneObject(o))
	if err != nil || st.EventsAdded != n || st.FilesRead != 1 {
		t.Fatalf("%v: %d added, %d files read", err, st.EventsAdded, st.FilesRead)
	}
	if got := maxLag.Load(); got > bound {
		t.Fatalf("%d events were decoded and not yet handed to the writer at once; want at most %d", got, bound)
	}
	if st.Commits < 2 {
		t.Errorf("%d commits: the file's events were not committed as they came", st.Commits)
	}
	// Recorded read only with its last events: unchanged the next time.
	st, err = RunObjects(context.Background(), opt, oneObject(o))
	if err != nil || st.FilesUnchanged != 1 {
		t.Fatalf("run again: %v, %d unchanged", err, st.FilesUnchanged)
	}
}

// A run interrupted in the middle of a file keeps what it stored of it without recording the
// file as read; the next run reads it again, recognises what was stored and adds the rest.
func TestInterruptedMidFile(t *testing.T) {
	const n = 20_000
	var taken atomic.Int64
	o := floodObject(n, &taken, func(int64) {})
	l := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := Options{Lake: l, Workers: 1, ChunkEvents: 100, CommitRows: 1_000, Progress: func(s Stats) {
		taken.Store(s.EventsRead)
		if s.EventsRead >= n/2 {
			cancel()
		}
	}}
	st, err := RunObjects(ctx, opt, oneObject(o))
	if !errors.Is(err, context.Canceled) || !st.Interrupted {
		t.Fatalf("interrupted run: %v", err)
	}
	stored := int64(0)
	for _, c := range partitionCounts(t, l) {
		stored += c
	}
	if stored == 0 || stored >= n || stored != st.EventsAdded {
		t.Fatalf("interrupted run stored %d events (added %d), want part of %d", stored, st.EventsAdded, n)
	}
	opt.Progress = nil
	st, err = RunObjects(context.Background(), opt, oneObject(o))
	if err != nil || st.FilesUnchanged != 0 || st.EventsPresent != stored || st.EventsAdded != n-stored {
		t.Fatalf("next run: %v, %d unchanged, %d present (want %d), %d added", err, st.FilesUnchanged, st.EventsPresent, stored, st.EventsAdded)
	}
	if rows := lakeRows(t, l); len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
}

// An interruption stops the reading of a file that yields no events (here an endless array of
// items that are not events) instead of waiting for its end.
func TestInterruptedInsideFileWithoutEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := 0
	o := Object{Source: lake.Source{Name: "endless.json", Size: 1}, Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(readFunc(func(p []byte) (int, error) {
			reads++
			if reads == 1 {
				return copy(p, "["), nil
			}
			if reads == 100 {
				cancel()
			}
			return copy(p, strings.Repeat("1,", len(p)/2)), nil
		})), nil
	}}
	st, err := RunObjects(ctx, Options{Lake: t.TempDir(), Workers: 1}, oneObject(o))
	if !errors.Is(err, context.Canceled) || !st.Interrupted || st.FilesFailed != 0 {
		t.Fatalf("%v, interrupted %v, %d failed", err, st.Interrupted, st.FilesFailed)
	}
}
