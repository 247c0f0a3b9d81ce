package lake

import "testing"

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
