package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
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
	st := &CompactStats{}
	if err := w.removeSuperseded(keepSuperseded, st); err != nil {
		return st, err
	}
	// The writer's hash index holds every live file, per partition: no need to read the ledger again.
	var parts []Partition
	for p, refs := range w.hashIndex {
		if len(refs) >= minFiles {
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
		files := slices.Clone(w.hashIndex[p])
		sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
		pf, err := w.file(p)
		if err != nil {
			return st, err
		}
		pf.copied = true
		for _, f := range files {
			if err := w.copyRows(pf, f); err != nil {
				return st, err
			}
			replaces = append(replaces, f.path)
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
	if _, err := w.commit(ctx, &Manifest{Replaces: replaces}); err != nil {
		return st, err
	}
	return st, nil
}

// copyRows appends the rows (and their hashes) of one committed file to a partition file.
func (w *Writer) copyRows(pf *partFile, f hashRef) error {
	hs, err := readHashes(filepath.Join(w.root, filepath.FromSlash(f.file)), f.offset, f.count, f.bytes)
	if err != nil {
		return err
	}
	// The file is trusted only once it is the one its commit recorded, whole.
	if err := w.fs.verify(f.path, f.size, f.sum); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	in, err := w.fs.open(f.path)
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
		for i := 0; i < k; i++ {
			// The reader's strings may point into its buffers: the row is held until its row
			// group is written, so it gets strings of its own.
			rec := ownStrings(&buf[i])
			if werr := w.addRow(pf, &rec); werr != nil {
				return fmt.Errorf("compact %s: %w", f.path, werr)
			}
		}
		n += int64(k)
		clear(buf[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("compact: read %s: %w", f.path, err)
		}
	}
	if n != f.count {
		return fmt.Errorf("compact: %s holds %d rows, the ledger says %d", f.path, n, f.count)
	}
	// The file's hashes are sorted, not in row order; the commit sorts them again anyway.
	pf.hashes = append(pf.hashes, hs...)
	pf.legacy = pf.legacy || f.version < cloudtrail.HashVersion
	return nil
}

// ownStrings returns a copy of r whose strings share no memory with r's.
func ownStrings(r *cloudtrail.Record) cloudtrail.Record {
	out := *r
	deepCopy(reflect.ValueOf(&out).Elem())
	return out
}

// deepCopy replaces, in place, every string, pointer, slice and map reachable from v by a copy.
func deepCopy(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.Clone(v.String()))
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		deepCopy(c.Elem())
		v.Set(c)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			deepCopy(v.Field(i))
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := 0; i < c.Len(); i++ {
			deepCopy(c.Index(i))
		}
		v.Set(c)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			deepCopy(k)
			deepCopy(e)
			c.SetMapIndex(k, e)
		}
		v.Set(c)
	}
}

// removeSuperseded deletes files that a compaction replaced more than keep ago, each checked to
// be still the file its commit recorded (a regular file inside the lake, same size and
// checksum): a file that is not is left where it is, for `trailsql check` to report.
func (w *Writer) removeSuperseded(keep time.Duration, st *CompactStats) error {
	kept := w.superseded[:0]
	for _, sf := range w.superseded {
		if time.Since(sf.at) < keep {
			kept = append(kept, sf)
			continue
		}
		_, err := w.fs.regular(sf.path)
		if err == nil {
			err = w.fs.removeVerified(sf.path, sf.size, sf.sum)
			if err == nil {
				st.Removed++
			}
		}
		var fe *FileError
		if err != nil && !(errors.As(err, &fe) && fe.Kind == DamageMissing) {
			if !errors.As(err, &fe) {
				return fmt.Errorf("remove superseded file: %w", err)
			}
			w.log.Warn("left a superseded file that is not the file its commit wrote (run `trailsql check`)", "file", sf.path, "err", err)
		}
	}
	w.superseded = kept
	return nil
}
