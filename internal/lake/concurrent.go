package lake

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/parquet-go/parquet-go"
)

// WriteConcurrently writes rows to out as one Parquet file of row groups of at most groupRows
// rows, encoded on every core: each run of rows is encoded on its own, as a small Parquet file in
// memory, and the runs' row groups are copied into out in order, under one footer (as the lake's
// data files are assembled from segments). opts are the writer's, but for the row groups' size.
// The file's footer has no page index (see segment).
func WriteConcurrently[T any](out io.Writer, rows []T, groupRows int, opts ...parquet.WriterOption) error {
	paths := parquet.SchemaOf(new(T)).Columns()
	opts = append(opts, parquet.MaxRowsPerRowGroup(int64(groupRows)))
	// Runs of a row group's size, or smaller so that every core has one; at least one run, for
	// the schema of a file of no rows.
	workers := runtime.GOMAXPROCS(0)
	size := max(min(groupRows, (len(rows)+workers-1)/workers), 1<<12)
	var runs [][]T
	for len(rows) > size {
		runs, rows = append(runs, rows[:size]), rows[size:]
	}
	runs = append(runs, rows)
	segs := make([]*segment, len(runs))
	errs := make([]error, len(runs))
	done := make([]chan struct{}, len(runs))
	next := make(chan int, len(runs))
	for i := range runs {
		done[i] = make(chan struct{})
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(workers, len(runs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				segs[i], errs[i] = encodeRun(runs[i], paths, opts)
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
		segs[i] = nil
	}
	tail, err := footer.tail()
	if err != nil {
		return err
	}
	_, err = out.Write(tail)
	return err
}

// encodeRun encodes rows as a small Parquet file in memory.
func encodeRun[T any](rows []T, paths [][]string, opts []parquet.WriterOption) (*segment, error) {
	buf := new(bytes.Buffer)
	w := parquet.NewGenericWriter[T](buf, opts...)
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	return parseSegment(buf, paths)
}
