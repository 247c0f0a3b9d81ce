package lake

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// Projection reads the rows of lake files as cloudtrail.Records, decoding only some columns: the
// others are left NULL. Reading a file through the Parquet library's row reconstruction costs
// several times what decoding its columns one after the other does (a Value per field of every
// row, reflection for each), which made it the larger part of a detection backtest.
//
// A Projection is safe for concurrent use.
type Projection struct {
	leaves []*leafColumn // the non-repeated leaves read, by column path
	groups []group       // the structs on the way to them
	// nested is the schema of the repeated fields read (resources, the web identity attributes
	// map), nil when none: they are reconstructed by the library, and grafted into the rows.
	nested      *parquet.Schema
	nestedPaths [][]int // the struct field indexes leading to each, in Record
}

// leafColumn is a string or boolean column that is not repeated, and where a Record keeps it.
type leafColumn struct {
	path []string
	// groups are the structs on the way (indexes in Projection.groups), outermost first: a
	// row whose definition level is above a group's depth has it.
	groups []int
	offset uintptr // the leaf's *string or *bool in its struct
	isBool bool
}

// group is a struct on the way to some leaves.
type group struct {
	offset uintptr      // of the pointer in its parent
	typ    reflect.Type // the struct pointed to
}

// recordType is the row type of the lake's files.
var recordType = reflect.TypeFor[cloudtrail.Record]()

// NewProjection returns a Projection of the columns at paths: dotted paths in lower case of a
// column, a struct's field, or a struct (all its fields are read); nil: every column. A path that
// names no column is ignored.
func NewProjection(paths []string) *Projection {
	p := &Projection{}
	var nested [][]string
	var walk func(t reflect.Type, prefix []string, groups []int)
	walk = func(t reflect.Type, prefix []string, groups []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := append(slices.Clone(prefix), name)
			if !wanted(paths, path) {
				continue
			}
			switch {
			case f.Type == reflect.TypeFor[*string]() || f.Type == reflect.TypeFor[*bool]():
				p.leaves = append(p.leaves, &leafColumn{path: path, groups: groups, offset: f.Offset,
					isBool: f.Type.Elem().Kind() == reflect.Bool})
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
				p.groups = append(p.groups, group{offset: f.Offset, typ: f.Type.Elem()})
				walk(f.Type.Elem(), path, append(slices.Clone(groups), len(p.groups)-1))
			default: // a list or a map
				nested = append(nested, path)
			}
		}
	}
	walk(recordType, nil, nil)
	if len(nested) > 0 {
		root := parquet.SchemaOf(cloudtrail.Record{})
		p.nested = parquet.NewSchema(root.Name(), project(root, nested, 0))
		for _, path := range nested {
			p.nestedPaths = append(p.nestedPaths, fieldIndexes(path))
		}
	}
	return p
}

// wanted reports whether a field at path is read: some path asks for it, a field of it, or a
// struct holding it.
func wanted(paths []string, path []string) bool {
	if paths == nil {
		return true
	}
	full := strings.Join(path, ".")
	for _, p := range paths {
		if p == full || strings.HasPrefix(p, full+".") || strings.HasPrefix(full, p+".") {
			return true
		}
	}
	return false
}

// projection is a group node cut to some of its fields.
type projection struct {
	parquet.Node
	fields []parquet.Field
}

func (p *projection) Fields() []parquet.Field { return p.fields }

type projectedField struct {
	parquet.Field
	node parquet.Node
}

func (f *projectedField) Fields() []parquet.Field { return f.node.Fields() }

// project cuts node to the fields on the way to paths (each from depth on).
func project(node parquet.Node, paths [][]string, depth int) parquet.Node {
	var keep []parquet.Field
	for _, f := range node.Fields() {
		var below [][]string
		whole := false
		for _, p := range paths {
			if p[depth] == f.Name() {
				if len(p) == depth+1 {
					whole = true
				}
				below = append(below, p)
			}
		}
		switch {
		case whole:
			keep = append(keep, f)
		case len(below) > 0:
			keep = append(keep, &projectedField{f, project(f, below, depth+1)})
		}
	}
	return &projection{node, keep}
}

// fieldIndexes are the struct field indexes of a path in Record.
func fieldIndexes(path []string) []int {
	var out []int
	t := recordType
	for _, name := range path {
		for i := range t.NumField() {
			if n, _, _ := strings.Cut(t.Field(i).Tag.Get("parquet"), ","); n == name {
				out = append(out, i)
				t = t.Field(i).Type
				if t.Kind() == reflect.Pointer {
					t = t.Elem()
				}
				break
			}
		}
	}
	return out
}

// Read decodes the rows of the lake file data (named name in errors) and calls emit with them,
// a row group at a time; the records are emit's until it returns. Rows share the strings of a
// dictionary-encoded column: the records are to be read, not changed. They hold no part of data
// (read through an io.ReaderAt, which copies), which the caller may reuse once Read returns.
func (p *Projection) Read(name string, data []byte, emit func([]cloudtrail.Record) error) error {
	return p.NewReader(false).Read(name, data, emit)
}

// A Reader reads lake files through a Projection, one after the other, and reuses its memory
// from one row group to the next: the records emit is given, the structs they point to, and the
// pointers to their strings. The strings themselves are new (a string taken from a record may be
// kept), but for a transient Reader's (see NewReader). A Reader is for one goroutine.
type Reader struct {
	p           *Projection
	rows, extra []cloudtrail.Record
	// arena holds the strings of the row group's plain pages, when transient (else nil).
	arena     []byte
	transient bool
	// structs are, by group, the row group's structs (allocated or cleared when first needed
	// in a row group), and slabs the memory they are in.
	structs []unsafe.Pointer
	slabs   []reflect.Value
	// strs are, by leaf, the strings the row group's rows point to (of its plain pages).
	strs [][]string
	// skip are, by leaf, the columns Only left out (nil: none).
	skip []bool
}

// Only limits the Reads that follow to the columns at paths (as NewProjection takes them) of
// the Projection's leaves; the others are left NULL. nil: every leaf of the Projection. (The
// lists and maps of the Projection are read whatever paths say.)
func (r *Reader) Only(paths []string) {
	if paths == nil {
		r.skip = nil
		return
	}
	r.skip = make([]bool, len(r.p.leaves))
	for i, leaf := range r.p.leaves {
		r.skip[i] = !wanted(paths, leaf.path)
	}
}

// NewReader returns a Reader of files through p. A transient Reader reuses the memory of the
// strings of pages without a dictionary too (most of the bytes a row group holds, a JSON payload,
// an event id), from one row group to the next: such a string is valid until emit returns, and
// one to keep is to be copied (Transient tells which).
func (p *Projection) NewReader(transient bool) *Reader {
	return &Reader{p: p, structs: make([]unsafe.Pointer, len(p.groups)), slabs: make([]reflect.Value, len(p.groups)),
		strs: make([][]string, len(p.leaves)), transient: transient}
}

// Transient reports whether s is in the memory a transient Reader reuses after emit returns.
func (r *Reader) Transient(s string) bool {
	if len(s) == 0 || len(r.arena) == 0 {
		return false
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(r.arena)))
	return off < uintptr(len(r.arena))
}

// block returns a copy of data, in the arena when transient. The arena grows into new memory
// (the strings in the old stay as they are): it is reused only once a row group is over.
func (r *Reader) block(data []byte) string {
	if !r.transient {
		return string(data)
	}
	if len(data) == 0 {
		return ""
	}
	if len(r.arena)+len(data) > cap(r.arena) {
		r.arena = make([]byte, 0, max(2*cap(r.arena), len(data), 1<<16))
	}
	start := len(r.arena)
	r.arena = append(r.arena, data...)
	return unsafe.String(&r.arena[start], len(data))
}

// Read is Projection.Read, the records' memory reused from the row group before (see Reader).
func (r *Reader) Read(name string, data []byte, emit func([]cloudtrail.Record) error) (err error) {
	defer func() {
		// The Parquet library panics on some damage.
		if x := recover(); x != nil {
			err = fmt.Errorf("read %s: %v", name, x)
		}
	}()
	p := r.p
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var nested *parquet.GenericReader[cloudtrail.Record]
	if p.nested != nil {
		nested = parquet.NewGenericReader[cloudtrail.Record](f, p.nested)
		defer nested.Close()
	}
	for _, rg := range f.RowGroups() {
		n := int(rg.NumRows())
		r.rows = slices.Grow(r.rows[:0], n)[:n]
		clear(r.rows)
		clear(r.structs)
		r.arena = r.arena[:0]
		for li, leaf := range p.leaves {
			if r.skip != nil && r.skip[li] {
				continue
			}
			if err := leaf.read(r, li, f, rg); err != nil {
				return fmt.Errorf("read %s: column %s: %w", name, strings.Join(leaf.path, "."), err)
			}
		}
		if nested != nil {
			r.extra = slices.Grow(r.extra[:0], n)[:n]
			clear(r.extra)
			for k := 0; k < n; {
				m, err := nested.Read(r.extra[k:])
				k += m
				if err != nil && (err != io.EOF || k < n) {
					if err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return fmt.Errorf("read %s: %d of %d rows: %w", name, k, n, err)
				}
			}
			for i := range r.rows {
				for _, path := range p.nestedPaths {
					graft(&r.rows[i], &r.extra[i], path)
				}
			}
		}
		if err := emit(r.rows); err != nil {
			return err
		}
	}
	return nil
}

// structsOf returns the first of the row group's structs of group gi, zero.
func (r *Reader) structsOf(gi int) unsafe.Pointer {
	n := len(r.rows)
	if s := r.slabs[gi]; s.IsValid() && s.Len() >= n {
		s.Slice(0, n).Clear()
	} else {
		r.slabs[gi] = reflect.MakeSlice(reflect.SliceOf(r.p.groups[gi].typ), n, n)
	}
	r.structs[gi] = r.slabs[gi].UnsafePointer()
	return r.structs[gi]
}

// graft copies the field at path (struct field indexes) of src into dst, with the structs on the
// way when src has them.
func graft(dst, src *cloudtrail.Record, path []int) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for k, i := range path {
		d, s = d.Field(i), s.Field(i)
		if k == len(path)-1 {
			d.Set(s)
			return
		}
		if s.IsNil() {
			return
		}
		if d.IsNil() {
			d.Set(reflect.New(d.Type().Elem()))
		}
		d, s = d.Elem(), s.Elem()
	}
}

// read sets the column of every row of rg in r.rows. A page's values are read from its own
// arrays (definition levels, dictionary indexes or strings), not as a parquet.Value each: the
// strings of a page are copied in one block, and a dictionary's values once for its column chunk.
func (c *leafColumn) read(r *Reader, li int, f *parquet.File, rg parquet.RowGroup) error {
	leaf, ok := f.Schema().Lookup(c.path...)
	if !ok {
		return nil // a file written before the column was: NULL
	}
	if leaf.MaxRepetitionLevel != 0 || leaf.MaxDefinitionLevel != len(c.path) {
		return fmt.Errorf("not the lake's schema (repetition level %d, definition level %d)", leaf.MaxRepetitionLevel, leaf.MaxDefinitionLevel)
	}
	want := parquet.ByteArray
	if c.isBool {
		want = parquet.Boolean
	}
	if k := leaf.Node.Type().Kind(); k != want {
		return fmt.Errorf("of type %s, not %s", k, want)
	}
	pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
	defer pages.Close()
	var (
		dict     parquet.Dictionary // the column chunk's, and its values
		dictVals []string
	)
	// The strings of the plain pages: room for every row, so that a page's never move.
	strs := slices.Grow(r.strs[li][:0], len(r.rows))
	defer func() { r.strs[li] = strs }()
	row := 0
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		defs := page.DefinitionLevels()
		if row+len(defs) > len(r.rows) {
			parquet.Release(page)
			return fmt.Errorf("more values than the row group's %d rows", len(r.rows))
		}
		data := page.Data()
		switch d := page.Dictionary(); {
		case c.isBool || defs == nil:
			row, err = c.readValues(r, page, row)
		case d != nil && data.Kind() == encoding.Int32:
			if d != dict {
				dict, dictVals = d, dictStrings(d)
			}
			err = c.setStrings(r, row, defs, data.Int32(), dictVals)
			row += len(defs)
		case d == nil && data.Kind() == encoding.ByteArray:
			bytes, offsets := data.ByteArray()
			start := len(strs)
			strs = pageStrings(strs, r.block(bytes), offsets)
			err = c.setStrings(r, row, defs, nil, strs[start:])
			row += len(defs)
		default:
			err = fmt.Errorf("a page of %s values", data.Kind())
		}
		parquet.Release(page)
		if err != nil {
			return err
		}
	}
	if row != len(r.rows) {
		return fmt.Errorf("%d values for the row group's %d rows", row, len(r.rows))
	}
	return nil
}

// setStrings sets the column in the row group's rows from row first on from a page: its
// definition levels, and its values (vals, or the dictionary's vals at indexes).
func (c *leafColumn) setStrings(r *Reader, first int, defs []byte, indexes []int32, vals []string) error {
	k := 0
	for i, def := range defs {
		ptr := c.reach(r, first+i, int(def))
		if ptr == nil {
			continue
		}
		v := k
		if indexes != nil {
			if k >= len(indexes) {
				return fmt.Errorf("a page of %d values has fewer non-NULL values than its definition levels say", len(defs))
			}
			v = int(indexes[k])
		}
		if v < 0 || v >= len(vals) {
			return fmt.Errorf("value %d of a page is out of its %d values", v, len(vals))
		}
		*(**string)(unsafe.Add(ptr, c.offset)) = &vals[v]
		k++
	}
	return nil
}

// pageStrings appends to vals the strings of a page of byte arrays, in block (a copy of its
// data).
func pageStrings(vals []string, block string, offsets []uint32) []string {
	if len(offsets) == 0 {
		return vals
	}
	for i := range len(offsets) - 1 {
		lo, hi := offsets[i], offsets[i+1]
		if lo > hi || int(hi) > len(block) {
			return vals // the rest is damaged: setStrings says so when a row needs one
		}
		vals = append(vals, block[lo:hi])
	}
	return vals
}

// dictStrings are the values of a dictionary of byte arrays, copied in one block.
func dictStrings(d parquet.Dictionary) []string {
	raw := make([][]byte, d.Len())
	size := 0
	for i := range raw {
		raw[i] = d.Index(int32(i)).ByteArray()
		size += len(raw[i])
	}
	block := make([]byte, 0, size)
	for _, b := range raw {
		block = append(block, b...)
	}
	text := unsafe.String(unsafe.SliceData(block), len(block))
	vals := make([]string, len(raw))
	off := 0
	for i, b := range raw {
		vals[i] = text[off : off+len(b)]
		off += len(b)
	}
	return vals
}

// readValues sets the column from a page through its parquet.Values, for the row group's rows
// from row on, and returns the row after them: booleans, and pages of no definition levels.
func (c *leafColumn) readValues(r *Reader, page parquet.Page, row int) (int, error) {
	var buf [256]parquet.Value
	values := page.Values()
	for {
		n, err := values.ReadValues(buf[:])
		for _, v := range buf[:n] {
			if row >= len(r.rows) {
				return row, fmt.Errorf("more values than the row group's %d rows", len(r.rows))
			}
			if ptr := c.reach(r, row, v.DefinitionLevel()); ptr != nil && !v.IsNull() {
				if c.isBool {
					b := &falseValue
					if v.Boolean() {
						b = &trueValue
					}
					*(**bool)(unsafe.Add(ptr, c.offset)) = b
				} else {
					s := string(v.ByteArray())
					*(**string)(unsafe.Add(ptr, c.offset)) = &s
				}
			}
			row++
		}
		if err == io.EOF {
			return row, nil
		}
		if err != nil {
			return row, err
		}
	}
}

// The booleans the rows point to (the records are read, not changed).
var trueValue, falseValue = true, false

// reach gives the row group's row the structs on the way to the column that its definition
// level def says it has, and returns the struct holding the column when the column is not NULL,
// or nil.
func (c *leafColumn) reach(r *Reader, row, def int) unsafe.Pointer {
	ptr := unsafe.Pointer(&r.rows[row])
	for depth, gi := range c.groups {
		if def <= depth {
			return nil
		}
		slot := (*unsafe.Pointer)(unsafe.Add(ptr, r.p.groups[gi].offset))
		if *slot == nil {
			base := r.structs[gi]
			if base == nil {
				base = r.structsOf(gi)
			}
			*slot = unsafe.Add(base, uintptr(row)*r.p.groups[gi].typ.Size())
		}
		ptr = *slot
	}
	if def < len(c.path) {
		return nil
	}
	return ptr
}
