package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// The checksum a writer records as it writes (trimFooter rewrites the file's end) is the
// SHA-256 of the file on disk, whatever the row groups, for ingested and compacted files alike.
func TestChecksumsAsWritten(t *testing.T) {
	for _, rg := range []int64{0, 7, 100} {
		t.Run(fmt.Sprint("rowgroup", rg), func(t *testing.T) {
			root := t.TempDir()
			ctx := context.Background()
			for batch := 0; batch < 3; batch++ {
				w, err := OpenWriter(ctx, root, WriterOptions{RowGroupRows: rg, BufferedRows: 50})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 400; i++ {
					r := rec(batch*1000 + i)
					if _, err := w.Add(part, r, cloudtrail.Hash(r)); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if batch == 2 {
					if _, err := w.Compact(ctx, 2, time.Hour); err != nil {
						t.Fatal(err)
					}
				}
				w.Close()
			}
			ms, err := readManifests(root)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range ms {
				for _, f := range m.Files {
					data, err := os.ReadFile(filepath.Join(root, f.Path))
					if err != nil {
						t.Fatal(err)
					}
					sum := sha256.Sum256(data)
					if got := hex.EncodeToString(sum[:]); got != f.SHA256 || int64(len(data)) != f.Bytes {
						t.Errorf("%s: recorded %s (%d bytes), on disk %s (%d bytes)", f.Path, f.SHA256, f.Bytes, got, len(data))
					}
					n++
				}
			}
			if n != 4 {
				t.Fatalf("%d files checked, want 4 (3 commits and a compaction)", n)
			}
		})
	}
}

// FuzzJudgeManifest: whatever a ledger entry holds, judging it does not panic, and an entry
// judged trustworthy names only paths inside their folders.
func FuzzJudgeManifest(f *testing.F) {
	key := make([]byte, 32)
	m := &Manifest{Seq: 1, ID: "a", Files: []File{{Path: part.Dir() + "/a-0001.parquet", Rows: 1}}, Hashes: hashesDir + "/a.ef"}
	signed, _ := gzipManifest(m, key)
	plain, _ := gzipManifest(m, nil)
	f.Add(signed)
	f.Add(plain)
	f.Add([]byte(`{"seq":1,"id":"a","replaces":["../x"]}` + "\n" + sealPrefix + "00\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, st := range []keyState{keyNone, keyMigrating, keyFinal} {
			l := &ledger{key: key, keyState: st}
			if st == keyNone {
				l.key = nil
			}
			e := l.judge(commitsDir, manifestName(1, "a"), data)
			if e.err != nil {
				continue
			}
			for _, f := range e.m.Files {
				if checkDataPath(f.Path) != nil || strings.Contains(f.Path, "..") {
					t.Fatalf("trusted a manifest naming %q", f.Path)
				}
			}
		}
	})
}

// ReadSources returns the committed sources of a prefix, in commit order.
func TestReadSources(t *testing.T) {
	root := t.TempDir()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"cwl://r/g:s@start", "s3://b/k", "cwl://r/g:s@1", "cwl://r/h:s@start"} {
		w.AddSource(Source{Name: name, Size: int64(i), ETag: fmt.Sprint(i)})
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	got, err := ReadSources(root, "cwl://r/g:")
	if err != nil || len(got) != 2 || got[0].Name != "cwl://r/g:s@start" || got[1].ETag != "2" {
		t.Fatalf("ReadSources: %+v, %v", got, err)
	}
	if got, err := ReadSources(t.TempDir(), "cwl://"); err != nil || len(got) != 0 {
		t.Fatalf("empty lake: %+v, %v", got, err)
	}
}
