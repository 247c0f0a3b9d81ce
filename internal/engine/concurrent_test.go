package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
)

// commitBatch commits n events of commit k (one eventname per commit, spread over two days and
// two regions) and returns the commit's sequence number.
func commitBatch(t testing.TB, root string, k, n int) int64 {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"eventVersion":"1.08","eventTime":"2024-03-%02dT10:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"Call%02d","awsRegion":"%s","recipientAccountId":"111122223333","eventID":"c%d-%d","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u%d"}}`+"\n",
			1+i%2, k%60, i%60, k, []string{"us-east-1", "eu-west-1"}[i%2], k, i, i%3)
	}
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = cloudtrail.ReadEvents(strings.NewReader(b.String()), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m.Seq
}

// Sixteen statements at once, over and over, while another goroutine commits 20 times: none
// fails, each answers exactly as the lake stood at one commit (the one Result.Seq names), and a
// statement started after a commit returned reads it.
func TestConcurrentQueriesWhileCommitting(t *testing.T) {
	root := t.TempDir() + "/lake"
	const commits, perCommit, workers = 20, 40, 16
	// want[seq] is the answer of each statement at commit seq.
	type state struct{ total, calls, region, table int }
	want := map[int64]state{}
	var mu sync.Mutex
	add := func(seq int64, k int) {
		mu.Lock()
		defer mu.Unlock()
		prev := want[seq-1]
		want[seq] = state{total: prev.total + perCommit, calls: perCommit, region: prev.region + perCommit/2, table: prev.table + perCommit/2}
	}
	add(commitBatch(t, root, 0, perCommit), 0)

	opt := testOptions(root, true)
	opt.Dialect.ParseDDL = athena.Dialect().ParseDDL
	opt.MaxConcurrent = workers
	e := openWith(t, opt)
	ctx := context.Background()
	// A user's table, a view of the lake with its own partition column.
	if _, err := e.Query(ctx, `CREATE EXTERNAL TABLE by_day (eventname string) PARTITIONED BY (dt string)
		ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION 's3://b/AWSLogs/'
		TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date', 'projection.dt.format'='yyyy/MM/dd',
		'projection.dt.range'='2024/01/01,NOW', 'storage.location.template'='s3://b/AWSLogs/${dt}')`); err != nil {
		t.Fatal(err)
	}

	type stmt struct {
		sql  string
		args []any
		get  func(state) int // nil: a question, compared with its answer on the quiet lake
	}
	statements := []stmt{
		{"SELECT count(*) FROM cloudtrail_logs", nil, func(s state) int { return s.total }},
		{"SELECT count(*) FROM cloudtrail_logs WHERE region = ?", []any{"eu-west-1"}, func(s state) int { return s.region }},
		{"SELECT count(*) FROM (SELECT * FROM cloudtrail_logs WHERE eventtime >= '2024-03-01T00:00:00Z')", nil, func(s state) int { return s.total }},
		{"SELECT count(*) FROM by_day WHERE dt = '2024/03/01'", nil, func(s state) int { return s.table }},
	}
	// Questions of the catalogue, as every front end asks them (questions.Build).
	for _, name := range []string{"active-users", "identity-activity"} {
		q, err := questions.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		p := questions.Params{From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC)}
		if q.Needs("principal") {
			p.Principal = "arn:aws:iam::111122223333:user/u1"
		}
		sql, args, err := q.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		statements = append(statements, stmt{sql: sql, args: args})
	}
	// The questions' answers as each commit left the lake, asked right after it (quiet), and as
	// the busy statements saw them, compared at the end.
	var quiet, busy sync.Map // "i/seq" → the rows as text
	answerOf := func(i int) (int64, string, error) {
		res, err := e.Query(ctx, statements[i].sql, statements[i].args...)
		if err != nil {
			return 0, "", err
		}
		return res.Seq, fmt.Sprint(res.Rows), nil
	}
	askQuiet := func() {
		for i, st := range statements {
			if st.get == nil {
				seq, rows, err := answerOf(i)
				if err != nil {
					t.Fatal(err)
				}
				quiet.Store(fmt.Sprint(i, "/", seq), rows)
			}
		}
	}
	askQuiet()
	var ran, seqs sync.Map // statements run, and the commits they read
	check := func(i int, started int64) error {
		st := statements[i%len(statements)]
		n, _ := ran.LoadOrStore(i%len(statements), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if st.get == nil {
			seq, rows, err := answerOf(i % len(statements))
			if err != nil {
				return fmt.Errorf("%s: %w", st.sql, err)
			}
			if seq < started {
				return fmt.Errorf("a question started after commit %d returned, and read commit %d", started, seq)
			}
			busy.Store(fmt.Sprint(i%len(statements), "/", seq), rows)
			seqs.Store(seq, true)
			return nil
		}
		res, err := e.Query(ctx, st.sql, st.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", st.sql, err)
		}
		mu.Lock()
		w, ok := want[res.Seq]
		mu.Unlock()
		got, _ := res.Rows[0][0].(int64)
		switch {
		case !ok:
			return fmt.Errorf("%s read commit %d, which no commit made", st.sql, res.Seq)
		case res.Seq < started:
			return fmt.Errorf("%s started after commit %d returned, and read commit %d", st.sql, started, res.Seq)
		case int(got) != st.get(w):
			return fmt.Errorf("%s at commit %d: %d, want %d", st.sql, res.Seq, got, st.get(w))
		}
		seqs.Store(res.Seq, true)
		return nil
	}

	var committed sync.Mutex // the newest seq whose Commit returned
	newest := int64(1)
	stop := make(chan struct{})
	errs := make(chan error, workers+1)
	var wg sync.WaitGroup
	untilStopped(&wg, workers, stop, func(i int) bool {
		committed.Lock()
		started := newest
		committed.Unlock()
		if err := check(i, started); err != nil {
			errs <- err
			return false
		}
		return true
	})
	for k := 1; k <= commits; k++ {
		seq := commitBatch(t, root, k, perCommit)
		add(seq, k)
		committed.Lock()
		newest = seq
		committed.Unlock()
		askQuiet()
		// A statement started now reads this commit at least.
		if err := check(k, seq); err != nil {
			t.Error(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	compared := 0
	busy.Range(func(k, v any) bool {
		want, ok := quiet.Load(k)
		switch {
		case !ok:
			t.Errorf("statement/commit %s: no quiet answer to compare", k)
		case want != v:
			t.Errorf("statement/commit %s: busy answer differs from the quiet one:\n%s\n%s", k, v, want)
		}
		compared++
		return true
	})
	t.Logf("%d (question, commit) answers compared with the quiet lake's", compared)
	read := 0
	seqs.Range(func(any, any) bool { read++; return true })
	ran.Range(func(k, v any) bool { t.Logf("%d× %s", v.(*atomic.Int64).Load(), statements[k.(int)].sql); return true })
	t.Logf("the statements read %d different commits of %d", read, commits+1)
	if read < 2 {
		t.Errorf("the statements read %d commit(s): none ran while the lake changed", read)
	}
	res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
	if err != nil || res.Rows[0][0] != int64((commits+1)*perCommit) {
		t.Fatalf("after the commits: %v %v, want %d", res, err, (commits+1)*perCommit)
	}
}

// Options.MaxConcurrent statements run at once; the next waits for a turn at most
// Options.MaxQueueWait and is then refused with a *LimitError naming the limit; a statement's
// own timeout is capped by the engine's.
func TestConcurrencyAndTimeoutLimits(t *testing.T) {
	root := writeLake(t, twoDays)
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	slow := Dialect{Translate: func(s string) (string, func(error) error, error) {
		if strings.Contains(s, "slow") {
			entered <- struct{}{}
			<-release
		}
		return s, nil, nil
	}}
	e := openWith(t, Options{Lake: root, MaxConcurrent: 2, MaxQueueWait: 2 * time.Second, Timeout: time.Minute, Dialect: slow})
	ctx := context.Background()
	results := make(chan error, 3)
	for range 2 {
		go func() {
			_, err := e.Query(ctx, "SELECT 1 AS slow")
			results <- err
		}()
	}
	<-entered
	<-entered
	// Both turns are taken: the third waits MaxQueueWait, then is refused.
	_, err := e.Query(ctx, "SELECT 2")
	checkLimit(t, "a third statement", err, ErrBusy, LimitConcurrent, "2")
	if err != nil && !strings.Contains(err.Error(), "2s, the max queue wait") {
		t.Errorf("refusal %q does not say the queue wait", err)
	}
	// One that waits gets its turn when one ends.
	go func() {
		_, err := e.Query(ctx, "SELECT 3")
		results <- err
	}()
	close(release)
	for range 3 {
		if err := <-results; err != nil {
			t.Errorf("a statement that had or waited for its turn: %v", err)
		}
	}

	// A handle's timeout may be lower than the engine's, never higher.
	stuck := make(chan struct{})
	defer close(stuck)
	e = openWith(t, Options{Lake: root, Timeout: 150 * time.Millisecond, Dialect: Dialect{Translate: func(s string) (string, func(error) error, error) {
		<-stuck
		return s, nil, nil
	}}})
	_, err = e.With(QueryOptions{Timeout: time.Hour}).Query(ctx, "SELECT 1")
	checkLimit(t, "a handle asking for an hour", err, ErrTimeout, LimitTimeout, "150ms")
	_, err = e.With(QueryOptions{Timeout: 50 * time.Millisecond}).Query(ctx, "SELECT 1")
	checkLimit(t, "a handle asking for 50ms", err, ErrTimeout, LimitTimeout, "50ms")
	// So is a context's deadline; one shorter than the engine's is the statement's timeout.
	hour, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	_, err = e.Query(hour, "SELECT 1")
	checkLimit(t, "a context asking for an hour", err, ErrTimeout, LimitTimeout, "150ms")
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	_, err = e.Query(short, "SELECT 1")
	var le *LimitError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &le) || le.Limit != LimitTimeout {
		t.Errorf("a context of 50ms: %v, want a timeout", err)
	}
}
