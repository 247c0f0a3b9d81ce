package daemon

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/testshared"
)

// BenchmarkIngestDetect measures what detection adds to an ingest (issue 13: at most 15%), in the
// same run: each iteration ingests a generated trail into a new lake without detection, then into
// another with every built-in and SigmaHQ rule evaluated as `trailsql ingest` does it (rules.Live
// on the rows as they are written, then the Detector for the rest and the thresholds). It reports
// the medians of the iterations' wall and CPU time ratios. TRAILSQL_BENCH_EVENTS sets the
// trail's size (default 100k):
//
//	go test ./internal/daemon -run X -bench IngestDetect -benchtime 3x
func BenchmarkIngestDetect(b *testing.B) {
	events := testshared.BenchEvents(b, 100000)
	loaded, err := rules.Load(rules.Sources{Sigma: []string{testshared.Dir(b, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		b.Fatal(err, loaded.Errors)
	}
	ctx := context.Background()
	trail := b.TempDir()
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 9, Events: events, Days: 45, Accounts: 3,
		End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	var files []string
	filepath.WalkDir(trail, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return err
	})
	// Each iteration's pair ran back to back: the ratios are those of each pair, their median
	// reported (the machine is shared, and one slow minute would move a mean).
	var plainWall, detWall, plainCPU, detCPU []time.Duration
	var alerts, live, runs int
	for b.Loop() {
		t, c := time.Now(), cpuTime()
		if _, err := ingest.Run(ctx, ingest.Options{Lake: filepath.Join(b.TempDir(), "lake")}, files); err != nil {
			b.Fatal(err)
		}
		plainWall, plainCPU = append(plainWall, time.Since(t)), append(plainCPU, cpuTime()-c)

		t, c = time.Now(), cpuTime()
		alerts, runs = 0, 0
		dir := filepath.Join(b.TempDir(), "lake")
		d := &Detection{Lake: dir, Rules: loaded.Rules}
		opt := ingest.Options{Lake: dir, Observer: d.Observer(), AfterPassDue: d.Due}
		opt.AfterPass = func(ctx context.Context) error {
			return d.Run(ctx, func(_ context.Context, _ answer.QueryFunc, det *rules.Detection) error {
				alerts, live, runs = alerts+det.Alerts.Len(), det.Live, runs+1
				return nil
			})
		}
		if _, err := ingest.Run(ctx, opt, files); err != nil {
			b.Fatal(err)
		}
		d.Close()
		detWall, detCPU = append(detWall, time.Since(t)), append(detCPU, cpuTime()-c)
	}
	median := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	ratios := func(det, plain []time.Duration) []float64 {
		var out []float64
		for i := range det {
			out = append(out, float64(det[i])/float64(plain[i]))
		}
		return out
	}
	seconds := func(ds []time.Duration) []float64 {
		var out []float64
		for _, d := range ds {
			out = append(out, d.Seconds())
		}
		return out
	}
	b.ReportMetric(median(ratios(detWall, plainWall)), "wall-detect/ingest")
	b.ReportMetric(median(ratios(detCPU, plainCPU)), "cpu-detect/ingest")
	// The times themselves, to tell which side of a ratio moved (noisy on a shared machine).
	b.ReportMetric(median(seconds(plainWall)), "ingest-s/op")
	b.ReportMetric(median(seconds(detWall)), "ingest-detect-s/op")
	// How many cores each kept busy: what detection may take without lengthening the ingest.
	b.ReportMetric(median(ratios(plainCPU, plainWall)), "ingest-cores")
	b.ReportMetric(median(ratios(detCPU, detWall)), "ingest-detect-cores")
	b.ReportMetric(float64(len(loaded.Rules)), "rules")
	b.ReportMetric(float64(live), "rules-live")
	b.ReportMetric(float64(alerts), "alerts")
	b.ReportMetric(float64(runs), "detections")
}

// cpuTime is the process's CPU time so far, user and system, every thread (DuckDB's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
