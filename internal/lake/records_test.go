package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/testshared"
)

// A Projection of every column decodes each lake file into the records the Parquet library's
// own reader gives, field for field; one of some columns gives those fields and leaves the others
// NULL. The files: a generated trail and every folder of real events in ../shared/datasets (nested
// identities, resources, web identity attributes, TLS details, booleans).
func TestProjectionReadsWhatTheLibraryReads(t *testing.T) {
	root, snap := generatedLake(t, 5, 3000, testshared.Dir(t, "datasets"))
	all := lake.NewProjection(nil)
	some := lake.NewProjection([]string{"eventname", "useridentity.sessioncontext.sessionissuer.arn", "resources", "tlsdetails", "managementevent"})
	rows, seen := 0, map[string]bool{}
	for _, f := range snap.Files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		want := libraryRead(t, data)
		got, cut := readDumps(t, all, f.Path, data), readDumps(t, some, f.Path, data)
		if len(got) != len(want) || len(cut) != len(want) {
			t.Fatalf("%s: %d and %d rows, the library reads %d", f.Path, len(got), len(cut), len(want))
		}
		for i := range want {
			w := &want[i]
			if got[i] != dump(w) {
				t.Fatalf("%s row %d:\n got %s\nwant %s", f.Path, i, got[i], dump(w))
			}
			// What the cut projection holds.
			c := cut[i]
			expect := cloudtrail.Record{EventName: w.EventName, Resources: w.Resources, TLSDetails: w.TLSDetails, ManagementEvent: w.ManagementEvent}
			if u := w.UserIdentity; u != nil {
				expect.UserIdentity = &cloudtrail.UserIdentity{}
				if s := u.SessionContext; s != nil {
					expect.UserIdentity.SessionContext = &cloudtrail.SessionContext{}
					if is := s.SessionIssuer; is != nil {
						expect.UserIdentity.SessionContext.SessionIssuer = &cloudtrail.SessionIssuer{ARN: is.ARN}
					}
				}
			}
			if c != dump(&expect) {
				t.Fatalf("%s row %d, some columns:\n got %s\nwant %s", f.Path, i, c, dump(&expect))
			}
			rows++
			for _, x := range []struct {
				name string
				ok   bool
			}{{"resources", w.Resources != nil}, {"managementevent", w.ManagementEvent != nil},
				{"tlsdetails", w.TLSDetails != nil}, {"sessionissuer", w.UserIdentity != nil && w.UserIdentity.SessionContext != nil && w.UserIdentity.SessionContext.SessionIssuer != nil},
				{"attributes map", w.UserIdentity != nil && w.UserIdentity.SessionContext != nil && w.UserIdentity.SessionContext.WebIDFederationData != nil && w.UserIdentity.SessionContext.WebIDFederationData.Attributes != nil}} {
				seen[x.name] = seen[x.name] || x.ok
			}
		}
	}
	t.Logf("%d rows of %d files; fields seen: %v", rows, len(snap.Files), seen)

	// Every row in one file of many row groups (lists and maps span them).
	var every []cloudtrail.Record
	for _, f := range snap.Files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		every = append(every, libraryRead(t, data)...)
	}
	// And in row groups of many small pages: a page's rows start within its row group (the
	// structs on the way are the row group's), a dictionary serves several pages. One Reader
	// reads both files, large row groups after small ones: what it reuses holds nothing of the
	// row group before. It is transient: the strings of plain pages (event ids) are in memory it
	// reuses, those of dictionaries (event sources) are not.
	r := all.NewReader(true)
	transient := map[string]int{}
	for _, layout := range []struct {
		name      string
		rows      int64
		pageBytes int
	}{{"many row groups", 97, 1 << 20}, {"many pages", 1500, 1 << 10}, {"many row groups again", 97, 1 << 20}} {
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[cloudtrail.Record](&buf, parquet.MaxRowsPerRowGroup(layout.rows), parquet.PageBufferSize(layout.pageBytes))
		if _, err := w.Write(every); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		groups := 0
		if err := r.Read("many.parquet", buf.Bytes(), func(rs []cloudtrail.Record) error {
			groups++
			for i := range rs {
				got = append(got, dump(&rs[i]))
				for name, v := range map[string]*string{"eventid": rs[i].EventID, "eventsource": rs[i].EventSource} {
					if v != nil && r.Transient(*v) {
						transient[name]++
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if groups < 2 || len(got) != len(every) {
			t.Fatalf("%s: %d row groups, %d rows of %d", layout.name, groups, len(got), len(every))
		}
		for i := range every {
			if got[i] != dump(&every[i]) {
				t.Fatalf("%s, row %d:\n got %s\nwant %s", layout.name, i, got[i], dump(&every[i]))
			}
		}
		if pages := pagesOf(t, buf.Bytes(), "useridentity", "arn"); layout.pageBytes < 1<<20 && pages < 2*groups {
			t.Errorf("%s: %d pages of useridentity.arn in %d row groups: the test proves little", layout.name, pages, groups)
		}
	}
	if transient["eventid"] < len(every) || transient["eventsource"] > 0 {
		t.Errorf("transient strings: %v, want every event id (%d rows), no event source", transient, len(every))
	}
	for _, name := range []string{"resources", "managementevent", "tlsdetails", "sessionissuer", "attributes map"} {
		if !seen[name] {
			t.Errorf("no row holds %s: the test proves little for it", name)
		}
	}

	// Damage is an error naming the file, not a crash or rows of nothing.
	if err := all.Read("bad.parquet", []byte("PAR1 not a parquet file PAR1"), func([]cloudtrail.Record) error { return nil }); err == nil {
		t.Error("a damaged file was read")
	}
}

// pagesOf counts the pages of a column in the Parquet file data.
func pagesOf(t *testing.T, data []byte, path ...string) int {
	t.Helper()
	f, err := parquet.OpenFile(readerAt(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := f.Schema().Lookup(path...)
	if !ok {
		t.Fatalf("no column %v", path)
	}
	n := 0
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			parquet.Release(p)
			n++
		}
		pages.Close()
	}
	return n
}

// readDumps reads the Parquet file data through p, and returns its rows as JSON (the records
// are the Reader's only until emit returns).
func readDumps(t *testing.T, p *lake.Projection, name string, data []byte) []string {
	t.Helper()
	var out []string
	if err := p.Read(name, data, func(rs []cloudtrail.Record) error {
		for i := range rs {
			out = append(out, dump(&rs[i]))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func libraryRead(t *testing.T, data []byte) []cloudtrail.Record {
	t.Helper()
	f, err := parquet.OpenFile(readerAt(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[cloudtrail.Record](f)
	defer r.Close()
	out := make([]cloudtrail.Record, f.NumRows())
	n, err := r.Read(out)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return out[:n]
}

type readerAt []byte

func (b readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func dump(r *cloudtrail.Record) string {
	b, _ := jsonMarshal(r)
	return string(b)
}

// generatedLake ingests a generated trail of events over two days and two accounts, and the
// folders more, into a new lake; it returns the lake's root and snapshot.
func generatedLake(t *testing.T, seed int64, events int, more ...string) (string, *lake.Snapshot) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	trail := filepath.Join(dir, "trail")
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: seed, Events: events, Days: 2, Accounts: 2,
		End: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "lake")
	if _, err := ingest.Run(ctx, ingest.Options{Lake: root}, append([]string{trail}, more...)); err != nil {
		t.Fatal(err)
	}
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, snap
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// A FileReader reads a snapshot's files, and refuses what the engine refuses to let DuckDB open:
// a file or a folder on its way replaced by a symbolic link (to a copy of the same bytes), a file
// of another size.
func TestFileReaderRefusesLinks(t *testing.T) {
	root, snap := generatedLake(t, 2, 400)
	dir := t.TempDir()
	if len(snap.Files) < 3 {
		t.Fatalf("%d files", len(snap.Files))
	}
	r, err := snap.OpenFiles()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range snap.Files {
		if data, err := r.ReadFile(f, nil); err != nil || int64(len(data)) != f.Bytes {
			t.Fatalf("%s: %d bytes, %v", f.Path, len(data), err)
		}
	}
	abs := func(f lake.File) string { return filepath.Join(root, filepath.FromSlash(f.Path)) }
	// A file replaced by a link.
	f0 := snap.Files[0]
	copyOf := filepath.Join(dir, "copy.parquet")
	if err := os.Rename(abs(f0), copyOf); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(copyOf, abs(f0)); err != nil {
		t.Fatal(err)
	}
	// A partition folder replaced by a link to a copy of it (a reader opened afresh: the first
	// checked the folders already).
	f1 := snap.Files[len(snap.Files)-1]
	folder := filepath.Dir(abs(f1))
	if err := os.Rename(folder, filepath.Join(dir, "folder")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "folder"), folder); err != nil {
		t.Fatal(err)
	}
	r2, err := snap.OpenFiles()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for _, f := range []lake.File{f0, f1} {
		if _, err := r2.ReadFile(f, nil); !errors.Is(err, lake.ErrDamaged) || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s: %v, want a damage error saying a link is on its way", f.Path, err)
		}
	}
	// A file of another size than recorded.
	f2 := snap.Files[1]
	if filepath.Dir(abs(f2)) == folder {
		t.Fatal("the test needs a file outside the linked folder")
	}
	if err := os.WriteFile(abs(f2), []byte("PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.ReadFile(f2, nil); !errors.Is(err, lake.ErrDamaged) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("%s: %v, want a damage error about its size", f2.Path, err)
	}
}

// A Reader limited to some columns (Only) reads what a Projection of those columns reads, and
// every column again once no longer limited.
func TestReaderOnly(t *testing.T) {
	root, snap := generatedLake(t, 7, 1500)
	// The lists and maps are read whatever Only says: the cut Projection has them too.
	paths := []string{"eventname", "useridentity.arn", "useridentity.sessioncontext.sessionissuer", "tlsdetails",
		"resources", "useridentity.sessioncontext.webidfederationdata.attributes"}
	all, cut := lake.NewProjection(nil), lake.NewProjection(paths)
	r := all.NewReader(true)
	for i, f := range snap.Files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		// Limited on every other file: what it left out before is read again after.
		limited := i%2 == 0
		want := readDumps(t, all, f.Path, data)
		if limited {
			r.Only(paths)
			want = readDumps(t, cut, f.Path, data)
		} else {
			r.Only(nil)
		}
		var got []string
		if err := r.Read(f.Path, data, func(rs []cloudtrail.Record) error {
			for i := range rs {
				got = append(got, dump(&rs[i]))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s (limited: %v): the Reader reads\n%v\nwant\n%v", f.Path, limited, got, want)
		}
		if limited && slices.Equal(want, readDumps(t, all, f.Path, data)) {
			t.Fatalf("%s: the columns left out hold nothing: the test proves little", f.Path)
		}
	}
}
