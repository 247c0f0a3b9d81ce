package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// BenchmarkVersion is what a long-lived reader pays before each statement to learn whether the
// lake changed, here with 50 commits.
func BenchmarkVersion(b *testing.B) {
	root := b.TempDir()
	for i := range 50 {
		ingestBatch(b, root, i*10, i*10+10)
	}
	for b.Loop() {
		if _, err := Version(root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSnapshotCached is what a reader pays to read the snapshot of a lake of 400 files
// from the snapshot cache: the ledger's names listed, the key and the cache read and checked.
func BenchmarkOpenSnapshotCached(b *testing.B) {
	root := b.TempDir()
	ingestBatch(b, root, 0, 10)
	s, err := OpenSnapshot(root)
	if err != nil {
		b.Fatal(err)
	}
	f := s.Files[0]
	s.Files = nil
	for i := range 400 {
		g := f
		g.Path = fmt.Sprintf("cloudtrail_logs/account=123456789012/region=eu-west-1/year=2026/month=01/day=%02d/20260101T000000Z-0123456789ab-%04d.parquet", i%28+1, i)
		g.SHA256 = fmt.Sprintf("%064x", i)
		s.Files = append(s.Files, g)
	}
	names, _ := manifestNames(root)
	key, _, _ := readKey(root)
	cacheSnapshot(root, key, names, s)
	for b.Loop() {
		got, err := OpenSnapshot(root)
		if err != nil || len(got.Files) != 400 {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotAfterCommit is what the first reader after a commit pays for the snapshot of a
// lake of many commits (a daemon's, a commit a minute): the commit applied to the cache of the
// ledger before it, against the ledger read whole (the cache removed), alternately. It reports
// the ratio of their medians.
//
//	go test ./internal/lake -run X -bench SnapshotAfterCommit
func BenchmarkSnapshotAfterCommit(b *testing.B) {
	root := b.TempDir()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	commit := func(i int) {
		r := rec(i)
		if _, err := w.Add(part, r, cloudtrail.Hash(r)); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	const commits = 1000
	for i := range commits {
		commit(i)
	}
	if _, err := OpenSnapshot(root); err != nil {
		b.Fatal(err)
	}
	var extended, whole []time.Duration
	i := commits
	for b.Loop() {
		commit(i)
		i++
		t := time.Now()
		if _, err := OpenSnapshot(root); err != nil {
			b.Fatal(err)
		}
		extended = append(extended, time.Since(t))
		os.Remove(filepath.Join(root, snapshotCacheFile))
		t = time.Now()
		if _, err := OpenSnapshot(root); err != nil {
			b.Fatal(err)
		}
		whole = append(whole, time.Since(t))
	}
	w.Close()
	med := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return ds[len(ds)/2].Seconds()
	}
	b.ReportMetric(med(whole)/med(extended), "whole/extended")
	b.ReportMetric(med(extended)*1e3, "extended-ms")
	b.ReportMetric(med(whole)*1e3, "whole-ms")
}
