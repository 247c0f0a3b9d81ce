package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailsql/trailsql/internal/testshared"
)

// The committed table is what the generator makes from the shared datasets: `go generate
// ./internal/authz` rewrites it identically.
func TestCommittedTableReproducible(t *testing.T) {
	src := testshared.Dir(t, "datasets")
	data, stats, err := Generate(os.DirFS(src))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	got, err := ReadGzip(filepath.Join("..", "..", Name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("%s differs from what the generator makes; run go generate ./internal/authz", Name)
	}
}
