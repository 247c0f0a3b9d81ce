// Package lake stores CloudTrail records as a Hive-partitioned Parquet lake
// (<lake>/cloudtrail_logs/account=…/region=…/year=…/month=…/day=…/*.parquet) that Athena, Trino,
// Spark and DuckDB all read, and keeps the ledger that makes ingestion atomic and idempotent.
//
// A commit is a manifest file in <lake>/_trailsql/commits (gzip-compressed JSON; lakes written
// before hold plain JSON, read alike), written last and renamed into place:
// the files it lists are the commit's data, the sources it lists are done. Readers take the files
// of the manifests present when they start, so they see whole commits only; a crash leaves at most
// unlisted files behind, which the next writer removes.
package lake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	metaDir    = "_trailsql"
	commitsDir = "_trailsql/commits"
	hashesDir  = "_trailsql/hashes"
	stagingDir = "_trailsql/staging"
)

// File is one Parquet file of a commit.
type File struct {
	Path      string    `json:"path"` // relative to the lake root, slash-separated
	Partition Partition `json:"partition"`
	Rows      int64     `json:"rows"`
	Bytes     int64     `json:"bytes"`
	MinTime   string    `json:"min_time,omitempty"`
	MaxTime   string    `json:"max_time,omitempty"`
	// HashOffset locates this file's hashes in the commit's hash file (see hashes.go): the index
	// of its first hash in a .bin file, the byte offset of its block in an .ef file, whose size is
	// HashBytes.
	HashOffset int64 `json:"hash_offset"`
	HashBytes  int64 `json:"hash_bytes,omitempty"`
}

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
}

// manifestName names a commit's manifest. Manifests are gzip-compressed: the list of sources of a
// commit is long and repetitive (the 23,837 trail files of the 1M-event benchmark: 5.2 MB of JSON,
// 0.6 MB compressed).
func manifestName(seq int64, id string) string { return fmt.Sprintf("%016d-%s.json.gz", seq, id) }

// encodeManifest returns a manifest's file content.
func encodeManifest(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(m); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeManifest reads a manifest file's content, gzip-compressed or not.
func decodeManifest(data []byte, m *Manifest) error {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	return json.Unmarshal(data, m)
}

// readManifests returns the lake's committed manifests in commit order.
func readManifests(root string) ([]Manifest, error) {
	entries, err := os.ReadDir(filepath.Join(root, commitsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	var out []Manifest
	for _, e := range entries {
		name := e.Name()
		if !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz")) || strings.HasPrefix(name, ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, commitsDir, name))
		if err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		var m Manifest
		if err := decodeManifest(data, &m); err != nil {
			return nil, fmt.Errorf("read ledger entry %s: %w (the lake's ledger is damaged; move that file away to go on without its commit)", name, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// Snapshot is the set of files of a lake at one moment: whole commits only.
type Snapshot struct {
	Root  string
	Files []File
	Seq   int64 // the last commit included
}

// Open reads the lake's current snapshot. A lake that does not exist yet is empty.
func OpenSnapshot(root string) (*Snapshot, error) {
	ms, err := readManifests(root)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Root: root}
	live := map[string]File{}
	for _, m := range ms {
		for _, r := range m.Replaces {
			delete(live, r)
		}
		for _, f := range m.Files {
			live[f.Path] = f
		}
		s.Seq = m.Seq
	}
	for _, f := range live {
		s.Files = append(s.Files, f)
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Path < s.Files[j].Path })
	return s, nil
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

// writeFileAtomic writes data to path through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
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
