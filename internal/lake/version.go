package lake

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
)

// Version returns a token that changes whenever what a reader of the lake at root sees may have
// changed: a commit added to the ledger or taken out of it, a table definition stored, replaced
// or dropped. It lists the ledger's folder and reads the table definitions (a few small files),
// but opens no manifest, so that a long-lived reader can call it before every query and reread
// the snapshot only when it changed. A commit is in the token once its manifest is renamed into
// place, which is when OpenSnapshot starts to read it.
func Version(root string) (string, error) {
	commits, sum, err := listHash(filepath.Join(root, filepath.FromSlash(commitsDir)), isManifestName, false)
	if err != nil {
		return "", fmt.Errorf("read the ledger of lake %s: %w", root, err)
	}
	tables, tsum, err := listHash(filepath.Join(root, filepath.FromSlash(tablesDir)), func(string) bool { return true }, true)
	if err != nil {
		return "", fmt.Errorf("read the table definitions of lake %s: %w", root, err)
	}
	return fmt.Sprintf("%d:%x:%d:%x", commits, sum, tables, tsum), nil
}

// listHash returns the number of names in dir that keep accepts and a hash of them (and of their
// content, with content), independent of the order the folder lists them in, so that a folder of
// thousands of commits is hashed in one pass without sorting. A folder that does not exist is
// empty.
func listHash(dir string, keep func(string) bool, content bool) (int, uint64, error) {
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, 0, err
	}
	var n int
	var sum uint64
	for _, name := range names {
		if !keep(name) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		if content {
			h.Write([]byte{0})
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, 0, err
			}
			h.Write(data)
		}
		n++
		sum += h.Sum64()
	}
	return n, sum, nil
}
