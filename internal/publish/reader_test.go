package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
)

// hiveTable is a table as an independent reader finds it: every Parquet file under the table's
// folder, its partition values taken from the key=value segments of its path (Hive partition
// discovery), read with parquet-go's generic reader into plain maps: not through DuckDB and not
// through the lake writer's record types. It is the stand-in for "Athena, Trino or Spark read the
// lake unchanged".
type hiveTable struct {
	schema     *parquet.Schema // of the first file; every file must have the same
	partitions []string        // partition keys, in path order
	rows       []map[string]any
}

// addFile adds the rows of one file found at path (slash-separated, from the table's folder).
func (h *hiveTable) addFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if h.schema == nil {
		h.schema = f.Schema()
	} else if !parquet.EqualNodes(h.schema, f.Schema()) {
		t.Fatalf("%s: schema differs from the table's:\n%s\n%s", path, f.Schema(), h.schema)
	}
	var keys []string
	part := map[string]any{}
	for _, seg := range strings.Split(path, "/") {
		k, v, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		uv, err := url.PathUnescape(v)
		if err != nil {
			t.Fatalf("%s: partition value %q: %v", path, v, err)
		}
		keys = append(keys, k)
		part[k] = uv
	}
	if h.partitions == nil {
		h.partitions = keys
	} else if fmt.Sprint(keys) != fmt.Sprint(h.partitions) {
		t.Fatalf("%s: partition keys %v, the table's are %v", path, keys, h.partitions)
	}
	r := parquet.NewReader(f)
	defer r.Close()
	for {
		row := map[string]any{}
		err := r.Read(&row)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for k, v := range part {
			row[k] = v
		}
		h.rows = append(h.rows, row)
	}
	if int64(len(h.rows)) == 0 {
		t.Fatalf("%s: no rows", path)
	}
}

// duckType names the type DuckDB gives a Parquet node, written as the engine reports types.
func duckType(n parquet.Node) string {
	logical := ""
	if lt := n.Type().LogicalType(); lt != nil {
		logical = lt.String()
	}
	switch {
	case logical == "LIST":
		return duckType(n.Fields()[0].Fields()[0]) + "[]"
	case logical == "MAP":
		kv := n.Fields()[0].Fields()
		return "MAP(" + duckType(kv[0]) + ", " + duckType(kv[1]) + ")"
	case !n.Leaf():
		var fs []string
		for _, f := range n.Fields() {
			fs = append(fs, quoteField(f.Name())+" "+duckType(f))
		}
		return "STRUCT(" + strings.Join(fs, ", ") + ")"
	case n.Type().Kind() == parquet.Boolean:
		return "BOOLEAN"
	case n.Type().Kind() == parquet.ByteArray && logical == "STRING":
		return "VARCHAR"
	}
	return "unexpected " + n.Type().String()
}

// quoteField quotes a struct field name as DuckDB prints it.
func quoteField(name string) string { return `"` + name + `"` }

// lowerNames fails on any field name of the schema that is not lower case (Athena's and Hive's
// column names are).
func lowerNames(t testing.TB, prefix string, n parquet.Node) {
	t.Helper()
	for _, f := range n.Fields() {
		if f.Name() != strings.ToLower(f.Name()) {
			t.Errorf("field %s%s is not lower case", prefix, f.Name())
		}
		lowerNames(t, prefix+f.Name()+".", f)
	}
}

// canonical is a value as JSON with sorted keys, so rows of both readers compare as text.
func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v) // maps are written with sorted keys
	if err != nil {
		t.Fatalf("%#v: %v", v, err)
	}
	return string(b)
}

// rowOrder aligns the rows of the two statements that read the lake.
const rowOrder = "ORDER BY eventid, eventtime, account, region, year, month, day, requestid"

// beyondAthena are the columns the lake keeps beyond Athena's DDL (see DESIGN.md).
var beyondAthena = []string{"managementevent", "insightdetails", "residual"}

// The lake as another Parquet implementation reads it, locally and from the bucket it was pushed
// to, holds every row and every column, with the types, that trailsql's engine answers for
// SELECT * FROM cloudtrail_logs.
func TestIndependentReader(t *testing.T) {
	_, mk := server(t, "bkt")
	c := mk(nil)
	dir := t.TempDir()
	ingestTrail(t, dir, 11, 1500, 400, 0)
	tg := Target{Bucket: "bkt", Prefix: "lake"}
	if _, err := Push(context.Background(), c, dir, tg, Options{}); err != nil {
		t.Fatal(err)
	}

	e, err := local.Open(context.Background(), engine.Options{Lake: dir, Dialect: athena.Dialect()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := local.Engine(e)(context.Background(), "SELECT * FROM cloudtrail_logs "+rowOrder)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1500 {
		t.Fatalf("the engine answers %d rows, want 1500", len(res.Rows))
	}
	// SELECT * answers Athena's columns; those beyond Athena's DDL are answered when named.
	beyond, err := local.Engine(e)(context.Background(), "SELECT "+strings.Join(beyondAthena, ", ")+" FROM cloudtrail_logs "+rowOrder)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		row := map[string]any{}
		for j, col := range res.Columns {
			row[col] = r[j]
		}
		for j, col := range beyond.Columns {
			row[col] = beyond.Rows[i][j]
		}
		want[i] = canonical(t, row)
	}
	sort.Strings(want)
	columns := append(slices.Clone(res.Columns), beyond.Columns...)
	colTypes := append(slices.Clone(res.Types), beyond.Types...)

	var localTable, bucketTable hiveTable
	err = filepath.WalkDir(filepath.Join(dir, lake.Table), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		localTable.addFile(t, filepath.ToSlash(rel), data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range bucketFiles(t, c, tg) {
		if strings.HasPrefix(rel, lake.Table+"/") && strings.HasSuffix(rel, ".parquet") {
			bucketTable.addFile(t, rel, data)
		}
	}

	for _, tc := range []struct {
		name string
		h    *hiveTable
	}{{"local", &localTable}, {"bucket", &bucketTable}} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if fmt.Sprint(h.partitions) != "[account region year month day]" {
				t.Fatalf("partition keys %v", h.partitions)
			}
			lowerNames(t, "", h.schema)
			// Every column the engine answers is a Parquet column or a partition, of the same type;
			// partitions are strings, as Athena has them.
			types := map[string]string{}
			for _, f := range h.schema.Fields() {
				types[f.Name()] = duckType(f)
			}
			for _, k := range h.partitions {
				types[k] = "VARCHAR"
			}
			if len(types) != len(columns) {
				t.Errorf("the files and their paths hold %d columns, the engine answers %d", len(types), len(columns))
			}
			for i, col := range columns {
				if got, ok := types[col]; !ok || got != colTypes[i] {
					t.Errorf("column %s: the engine says %s, the files %q", col, colTypes[i], got)
				}
			}
			got := make([]string, len(h.rows))
			for i, r := range h.rows {
				got[i] = canonical(t, r)
			}
			sort.Strings(got)
			if len(got) != len(want) {
				t.Fatalf("%d rows, the engine answers %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d differs:\nfiles:  %s\nengine: %s", i, got[i], want[i])
				}
			}
		})
	}
}
