// Package lake stores CloudTrail records as a Hive-partitioned Parquet lake
// (<lake>/cloudtrail_logs/account=…/region=…/year=…/month=…/day=…/*.parquet) that Athena, Trino,
// Spark and DuckDB all read, and keeps the ledger that makes ingestion atomic and idempotent.
//
// A commit is a manifest file in <lake>/_trailsql/commits (gzip-compressed JSON; lakes written
// before hold plain JSON, read alike), written last and renamed into place: the files it lists
// are the commit's data, the sources it lists are done. Readers take the files of the manifests
// present when they start, so they see whole commits only.
//
// The ledger is signed (see ledger.go): every manifest ends with an HMAC-SHA256 under a key in
// <lake>/_trailsql/key, which SQL over the lake cannot read, and every path it names must stay in
// its folder; data files carry their size and SHA-256. A manifest that fails any of this is not
// trusted, by readers or writers. Before renaming its files into place a writer records its
// intent (the signed manifest, in _trailsql/intents), so that the next writer removes what a
// crash left behind, and nothing else: files the ledger did not write are never deleted, and
// `trailsql check --repair` moves damaged ones to _trailsql/quarantine.
package lake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Table is the folder of the table under the lake root.
const Table = "cloudtrail_logs"

const (
	metaDir       = "_trailsql"
	commitsDir    = "_trailsql/commits"
	hashesDir     = "_trailsql/hashes"
	stagingDir    = "_trailsql/staging"
	intentsDir    = "_trailsql/intents"
	quarantineDir = "_trailsql/quarantine"
)

// File is one Parquet file of a commit.
type File struct {
	Path      string    `json:"path"` // relative to the lake root, slash-separated
	Partition Partition `json:"partition"`
	Rows      int64     `json:"rows"`
	Bytes     int64     `json:"bytes"`
	// SHA256 is the hex SHA-256 of the whole file, computed as it was written (empty for files
	// of older lakes that were gone when the lake's ledger was first signed).
	SHA256  string `json:"sha256,omitempty"`
	MinTime string `json:"min_time,omitempty"`
	MaxTime string `json:"max_time,omitempty"`
	// HashOffset locates this file's hashes in the commit's hash file (see hashes.go): the index
	// of its first hash in a .bin file, the byte offset of its block in an .ef file, whose size is
	// HashBytes.
	HashOffset int64 `json:"hash_offset"`
	HashBytes  int64 `json:"hash_bytes,omitempty"`
	// HashVersion is the cloudtrail.HashVersion of the file's content hashes; 0 (files written
	// before versions were recorded) is version 1. A file compacted from files of several
	// versions has the lowest.
	HashVersion int `json:"hash_version,omitempty"`
	// Values holds, for columns of few distinct values (FacetColumns), the distinct values the
	// file holds there, NULL left out, in any order: what lets a reader skip the files that
	// cannot hold the rows a query asks for (useridentity.type = 'Root') without opening them.
	// A column missing from the map is unknown (every file written before Values was recorded);
	// an empty list says the file holds only NULLs there.
	Values map[string][]string `json:"values,omitempty"`
	// Commit is the name of the manifest that lists the file, set by OpenSnapshot so that an
	// error about the file can name its commit. It is not stored.
	Commit string `json:"-"`
	// Origins are the sequence numbers of the commits that wrote the file's rows: its own
	// commit's for a file an ingest wrote, those of the merged files' for a compaction's (set by
	// OpenSnapshot, not stored). Detection uses them to find the rows of new commits.
	Origins []int64 `json:"-"`
}

// FacetColumns are the columns whose distinct values a File may record (File.Values): those the
// standing questions filter on, with a few dozen values in a day of a busy account. Nested
// fields are named by their path in lower case.
var FacetColumns = []string{"useridentity.type", "eventsource", "eventname", "errorcode"}

// Partition is a Hive partition; empty values are unknown (Hive's default partition).
type Partition struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Year    string `json:"year"`
	Month   string `json:"month"`
	Day     string `json:"day"`
}

// defaultPartition is how Hive, Spark and DuckDB write a NULL partition value.
const defaultPartition = "__HIVE_DEFAULT_PARTITION__"

// Value returns the partition's value in a partition column (account, region, year, month or
// day; "" when unknown), and whether col is one.
func (p Partition) Value(col string) (string, bool) {
	switch col {
	case "account":
		return p.Account, true
	case "region":
		return p.Region, true
	case "year":
		return p.Year, true
	case "month":
		return p.Month, true
	case "day":
		return p.Day, true
	}
	return "", false
}

// Dir returns the partition's folder relative to the lake root.
func (p Partition) Dir() string {
	v := func(s string) string {
		if s == "" {
			return defaultPartition
		}
		return escapePartitionValue(s)
	}
	return Table + "/account=" + v(p.Account) + "/region=" + v(p.Region) + "/year=" + v(p.Year) + "/month=" + v(p.Month) + "/day=" + v(p.Day)
}

// escapePartitionValue percent-encodes what cannot stand in a path segment, as Hive does.
func escapePartitionValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{}[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Source is one input that was read whole into a commit.
type Source struct {
	Name   string `json:"name"` // absolute path or s3://bucket/key
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime,omitempty"` // Unix nanoseconds, for files
	ETag   string `json:"etag,omitempty"`  // for S3 objects
	Events int    `json:"events"`
}

// Key identifies a source version: the same name with another size, time or ETag is new data.
func (s Source) Key() string {
	return s.Name + "\x00" + strconv.FormatInt(s.Size, 10) + "\x00" + strconv.FormatInt(s.MTime, 10) + "\x00" + s.ETag
}

// Manifest is one commit.
type Manifest struct {
	Seq      int64     `json:"seq"`
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Files    []File    `json:"files"`
	Sources  []Source  `json:"sources,omitempty"`
	Replaces []string  `json:"replaces,omitempty"` // files this commit supersedes (compaction)
	Hashes   string    `json:"hashes,omitempty"`   // hash file, relative to the lake root
	// HashesSHA256 is the hex SHA-256 of the hash file.
	HashesSHA256 string `json:"hashes_sha256,omitempty"`
	// Quarantined are live files a repair took out of the lake (moved under
	// _trailsql/quarantine, never deleted): they leave the snapshot, and superseding them deletes
	// nothing.
	Quarantined []string `json:"quarantined,omitempty"`
	// Forget are sources of earlier commits whose events a repair took out of the lake: they are
	// no longer done, so that the next ingest reads them again.
	Forget []Source `json:"forget,omitempty"`
}

// manifestName names a commit's manifest. Manifests are gzip-compressed: the list of sources of a
// commit is long and repetitive (the 23,837 trail files of the 1M-event benchmark: 5.2 MB of JSON,
// 0.6 MB compressed).
func manifestName(seq int64, id string) string { return fmt.Sprintf("%016d-%s.json.gz", seq, id) }

// encodeManifest returns a manifest's file content, unsigned (as lakes written before the ledger
// was signed hold them; tests build such lakes with it). Writers use sealManifest.
func encodeManifest(m *Manifest) ([]byte, error) { return gzipManifest(m, nil) }

// gzipManifest returns the gzip-compressed JSON of m, followed, when key is not nil, by its seal
// line (see sealManifest).
func gzipManifest(m *Manifest, key []byte) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(body)
	if key != nil {
		zw.Write(sealLine(key, body))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unsealManifest splits a manifest file's content, gzip-compressed or not, into its JSON body
// and its MAC (nil for an unsigned manifest).
func unsealManifest(data []byte) (body, mac []byte, err error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, err
		}
		if data, err = io.ReadAll(io.LimitReader(zr, maxManifestBytes+1)); err != nil {
			return nil, nil, err
		}
		if len(data) > maxManifestBytes {
			return nil, nil, fmt.Errorf("more than %d bytes once decompressed", maxManifestBytes)
		}
	}
	body, mac, err = splitSeal(data)
	return body, mac, err
}

// maxManifestBytes bounds a manifest once decompressed, so that a damaged or hostile one cannot
// exhaust memory (the 1M-event benchmark's biggest: 5.2 MB).
const maxManifestBytes = 1 << 30

// decodeManifest reads a manifest file's content, gzip-compressed or not, signed or not, without
// checking its MAC (see loadLedger for that).
func decodeManifest(data []byte, m *Manifest) error {
	body, _, err := unsealManifest(data)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, m)
}

// readManifests returns the lake's committed manifests in commit order, or an error naming the
// first ledger entry that cannot be trusted.
func readManifests(root string) ([]Manifest, error) {
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	return l.manifests(), nil
}

// Snapshot is the set of files of a lake at one moment: whole commits only.
type Snapshot struct {
	Root  string
	Files []File
	Seq   int64 // the last commit included
}

// OpenSnapshot reads the lake's current snapshot. A lake that does not exist yet is empty.
//
// A ledger entry that cannot be trusted (undecodable, not signed with the lake's key, naming a
// path outside its folder) fails the snapshot with a *LedgerError rather than being left out:
// leaving a commit out silently would change every answer (a forged commit can make events
// vanish), and a security tool must not answer confidently from a lake it cannot vouch for.
// `trailsql check --repair` quarantines such entries.
//
// The snapshot of a signed ledger is kept in a signed cache (see snapcache.go), so that the
// readers that follow read one small file instead of every manifest.
func OpenSnapshot(root string) (*Snapshot, error) {
	names, err := manifestNames(root)
	if err != nil {
		return nil, fmt.Errorf("read the ledger of lake %s: %w", root, err)
	}
	if len(names) > 0 {
		key, state, err := readKey(root)
		if err != nil {
			return nil, err
		}
		if state == keyFinal {
			if s := snapshotFromCache(root, key, names); s != nil {
				return s, nil
			}
		}
	}
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	s := l.snapshot(root)
	if l.keyState == keyFinal && len(l.entries) > 0 {
		read := make([]string, len(l.entries))
		for i, e := range l.entries {
			read[i] = e.name
		}
		cacheSnapshot(root, l.key, read, s)
	}
	return s, nil
}

// snapshot is the files the trusted ledger holds live.
func (l *ledger) snapshot(root string) *Snapshot {
	s := &Snapshot{Root: root}
	files := l.files()
	for _, fs := range files.order {
		if f := files.byPath[fs]; f.live {
			file := f.File
			file.Origins = f.seqs
			s.Files = append(s.Files, file)
		}
	}
	if ms := l.manifests(); len(ms) > 0 {
		s.Seq = ms[len(ms)-1].Seq
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Path < s.Files[j].Path })
	return s
}

// Rows is the number of rows in the snapshot.
func (s *Snapshot) Rows() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Rows
	}
	return n
}

// Bytes is the size of the snapshot's files.
func (s *Snapshot) Bytes() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Bytes
	}
	return n
}

// Paths returns the absolute paths of the snapshot's files.
func (s *Snapshot) Paths() []string {
	out := make([]string, len(s.Files))
	for i, f := range s.Files {
		out[i] = filepath.Join(s.Root, filepath.FromSlash(f.Path))
	}
	return out
}

// WriteFileAtomic writes data to path so that a reader, even after a crash, finds the old content
// or the new whole: through a temporary file in the same folder, fsync, rename and an fsync of
// the folder. What is kept beside the lake's data (the alerts) is written so too.
func WriteFileAtomic(path string, data []byte) error { return writeFileAtomic(path, data) }

// WriteFileAtomicMode is WriteFileAtomic creating the file with mode perm (0o600 for what only
// its owner may read: the server's token hashes).
func WriteFileAtomicMode(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomicMode(path, data, perm)
}

// writeFileAtomic writes data to path through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte) error { return writeFileAtomicMode(path, data, 0o644) }

// writeFileAtomicMode is writeFileAtomic creating the file with mode perm.
func writeFileAtomicMode(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for a file that write writes, buffered, as it goes: a large one
// need not be held in memory whole first.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	return writeAtomic(path, 0o644, func(w io.Writer) error {
		b := bufio.NewWriterSize(w, 1<<20)
		if err := write(b); err != nil {
			return err
		}
		return b.Flush()
	})
}

func writeAtomic(path string, perm os.FileMode, write func(w io.Writer) error) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	os.Remove(tmp) // a leftover would keep its mode
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CommitsDir is the folder of the ledger's manifests, relative to the lake root (slash-separated).
const CommitsDir = commitsDir

// Commit is one trusted commit of a lake's ledger: its manifest and the name of its file in
// CommitsDir.
type Commit struct {
	Name string
	Manifest
}

// Commits returns the lake's commits in commit order, or an error naming the first ledger entry
// that cannot be trusted (a lake that cannot be vouched for is not copied anywhere). A lake that
// does not exist yet has none.
func Commits(root string) ([]Commit, error) {
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	out := make([]Commit, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, Commit{Name: e.name, Manifest: e.m})
	}
	return out, nil
}
