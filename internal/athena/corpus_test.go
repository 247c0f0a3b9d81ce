package athena

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir holds third-party Athena queries over CloudTrail; they are read in place, never
// copied into the repository.
const corpusDir = "../../../shared/athena-corpus"

// TestCorpus translates every query of the corpus and runs it against the fixture table.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus not available under CI: %v", err)
		}
		t.Skipf("corpus not available: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("corpus is empty under CI")
		}
		t.Skip("corpus is empty")
	}
	db := openDB(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Translate(string(b))
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			if _, err := queryAll(db, out); err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
		})
	}
}
