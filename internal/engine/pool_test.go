package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
)

// poolQuery is a statement the concurrency test runs, on a handle of the engine.
type poolQuery struct {
	name    string
	sql     string
	args    []any
	records bool
}

// poolQueries mix what a server sees: aggregates over the lake (pruned and not, through the
// alias), whole rows over the view, a user's table, parameters, records.
var poolQueries = []poolQuery{
	{name: "count", sql: "SELECT count(*) FROM cloudtrail_logs"},
	{name: "by name", sql: "SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY eventname ORDER BY n DESC, eventname LIMIT 10"},
	{name: "star", sql: "SELECT * FROM cloudtrail_logs ORDER BY eventid LIMIT 3"},
	{name: "user table", sql: `SELECT dt, count(*) FROM trail_days WHERE dt >= '2024/03/19' GROUP BY dt ORDER BY dt`},
	{name: "parameters", sql: "SELECT count(*), count(DISTINCT useridentity.arn) FROM cloudtrail WHERE day = ? AND eventtime < ?", args: []any{"19", "2024-03-19T12:00:00Z"}},
	{name: "errors", sql: "SELECT useridentity.arn, count(*) FROM cloudtrail_logs WHERE errorcode IS NOT NULL AND from_iso8601_timestamp(eventtime) > date_add('day', -1, from_iso8601_timestamp('2024-03-20T18:00:00Z')) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"},
	{name: "records", sql: "SELECT * FROM cloudtrail_logs ORDER BY eventid DESC LIMIT 2", records: true},
}

const trailDaysDDL = `CREATE EXTERNAL TABLE trail_days (eventid string, eventname string)
PARTITIONED BY (dt string)
LOCATION 's3://bucket/AWSLogs/'
TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date', 'projection.dt.format'='yyyy/MM/dd')`

// answer renders a result for comparison: without "$path" (which records hold), the one value
// that differs between two lakes holding the same rows.
func answer(res *Result) string {
	return pathRE.ReplaceAllString(fmt.Sprint(res.Columns, res.Rows), `"$$path":…`)
}

var pathRE = regexp.MustCompile(`"\$path":"[^"]*"`)

// short cuts a long answer for a message.
func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func (q poolQuery) run(ctx context.Context, e *Engine) (*Result, error) {
	if q.records {
		e = e.With(QueryOptions{Records: true})
	}
	return e.Query(ctx, q.sql, q.args...)
}

// trailGroups generates a trail and splits its log files into n groups, each to ingest as one
// run (one commit, and a compaction commit now and then).
func trailGroups(t *testing.T, n int) [][]string {
	t.Helper()
	dir := t.TempDir()
	_, err := generate.Generate(context.Background(), dir, generate.Options{
		Seed: 11, Events: 3000, EventsPerFile: 25, Days: 3, Accounts: 1,
		End: time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return err
	})
	slices.Sort(files)
	groups := make([][]string, n)
	for i, f := range files {
		groups[i%n] = append(groups[i%n], f)
	}
	return groups
}

func ingestGroup(t testing.TB, root string, files []string) {
	if _, err := ingest.Run(context.Background(), ingest.Options{Lake: root, Workers: 1}, files); err != nil {
		t.Error(err)
	}
}

// Sixteen goroutines query one engine while another ingests twenty commits into its lake and a
// third defines tables: no statement fails, each answers exactly as the same statement over a
// quiet lake at the commit it says it read (Result.Seq), and a statement that starts after a
// commit ended, or after a CREATE EXTERNAL TABLE returned, reads it.
func TestConcurrentQueriesDuringIngest(t *testing.T) {
	const commits = 20
	groups := trailGroups(t, commits+1)
	ctx := context.Background()
	open := func(root string) *Engine {
		opt := testOptions(root, true)
		opt.Dialect.ParseDDL = athena.Dialect().ParseDDL
		opt.MaxConcurrent = 4
		opt.MaxQueueWait = time.Hour
		return openWith(t, opt)
	}

	// The expected answers, commit by commit, over a quiet lake that takes the same runs.
	quiet := filepath.Join(t.TempDir(), "lake")
	want := map[int64][]string{}
	for i, g := range groups {
		ingestGroup(t, quiet, g)
		e := open(quiet)
		if i == 0 {
			if _, err := e.Query(ctx, trailDaysDDL); err != nil {
				t.Fatal(err)
			}
		}
		var answers []string
		for _, q := range poolQueries {
			res, err := q.run(ctx, e)
			if err != nil {
				t.Fatalf("%s over the quiet lake: %v", q.name, err)
			}
			answers = append(answers, answer(res))
		}
		// Every commit of the run (its data, then maybe a compaction) holds the same rows.
		for seq := e.Snapshot().Seq; seq > 0 && want[seq] == nil; seq-- {
			want[seq] = answers
		}
		e.Close()
	}
	if len(want) < commits+1 || want[1][0] == want[int64(len(want))][0] {
		t.Fatalf("expected answers for %d commits, the first and last alike: %v", len(want), want[1][0])
	}

	live := filepath.Join(t.TempDir(), "lake")
	ingestGroup(t, live, groups[0])
	e := open(live)
	if _, err := e.Query(ctx, trailDaysDDL); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64 // the last commit of the runs that ended
	committed.Store(e.Snapshot().Seq)
	var tablesDone atomic.Int64 // the tables t1…tN whose CREATE returned
	stop := make(chan struct{})
	var ran atomic.Int64
	seen := sync.Map{}
	began := time.Now()
	var writers, readers sync.WaitGroup
	writers.Add(2)
	go func() {
		defer writers.Done()
		for i, g := range groups[1:] {
			ingestGroup(t, live, g)
			t.Logf("run %d ingested after %s, %d statements so far", i+1, time.Since(began).Round(time.Millisecond), ran.Load())
			snap, err := lake.OpenSnapshot(live)
			if err != nil {
				t.Error(err)
				return
			}
			committed.Store(snap.Seq)
		}
	}()
	go func() {
		defer writers.Done()
		for i := int64(1); i <= 5; i++ {
			ddl := strings.Replace(trailDaysDDL, "trail_days", fmt.Sprintf("t%d", i), 1)
			if _, err := e.Query(ctx, ddl); err != nil {
				t.Errorf("define t%d: %v", i, err)
				return
			}
			tablesDone.Store(i)
			if _, err := e.Query(ctx, fmt.Sprintf("SELECT count(*) FROM t%d", i)); err != nil {
				t.Errorf("t%d right after its CREATE: %v", i, err)
			}
		}
	}()
	untilStopped(&readers, 16, stop, func(i int) bool {
		q := poolQueries[i%len(poolQueries)]
		floor := committed.Load()
		res, err := q.run(ctx, e)
		if err != nil {
			t.Errorf("%s: %v", q.name, err)
			return false
		}
		ran.Add(1)
		seen.Store(res.Seq, true)
		if res.Seq < floor {
			t.Errorf("%s read commit %d, started after commit %d ended", q.name, res.Seq, floor)
		}
		if got, exp := answer(res), want[res.Seq]; exp == nil || got != exp[i%len(poolQueries)] {
			var w string
			if exp != nil {
				w = exp[i%len(poolQueries)]
			}
			t.Errorf("%s at commit %d:\n%s\nwant\n%s", q.name, res.Seq, short(got), short(w))
			return false
		}
		if n := tablesDone.Load(); n > 0 {
			if _, err := e.Query(ctx, fmt.Sprintf("SELECT count(*) FROM t%d", n)); err != nil {
				t.Errorf("t%d, defined before the statement started: %v", n, err)
			}
		}
		return true
	})
	writers.Wait()
	close(stop)
	readers.Wait()
	var commitsSeen int
	seen.Range(func(any, any) bool { commitsSeen++; return true })
	t.Logf("%d statements over %d commits (of %d) in %s", ran.Load(), commitsSeen, len(want), time.Since(began).Round(time.Millisecond))
	// After the writers: the last commit, as the quiet lake has it.
	res, err := e.Query(ctx, poolQueries[0].sql)
	if err != nil || res.Seq != int64(len(want)) || answer(res) != want[res.Seq][0] {
		t.Fatalf("after the ingest: %v at commit %d, want %v at %d", err, res.Seq, want[int64(len(want))][0], len(want))
	}
}

// A commit is read by the next statement, without reopening the engine; a file found damaged
// stays so in the snapshots after.
func TestSnapshotPerStatement(t *testing.T) {
	root := writeLake(t, twoDays)
	e := openTestEngine(t, root, true)
	ctx := context.Background()
	count := func(sql string) (int64, int64, error) {
		res, err := e.Query(ctx, sql)
		if err != nil {
			return 0, 0, err
		}
		return res.Rows[0][0].(int64), res.Seq, nil
	}
	if n, seq, err := count("SELECT count(*) FROM cloudtrail_logs"); err != nil || n != 2 || seq != 1 {
		t.Fatalf("first commit: %d rows at commit %d, %v", n, seq, err)
	}
	addEvents(t, root, "third", &sqlBlock{body: []string{`{"eventTime":"2024-03-03T10:00:00Z","eventName":"C","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"3"}`}})
	if n, seq, err := count("SELECT count(*) FROM cloudtrail_logs"); err != nil || n != 3 || seq != 2 {
		t.Fatalf("second commit: %d rows at commit %d, %v", n, seq, err)
	}
	// Damage day 01's file: found when read, and still known after the next commit.
	var bad string
	for _, f := range e.Snapshot().Files {
		if f.Partition.Day == "01" {
			bad = f.Path
			os.WriteFile(e.absPath(f), []byte("not parquet"), 0o644)
		}
	}
	var damaged *DamagedFileError
	if _, _, err := count("SELECT count(*) FROM cloudtrail_logs"); !errors.As(err, &damaged) || damaged.File.Path != bad {
		t.Fatalf("damaged: %v", err)
	}
	addEvents(t, root, "fourth", &sqlBlock{body: []string{`{"eventTime":"2024-03-04T10:00:00Z","eventName":"D","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"4"}`}})
	if _, _, err := count("SELECT count(*) FROM cloudtrail_logs"); !errors.As(err, &damaged) || damaged.File.Path != bad {
		t.Fatalf("damaged, a commit later: %v", err)
	}
	if n, seq, err := count("SELECT count(*) FROM cloudtrail_logs WHERE day IN ('02', '03', '04')"); err != nil || n != 3 || seq != 3 {
		t.Fatalf("third commit, without the damaged day: %d rows at commit %d, %v", n, seq, err)
	}
}

// A pinned handle reads the snapshot of its pin while commits land; the engine's other handles
// read the new commits; once released, the pin's database closes and the handle refuses.
func TestPin(t *testing.T) {
	root := writeLake(t, twoDays)
	e := openTestEngine(t, root, true)
	ctx := context.Background()
	count := func(h *Engine) (int64, int64, error) {
		res, err := h.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
		if err != nil {
			return 0, 0, err
		}
		return res.Rows[0][0].(int64), res.Seq, nil
	}
	p, release, err := e.Pin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addEvents(t, root, "third", &sqlBlock{body: []string{`{"eventTime":"2024-03-03T10:00:00Z","eventName":"C","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"3"}`}})
	if n, seq, err := count(e); err != nil || n != 3 || seq != 2 {
		t.Fatalf("the engine after a commit: %d rows at commit %d, %v", n, seq, err)
	}
	addEvents(t, root, "fourth", &sqlBlock{body: []string{`{"eventTime":"2024-03-04T10:00:00Z","eventName":"D","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"4"}`}})
	if p.Snapshot().Seq != 1 || e.Snapshot().Seq != 2 {
		t.Errorf("snapshots: pinned %d, engine %d; want 1 and 2", p.Snapshot().Seq, e.Snapshot().Seq)
	}
	for _, h := range []*Engine{p, p.With(QueryOptions{MaxRows: 10})} {
		if n, seq, err := count(h); err != nil || n != 2 || seq != 1 {
			t.Fatalf("the pinned handle, two commits later: %d rows at commit %d, %v", n, seq, err)
		}
	}
	if n, seq, err := count(e); err != nil || n != 4 || seq != 3 {
		t.Fatalf("the engine: %d rows at commit %d, %v", n, seq, err)
	}
	e.mu.Lock()
	open := e.generations
	e.mu.Unlock()
	release()
	release() // twice is once
	e.mu.Lock()
	after := e.generations
	e.mu.Unlock()
	if after != open-1 {
		t.Errorf("%d databases open with the pin, %d after its release: the pinned one should close", open, after)
	}
	if _, _, err := count(p); !errors.Is(err, ErrClosed) {
		t.Errorf("the pinned handle after release: %v, want ErrClosed", err)
	}
	if n, _, err := count(e); err != nil || n != 4 {
		t.Errorf("the engine after the release: %d rows, %v", n, err)
	}
}

// Close interrupts what runs: its callers, and the statements that start after, get ErrClosed.
func TestCloseInterrupts(t *testing.T) {
	root := writeLake(t, twoDays)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	e, err := Open(context.Background(), Options{Lake: root, Dialect: Dialect{Translate: func(s string) (string, func(error) error, error) {
		close(entered)
		<-release
		return s, nil, nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	running := make(chan error, 1)
	go func() {
		_, err := e.Query(context.Background(), "SELECT 1")
		running <- err
	}()
	<-entered
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-running; !errors.Is(err, ErrClosed) {
		t.Errorf("running at Close: %v, want ErrClosed", err)
	}
	if _, err := e.Query(context.Background(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}

	// A statement inside DuckDB is interrupted too.
	e = openWith(t, Options{Lake: root})
	go func() {
		_, err := e.Query(context.Background(), "SELECT count(*) FROM range(1000000000000) a")
		running <- err
	}()
	for len(e.slots) == 0 { // started: whatever it is doing, Close must stop it
		runtime.Gosched()
	}
	e.Close()
	if err := <-running; !errors.Is(err, ErrClosed) {
		t.Errorf("running in DuckDB at Close: %v, want ErrClosed", err)
	}
}

// DuckDB's own memory limit refuses a statement with the limit and its value.
func TestMemoryLimit(t *testing.T) {
	e := openWith(t, Options{Lake: t.TempDir(), MemoryLimit: "64MiB"})
	_, err := e.Query(context.Background(), "SELECT length(list(i)) FROM range(50000000) t(i)")
	checkLimit(t, "a 400 MB list", err, ErrOutOfMemory, LimitMemory, "64MiB")
}
