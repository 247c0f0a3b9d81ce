package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/trailsql/trailsql/internal/lake"
)

// ErrAlreadyListed is wrapped by the Err of an Object for a folder reached a second time (a
// symbolic link to a folder already listed, a loop of links, a path given twice): it is reported
// as a warning and not listed again.
var ErrAlreadyListed = errors.New("already listed")

// PathLister lists the files under paths (files and folders, read recursively in name order;
// hidden entries are left out), identified by path, size and modification time; every pass
// walks the folders again. Symbolic links are followed, to files and to folders; a folder is
// listed once however many links lead to it, so that loops end, and a file reached by two paths
// is read once. What cannot be listed (a folder without permission, a link to nothing) and what
// is not a regular file (named pipes, sockets, devices, which are never opened) is yielded as an
// Object with Err set, and the rest is still listed. The listing stops when ctx ends.
func PathLister(paths []string) Lister {
	return func(ctx context.Context, yield func(Object) error) error {
		w := walker{ctx: ctx, yield: yield, dirs: map[fileID]string{}, files: map[fileID]bool{}}
		for _, p := range paths {
			abs, err := filepath.Abs(p)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			info, err := os.Stat(abs)
			if err != nil {
				if err := w.problem(abs, err); err != nil {
					return err
				}
				continue
			}
			if err := w.entry(abs, info, true); err != nil {
				return err
			}
		}
		return nil
	}
}

// fileID is what tells files apart whatever the path that leads to them.
type fileID struct{ dev, ino uint64 }

func idOf(info fs.FileInfo) (fileID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}

// walker is the state of one listing of local paths.
type walker struct {
	ctx   context.Context
	yield func(Object) error
	dirs  map[fileID]string // folders listed, by the path they were first listed under
	files map[fileID]bool
}

// entry lists one path whose (link-followed) information is info; named is true for a path the
// caller gave (see Object.Named).
func (w *walker) entry(path string, info fs.FileInfo, named bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	switch {
	case info.IsDir():
		return w.dir(path, info)
	case info.Mode().IsRegular():
		if id, ok := idOf(info); ok {
			if w.files[id] {
				return nil // another link to a file listed already: read once
			}
			w.files[id] = true
		}
		return w.yield(Object{Source: lake.Source{Name: path, Size: info.Size(), MTime: info.ModTime().UnixNano()}, Open: openFile(path), Named: named})
	default:
		return w.yield(Object{Source: lake.Source{Name: path},
			Err: fmt.Errorf("%s, not a regular file: not read (leave it out)", fileKind(info.Mode()))})
	}
}

// dir lists a folder's entries, unless it was listed already.
func (w *walker) dir(path string, info fs.FileInfo) error {
	if id, ok := idOf(info); ok {
		if first, seen := w.dirs[id]; seen {
			return w.yield(Object{Source: lake.Source{Name: path},
				Err: fmt.Errorf("the folder %s, %w: not listed again (a symbolic link loop, or two paths to one folder)", first, ErrAlreadyListed)})
		}
		w.dirs[id] = path
	}
	// os.ReadDir returns the entries it could read before an error, sorted by name.
	entries, err := os.ReadDir(path)
	if err != nil {
		if err := w.problem(path, err); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(path, e.Name())
		// Stat follows links; it never opens, so a named pipe cannot block the listing.
		info, err := os.Stat(p)
		if err != nil {
			if err := w.problem(p, err); err != nil {
				return err
			}
			continue
		}
		if err := w.entry(p, info, false); err != nil {
			return err
		}
	}
	return nil
}

// problem yields an entry that cannot be listed, with what to do about it.
func (w *walker) problem(path string, err error) error {
	var msg string
	switch {
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied — fix permissions or leave it out"
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			msg = fmt.Sprintf("a symbolic link to %s, which does not exist — fix or remove the link", target)
		} else {
			msg = "no longer exists"
		}
	case errors.Is(err, syscall.ELOOP):
		msg = "a loop of symbolic links — fix or remove the link"
	default:
		msg = fmt.Sprintf("cannot be listed: %v", unwrapPath(err))
	}
	return w.yield(Object{Source: lake.Source{Name: path}, Err: errors.New(msg)})
}

// unwrapPath drops the path and operation of an *fs.PathError, which the problem names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileKind names the kind of a file that is not a regular file or a folder.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// openFile opens a listed file without blocking whatever it has become since it was listed (a
// named pipe put in its place would block an open for reading until a writer came), and reads
// it only if it is still a regular file.
func openFile(path string) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) {
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w — fix permissions or leave it out", err)
		}
		if err != nil {
			return nil, err
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if !info.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("open %s: %s, not a regular file: not read (leave it out)", path, fileKind(info.Mode()))
		}
		return f, nil
	}
}
