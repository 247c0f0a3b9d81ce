package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// An engine opened before its lake is made (an ingest's detection opens one as the ingest
// starts), at a path through a link, reads the lake once it is made there.
func TestOpenBeforeTheLakeIsMade(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "link", "lake")
	ctx := context.Background()
	e, err := Open(ctx, Options{Lake: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	count := func() any {
		t.Helper()
		res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows[0][0]
	}
	if n := count(); n != int64(0) {
		t.Fatalf("%v rows before the lake is made", n)
	}
	made := writeLake(t, twoDays)
	if err := os.Rename(made, filepath.Join(base, "real", "lake")); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != int64(2) {
		t.Fatalf("%v rows, want the lake's 2", n)
	}
}
