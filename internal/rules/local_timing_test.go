package rules

import (
	"context"
	"runtime"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/testshared"
)

// BenchmarkLocalScan times the Go scan alone (every built-in and Sigma rule roweval evaluates)
// over a generated lake of TRAILSQL_BENCH_EVENTS events (default 100k), to profile it:
//
//	go test ./internal/rules -run X -bench LocalScan -benchtime 3x -cpuprofile /tmp/scan.prof
func BenchmarkLocalScan(b *testing.B) {
	events := testshared.BenchEvents(b, 100000)
	loaded, err := Load(Sources{Sigma: []string{testshared.Dir(b, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		b.Fatal(err, loaded.Errors)
	}
	l := answertest.Generated(b, 1, events)
	// The decoded events are the tests' truth, not the benchmark's: held, a million of them
	// would make every garbage collection of the Go backtest scan them.
	l.Records = nil
	runtime.GC()
	snap, err := lake.OpenSnapshot(l.Dir)
	if err != nil {
		b.Fatal(err)
	}
	base, err := compileBase()
	if err != nil {
		b.Fatal(err)
	}
	inGo, _ := newPlan(loaded.Rules).live()
	lk := &Local{Snap: snap}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		byRule, _, _, err := lk.scan(context.Background(), inGo, base, Scope{}, nil, false)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for _, ms := range byRule {
			n += ms.len()
		}
	}
	b.ReportMetric(float64(n), "matches")
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
