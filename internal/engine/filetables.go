package engine

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileTableFiles lists the Parquet files of each of the engine's file tables (name → absolute
// paths, sorted): regular files only, in a folder that is no link, so that DuckDB opens nothing
// outside the lake through them.
func (c *core) fileTableFiles() map[string][]string {
	out := map[string][]string{}
	for _, t := range c.opt.FileTables {
		dir := filepath.Join(c.opt.Lake, filepath.FromSlash(t.Dir))
		fi, err := os.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // no file yet: the table is empty
		case err != nil:
			c.log.Warn("table folder left out", "table", t.Name, "folder", dir, "reason", err)
			continue
		case !fi.IsDir():
			c.log.Warn("table folder left out", "table", t.Name, "folder", dir, "reason", "not a folder (a link?)")
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			c.log.Warn("table folder left out", "table", t.Name, "folder", dir, "reason", err)
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".parquet") {
				out[t.Name] = append(out[t.Name], filepath.Join(dir, e.Name()))
			}
		}
		slices.Sort(out[t.Name])
	}
	return out
}

// fileTablesVersion identifies the files of the file tables, which a generation's views read:
// a file added or removed makes a new generation, as a commit does.
func (c *core) fileTablesVersion() string {
	if len(c.opt.FileTables) == 0 {
		return ""
	}
	h := fnv.New64a()
	for _, t := range c.opt.FileTables {
		names, _ := readNames(filepath.Join(c.opt.Lake, filepath.FromSlash(t.Dir)))
		slices.Sort(names)
		fmt.Fprintf(h, "%s\x00%s\x00", t.Name, strings.Join(names, "\x00"))
	}
	return fmt.Sprintf("|%x", h.Sum64())
}

func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// fileTableViews are the statements that define the file tables' views over files.
func (c *core) fileTableViews(files map[string][]string) []string {
	var out []string
	for _, t := range c.opt.FileTables {
		cols := make([]string, len(t.Columns))
		var body string
		if fs := files[t.Name]; len(fs) > 0 {
			for i, col := range t.Columns {
				cols[i] = "CAST(" + quoteIdent(col.Name) + " AS " + col.Type + ") AS " + quoteIdent(col.Name)
			}
			lits := make([]string, len(fs))
			for i, f := range fs {
				lits[i] = quote(f)
			}
			body = "SELECT " + strings.Join(cols, ", ") + " FROM read_parquet([" + strings.Join(lits, ", ") + "], union_by_name = true)"
		} else {
			for i, col := range t.Columns {
				cols[i] = "CAST(NULL AS " + col.Type + ") AS " + quoteIdent(col.Name)
			}
			body = "SELECT " + strings.Join(cols, ", ") + " WHERE false"
		}
		out = append(out, "CREATE OR REPLACE TEMP VIEW "+quoteIdent(t.Name)+" AS "+body)
	}
	return out
}
