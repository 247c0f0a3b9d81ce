package lake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// ErrDamaged is matched (errors.Is) by every *FileError.
var ErrDamaged = errors.New("damaged lake file")

// Kinds of damage to a lake file (FileError.Kind, Problem.Kind).
const (
	DamageMissing  = "missing"  // the file is not there
	DamageSymlink  = "symlink"  // the file, or a folder on its way, is a symbolic link
	DamageNotFile  = "not-file" // not a regular file
	DamageSize     = "size"     // its size is not the one the ledger recorded
	DamageChecksum = "checksum" // its SHA-256 is not the one the ledger recorded
	DamageParquet  = "parquet"  // not a readable Parquet file
	DamageRows     = "rows"     // it holds another number of rows than the ledger says
)

// FileError says how a lake file differs from what its commit recorded.
type FileError struct {
	Path string // relative to the lake root
	Kind string // one of the Damage constants
	Err  error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("lake file %s: %v (run `trailsql check` to see what it affects, `trailsql check --repair` to quarantine it)", e.Path, e.Err)
}

// Unwrap lets errors.Is match ErrDamaged and the cause.
func (e *FileError) Unwrap() []error { return []error{ErrDamaged, e.Err} }

// StatFile checks, cheaply, that a file of the snapshot is still the one its commit wrote: a
// regular file (no symbolic link on its way) of the recorded size. It returns a *FileError
// naming the file and the damage, or nil. Checksums and row counts take a full read: see Verify.
func (s *Snapshot) StatFile(f File) error {
	l, err := openLakeFS(s.Root)
	if err != nil {
		return err
	}
	defer l.Close()
	fi, err := l.regular(f.Path)
	if err != nil {
		return err
	}
	if fi.Size() != f.Bytes {
		return &FileError{Path: f.Path, Kind: DamageSize, Err: fmt.Errorf("%d bytes, its commit %s says %d", fi.Size(), f.Commit, f.Bytes)}
	}
	return nil
}

// lakeFS does file operations inside a lake through an os.Root, so that no path, link or race
// reaches outside it, and refuses symbolic links anywhere below the root.
type lakeFS struct {
	dir  string
	root *os.Root
	// folders, when set, keeps what regular found of each folder (a folder, not a link), so
	// that a reader of many files of a few partitions checks each folder once.
	folders *folderCache
}

type folderCache struct {
	mu   sync.Mutex
	seen map[string]*FileError // by folder (relative); nil: a plain folder
}

func openLakeFS(dir string) (*lakeFS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	return &lakeFS{dir: dir, root: r}, nil
}

func (l *lakeFS) Close() error { return l.root.Close() }

// regular checks that rel, relative to the lake root, is a regular file reached through folders
// only, and returns its information; failures are *FileError.
func (l *lakeFS) regular(rel string) (fs.FileInfo, error) {
	if err := checkRelPath(rel); err != nil {
		return nil, &FileError{Path: rel, Kind: DamageNotFile, Err: err}
	}
	segs := strings.Split(rel, "/")
	for i := range segs[:len(segs)-1] {
		if err := l.folder(strings.Join(segs[:i+1], "/")); err != nil {
			return nil, &FileError{Path: rel, Kind: err.Kind, Err: err.Err}
		}
	}
	fi, err := l.segment(rel)
	if err != nil {
		return nil, &FileError{Path: rel, Kind: err.Kind, Err: err.Err}
	}
	if fi.IsDir() || !fi.Mode().IsRegular() {
		return nil, &FileError{Path: rel, Kind: DamageNotFile, Err: errors.New("not a regular file")}
	}
	return fi, nil
}

// folder checks that p is a folder, not a link, once per lakeFS when it keeps folders.
func (l *lakeFS) folder(p string) *FileError {
	if l.folders != nil {
		l.folders.mu.Lock()
		err, done := l.folders.seen[p]
		l.folders.mu.Unlock()
		if done {
			return err
		}
	}
	fi, err := l.segment(p)
	if err == nil && !fi.IsDir() {
		err = &FileError{Path: p, Kind: DamageNotFile, Err: fmt.Errorf("%s is not a folder", p)}
	}
	if l.folders != nil {
		l.folders.mu.Lock()
		l.folders.seen[p] = err
		l.folders.mu.Unlock()
	}
	return err
}

// segment returns the information of p, relative to the lake root, which must not be a link.
func (l *lakeFS) segment(p string) (fs.FileInfo, *FileError) {
	fi, err := l.root.Lstat(filepath.FromSlash(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &FileError{Path: p, Kind: DamageMissing, Err: errors.New("missing")}
	}
	if err != nil {
		return nil, &FileError{Path: p, Kind: DamageMissing, Err: err}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &FileError{Path: p, Kind: DamageSymlink, Err: fmt.Errorf("%s is a symbolic link", p)}
	}
	return fi, nil
}

// plainFolders reports whether the folders on the way to rel are folders, not links.
func (l *lakeFS) plainFolders(rel string) bool {
	segs := strings.Split(rel, "/")
	for i := 1; i < len(segs); i++ {
		fi, err := l.root.Lstat(filepath.FromSlash(strings.Join(segs[:i], "/")))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// open opens a regular file of the lake for reading.
func (l *lakeFS) open(rel string) (*os.File, error) {
	if _, err := l.regular(rel); err != nil {
		return nil, err
	}
	f, err := l.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, &FileError{Path: rel, Kind: DamageMissing, Err: err}
	}
	return f, nil
}

// sum returns the size and hex SHA-256 of a regular file of the lake.
func (l *lakeFS) sum(rel string) (int64, string, error) {
	f, err := l.open(rel)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", rel, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// verify checks a file against its ledger record: size (unless negative), and SHA-256 when one
// was recorded (a full read). Differences are *FileError.
func (l *lakeFS) verify(rel string, size int64, sum string) error {
	fi, err := l.regular(rel)
	if err != nil {
		return err
	}
	if size >= 0 && fi.Size() != size {
		return &FileError{Path: rel, Kind: DamageSize, Err: fmt.Errorf("%d bytes, the ledger says %d", fi.Size(), size)}
	}
	if sum == "" {
		return nil
	}
	n, got, err := l.sum(rel)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return &FileError{Path: rel, Kind: DamageSize, Err: fmt.Errorf("%d bytes, the ledger says %d", n, size)}
	}
	if got != sum {
		return &FileError{Path: rel, Kind: DamageChecksum, Err: fmt.Errorf("SHA-256 %s, the ledger says %s", got[:16], sum[:16])}
	}
	return nil
}

// removeVerified deletes a file the ledger wrote, once checked to be still that file (a regular
// file inside the lake, of the recorded size and checksum). A file already gone is no error.
func (l *lakeFS) removeVerified(rel string, size int64, sum string) error {
	err := l.verify(rel, size, sum)
	var fe *FileError
	if errors.As(err, &fe) && fe.Kind == DamageMissing {
		return nil
	}
	if err != nil {
		return err
	}
	if err := l.root.Remove(filepath.FromSlash(rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	return nil
}

// move renames rel to dst (both relative to the lake root), creating dst's folder. A symbolic
// link is moved itself, not what it points to.
func (l *lakeFS) move(rel, dst string) error {
	if err := l.root.MkdirAll(filepath.FromSlash(path.Dir(dst)), 0o755); err != nil {
		return fmt.Errorf("quarantine %s: %w", rel, err)
	}
	if err := l.root.Rename(filepath.FromSlash(rel), filepath.FromSlash(dst)); err != nil {
		return fmt.Errorf("quarantine %s: %w", rel, err)
	}
	return nil
}

// sumWriter hashes what is written to a data file as it is written, so that its checksum takes
// no second read.
type sumWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func newSumWriter(w io.Writer) *sumWriter { return &sumWriter{w: w, h: sha256.New()} }

func (s *sumWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	return n, err
}

// sum returns the SHA-256 of what was written.
func (s *sumWriter) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// FileReader reads the data files of a snapshot with the checks the engine makes before it lets
// DuckDB open them: a regular file inside the lake reached through folders only (no symbolic
// link on the way), of the size its commit recorded. It is safe for concurrent use.
type FileReader struct{ l *lakeFS }

// OpenFiles returns a FileReader of the snapshot's lake; Close it when done.
func (s *Snapshot) OpenFiles() (*FileReader, error) {
	l, err := openLakeFS(s.Root)
	if err != nil {
		return nil, err
	}
	// The files of a partition share their folders: each is checked once.
	l.folders = &folderCache{seen: map[string]*FileError{}}
	return &FileReader{l}, nil
}

// ReadFile returns the content of f, in buf when it has room (a reader of many files reuses
// one); damage is a *FileError naming the file.
func (r *FileReader) ReadFile(f File, buf []byte) ([]byte, error) {
	h, err := r.l.open(f.Path)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	// One byte more than recorded tells a file that grew.
	data := buf[:0]
	if int64(cap(buf)) < f.Bytes+1 {
		data = make([]byte, f.Bytes+1)
	}
	data = data[:f.Bytes+1]
	n, err := io.ReadFull(h, data)
	switch {
	case err == nil:
		return nil, &FileError{Path: f.Path, Kind: DamageSize, Err: fmt.Errorf("more than the %d bytes its commit %s says", f.Bytes, f.Commit)}
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, &FileError{Path: f.Path, Kind: DamageMissing, Err: err}
	case int64(n) != f.Bytes:
		return nil, &FileError{Path: f.Path, Kind: DamageSize, Err: fmt.Errorf("%d bytes, its commit %s says %d", n, f.Commit, f.Bytes)}
	}
	return data[:n], nil
}

// Close releases the reader.
func (r *FileReader) Close() error { return r.l.Close() }
