package lake

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
)

// WriteConcurrently writes the rows rows point to (in that order) to out as one Parquet file of
// row groups of at most groupRows rows, encoded on every core: each run of rows is encoded on its
// own, as a small Parquet file in memory, and the runs' row groups are copied into out in order,
// under one footer (as the lake's data files are assembled from segments). opts are the
// writer's, but for the row groups' size. The file's footer has no page index (see segment).
//
// The rows are taken by reference, and encoded from there: large rows sorted by reference are
// not moved or copied.
func WriteConcurrently[T any](out io.Writer, rows []*T, groupRows int, opts ...parquet.WriterOption) error {
	return WriteMade(out, len(rows), groupRows, func(i int, _ *T) *T { return rows[i] }, opts...)
}

// WriteMade is WriteConcurrently of n rows that row makes, each when it is encoded: row(i, buf)
// returns the i-th, made in buf (which is reused once it is encoded) or held elsewhere. Rows
// held in a compact form are thus never all made at once.
func WriteMade[T any](out io.Writer, n, groupRows int, row func(i int, buf *T) *T, opts ...parquet.WriterOption) error {
	paths := parquet.SchemaOf(new(T)).Columns()
	opts = append(opts, parquet.MaxRowsPerRowGroup(int64(groupRows)))
	// Runs of a row group's size, or smaller so that every core has one; at least one run, for
	// the schema of a file of no rows.
	workers := runtime.GOMAXPROCS(0)
	size := max(min(groupRows, (n+workers-1)/workers), 1<<12)
	var runs [][2]int // from, to
	for from := 0; from == 0 || from < n; from += size {
		runs = append(runs, [2]int{from, min(from+size, n)})
	}
	segs := make([]*segment, len(runs))
	errs := make([]error, len(runs))
	done := make([]chan struct{}, len(runs))
	next := make(chan int, len(runs))
	for i := range runs {
		done[i] = make(chan struct{})
		next <- i
	}
	close(next)
	// The encoded runs' buffers, back from out once copied there, for the runs after them.
	free := make(chan *bytes.Buffer, len(runs))
	var wg sync.WaitGroup
	for range min(workers, len(runs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			made := make([]T, madeRows) // where row makes the rows of a batch
			for i := range next {
				var buf *bytes.Buffer
				select {
				case buf = <-free:
					buf.Reset()
				default:
					buf = new(bytes.Buffer)
				}
				// Room for the run as the last one of T took, so that the buffer is not grown
				// by doubling (most of what storing an ingest's alerts allocated).
				hint, rows := encodedBytes(reflect.TypeFor[T]()), runs[i][1]-runs[i][0]
				if per := hint.Load(); per > 0 {
					buf.Grow(int(per*int64(rows)/1024) + 64<<10)
				}
				segs[i], errs[i] = encodeRun(buf, runs[i][0], runs[i][1], row, made, paths, opts)
				if errs[i] == nil && rows > 0 {
					// In 1024ths of a byte per row, and a little more (5%).
					hint.Store(int64(buf.Len()) * 1075 / int64(rows))
				}
				close(done[i])
			}
		}()
	}
	defer wg.Wait()
	// The runs are copied out in order as they are done: one in memory at a time, but for
	// those encoded ahead of it.
	footer := fileFooter{offset: int64(len(parquetMagic))}
	if _, err := io.WriteString(out, parquetMagic); err != nil {
		return err
	}
	for i := range runs {
		<-done[i]
		if errs[i] != nil {
			return errs[i]
		}
		if _, err := out.Write(segs[i].data); err != nil {
			return err
		}
		footer.add(segs[i])
		free <- segs[i].buf
		segs[i] = nil
	}
	tail, err := footer.tail()
	if err != nil {
		return err
	}
	_, err = out.Write(tail)
	return err
}

// madeRows is the rows WriteMade makes (and encodes) at a time, in each worker.
const madeRows = 1024

// encodeRun encodes rows from…to as a small Parquet file in buf, made madeRows at a time in made.
func encodeRun[T any](buf *bytes.Buffer, from, to int, row func(int, *T) *T, made []T, paths [][]string, opts []parquet.WriterOption) (*segment, error) {
	// Written from the pointers: copying each row first was a fifth of the time.
	w := parquet.NewGenericWriter[*T](buf, opts...)
	batch := make([]*T, 0, len(made))
	for i := from; i < to; i++ {
		batch = append(batch, row(i, &made[len(batch)]))
		if len(batch) == cap(batch) || i == to-1 {
			if _, err := w.Write(batch); err != nil {
				return nil, fmt.Errorf("encode rows: %w", err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	return parseSegment(buf, paths)
}

// runBytes holds, by row type, the bytes per row (in 1024ths) of the last run encoded.
var runBytes sync.Map // reflect.Type → *atomic.Int64

func encodedBytes(t reflect.Type) *atomic.Int64 {
	if v, ok := runBytes.Load(t); ok {
		return v.(*atomic.Int64)
	}
	v, _ := runBytes.LoadOrStore(t, new(atomic.Int64))
	return v.(*atomic.Int64)
}
