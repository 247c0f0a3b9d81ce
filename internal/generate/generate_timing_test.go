package generate

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/testshared"
)

// BenchmarkGenerate writes a trail of TRAILSQL_BENCH_EVENTS events (default 1,000,000, about
// 24,000 files) per iteration and reports events/s, MB/s of JSON written, bytes per event and the
// gzip ratio.
func BenchmarkGenerate(b *testing.B) {
	events := testshared.BenchEvents(b, 1_000_000)
	var truth *Truth
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		start := time.Now()
		t, err := Generate(context.Background(), dir, Options{Seed: int64(i + 1), Events: events, End: testEnd})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		truth = t
		b.StopTimer()
		_ = os.RemoveAll(dir)
		b.StartTimer()
	}
	sec := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(truth.Events)/sec, "events/s")
	b.ReportMetric(float64(truth.LogBytes)/1e6/sec, "MB/s")
	b.ReportMetric(float64(truth.LogBytes)/float64(truth.Events), "bytes/event")
	b.ReportMetric(float64(truth.LogBytes)/float64(truth.LogGzipBytes), "gzip-ratio")
	b.Logf("%d events, %d log files, %.0f MB JSON, %.0f MB gzip, %.1fs", truth.Events, truth.LogFiles,
		float64(truth.LogBytes)/1e6, float64(truth.LogGzipBytes)/1e6, sec)
}
