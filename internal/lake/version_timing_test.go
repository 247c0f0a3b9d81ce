package lake

import (
	"fmt"
	"testing"
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
