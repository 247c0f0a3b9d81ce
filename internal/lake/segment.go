package lake

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// A data file is assembled from segments: each batch of rows handed off for a file is sorted and
// encoded on its own, concurrently with the file's other batches, as a small Parquet file in
// memory; the segments' row groups are then copied into the data file in the order the batches
// were handed off, their offsets moved, and the file's footer is made of their row groups. So the
// rows of one partition-day (a busy account's millions of events a day) are encoded on every
// core, and the file is the same plain Parquet a single writer makes.
//
// The footer leaves out what no reader of the lake uses and parquet-go cannot be told to leave
// out: the page index (a column index and an offset index per column chunk), and the size and
// encoding statistics of each column chunk, all optional in the format. A column chunk is
// mostly one page here and its bounds are in the chunk's statistics: on the 1M-event benchmark
// they took 2.1 MB of 105 MB.

// parquetMagic opens and closes a Parquet file.
const parquetMagic = "PAR1"

// segment is one encoded batch: the bytes of its row groups and their metadata, with offsets
// relative to the start of data.
type segment struct {
	buf  *bytes.Buffer // holds the whole small file; data is a slice of it
	data []byte        // the row groups' bytes, as they go into the data file
	md   format.FileMetaData
}

// columnPaths are the paths of a data file's columns, in the order of a row group's column
// chunks.
var columnPaths = sync.OnceValue(func() [][]string { return parquet.SchemaOf(new(cloudtrail.Record)).Columns() })

// parseSegment reads the footer of the small Parquet file in buf, whose columns are paths.
func parseSegment(buf *bytes.Buffer, paths [][]string) (*segment, error) {
	b := buf.Bytes()
	if len(b) < 12 || string(b[:4]) != parquetMagic || string(b[len(b)-4:]) != parquetMagic {
		return nil, errors.New("encode rows: not a Parquet file")
	}
	footerLen := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	footerAt := len(b) - 8 - footerLen
	if footerAt < 4 {
		return nil, errors.New("encode rows: bad footer length")
	}
	s := &segment{buf: buf}
	var proto thrift.CompactProtocol
	// The decoded strings and byte slices (column paths, statistics) point into what is decoded,
	// without copying: not into buf, which is reused once the segment is in its file.
	footer := bytes.Clone(b[footerAt : len(b)-8])
	if err := thrift.Unmarshal(&proto, footer, &s.md); err != nil {
		return nil, fmt.Errorf("encode rows: read footer: %w", err)
	}
	// The row groups are where they were written, from just after the magic to the page index.
	end := int64(4)
	for i := range s.md.RowGroups {
		if len(s.md.RowGroups[i].Columns) != len(paths) {
			return nil, fmt.Errorf("encode rows: %d column chunks in a row group, want %d", len(s.md.RowGroups[i].Columns), len(paths))
		}
		for j := range s.md.RowGroups[i].Columns {
			c := &s.md.RowGroups[i].Columns[j]
			// A reused encoder leaves the paths empty (see Writer.idleEnc).
			c.MetaData.PathInSchema = paths[j]
			if c.FilePath != "" || c.MetaData.BloomFilterOffset > 0 {
				return nil, errors.New("encode rows: unexpected column chunk layout")
			}
			start := c.MetaData.DataPageOffset
			if c.MetaData.DictionaryPageOffset > 0 {
				start = min(start, c.MetaData.DictionaryPageOffset)
			}
			end = max(end, start+c.MetaData.TotalCompressedSize)
		}
	}
	if end > int64(footerAt) {
		return nil, errors.New("encode rows: row groups overlap the footer")
	}
	s.data = b[4:end]
	return s, nil
}

// fileFooter is the metadata of a data file being assembled.
type fileFooter struct {
	md     format.FileMetaData
	has    bool  // md holds the schema (from the first segment)
	offset int64 // bytes of the file so far
}

// add takes a segment's row groups, written at the file's current end, into the footer.
func (f *fileFooter) add(s *segment) {
	if !f.has {
		f.md = s.md
		f.md.RowGroups, f.md.NumRows = nil, 0
		f.has = true
	}
	shift := f.offset - 4 // the segment's data started at 4 in its own file
	move := func(p *int64) {
		if *p > 0 {
			*p += shift
		}
	}
	for _, rg := range s.md.RowGroups {
		move(&rg.FileOffset)
		for j := range rg.Columns {
			c := &rg.Columns[j]
			move(&c.FileOffset)
			move(&c.MetaData.DataPageOffset)
			move(&c.MetaData.DictionaryPageOffset)
			move(&c.MetaData.IndexPageOffset)
			c.ColumnIndexOffset, c.ColumnIndexLength, c.OffsetIndexOffset, c.OffsetIndexLength = 0, 0, 0, 0
			c.MetaData.SizeStatistics = format.SizeStatistics{}
			c.MetaData.EncodingStats = nil
		}
		rg.Ordinal = int16(len(f.md.RowGroups))
		f.md.RowGroups = append(f.md.RowGroups, rg)
		f.md.NumRows += rg.NumRows
	}
	f.offset += int64(len(s.data))
}

// tail is the end of the file: the footer, its length and the magic.
func (f *fileFooter) tail() ([]byte, error) {
	var proto thrift.CompactProtocol
	out, err := thrift.Marshal(&proto, &f.md)
	if err != nil {
		return nil, err
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(out)))
	return append(out, parquetMagic...), nil
}
