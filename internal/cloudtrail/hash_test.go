package cloudtrail

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateHash = flag.Bool("update", false, "rewrite testdata/hash.golden (only for a new hash version)")

// The content hash is the dedup key stored in every lake's ledger: it must never change, or
// existing lakes would store again the events they hold. testdata/hash.golden pins the hashes of
// the events of testdata/hash.jsonl (escapes, Unicode, maps, residual fields, every column).
// A change of the hash function must come with a new version of the ledger's hashes, not with
// `go test -update`.
func TestHashIsStable(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "hash.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got strings.Builder
	res, err := ReadEvents(f, false, func(ev Event) error {
		fmt.Fprintf(&got, "%d %016x\n", ev.Index, Hash(ev.Record))
		return nil
	})
	if err != nil || res.Fatal != nil || len(res.Errors) > 0 || res.Events != 4 {
		t.Fatalf("%+v %v", res, err)
	}
	golden := filepath.Join("testdata", "hash.golden")
	if *updateHash {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Fatalf("content hashes changed:\n%s\nwant:\n%s", got.String(), want)
	}
}
