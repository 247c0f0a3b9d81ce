package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed tables are what the generator makes from the shared datasets: `go generate
// ./internal/iam` rewrites them identically.
func TestCommittedTablesReproducible(t *testing.T) {
	src, _ := filepath.Abs("../../../../../shared/datasets/iam")
	if _, err := os.Stat(src); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared datasets missing under CI: %v", err)
		}
		t.Skipf("shared datasets not present (%v)", err)
	}
	files, err := Generate(os.DirFS(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		path := filepath.Join("..", "..", f.Name)
		var got []byte
		if f.Gzip {
			got, err = ReadGzip(path)
		} else {
			got, err = os.ReadFile(path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from what the generator makes; run go generate ./internal/iam", f.Name)
		}
	}
	// Compression is deterministic: two writes give the same bytes.
	var prev [][]byte
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		for j, f := range files {
			if err := write(filepath.Join(dir, f.Name), f.Data, f.Gzip); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, f.Name))
			if i == 1 && !bytes.Equal(b, prev[j]) {
				t.Errorf("%s: two writes differ", f.Name)
			}
			prev = append(prev, b)
		}
	}
}

// Without the datasets the generator succeeds and leaves the committed files alone.
func TestRunWithoutDatasets(t *testing.T) {
	out := t.TempDir()
	var msg bytes.Buffer
	if err := run(filepath.Join(out, "absent"), out, &msg); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 || msg.Len() == 0 {
		t.Fatalf("wrote %d files, said %q", len(ents), msg.String())
	}
	if _, err := Generate(os.DirFS(out)); err == nil {
		t.Fatal("Generate of an empty directory: want an error")
	}
}
