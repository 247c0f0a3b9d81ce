package rules_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/testshared"
)

// detectBench is the benchmarks' lake, a generated trail of TRAILSQL_BENCH_EVENTS events (default
// 100k), its rules (every built-in and SigmaHQ rule that validates) and the scope of its events.
func detectBench(b *testing.B) (*answertest.Lake, []*rules.Rule, rules.Scope) {
	loaded, err := rules.Load(rules.Sources{Sigma: []string{testshared.Dir(b, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		b.Fatal(err, loaded.Errors)
	}
	events := testshared.BenchEvents(b, 100000)
	l := answertest.Generated(b, 1, events)
	// The decoded events are the tests' truth, not the benchmark's: held, a million of them
	// would make every garbage collection of the Go backtest scan them.
	l.Records = nil
	runtime.GC()
	ok, problems := rules.Validate(context.Background(), l.Query, loaded.Rules)
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	snap, err := lake.OpenSnapshot(l.Dir)
	if err != nil {
		b.Fatal(err)
	}
	return l, ok, rules.Scope{From: l.From(), To: l.To(), Values: rules.FacetValues(snap.Files), Lake: &rules.Local{Snap: snap}}
}

// BenchmarkBacktest times BenchmarkDetect's backtest alone, one after the other: the heap of one
// is the next's, where in BenchmarkDetect each follows seconds of DuckDB work, after which the
// runtime has returned the free heap to the system (and the backtest's allocations fault fresh
// pages, at about 14 µs each on this project's VM). Its B/op is the backtest's allocation:
//
//	TRAILSQL_BENCH_EVENTS=1000000 go test ./internal/rules -run X -bench Backtest -benchtime 5x -benchmem
func BenchmarkBacktest(b *testing.B) {
	l, ok, scope := detectBench(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := backtest(ctx, l, ok, scope); err != nil {
			b.Fatal(err)
		}
	}
}

// backtest runs the backtest as 'trailsql detect' does: every alert made, in order, one at a
// time, as its row is written. It returns their number.
func backtest(ctx context.Context, l *answertest.Lake, rs []*rules.Rule, scope rules.Scope) (int, error) {
	as, err := rules.Backtest(ctx, l.Query, rs, scope)
	if err != nil {
		return 0, err
	}
	var buf rules.Alert
	for i := range as.Len() {
		if as.At(i, &buf).Rule == "" {
			return 0, fmt.Errorf("alert %d has no rule", i)
		}
	}
	return as.Len(), nil
}

// BenchmarkDetect times, on a generated trail of TRAILSQL_BENCH_EVENTS events (default 100k), the backtest of every built-in
// and SigmaHQ rule (rules.Backtest: one scan, its alerts made one by one as 'trailsql detect'
// writes them) against its anchors in the same run: one
// count(*) scan of the same window, the engine reading every column the backtest reads, one query
// per rule, and the same backtest evaluated all in the engine (as on Athena). It reports the ratios of the measures' medians over the iterations:
//
//	go test ./internal/rules -run X -bench Detect -benchtime 3x
func BenchmarkDetect(b *testing.B) {
	l, ok, scope := detectBench(b)
	ctx := context.Background()
	inSQL := scope
	inSQL.Lake = nil
	// Each measure's median over the iterations: the machine is shared, and one slow minute
	// would move a mean.
	var scan, read, one, sql, each []time.Duration
	sqlFailed := false
	var alerts int
	// The engine reading every column the Go scan reads (count(c) of each): the floor of the
	// backtest's reading, where count(*) reads one column.
	var counts []string
	for _, c := range rules.ColumnsRead(ok) {
		counts = append(counts, "count("+c+")")
	}
	for b.Loop() {
		t := time.Now()
		if _, err := l.Query(ctx, "SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= ? AND eventtime < ?", scope.From.Format(time.RFC3339), scope.To.Format(time.RFC3339)); err != nil {
			b.Fatal(err)
		}
		scan = append(scan, time.Since(t))
		t = time.Now()
		n, err := backtest(ctx, l, ok, scope)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, time.Since(t))
		alerts = n
		// (After the backtest, which follows count(*) as it always did: the engine's memory
		// for 27 columns, then the backtest's heap faulted again, would be another measure.)
		t = time.Now()
		if _, err := l.Query(ctx, "SELECT "+strings.Join(counts, ", ")+" FROM cloudtrail_logs WHERE eventtime >= ? AND eventtime < ?", scope.From.Format(time.RFC3339), scope.To.Format(time.RFC3339)); err != nil {
			b.Fatal(err)
		}
		read = append(read, time.Since(t))
		t = time.Now()
		// The same backtest all in the engine (as on Athena, or before the rules ran in Go). On a
		// large trail its matches pass the engine's bound on a result: then it is not reported.
		if _, err := rules.Evaluate(ctx, l.Query, ok, inSQL); err != nil {
			b.Logf("the backtest in the engine failed: %v", err)
			sqlFailed = true
		}
		sql = append(sql, time.Since(t))
		t = time.Now()
		// Each rule as its own query, as a team's saved queries run.
		for _, r := range ok {
			if _, err := l.Query(ctx, "SELECT eventid, eventtime, eventsource, eventname, useridentity.arn, sourceipaddress FROM cloudtrail_logs WHERE eventtime >= ? AND eventtime < ? AND ("+r.Condition+")",
				scope.From.Format(time.RFC3339), scope.To.Format(time.RFC3339)); err != nil {
				b.Fatal(err)
			}
		}
		each = append(each, time.Since(t))
	}
	med := func(ds []time.Duration) float64 {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2].Seconds()
	}
	b.ReportMetric(med(one)/med(scan), "backtest/scan")
	b.ReportMetric(med(one)/med(read), "backtest/read")
	b.ReportMetric(med(read), "read-s/op")
	b.ReportMetric(float64(len(counts)), "columns-read")
	b.ReportMetric(med(each)/med(one), "per-rule/backtest")
	if !sqlFailed {
		b.ReportMetric(med(sql)/med(one), "in-engine/backtest")
	}
	// The times themselves, to tell which side of a ratio moved (noisy on a shared machine).
	b.ReportMetric(med(scan), "scan-s/op")
	b.ReportMetric(med(one), "backtest-s/op")
	b.ReportMetric(med(each), "per-rule-s/op")
	b.ReportMetric(float64(len(ok)), "rules")
	b.ReportMetric(float64(alerts), "alerts")
}
