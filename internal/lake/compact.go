package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// CompactStats says what a compaction did.
type CompactStats struct {
	Partitions  int // partitions rewritten
	FilesBefore int
	FilesAfter  int
	Rows        int64
	Removed     int // superseded files deleted from disk
}

// Compact rewrites every partition that has at least minFiles live files into one file, in one
// commit, so that many small incremental ingests do not slow queries down. Readers that started
// before keep reading the old files; they are deleted only once superseded for longer than
// keepSuperseded (the longest a query may still be reading them).
func (w *Writer) Compact(ctx context.Context, minFiles int, keepSuperseded time.Duration) (*CompactStats, error) {
	if minFiles < 2 {
		minFiles = 2
	}
	if len(w.open) > 0 || len(w.staged) > 0 || len(w.pending) > 0 {
		return nil, errors.New("compact: commit pending records first")
	}
	ms, err := readManifests(w.root)
	if err != nil {
		return nil, err
	}
	st := &CompactStats{}
	if err := w.removeSuperseded(ms, keepSuperseded, st); err != nil {
		return st, err
	}
	live := map[string]File{}
	hashFile := map[string]string{}
	for _, m := range ms {
		for _, r := range m.Replaces {
			delete(live, r)
		}
		for _, f := range m.Files {
			live[f.Path] = f
			hashFile[f.Path] = m.Hashes
		}
	}
	byPart := map[Partition][]File{}
	for _, f := range live {
		byPart[f.Partition] = append(byPart[f.Partition], f)
	}
	var parts []Partition
	for p, fs := range byPart {
		if len(fs) >= minFiles {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return st, nil
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Dir() < parts[j].Dir() })
	var replaces []string
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		files := byPart[p]
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		pf, err := w.file(p)
		if err != nil {
			return st, err
		}
		for _, f := range files {
			if err := w.copyRows(pf, f, hashFile[f.Path]); err != nil {
				return st, err
			}
			replaces = append(replaces, f.Path)
		}
		if err := w.finish(pf); err != nil {
			return st, err
		}
		if err := w.wait(); err != nil {
			return st, err
		}
		st.Partitions++
		st.FilesBefore += len(files)
		st.FilesAfter++
		st.Rows += pf.rows
	}
	m, err := w.commit(ctx, replaces)
	if err != nil {
		return st, err
	}
	for _, r := range m.Replaces {
		for p, refs := range w.hashIndex {
			w.hashIndex[p] = slices.DeleteFunc(refs, func(h hashRef) bool { return h.path == r })
		}
	}
	return st, nil
}

// copyRows appends the rows (and their hashes) of one committed file to a partition file.
func (w *Writer) copyRows(pf *partFile, f File, hashes string) error {
	hs, err := readHashes(filepath.Join(w.root, filepath.FromSlash(hashes)), f.HashOffset, f.Rows)
	if err != nil {
		return err
	}
	in, err := os.Open(filepath.Join(w.root, filepath.FromSlash(f.Path)))
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer in.Close()
	r := parquet.NewGenericReader[cloudtrail.Record](in)
	defer r.Close()
	buf := make([]cloudtrail.Record, 512)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := pf.w.Write(buf[:k]); werr != nil {
				return fmt.Errorf("compact %s: %w", f.Path, werr)
			}
			for i := 0; i < k; i++ {
				if t := buf[i].EventTime; t != nil {
					if pf.min == "" || *t < pf.min {
						pf.min = *t
					}
					if *t > pf.max {
						pf.max = *t
					}
				}
			}
			n += int64(k)
			clear(buf[:k])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("compact: read %s: %w", f.Path, err)
		}
	}
	if n != f.Rows {
		return fmt.Errorf("compact: %s holds %d rows, the ledger says %d", f.Path, n, f.Rows)
	}
	// The file's hashes are sorted, not in row order; the commit sorts them again anyway.
	pf.hashes = append(pf.hashes, hs...)
	pf.rows += n
	return nil
}

// removeSuperseded deletes files that a compaction replaced more than keep ago.
func (w *Writer) removeSuperseded(ms []Manifest, keep time.Duration, st *CompactStats) error {
	for _, m := range ms {
		if len(m.Replaces) == 0 || time.Since(m.Time) < keep {
			continue
		}
		for _, r := range m.Replaces {
			err := os.Remove(filepath.Join(w.root, filepath.FromSlash(r)))
			if err == nil {
				st.Removed++
			} else if !os.IsNotExist(err) {
				return fmt.Errorf("remove superseded file: %w", err)
			}
		}
	}
	return nil
}
