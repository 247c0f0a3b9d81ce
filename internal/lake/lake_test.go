package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

func rec(i int) *cloudtrail.Record {
	s := func(v string) *string { return &v }
	return &cloudtrail.Record{
		EventTime: s(fmt.Sprintf("2024-01-02T03:04:%02dZ", i%60)), EventName: s("GetObject"), EventID: s(fmt.Sprint("e", i)),
		UserIdentity: &cloudtrail.UserIdentity{Type: s("IAMUser"), SessionContext: &cloudtrail.SessionContext{
			WebIDFederationData: &cloudtrail.WebIDFederationData{Attributes: map[string]string{"a": "b"}}}},
		Resources: []cloudtrail.Resource{{ARN: s("arn:aws:s3:::b")}},
	}
}

var part = Partition{Account: "111122223333", Region: "us-east-1", Year: "2024", Month: "01", Day: "02"}

// ingestBatch adds records [from, to) in one commit, as one ingest run would.
func ingestBatch(t testing.TB, root string, from, to int) (added int) {
	t.Helper()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := from; i < to; i++ {
		r := rec(i)
		ok, err := w.Add(part, r, cloudtrail.Hash(r))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			added++
		}
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return added
}

func TestDedupAcrossCommitsAndCompaction(t *testing.T) {
	root := t.TempDir()
	for k := 0; k < 5; k++ {
		if got := ingestBatch(t, root, k*100, k*100+150); got != 100 && k > 0 {
			t.Fatalf("batch %d added %d, want 100 (50 overlap the previous batch)", k, got)
		}
	}
	snap, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Files) != 5 || snap.Rows() != 550 {
		t.Fatalf("snapshot: %d files, %d rows", len(snap.Files), snap.Rows())
	}
	var own []int64
	for _, f := range snap.Files {
		if len(f.Origins) != 1 {
			t.Fatalf("%s: origins %v, want its own commit", f.Path, f.Origins)
		}
		own = append(own, f.Origins[0])
	}
	slices.Sort(own)
	if !slices.Equal(own, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("the files' origins are commits %v, want 1…5", own)
	}
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.Compact(context.Background(), 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if st.FilesBefore != 5 || st.FilesAfter != 1 || st.Rows != 550 {
		t.Fatalf("compaction: %+v", st)
	}
	snap, _ = OpenSnapshot(root)
	if len(snap.Files) != 1 || snap.Rows() != 550 {
		t.Fatalf("after compaction: %d files, %d rows", len(snap.Files), snap.Rows())
	}
	if got := snap.Files[0].Origins; !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("the compacted file's origins are %v, want the five commits it merged", got)
	}
	// Dedup still knows every record after compaction.
	if got := ingestBatch(t, root, 0, 560); got != 10 {
		t.Fatalf("after compaction %d added, want 10", got)
	}
	// Superseded files go at the next compaction past the grace period.
	w, _ = OpenWriter(context.Background(), root, WriterOptions{})
	st, err = w.Compact(context.Background(), 2, time.Nanosecond)
	w.Close()
	if err != nil || st.Removed != 5 {
		t.Fatalf("removed %d superseded files (%v), want 5", st.Removed, err)
	}
	snap, _ = OpenSnapshot(root)
	if snap.Rows() != 560 || len(snap.Files) != 1 {
		t.Fatalf("final: %d files, %d rows", len(snap.Files), snap.Rows())
	}
}

func TestWriterLock(t *testing.T) {
	root := t.TempDir()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := OpenWriter(context.Background(), root, WriterOptions{}); err == nil {
		t.Fatal("a second writer got the lake")
	}
}

func TestPartitionDir(t *testing.T) {
	if got := (Partition{Account: "a/b", Region: ""}).Dir(); got != "cloudtrail_logs/account=a%2Fb/region=__HIVE_DEFAULT_PARTITION__/year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__" {
		t.Fatal(got)
	}
}

// Whatever the row groups, the files finished early to bound memory and the compaction that
// merges them, every row comes back as it went in (the hash of its content is in the ledger).
func TestRowsSurviveGroupsSpillsAndCompaction(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	parts := []Partition{part, {Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "01", Day: "02"}, {Account: "444455556666", Region: "us-east-1", Year: "2024", Month: "01", Day: "03"}}
	want := map[uint64]bool{}
	for batch := 0; batch < 3; batch++ {
		w, err := OpenWriter(ctx, root, WriterOptions{RowGroupRows: 40, BufferedRows: 70})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			r := rec(batch*1000 + i)
			name := fmt.Sprint("E", i%7)
			r.EventName, r.EventSource = &name, &name
			r.UserIdentity.SessionContext.WebIDFederationData.Attributes = map[string]string{"k": fmt.Sprint(i)}
			h := cloudtrail.Hash(r)
			want[h] = true
			if _, err := w.Add(parts[(i/5)%len(parts)], r, h); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	check := func(stage string) {
		t.Helper()
		snap, err := OpenSnapshot(root)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]bool{}
		for _, f := range snap.Files {
			fh, err := os.Open(filepath.Join(root, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			st, _ := fh.Stat()
			pq, err := parquet.OpenFile(fh, st.Size())
			if err != nil {
				t.Fatalf("%s: %s: %v", stage, f.Path, err)
			}
			for _, rg := range pq.Metadata().RowGroups {
				for _, c := range rg.Columns {
					if c.ColumnIndexLength != 0 || c.OffsetIndexLength != 0 || len(c.MetaData.EncodingStats) != 0 {
						t.Fatalf("%s: %s still has a page index or encoding statistics", stage, f.Path)
					}
				}
			}
			r := parquet.NewGenericReader[cloudtrail.Record](fh)
			rows := make([]cloudtrail.Record, f.Rows+1)
			n, err := r.Read(rows)
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if int64(n) != f.Rows {
				t.Fatalf("%s: %s holds %d rows, the ledger says %d", stage, f.Path, n, f.Rows)
			}
			for i := 0; i < n; i++ {
				got[cloudtrail.Hash(&rows[i])] = true
			}
			fh.Close()
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %d distinct rows read back, %d written", stage, len(got), len(want))
		}
	}
	check("written")
	w, err := OpenWriter(ctx, root, WriterOptions{RowGroupRows: 40, BufferedRows: 70})
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.Compact(ctx, 2, time.Hour)
	w.Close()
	if err != nil || st.FilesAfter != len(parts) {
		t.Fatalf("compaction: %+v, %v", st, err)
	}
	check("compacted")
}

// Lakes written before manifests were compressed keep working: their plain JSON manifests are
// read alike, and new commits go next to them.
func TestPlainJSONManifests(t *testing.T) {
	root := t.TempDir()
	ingestBatch(t, root, 0, 10)
	dir := filepath.Join(root, commitsDir)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%v %v", entries, err)
	}
	gz := filepath.Join(dir, entries[0].Name())
	data, err := os.ReadFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := decodeManifest(data, &m); err != nil {
		t.Fatal(err)
	}
	m.HashesSHA256 = "" // an older lake's manifest: no checksums, unsigned, no key
	for i := range m.Files {
		m.Files[i].SHA256 = ""
	}
	os.Remove(filepath.Join(root, keyFile))
	plain, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(gz, ".gz"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(gz)
	if got := ingestBatch(t, root, 5, 15); got != 5 {
		t.Fatalf("%d added over a plain JSON manifest, want 5", got)
	}
	snap, err := OpenSnapshot(root)
	if err != nil || snap.Rows() != 15 || len(snap.Files) != 2 {
		t.Fatalf("snapshot: %v", err)
	}
}

// A partition-day of many batches is one file, its batches encoded concurrently and assembled in
// order: every row comes back, each row group's statistics are those of its own rows, and the
// footer holds the row groups of every batch at their place in the file, under their columns'
// paths (the buffers batches are encoded in are reused: nothing of the footer may point into
// them).
func TestOnePartitionManyBatches(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	w, err := OpenWriter(ctx, root, WriterOptions{RowGroupRows: 50, BufferedRows: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	other := Partition{Account: "444455556666", Region: "eu-west-1", Year: "2024", Month: "01", Day: "03"}
	want := map[uint64]bool{}
	for i := 0; i < 2200; i++ {
		r := rec(i)
		name := fmt.Sprintf("Event%02d", (i*7)%13)
		r.EventName = &name
		h := cloudtrail.Hash(r)
		want[h] = true
		p := part
		if i >= 2000 {
			p = other // a second file, written after the first one's batches
		}
		if _, err := w.Add(p, r, h); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Files[0].Rows+m.Files[1].Rows != 2200 {
		t.Fatalf("files %+v, want two of 2200 rows", m.Files)
	}
	got := map[uint64]bool{}
	for _, f := range m.Files {
		checkFileRowGroups(t, filepath.Join(root, f.Path), got)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%d distinct rows read back, %d written", len(got), len(want))
	}
}

// checkFileRowGroups reads a data file row group by row group into got (the rows' hashes) and
// checks its footer: every column chunk under its column's path, eventname statistics those of
// the row group's rows.
func checkFileRowGroups(t *testing.T, path string, got map[uint64]bool) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	pq, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := pq.Schema().Lookup("eventname")
	if !ok {
		t.Fatal("no eventname column")
	}
	if n := len(pq.RowGroups()); n < int(pq.NumRows())/120 {
		t.Fatalf("%d row groups for %d rows, want at least one per batch", n, pq.NumRows())
	}
	for i, rg := range pq.Metadata().RowGroups {
		for j, c := range rg.Columns {
			if want := pq.Schema().Columns()[j]; !slices.Equal(c.MetaData.PathInSchema, want) {
				t.Fatalf("row group %d column %d: path %q, want %q", i, j, c.MetaData.PathInSchema, want)
			}
		}
	}
	for i, rg := range pq.RowGroups() {
		rows := make([]cloudtrail.Record, rg.NumRows())
		r := parquet.NewGenericRowGroupReader[cloudtrail.Record](rg)
		n, err := r.Read(rows)
		if err != nil && err != io.EOF || int64(n) != rg.NumRows() {
			t.Fatalf("row group %d: %d of %d rows read: %v", i, n, rg.NumRows(), err)
		}
		lo, hi := "~", ""
		for j := range rows {
			got[cloudtrail.Hash(&rows[j])] = true
			lo, hi = min(lo, *rows[j].EventName), max(hi, *rows[j].EventName)
		}
		stats := pq.Metadata().RowGroups[i].Columns[leaf.ColumnIndex].MetaData.Statistics
		if string(stats.MinValue) != lo || string(stats.MaxValue) != hi {
			t.Errorf("row group %d: eventname statistics [%s, %s], its rows [%s, %s]", i, stats.MinValue, stats.MaxValue, lo, hi)
		}
	}
}
