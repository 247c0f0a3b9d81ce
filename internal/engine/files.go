package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailsql/trailsql/internal/lake"
)

// dataDir is the lake folder that holds the table's files; DuckDB may read nothing else (not the
// ledger in _trailsql, which a COPY once forged).
const dataDir = "cloudtrail_logs"

// SkippedFile is a lake file left out of an answer (Options.SkipDamaged) because it could not be
// read.
type SkippedFile struct {
	lake.File
	// Reason says what is wrong with it.
	Reason string
}

// DamagedFileError is returned when a statement needs a lake file that cannot be read: not a
// Parquet file, damaged, or not a regular file within the lake.
type DamagedFileError struct {
	File   lake.File
	Reason string
}

// Error says which file, and why; a front end adds what to do (check the lake, or answer from
// the other files: Options.SkipDamaged).
func (e *DamagedFileError) Error() string {
	return fmt.Sprintf("lake file %s (partition %s, %d rows per the ledger) cannot be read: %s",
		e.File.Path, e.File.Partition.Dir(), e.File.Rows, e.Reason)
}

// checkFiles finds the snapshot's files that DuckDB must not open: a path that leaves the data
// folder, a symbolic link at any level below the lake root (a link to /etc would let a query
// read /etc), anything but a regular file. DuckDB compares the text of paths with its allowed
// list, not the files they resolve to, so a path is allowed only once each part of it is known
// not to be a link.
func checkFiles(root string, files []lake.File) map[string]string {
	bad := map[string]string{}
	dirs := map[string]error{} // folder (relative) → why it cannot be used, nil if it can
	var checkDir func(rel string) error
	checkDir = func(rel string) error {
		if rel == "." {
			return nil
		}
		if err, ok := dirs[rel]; ok {
			return err
		}
		err := checkDir(filepath.Dir(rel))
		if err == nil {
			fi, lerr := os.Lstat(filepath.Join(root, rel))
			switch {
			case lerr != nil:
				err = lerr
			case fi.Mode()&fs.ModeSymlink != 0:
				err = fmt.Errorf("%s is a symbolic link", rel)
			case !fi.IsDir():
				err = fmt.Errorf("%s is not a folder", rel)
			}
		}
		dirs[rel] = err
		return err
	}
	for _, f := range files {
		rel := filepath.FromSlash(f.Path)
		if !filepath.IsLocal(rel) || !strings.HasPrefix(filepath.Clean(rel), dataDir+string(filepath.Separator)) {
			bad[f.Path] = "its path is not within the lake's " + dataDir + " folder"
			continue
		}
		rel = filepath.Clean(rel)
		if err := checkDir(filepath.Dir(rel)); err != nil {
			bad[f.Path] = err.Error()
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, rel))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			bad[f.Path] = "the file is missing"
		case err != nil:
			bad[f.Path] = err.Error()
		case fi.Mode()&fs.ModeSymlink != 0:
			bad[f.Path] = "it is a symbolic link"
		case !fi.Mode().IsRegular():
			bad[f.Path] = "it is not a regular file"
		}
	}
	return bad
}

// fileIn returns the lake file among files that DuckDB's error message names: the one it names
// first, but never the one it compared the damaged file with. A message can name two: "Failed to
// read file "B": schema mismatch in glob: column "eventversion" was read from the original file
// "A", but could not be found in file "B"" (B's footer was damaged into another valid schema). A
// is sound: taken for the damaged one, it would be left out of every statement after.
func (c *core) fileIn(msg string, files []lake.File) (lake.File, bool) {
	var found lake.File
	at := -1
	for _, f := range files {
		p := c.absPath(f)
		for from := 0; ; {
			i := strings.Index(msg[from:], p)
			if i < 0 {
				break
			}
			i += from
			from = i + len(p)
			if strings.HasSuffix(strings.TrimRight(msg[:i], `"' `), "original file") {
				continue
			}
			if at < 0 || i < at {
				found, at = f, i
			}
			break
		}
	}
	return found, at >= 0
}

// PathOf is the value of the pseudo-column "$path" for the rows of a lake file: what a
// statement compares it with to read only some files (detection reads a commit's files so).
func (e *Engine) PathOf(f lake.File) string { return e.absPath(f) }

func (c *core) absPath(f lake.File) string {
	return filepath.Join(c.opt.Lake, filepath.FromSlash(f.Path))
}

// firstErrorLine is DuckDB's message without its SQL excerpt.
func firstErrorLine(msg string) string {
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// fileError reports whether a DuckDB error may come from a damaged file without naming it (a
// corrupt page, a bad encoding): DuckDB's message then says only "don't know what type" or
// "ZSTD decompression failure".
func fileError(err error) bool {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Type {
	case duckdb.ErrorTypeInvalid, duckdb.ErrorTypeIO, duckdb.ErrorTypeInternal, duckdb.ErrorTypeSerialization,
		duckdb.ErrorTypeUnknownType, duckdb.ErrorTypeOutOfRange:
		return true
	case duckdb.ErrorTypeInvalidInput:
		return strings.Contains(strings.ToLower(de.Msg), "parquet") || strings.Contains(strings.ToLower(de.Msg), "decompress")
	}
	return false
}

// probe reads every value of each of files, one file at a time, and returns the first that
// fails with DuckDB's reason. It runs only after a statement failed with a fileError, to name
// the file.
func (s *session) probe(ctx context.Context, files []lake.File) (lake.File, string, bool) {
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		var n int64
		err := s.cn.c.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT count(COLUMNS(*)) FROM read_parquet(["+quote(s.absPath(f))+"]))").Scan(&n)
		if err != nil && ctx.Err() == nil {
			return f, firstErrorLine(err.Error()), true
		}
	}
	return lake.File{}, "", false
}
