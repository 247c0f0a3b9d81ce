package ingest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailsql/trailsql/internal/lake"
)

// PathLister lists the files under paths (files and folders, read recursively), identified by
// path, size and modification time; every pass walks the folders again.
func PathLister(paths []string) Lister {
	return func(ctx context.Context, yield func(Object) error) error {
		files, err := listFiles(paths)
		if err != nil {
			return err
		}
		return FileLister(files)(ctx, yield)
	}
}

// FileLister lists the given local files.
func FileLister(files []lake.Source) Lister {
	return func(ctx context.Context, yield func(Object) error) error {
		for _, f := range files {
			if err := yield(Object{Source: f, Open: openFile(f.Name)}); err != nil {
				return err
			}
		}
		return nil
	}
}

func openFile(path string) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return os.Open(path) }
}

// listFiles expands folders (recursively, in name order; hidden entries are left out) into the
// files to read, with the size and time that identify their version.
func listFiles(paths []string) ([]lake.Source, error) {
	var out []lake.Source
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !info.IsDir() {
			out = append(out, lake.Source{Name: abs, Size: info.Size(), MTime: info.ModTime().UnixNano()})
			continue
		}
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			if strings.HasPrefix(d.Name(), ".") && path != abs {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, lake.Source{Name: path, Size: info.Size(), MTime: info.ModTime().UnixNano()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
