package lake

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Check verifies a lake's consistency: every live file exists and holds the rows its commit
// says, and no data file on disk is unknown to the ledger (files a compaction superseded are known
// until they are deleted). It returns the problems found.
func Check(root string) ([]string, error) {
	ms, err := readManifests(root)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, m := range ms {
		for _, f := range m.Files {
			known[f.Path] = true
		}
	}
	snap, err := OpenSnapshot(root)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, f := range snap.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		pf, err := os.Open(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		st, _ := pf.Stat()
		file, err := parquet.OpenFile(pf, st.Size())
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: not a readable Parquet file: %v", f.Path, err))
		} else if file.NumRows() != f.Rows {
			problems = append(problems, fmt.Sprintf("%s: %d rows, the ledger says %d", f.Path, file.NumRows(), f.Rows))
		}
		pf.Close()
	}
	err = filepath.WalkDir(filepath.Join(root, Table), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !known[filepath.ToSlash(rel)] {
			problems = append(problems, fmt.Sprintf("%s: on disk but in no commit", filepath.ToSlash(rel)))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return problems, err
	}
	return problems, nil
}
