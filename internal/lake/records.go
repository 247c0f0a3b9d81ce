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
	// nested is the schema of the repeated fields read (resources, the web identity attributes
	// map), nil when none: they are reconstructed by the library, and grafted into the rows.
	nested      *parquet.Schema
	nestedPaths [][]int // the struct field indexes leading to each, in Record
}

// leafColumn is a string or boolean column that is not repeated, and where a Record keeps it.
type leafColumn struct {
	path []string
	// groups are the struct pointers on the way, outermost first: a row whose definition
	// level is above a group's depth has it.
	groups []group
	offset uintptr // the leaf's *string or *bool in its struct
	isBool bool
	// dict: a column of few distinct values (dictionary-encoded), whose rows share one string
	// per value.
	dict bool
}

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
	var walk func(t reflect.Type, prefix []string, groups []group)
	walk = func(t reflect.Type, prefix []string, groups []group) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("parquet"), ",")
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
					isBool: f.Type.Elem().Kind() == reflect.Bool, dict: slices.Contains(strings.Split(opts, ","), "dict")})
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), path, append(slices.Clone(groups), group{offset: f.Offset, typ: f.Type.Elem()}))
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
// dictionary-encoded column: the records are to be read, not changed.
func (p *Projection) Read(name string, data []byte, emit func([]cloudtrail.Record) error) (err error) {
	defer func() {
		// The Parquet library panics on some damage.
		if x := recover(); x != nil {
			err = fmt.Errorf("read %s: %v", name, x)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var nested *parquet.GenericReader[cloudtrail.Record]
	if p.nested != nil {
		nested = parquet.NewGenericReader[cloudtrail.Record](f, p.nested)
		defer nested.Close()
	}
	var rows []cloudtrail.Record
	var extra []cloudtrail.Record
	strs := map[string]*string{}
	for _, rg := range f.RowGroups() {
		n := int(rg.NumRows())
		rows = slices.Grow(rows[:0], n)[:n]
		clear(rows)
		for _, leaf := range p.leaves {
			clear(strs)
			if err := leaf.read(f, rg, rows, strs); err != nil {
				return fmt.Errorf("read %s: column %s: %w", name, strings.Join(leaf.path, "."), err)
			}
		}
		if nested != nil {
			extra = slices.Grow(extra[:0], n)[:n]
			clear(extra)
			for k := 0; k < n; {
				m, err := nested.Read(extra[k:])
				k += m
				if err != nil && (err != io.EOF || k < n) {
					if err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return fmt.Errorf("read %s: %d of %d rows: %w", name, k, n, err)
				}
			}
			for i := range rows {
				for _, path := range p.nestedPaths {
					graft(&rows[i], &extra[i], path)
				}
			}
		}
		if err := emit(rows); err != nil {
			return err
		}
	}
	return nil
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

// read sets the column of every row of rg in rows. strs holds the strings of a dictionary column
// read before, so that a value read again is not allocated again.
func (c *leafColumn) read(f *parquet.File, rg parquet.RowGroup, rows []cloudtrail.Record, strs map[string]*string) error {
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
	var buf [256]parquet.Value
	row := 0
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		values := page.Values()
		for {
			n, err := values.ReadValues(buf[:])
			for _, v := range buf[:n] {
				if row >= len(rows) {
					parquet.Release(page)
					return fmt.Errorf("more values than the row group's %d rows", len(rows))
				}
				c.set(&rows[row], v, strs)
				row++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				parquet.Release(page)
				return err
			}
		}
		parquet.Release(page)
	}
	if row != len(rows) {
		return fmt.Errorf("%d values for the row group's %d rows", row, len(rows))
	}
	return nil
}

// set stores one value in r: the structs on the way its definition level says r has, and the
// value when it is not NULL.
func (c *leafColumn) set(r *cloudtrail.Record, v parquet.Value, strs map[string]*string) {
	def := v.DefinitionLevel()
	ptr := unsafe.Pointer(r)
	for depth, g := range c.groups {
		if def <= depth {
			return
		}
		slot := (*unsafe.Pointer)(unsafe.Add(ptr, g.offset))
		if *slot == nil {
			*slot = reflect.New(g.typ).UnsafePointer()
		}
		ptr = *slot
	}
	if v.IsNull() || def < len(c.path) {
		return
	}
	if c.isBool {
		b := v.Boolean()
		*(**bool)(unsafe.Add(ptr, c.offset)) = &b
		return
	}
	raw := v.ByteArray()
	if !c.dict {
		s := string(raw)
		*(**string)(unsafe.Add(ptr, c.offset)) = &s
		return
	}
	s, ok := strs[string(raw)]
	if !ok {
		str := string(raw)
		s = &str
		strs[str] = s
	}
	*(**string)(unsafe.Add(ptr, c.offset)) = s
}
