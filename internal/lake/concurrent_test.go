package lake

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
)

type concurrentRow struct {
	Time  string  `parquet:"time"`
	Name  string  `parquet:"name,dict"`
	Count int64   `parquet:"count"`
	Note  *string `parquet:"note,optional"`
}

// TestWriteConcurrently reads back, row for row and in order, what WriteConcurrently wrote, at
// sizes from none to many row groups, and checks that every row group is whole and keeps the
// bounds of its rows (readers skip row groups by them).
func TestWriteConcurrently(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, n := range []int{0, 1, 4095, 4096, 4097, 30000, 100001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rows := make([]concurrentRow, n)
			for i := range rows {
				rows[i] = concurrentRow{Time: fmt.Sprintf("2026-11-%02dT%08d", 1+i*28/max(n, 1), i), Name: fmt.Sprint("name", i%7), Count: int64(i)}
				if i%3 == 0 {
					note := fmt.Sprint("note ", i)
					rows[i].Note = &note
				}
			}
			const groupRows = 8192
			var buf bytes.Buffer
			if err := WriteConcurrently(&buf, refs(rows), groupRows, parquet.Compression(Zstd(zstd.SpeedFastest))); err != nil {
				t.Fatal(err)
			}
			f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if f.NumRows() != int64(n) {
				t.Fatalf("%d rows in the footer, want %d", f.NumRows(), n)
			}
			at := 0
			for i, rg := range f.RowGroups() {
				if rg.NumRows() == 0 || rg.NumRows() > groupRows {
					t.Errorf("row group %d: %d rows", i, rg.NumRows())
				}
				if f.Metadata().RowGroups[i].Ordinal != int16(i) {
					t.Errorf("row group %d: ordinal %d", i, f.Metadata().RowGroups[i].Ordinal)
				}
				st := f.Metadata().RowGroups[i].Columns[0].MetaData.Statistics
				first, last := rows[at].Time, rows[at+int(rg.NumRows())-1].Time
				if string(st.MinValue) != first || string(st.MaxValue) != last {
					t.Errorf("row group %d: time bounds %q–%q, want %q–%q", i, st.MinValue, st.MaxValue, first, last)
				}
				at += int(rg.NumRows())
			}
			got, err := parquet.Read[concurrentRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, rows, func(a, b concurrentRow) bool {
				return a.Time == b.Time && a.Name == b.Name && a.Count == b.Count && (a.Note == nil) == (b.Note == nil) && (a.Note == nil || *a.Note == *b.Note)
			}) {
				t.Errorf("read back %d rows unlike the %d written", len(got), len(rows))
			}
		})
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.n {
		return 0, fmt.Errorf("disk full")
	}
	w.n -= len(b)
	return len(b), nil
}

// TestWriteConcurrentlyFails returns the output's error, wherever the write fails.
func TestWriteConcurrentlyFails(t *testing.T) {
	rows := make([]concurrentRow, 50000)
	for i := range rows {
		rows[i] = concurrentRow{Time: fmt.Sprint(i), Name: "x", Count: int64(i)}
	}
	for _, n := range []int{0, 3, 10, 1000, 100000} {
		if err := WriteConcurrently(&failingWriter{n}, refs(rows), 4096); err == nil || err.Error() != "disk full" {
			t.Errorf("failing after %d bytes: %v", n, err)
		}
	}
}

// refs points to each of rows.
func refs[T any](rows []T) []*T {
	out := make([]*T, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}
