package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

var partB = Partition{Account: "111122223333", Region: "eu-west-1", Year: "2024", Month: "01", Day: "02"}

// source is a test input: records [from, to), half in part, half in partB.
type source struct {
	name     string
	from, to int
}

func (s source) lakeSource() Source { return Source{Name: s.name, Size: int64(s.to - s.from)} }

// addSources adds the sources not done yet in one commit, as an ingest run would.
func addSources(t *testing.T, root string, srcs ...source) {
	t.Helper()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, s := range srcs {
		if w.Done(s.lakeSource()) {
			continue
		}
		for i := s.from; i < s.to; i++ {
			r := rec(i)
			p := part
			if i%2 == 1 {
				p = partB
			}
			if _, err := w.Add(p, r, cloudtrail.Hash(r)); err != nil {
				t.Fatal(err)
			}
		}
		w.AddSource(s.lakeSource())
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var (
	src0 = source{"src-0", 0, 100}
	src1 = source{"src-1", 100, 200}
	src2 = source{"src-2", 150, 250} // 150..199 are src-1's already
	all  = []source{src0, src1, src2}
)

// buildLake writes src-0 and src-1, compacts them, then writes src-2: 250 events, partition A's
// live files are a compacted file (from src-0 and src-1) and src-2's.
func buildLake(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "lake")
	addSources(t, root, src0)
	addSources(t, root, src1)
	compactLake(t, root)
	addSources(t, root, src2)
	return root
}

// compactLake compacts the lake's partitions of at least two files, as 'trailsql compact' does.
func compactLake(t *testing.T, root string) {
	t.Helper()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Compact(context.Background(), 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// lakeEvents returns the hashes of the events of the lake's snapshot, read from its files, and
// their number.
func lakeEvents(t *testing.T, root string) (map[uint64]bool, int) {
	t.Helper()
	snap, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	got, n := map[uint64]bool{}, 0
	for _, f := range snap.Files {
		fh, err := os.Open(filepath.Join(root, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewGenericReader[cloudtrail.Record](fh)
		rows := make([]cloudtrail.Record, f.Rows+1)
		k, err := r.Read(rows)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		for i := 0; i < k; i++ {
			got[cloudtrail.Hash(&rows[i])] = true
		}
		n += k
		fh.Close()
	}
	return got, n
}

// readLedger returns the trusted manifests and the lake's key.
func readLedger(t *testing.T, root string) ([]Manifest, []byte) {
	t.Helper()
	ms, err := readManifests(root)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := readKey(root)
	if err != nil {
		t.Fatal(err)
	}
	return ms, key
}

// writeManifest puts m into the ledger, signed with key (unsigned if nil).
func writeManifest(t *testing.T, root string, m *Manifest, key []byte) string {
	t.Helper()
	data, err := gzipManifest(m, key)
	if err != nil {
		t.Fatal(err)
	}
	name := manifestName(m.Seq, m.ID)
	if err := os.WriteFile(filepath.Join(root, commitsDir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return commitsDir + "/" + name
}

// liveFile returns the snapshot's file in partition p holding the most rows.
func liveFile(t *testing.T, root string, p Partition) File {
	t.Helper()
	snap, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	var best File
	for _, f := range snap.Files {
		if f.Partition == p && f.Rows > best.Rows {
			best = f
		}
	}
	return best
}

// The attack of issue 9: a manifest, forged by whatever can write into the lake, whose Replaces
// names the live files makes their events vanish from every query; a forged data file with a
// manifest adds events. Neither is trusted now, by readers or writers, and the live files stay.
func TestForgedManifestsRejected(t *testing.T) {
	attackerKey := make([]byte, 32)
	cases := []struct {
		name  string
		forge func(t *testing.T, root string, ms []Manifest, key []byte) string
		field string
	}{
		{"unsigned Replaces of live files", func(t *testing.T, root string, ms []Manifest, key []byte) string {
			snap, _ := OpenSnapshot(root)
			var paths []string
			for _, f := range snap.Files {
				paths = append(paths, f.Path)
			}
			return writeManifest(t, root, &Manifest{Seq: 99, ID: "forged", Time: time.Now(), Replaces: paths}, nil)
		}, "mac"},
		{"signed with another key", func(t *testing.T, root string, ms []Manifest, key []byte) string {
			return writeManifest(t, root, &Manifest{Seq: 99, ID: "forged", Time: time.Now(), Replaces: []string{liveFile(t, root, part).Path}}, attackerKey)
		}, "mac"},
		{"forged Parquet file and manifest", func(t *testing.T, root string, ms []Manifest, key []byte) string {
			f := liveFile(t, root, part)
			data, _ := os.ReadFile(filepath.Join(root, f.Path))
			fake := part.Dir() + "/forged-0001.parquet"
			os.WriteFile(filepath.Join(root, fake), data, 0o644)
			f.Path, f.SHA256 = fake, ""
			return writeManifest(t, root, &Manifest{Seq: 99, ID: "forged", Time: time.Now(), Files: []File{f}, Hashes: ms[0].Hashes}, nil)
		}, "mac"},
		{"a signed manifest copied under another commit's name", func(t *testing.T, root string, ms []Manifest, key []byte) string {
			data, _ := gzipManifest(&ms[0], key)
			name := commitsDir + "/" + manifestName(99, "copied")
			os.WriteFile(filepath.Join(root, name), data, 0o644)
			return name
		}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := buildLake(t)
			before, n := lakeEvents(t, root)
			ms, key := readLedger(t, root)
			entry := c.forge(t, root, ms, key)
			_, err := OpenSnapshot(root)
			var le *LedgerError
			if !errors.As(err, &le) || le.Entry != entry || le.Field != c.field || !errors.Is(err, ErrLedger) || !strings.Contains(err.Error(), "check --repair") {
				t.Fatalf("snapshot: %v; want a LedgerError on %s field %s", err, entry, c.field)
			}
			if _, err := OpenWriter(context.Background(), root, WriterOptions{}); !errors.As(err, &le) {
				t.Fatalf("writer opened over a forged manifest: %v", err)
			}
			rep, err := Verify(context.Background(), root)
			if err != nil {
				t.Fatal(err)
			}
			if !hasProblem(rep, ProblemManifest, entry) {
				t.Fatalf("check did not find the forged manifest: %+v", rep.Problems)
			}
			rep, err = Repair(context.Background(), root, RepairOptions{})
			if err != nil || !rep.OK() {
				t.Fatalf("repair: %v %+v", err, rep)
			}
			if _, err := os.Stat(filepath.Join(root, rep.Quarantine, entry)); err != nil {
				t.Fatalf("the forged manifest is not in quarantine: %v", err)
			}
			after, m := lakeEvents(t, root)
			if m != n || !mapsEqual(after, before) {
				t.Fatalf("after repair %d events, before %d", m, n)
			}
		})
	}
}

func hasProblem(r *Report, kind, path string) bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Kind == kind && p.Path == path })
}

func mapsEqual(a, b map[uint64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// Paths that leave their folder are refused in every field of a manifest, even one signed with
// the lake's key, and nothing outside the lake is touched by ingest, compaction or repair.
func TestPathsOutsideTheLakeRejected(t *testing.T) {
	bad := []string{"../victim.txt", "cloudtrail_logs/../../victim.txt", "/tmp/victim.parquet", "cloudtrail_logs/a\\..\\b.parquet",
		"cloudtrail_logs//x.parquet", "cloudtrail_logs/x\x00.parquet", "cloudtrail_logs/./x.parquet", "_trailsql/key", "cloudtrail_logs/x.txt"}
	fields := []struct {
		field string
		set   func(m *Manifest, p string)
	}{
		{"replaces[0]", func(m *Manifest, p string) { m.Replaces = []string{p} }},
		{"files[0].path", func(m *Manifest, p string) {
			m.Files = []File{{Path: p, Partition: part, Rows: 1}}
			m.Hashes = hashesDir + "/x.ef"
		}},
		{"quarantined[0]", func(m *Manifest, p string) { m.Quarantined = []string{p} }},
		{"hashes", func(m *Manifest, p string) { m.Files = []File{{Path: part.Dir() + "/x.parquet"}}; m.Hashes = p }},
	}
	for _, f := range fields {
		for _, p := range bad {
			if f.field == "hashes" && p == "cloudtrail_logs/x.txt" {
				continue
			}
			t.Run(f.field+" "+p, func(t *testing.T) {
				root := buildLake(t)
				victim := filepath.Join(filepath.Dir(root), "victim.txt")
				os.WriteFile(victim, []byte("not the lake's"), 0o644)
				ms, key := readLedger(t, root)
				m := &Manifest{Seq: ms[len(ms)-1].Seq + 1, ID: "evil", Time: time.Now().Add(-time.Hour)}
				f.set(m, strings.ReplaceAll(p, "/tmp/victim.parquet", victim))
				entry := writeManifest(t, root, m, key)
				_, err := OpenSnapshot(root)
				var le *LedgerError
				if !errors.As(err, &le) || le.Entry != entry || le.Field != f.field {
					t.Fatalf("snapshot: %v; want the field %s of %s refused", err, f.field, entry)
				}
				if w, err := OpenWriter(context.Background(), root, WriterOptions{}); err == nil {
					w.Compact(context.Background(), 2, 0)
					w.Close()
					t.Fatal("a writer opened over the manifest")
				}
				if _, err := Repair(context.Background(), root, RepairOptions{}); err != nil {
					t.Fatal(err)
				}
				w, err := OpenWriter(context.Background(), root, WriterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Compact(context.Background(), 1, 0); err != nil {
					t.Fatal(err)
				}
				w.Close()
				if data, err := os.ReadFile(victim); err != nil || string(data) != "not the lake's" {
					t.Fatalf("the file beside the lake: %q %v", data, err)
				}
				if _, n := lakeEvents(t, root); n != 250 {
					t.Fatalf("%d events after repair and compaction, want 250", n)
				}
			})
		}
	}
}

// Every kind of damage is found by check, with what it affects and the sources to rebuild it
// from; --repair quarantines it, and ingesting the sources it names again restores exactly the
// events lost (no more: the dedup keeps those still in the lake once).
func TestCheckFindsAndRepairsEveryDamage(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, root string) (kind, path string)
	}{
		{"forged manifest", func(t *testing.T, root string) (string, string) {
			ms, _ := readLedger(t, root)
			return ProblemManifest, writeManifest(t, root, &Manifest{Seq: 9, ID: "x", Replaces: []string{ms[0].Files[0].Path}}, make([]byte, 32))
		}},
		{"path escaping the lake", func(t *testing.T, root string) (string, string) {
			_, key := readLedger(t, root)
			return ProblemManifest, writeManifest(t, root, &Manifest{Seq: 9, ID: "x", Replaces: []string{"../../victim.txt"}}, key)
		}},
		{"missing file", func(t *testing.T, root string) (string, string) {
			f := liveFile(t, root, part)
			os.Remove(filepath.Join(root, f.Path))
			return DamageMissing, f.Path
		}},
		{"truncated file", func(t *testing.T, root string) (string, string) {
			f := liveFile(t, root, part)
			os.Truncate(filepath.Join(root, f.Path), f.Bytes/2)
			return DamageSize, f.Path
		}},
		{"random bytes inside, footer intact", func(t *testing.T, root string) (string, string) {
			f := liveFile(t, root, part)
			fh, _ := os.OpenFile(filepath.Join(root, f.Path), os.O_WRONLY, 0)
			fh.WriteAt([]byte("random bytes where data was"), f.Bytes/3)
			fh.Close()
			return DamageChecksum, f.Path
		}},
		{"wrong row count", func(t *testing.T, root string) (string, string) {
			ms, key := readLedger(t, root)
			m := ms[len(ms)-1]
			m.Files[0].Rows++
			writeManifest(t, root, &m, key)
			return DamageRows, m.Files[0].Path
		}},
		{"undecodable manifest", func(t *testing.T, root string) (string, string) {
			ms, _ := readLedger(t, root)
			name := commitsDir + "/" + manifestName(ms[len(ms)-1].Seq, ms[len(ms)-1].ID)
			os.WriteFile(filepath.Join(root, name), []byte("\x1f\x8bnot gzip"), 0o644)
			return ProblemManifest, name
		}},
		{"damaged hash file", func(t *testing.T, root string) (string, string) {
			ms, _ := readLedger(t, root)
			h := ms[len(ms)-1].Hashes
			fh, _ := os.OpenFile(filepath.Join(root, h), os.O_WRONLY, 0)
			fh.WriteAt([]byte{0xff, 0xff, 0xff}, 5)
			fh.Close()
			return ProblemHashes, h
		}},
		{"orphan file", func(t *testing.T, root string) (string, string) {
			f := liveFile(t, root, part)
			data, _ := os.ReadFile(filepath.Join(root, f.Path))
			orphan := part.Dir() + "/stray.parquet"
			os.WriteFile(filepath.Join(root, orphan), data, 0o644)
			return ProblemOrphan, orphan
		}},
		{"symlink in the data tree", func(t *testing.T, root string) (string, string) {
			outside := filepath.Join(t.TempDir(), "outside.parquet")
			os.WriteFile(outside, []byte("PAR1"), 0o644)
			link := partB.Dir() + "/link.parquet"
			os.Symlink(outside, filepath.Join(root, link))
			return DamageSymlink, link
		}},
		{"symlink replacing a live file", func(t *testing.T, root string) (string, string) {
			f := liveFile(t, root, part)
			outside := filepath.Join(t.TempDir(), "outside.parquet")
			os.Rename(filepath.Join(root, f.Path), outside)
			os.Symlink(outside, filepath.Join(root, f.Path))
			return DamageSymlink, f.Path
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := buildLake(t)
			want, n := lakeEvents(t, root)
			if n != 250 {
				t.Fatalf("lake holds %d events, want 250", n)
			}
			if rep, err := Verify(context.Background(), root); err != nil || len(rep.Problems) > 0 {
				t.Fatalf("undamaged lake: %v %+v", err, rep)
			}
			kind, path := c.damage(t, root)
			rep, err := Verify(context.Background(), root)
			if err != nil {
				t.Fatal(err)
			}
			if !hasProblem(rep, kind, path) {
				t.Fatalf("check did not find %s at %s: %+v", kind, path, rep.Problems)
			}
			for _, p := range rep.Problems {
				if p.Kind != ProblemManifest && p.Kind != ProblemOrphan && p.Kind != DamageSymlink || p.Path == path && p.Events > 0 {
					if p.Events == 0 || len(p.Partitions) == 0 || len(p.Sources) == 0 && !p.SourcesUnknown || p.Repair == "" {
						t.Errorf("problem without what it affects: %+v", p)
					}
				}
			}
			rep, err = Repair(context.Background(), root, RepairOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("repair left problems: %+v", rep.Problems)
			}
			if rep2, err := Verify(context.Background(), root); err != nil || len(rep2.Problems) > 0 {
				t.Fatalf("after repair: %v %+v", err, rep2.Problems)
			}
			if _, err := os.Lstat(filepath.Join(root, rep.Quarantine, path)); err != nil && kind != DamageMissing {
				t.Errorf("%s is not in quarantine: %v", path, err)
			}
			var again []source
			for _, s := range all {
				if rep.ReingestUnknown || slices.ContainsFunc(rep.Reingest, func(r Source) bool { return r.Name == s.name }) {
					again = append(again, s)
				}
			}
			addSources(t, root, again...)
			got, m := lakeEvents(t, root)
			if m != n || !mapsEqual(got, want) {
				t.Fatalf("after ingesting %v again: %d events (%d distinct), want %d", again, m, len(got), n)
			}
			if rep, err := Verify(context.Background(), root); err != nil || len(rep.Problems) > 0 {
				t.Fatalf("after re-ingest: %v %+v", err, rep.Problems)
			}
		})
	}
}

// The files of a commit interrupted between renaming its files and writing its manifest are
// removed by the next writer; files no intent lists are not, whatever the ledger says.
func TestOnlyCrashLeftoversRemoved(t *testing.T) {
	root := buildLake(t)
	ms, _ := readLedger(t, root)
	last := ms[len(ms)-1]
	name := manifestName(last.Seq, last.ID)
	// The state a crash before the manifest leaves: the intent, the hash file, the data files.
	if err := os.Rename(filepath.Join(root, commitsDir, name), filepath.Join(root, intentsDir, name)); err != nil {
		t.Fatal(err)
	}
	stray := part.Dir() + "/stray.parquet"
	os.WriteFile(filepath.Join(root, stray), []byte("not the ledger's"), 0o644)
	rep, err := Verify(context.Background(), root)
	if err != nil || !hasProblem(rep, ProblemIntent, intentsDir+"/"+name) || !hasProblem(rep, ProblemOrphan, stray) {
		t.Fatalf("%v %+v", err, rep)
	}
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, f := range last.Files {
		if _, err := os.Stat(filepath.Join(root, f.Path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s of the interrupted commit is still there (%v)", f.Path, err)
		}
	}
	for _, p := range []string{intentsDir + "/" + name, last.Hashes} {
		if _, err := os.Stat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, stray)); err != nil {
		t.Errorf("a file the ledger did not write was deleted: %v", err)
	}
	// The commit's source is not done: ingesting it again restores its events.
	addSources(t, root, all...)
	if _, n := lakeEvents(t, root); n != 250 {
		t.Fatalf("%d events, want 250", n)
	}
}

// The old advice for a damaged manifest, "move that file away", made the next write delete the
// commit's data as orphans. Now the writer refuses and says to run check --repair; and should the
// manifest be moved away by hand, the next write deletes nothing.
func TestDamagedCommitDataKept(t *testing.T) {
	root := buildLake(t)
	ms, _ := readLedger(t, root)
	last := ms[len(ms)-1]
	name := filepath.Join(root, commitsDir, manifestName(last.Seq, last.ID))
	os.WriteFile(name, []byte("damaged"), 0o644)
	_, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err == nil || !strings.Contains(err.Error(), "trailsql check --repair") || strings.Contains(err.Error(), "move that file away") {
		t.Fatalf("writer over a damaged manifest: %v", err)
	}
	os.Rename(name, filepath.Join(t.TempDir(), "moved-away"))
	addSources(t, root, source{"other", 1000, 1010})
	for _, f := range last.Files {
		if _, err := os.Stat(filepath.Join(root, f.Path)); err != nil {
			t.Errorf("a file of the damaged commit was deleted: %v", err)
		}
	}
}

// A compaction does not trust a file whose checksum is not its commit's: it stops, naming the
// file, and deletes nothing.
func TestCompactionRefusesDamagedFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "lake")
	addSources(t, root, src0)
	addSources(t, root, src1)
	f := liveFile(t, root, part)
	fh, _ := os.OpenFile(filepath.Join(root, f.Path), os.O_WRONLY, 0)
	fh.WriteAt([]byte("xxxx"), 100)
	fh.Close()
	w, err := OpenWriter(context.Background(), root, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Compact(context.Background(), 2, 0)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Kind != DamageChecksum || fe.Path != f.Path || !errors.Is(err, ErrDamaged) {
		t.Fatalf("compaction over a damaged file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, f.Path)); err != nil {
		t.Fatal(err)
	}
	snap, _ := OpenSnapshot(root)
	if err := snap.StatFile(f); err != nil {
		t.Fatalf("size check: %v (same size, other bytes: only the checksum tells)", err)
	}
	os.Truncate(filepath.Join(root, f.Path), 10)
	if err := snap.StatFile(f); !errors.As(err, &fe) || fe.Kind != DamageSize {
		t.Fatalf("size check of a truncated file: %v", err)
	}
}

// An older lake (unsigned manifests, no key, no checksums) is read as it is, and signed by the
// first writer that opens it: a key only its owner reads, every manifest signed, the checksums
// of its files recorded. From then on an unsigned manifest is refused.
func TestOlderLakeSigned(t *testing.T) {
	root := buildLake(t)
	want, n := lakeEvents(t, root)
	ms, _ := readLedger(t, root)
	for _, m := range ms {
		m.HashesSHA256 = ""
		for i := range m.Files {
			m.Files[i].SHA256 = ""
		}
		writeManifest(t, root, &m, nil)
	}
	os.Remove(filepath.Join(root, keyFile))
	if got, m := lakeEvents(t, root); m != n || !mapsEqual(got, want) {
		t.Fatalf("older lake reads %d events, want %d", m, n)
	}
	addSources(t, root, all...)
	st, err := os.Stat(filepath.Join(root, keyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key: %v %v", st, err)
	}
	l, err := loadLedger(root)
	if err != nil || l.err() != nil || l.keyState != keyFinal {
		t.Fatal(err, l.err())
	}
	files := 0
	for _, e := range l.entries {
		if !e.signed {
			t.Errorf("%s is not signed", e.name)
		}
		for _, f := range e.m.Files {
			if _, err := os.Stat(filepath.Join(root, f.Path)); err == nil && f.SHA256 == "" {
				t.Errorf("%s has no checksum", f.Path)
			}
			files++
		}
	}
	if files == 0 {
		t.Fatal("no file")
	}
	if rep, err := Verify(context.Background(), root); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	writeManifest(t, root, &Manifest{Seq: 50, ID: "late"}, nil)
	if _, err := OpenSnapshot(root); !errors.Is(err, ErrLedger) {
		t.Fatalf("an unsigned manifest in a signed lake: %v", err)
	}
}

// A key that verifies no commit was lost or replaced: repair refuses rather than quarantine the
// whole lake.
func TestLostKeyNotRepaired(t *testing.T) {
	root := buildLake(t)
	os.WriteFile(filepath.Join(root, keyFile), []byte(fmt.Sprintf("%064x\n", 1)), 0o600)
	rep, err := Repair(context.Background(), root, RepairOptions{})
	if !errors.Is(err, ErrUnrepairable) || !hasProblem(rep, ProblemKey, keyFile) {
		t.Fatalf("%v %+v", err, rep)
	}
	entries, _ := os.ReadDir(filepath.Join(root, commitsDir))
	if len(entries) != 4 {
		t.Fatalf("%d manifests left, want the 4", len(entries))
	}
}
