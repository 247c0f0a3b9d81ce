package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/parquet-go/parquet-go"
)

// ColumnSize is what one leaf column of the lake takes in its data files.
type ColumnSize struct {
	Path  string // dotted, e.g. useridentity.accesskeyid
	Bytes int64  // compressed, all row groups of all files
}

// LakeColumns are the sizes of a lake's data files, column by column.
type LakeColumns struct {
	Files, RowGroups int
	Rows             int64
	Data             int64 // bytes of the .parquet files
	Columns          []ColumnSize
}

// DataFiles lists the .parquet files under a lake's table folder.
func DataFiles(table string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(table, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the lake files under %s: %w", table, err)
	}
	sort.Strings(files)
	return files, nil
}

// ReadColumns sums, from the footers of the files, the bytes each column takes, largest first.
func ReadColumns(files []string) (*LakeColumns, error) {
	out := &LakeColumns{Files: len(files)}
	by := map[string]int64{}
	for _, name := range files {
		err := withFile(name, func(f *parquet.File) error {
			md := f.Metadata()
			out.RowGroups += len(md.RowGroups)
			out.Rows += md.NumRows
			out.Data += f.Size()
			for _, rg := range md.RowGroups {
				for _, c := range rg.Columns {
					by[strings.Join(c.MetaData.PathInSchema, ".")] += c.MetaData.TotalCompressedSize
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for p, n := range by {
		out.Columns = append(out.Columns, ColumnSize{Path: listPath(p), Bytes: n})
	}
	sort.Slice(out.Columns, func(i, j int) bool {
		if out.Columns[i].Bytes != out.Columns[j].Bytes {
			return out.Columns[i].Bytes > out.Columns[j].Bytes
		}
		return out.Columns[i].Path < out.Columns[j].Path
	})
	return out, nil
}

// listPath drops the list and element levels of a Parquet path: resources.list.element.arn is
// resources.arn in SQL.
func listPath(p string) string { return strings.ReplaceAll(p, ".list.element", "") }

func withFile(name string, fn func(*parquet.File) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return fn(pf)
}

// IDColumns are the columns of random identifiers: each distinct value carries its random
// characters, which no encoding can store in fewer bits. An entry "column:key" is the string
// value of that key in the column's JSON text: S3 data events carry a random x-amz-id-2 of 56
// characters in additionalEventData, the largest identifier of a trail.
var IDColumns = []string{
	"eventid", "requestid", "sharedeventid", "useridentity.accesskeyid", "useridentity.principalid",
	"useridentity.sessioncontext.sessionissuer.principalid", "additionaleventdata:x-amz-id-2",
}

// jsonValue returns the string value of key in a JSON object's text (the first one found), or
// nil.
func jsonValue(text []byte, key string) []byte {
	pat := `"` + key + `":`
	i := bytes.Index(text, []byte(pat))
	if i < 0 {
		return nil
	}
	v := bytes.TrimLeft(text[i+len(pat):], " ")
	if len(v) == 0 || v[0] != '"' {
		return nil
	}
	end := bytes.IndexByte(v[1:], '"')
	if end < 0 {
		return nil
	}
	return v[1 : 1+end]
}

// Entropy estimates the information of one column's distinct values.
type Entropy struct {
	Path     string
	Distinct int64
	// BitsPerValue is the entropy of a distinct value, estimated position by position from the
	// characters seen at each position over the distinct values of the same length (each
	// position an independent variable), plus that of the length: a random hex digit counts 4
	// bits, a fixed prefix nothing. For identifiers made of independent random characters (one
	// format per length) this is their true entropy.
	BitsPerValue float64
	// Stored is the column's compressed bytes in the lake (for a key of a JSON column, the
	// whole column's).
	Stored int64
}

// Floor is the fewest bytes the column's distinct values can be stored in.
func (e Entropy) Floor() int64 { return int64(float64(e.Distinct) * e.BitsPerValue / 8) }

// maxIDLen bounds the positions counted; characters beyond it are not (identifiers are shorter).
const maxIDLen = 128

// IDEntropy reads the id columns of the lake's files and estimates their entropy floor.
func IDEntropy(files []string, cols *LakeColumns) ([]Entropy, error) {
	type acc struct {
		seen   map[uint64]struct{}
		counts map[int]*[maxIDLen][256]int64 // by length
	}
	accs := make([]*acc, len(IDColumns))
	for i := range accs {
		accs[i] = &acc{seen: map[uint64]struct{}{}, counts: map[int]*[maxIDLen][256]int64{}}
	}
	buf := make([]parquet.Value, 1024)
	for _, name := range files {
		err := withFile(name, func(f *parquet.File) error {
			for ci, path := range IDColumns {
				path, key, inJSON := strings.Cut(path, ":")
				leaf, ok := f.Schema().Lookup(strings.Split(path, ".")...)
				if !ok {
					continue
				}
				a := accs[ci]
				for _, rg := range f.RowGroups() {
					pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
					for {
						page, err := pages.ReadPage()
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil {
							pages.Close()
							return fmt.Errorf("read %s column %s: %w", name, path, err)
						}
						vr := page.Values()
						for {
							n, err := vr.ReadValues(buf)
							for _, v := range buf[:n] {
								b := v.ByteArray()
								if inJSON && !v.IsNull() {
									b = jsonValue(b, key)
								}
								if v.IsNull() || len(b) == 0 {
									continue
								}
								h := xxhash.Sum64(b)
								if _, dup := a.seen[h]; dup {
									continue
								}
								a.seen[h] = struct{}{}
								counts := a.counts[len(b)]
								if counts == nil {
									counts = new([maxIDLen][256]int64)
									a.counts[len(b)] = counts
								}
								for i, c := range b[:min(len(b), maxIDLen)] {
									counts[i][c]++
								}
							}
							if errors.Is(err, io.EOF) {
								break
							}
							if err != nil {
								parquet.Release(page)
								pages.Close()
								return fmt.Errorf("read %s column %s: %w", name, path, err)
							}
						}
						parquet.Release(page)
					}
					pages.Close()
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	stored := map[string]int64{}
	if cols != nil {
		for _, c := range cols.Columns {
			stored[c.Path] = c.Bytes
		}
	}
	out := make([]Entropy, len(IDColumns))
	for ci, path := range IDColumns {
		a := accs[ci]
		col, _, _ := strings.Cut(path, ":")
		e := Entropy{Path: path, Distinct: int64(len(a.seen)), Stored: stored[col]}
		var bits float64
		for _, counts := range a.counts {
			n := counts[0] // every value of the length has a first character
			var values int64
			for _, c := range n {
				values += c
			}
			h := -math.Log2(float64(values) / float64(e.Distinct)) // the length's
			for pos := range counts {
				h += positionBits(&counts[pos], values)
			}
			bits += float64(values) * h
		}
		if e.Distinct > 0 {
			e.BitsPerValue = bits / float64(e.Distinct)
		}
		out[ci] = e
	}
	return out, nil
}

// positionBits is the entropy, in bits per value, of the characters at one position over n
// values (a value too short to reach the position counts as an end marker).
func positionBits(counts *[256]int64, n int64) float64 {
	if n == 0 {
		return 0
	}
	var seen int64
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			seen += c
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	if rest := n - seen; rest > 0 {
		p := float64(rest) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// HashFloor is the fewest bytes in which the ledger can hold the 64-bit content hashes of
// partitions of these row counts: a sorted set of n random 64-bit values takes
// log2(C(2^64, n)) ≈ n·(64 − log2 n + log2 e) bits.
func HashFloor(partitionRows []int64) int64 {
	var bits float64
	for _, n := range partitionRows {
		if n > 0 {
			bits += float64(n) * (64 - math.Log2(float64(n)) + math.Log2E)
		}
	}
	return int64(bits / 8)
}
