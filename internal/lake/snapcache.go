package lake

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The snapshot cache. A snapshot is the replay of every manifest of the ledger, and a manifest
// lists the sources of its commit too: the 1M-event benchmark's one commit is 5 MB of JSON, which
// took a query 80 to 300 ms to decompress, verify and decode, when it needs only the few hundred
// live files. So the first reader of each state of the ledger writes what it found to
// _trailsql/snapshot: the live files, and which manifests they were read from (a SHA-256 of their
// sorted names), signed with the lake's key under a context of its own (a snapshot cannot pass
// for a manifest, nor a manifest for a snapshot). A later reader lists the ledger's folder, as it
// must anyway to see new commits, and takes the files from the cache when the names are the same
// and the signature holds: one small file read. When the ledger has only gained commits since
// (the names it lists begin with the cache's, in order), the reader reads those commits alone,
// applies them to the cache's files, and writes the result as the new cache.
//
// The cache is only ever a shortcut to the answer the ledger gives. Whatever goes wrong with it
// (missing, stale, damaged, forged without the key, left half-written by a crash, not writable
// on a read-only lake) makes the reader read the ledger whole, as it did without it. A manifest
// added, removed or renamed (every forgery: a new entry, or one copied under another name)
// changes the names, and so is judged as before. What a reader does not see through the cache is
// a manifest damaged in place after the cache was written: it changes no answer (the cache holds
// the files of the ledger as it was trusted), and writers, which read the ledger whole, and
// `trailsql check` report it.

// snapshotCacheFile is the cache, relative to the lake root. Its temporary files are named
// ".snapshot-*.tmp" in the same folder, which writers clean up (see Writer.cleanup).
const snapshotCacheFile = metaDir + "/snapshot"

// snapshotMACContext separates the cache's MAC from a manifest's (macContext).
const snapshotMACContext = "trailsql snapshot v4\n"

// maxSnapshotCacheBytes bounds the cache a reader reads; a bigger one is not used.
const maxSnapshotCacheBytes = 256 << 20

// The cache's content, after its MAC line, is text, one line per file, since decoding JSON took
// 4 ms for 400 files and a lake of an organization's trail has tens of thousands:
//
//	trailsql snapshot v4 <ledger> <manifests> <seq> <files> <commits>
//	<commit name>                                   one line per commit that lists a file
//	<path> <account> <region> <year> <month> <day> <rows> <bytes> <sha256> <min time> <max time> <hash offset> <hash bytes> <hash version> <commit> <origins> <values>
//
// where <ledger> is the ledgerID of the manifests read and <manifests> their number, strings are
// Go-quoted (strconv.Quote), <commit> is the index of the file's commit among the commit lines,
// <origins> the sequence numbers of File.Origins, comma-separated and quoted, and <values> the
// JSON of File.Values, quoted ("" for none). (v1 had no origins, v2 no values, v3 no number of manifests: such a
// cache is not used, and is written again.)
const snapshotCacheHeader = "trailsql snapshot v4"

// ledgerID identifies a set of manifest names.
func ledgerID(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	return sortedLedgerID(names)
}

// sortedLedgerID is ledgerID of names already sorted.
func sortedLedgerID(names []string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func snapshotMAC(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(snapshotMACContext))
	m.Write(body)
	return m.Sum(nil)
}

// manifestNames lists the manifests in the ledger's folder (nil, and no error, when it does not
// exist).
func manifestNames(root string) ([]string, error) {
	d, err := os.Open(filepath.Join(root, filepath.FromSlash(commitsDir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	all, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	names := all[:0]
	for _, n := range all {
		if isManifestName(n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// cachedSnapshot returns the snapshot the cache holds for the manifests named, or nil when the
// cache cannot be used: there is none, it is for other manifests, or its signature does not
// hold under key.
func cachedSnapshot(root string, key []byte, names []string) *Snapshot {
	s, of := readSnapshotCache(root, key)
	if s == nil || of.ledger != ledgerID(names) {
		return nil
	}
	return s
}

// snapshotFromCache returns the snapshot of the manifests named, from the cache: the cache of
// these very manifests, or the cache of the ledger as it was a few commits ago, brought up to
// date by reading the commits since (see extendSnapshot), and written as the new cache. It
// returns nil when the cache cannot be used, and the ledger must be read whole.
//
// A lake that takes a commit a minute (a daemon, an ingest --watch) has tens of thousands of
// manifests after a month: without the extension, the first reader after each commit read them
// all again.
func snapshotFromCache(root string, key []byte, names []string) *Snapshot {
	s, of := readSnapshotCache(root, key)
	if s == nil {
		return nil
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	if of.ledger == sortedLedgerID(sorted) {
		return s
	}
	if of.manifests <= 0 || of.manifests >= int64(len(sorted)) || sortedLedgerID(sorted[:of.manifests]) != of.ledger {
		return nil
	}
	s = extendSnapshot(root, key, s, sorted[of.manifests:])
	if s != nil {
		cacheSnapshot(root, key, sorted, s)
	}
	return s
}

// extendSnapshot applies to s, the snapshot of a signed ledger's first manifests, the manifests
// named after them (in commit order: a signed manifest's name starts with its sequence number,
// written with 16 digits), as ledger.files replays them. It returns nil, and the ledger must be
// read whole, when a manifest cannot be trusted (the whole reading reports it), or replaces or
// quarantines a file that s does not hold live: what that file carries to its replacements
// (the commits that wrote its rows) is known only to the ledger.
func extendSnapshot(root string, key []byte, s *Snapshot, names []string) *Snapshot {
	l := &ledger{root: root, key: key, keyState: keyFinal}
	live := make(map[string]File, len(s.Files))
	for _, f := range s.Files {
		live[f.Path] = f
	}
	out := &Snapshot{Root: root, Seq: s.Seq}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(root, commitsDir, name))
		if err != nil {
			return nil
		}
		e := l.judge(commitsDir, name, data)
		if e.err != nil || e.m.Seq <= out.Seq {
			return nil
		}
		m := &e.m
		inherited := map[Partition][]int64{}
		for _, r := range m.Replaces {
			f, ok := live[r]
			if !ok {
				return nil
			}
			delete(live, r)
			inherited[f.Partition] = append(inherited[f.Partition], f.Origins...)
		}
		for _, q := range m.Quarantined {
			if _, ok := live[q]; !ok {
				return nil
			}
			delete(live, q)
		}
		for _, f := range m.Files {
			f.Commit = name
			f.Origins = fileSeqs(m, inherited[f.Partition])
			live[f.Path] = f
		}
		out.Seq = m.Seq
	}
	out.Files = make([]File, 0, len(live))
	for _, f := range live {
		out.Files = append(out.Files, f)
	}
	slices.SortFunc(out.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// readSnapshotCache returns the snapshot the cache holds and which manifests it was read from,
// or nil when there is no cache, or it is damaged, or its signature does not hold under key.
func readSnapshotCache(root string, key []byte) (*Snapshot, cacheOf) {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(snapshotCacheFile)))
	if err != nil {
		return nil, cacheOf{}
	}
	defer f.Close()
	// Read into one buffer of the file's size: growing one as io.ReadAll does was a tenth of the
	// time to read the cache.
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Size() <= maxSnapshotCacheBytes {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, maxSnapshotCacheBytes+1)); err != nil || buf.Len() > maxSnapshotCacheBytes {
		return nil, cacheOf{}
	}
	data := buf.Bytes()
	macHex, body, ok := bytes.Cut(data, []byte("\n"))
	mac := make([]byte, sha256.Size)
	if !ok || hex.EncodedLen(len(mac)) != len(macHex) {
		return nil, cacheOf{}
	}
	if _, err := hex.Decode(mac, macHex); err != nil || !hmac.Equal(mac, snapshotMAC(key, body)) {
		return nil, cacheOf{}
	}
	s, of, err := decodeSnapshotCache(string(body))
	if err != nil {
		return nil, cacheOf{}
	}
	s.Root = root
	return s, of
}

// cacheOf says which manifests a cache was read from: their ledgerID, and how many they were.
type cacheOf struct {
	ledger    string
	manifests int64
}

// encodeSnapshotCache writes s, read from the manifests named, in the cache's text form.
func encodeSnapshotCache(s *Snapshot, names []string) []byte {
	var commits []string
	index := map[string]int{}
	for _, f := range s.Files {
		if _, ok := index[f.Commit]; !ok {
			index[f.Commit] = len(commits)
			commits = append(commits, f.Commit)
		}
	}
	var b []byte
	b = fmt.Appendf(b, "%s %s %d %d %d %d\n", snapshotCacheHeader, ledgerID(names), len(names), s.Seq, len(s.Files), len(commits))
	for _, c := range commits {
		b = strconv.AppendQuote(b, c)
		b = append(b, '\n')
	}
	for _, f := range s.Files {
		p := f.Partition
		for _, v := range []string{f.Path, p.Account, p.Region, p.Year, p.Month, p.Day} {
			b = strconv.AppendQuote(b, v)
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%d %d ", f.Rows, f.Bytes)
		for _, v := range []string{f.SHA256, f.MinTime, f.MaxTime} {
			b = strconv.AppendQuote(b, v)
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%d %d %d %d ", f.HashOffset, f.HashBytes, f.HashVersion, index[f.Commit])
		origins := make([]string, len(f.Origins))
		for i, o := range f.Origins {
			origins[i] = strconv.FormatInt(o, 10)
		}
		b = strconv.AppendQuote(b, strings.Join(origins, ","))
		b = append(b, ' ')
		var values []byte
		if f.Values != nil {
			values, _ = json.Marshal(f.Values)
		}
		b = strconv.AppendQuote(b, string(values))
		b = append(b, '\n')
	}
	return b
}

// decodeSnapshotCache reads the cache's text form: the snapshot (without its Root) and which
// manifests it was read from.
func decodeSnapshotCache(text string) (*Snapshot, cacheOf, error) {
	c := cacheReader{rest: text}
	if c.word() != "trailsql" || c.word() != "snapshot" || c.word() != "v4" {
		return nil, cacheOf{}, errors.New("not a snapshot cache")
	}
	of := cacheOf{ledger: c.word(), manifests: c.int()}
	s := &Snapshot{Seq: c.int()}
	nFiles, nCommits := c.int(), c.int()
	c.line()
	if c.err != nil || of.manifests < 0 || nFiles < 0 || nCommits < 0 || nFiles > int64(len(text)) || nCommits > int64(len(text)) {
		return nil, cacheOf{}, errors.New("damaged snapshot cache header")
	}
	commits := make([]string, nCommits)
	for i := range commits {
		commits[i] = c.str()
		c.line()
	}
	s.Files = make([]File, nFiles)
	for i := range s.Files {
		f := &s.Files[i]
		f.Path = c.str()
		f.Partition = Partition{Account: c.str(), Region: c.str(), Year: c.str(), Month: c.str(), Day: c.str()}
		f.Rows, f.Bytes = c.int(), c.int()
		f.SHA256, f.MinTime, f.MaxTime = c.str(), c.str(), c.str()
		f.HashOffset, f.HashBytes, f.HashVersion = c.int(), c.int(), int(c.int())
		if k := c.int(); c.err == nil && k >= 0 && k < nCommits {
			f.Commit = commits[k]
		} else if c.err == nil {
			c.err = errors.New("commit index out of range")
		}
		if origins := c.str(); origins != "" {
			for _, o := range strings.Split(origins, ",") {
				n, err := strconv.ParseInt(o, 10, 64)
				if err != nil && c.err == nil {
					c.err = errors.New("damaged origins")
				}
				f.Origins = append(f.Origins, n)
			}
		}
		if v, n := quotedValues(c.rest); c.err == nil && n > 0 {
			f.Values = v
			c.rest = strings.TrimPrefix(c.rest[n:], " ")
		} else if q := c.quoted(); q != `""` && c.err == nil {
			v, err := strconv.Unquote(q)
			if err != nil || json.Unmarshal([]byte(v), &f.Values) != nil || f.Values == nil {
				c.err = errors.New("damaged values")
			}
		}
		c.line()
	}
	if c.err != nil || c.rest != "" {
		return nil, cacheOf{}, errors.New("damaged snapshot cache")
	}
	return s, of, nil
}

// cacheReader reads the fields of the cache's text form; the first error sticks.
type cacheReader struct {
	rest string
	err  error
}

// word returns the next field, up to a space or the end of the line.
func (c *cacheReader) word() string {
	if c.err != nil {
		return ""
	}
	i := strings.IndexAny(c.rest, " \n")
	if i < 0 {
		i = len(c.rest)
	}
	w := c.rest[:i]
	c.rest = strings.TrimPrefix(c.rest[i:], " ")
	return w
}

func (c *cacheReader) int() int64 {
	w := c.word()
	if c.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		c.err = err
	}
	return n
}

// str returns the next field, a quoted string.
func (c *cacheReader) str() string {
	q := c.quoted()
	if c.err != nil {
		return ""
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		c.err = err
		return ""
	}
	return v
}

// quoted returns the next field as it is written, quotes included.
func (c *cacheReader) quoted() string {
	if c.err != nil {
		return ""
	}
	q, err := strconv.QuotedPrefix(c.rest)
	if err != nil {
		c.err = err
		return ""
	}
	c.rest = strings.TrimPrefix(c.rest[len(q):], " ")
	return q
}

// quotedValues decodes the <values> field at the start of rest (File.Values as JSON, Go-quoted)
// the fast way, and returns the length of the field, or 0 when it cannot: then the field is
// unquoted and decoded as JSON. Decoding every file's values with encoding/json, after unquoting
// them character by character, was two thirds of reading the cache (413 files of the long bench
// shape: 20 of 30 ms, at the start of every query). The fast way reads what json.Marshal writes
// for values without escapes, {"column":["value",…],…}, which the field holds as
// "{\"column\":[\"value\",…],…}"; any other escape, a character that JSON or Go would have
// escaped, or text not of that shape leaves the field to the slow way.
func quotedValues(rest string) (map[string][]string, int) {
	s := rest
	// str reads a JSON string, \"…\", of plain characters.
	str := func() (string, bool) {
		if !strings.HasPrefix(s, `\"`) {
			return "", false
		}
		s = s[2:]
		end := strings.IndexByte(s, '\\')
		if end < 0 || !strings.HasPrefix(s[end:], `\"`) {
			return "", false
		}
		v := s[:end]
		for i := 0; i < len(v); i++ {
			if b := v[i]; b < 0x20 || b == '"' || b >= 0x7f {
				return "", false
			}
		}
		s = s[end+2:]
		return v, true
	}
	if !strings.HasPrefix(s, `"{`) {
		return nil, 0
	}
	s = s[2:]
	out := map[string][]string{}
	if strings.HasPrefix(s, `}"`) {
		return out, len(rest) - len(s) + 2
	}
	for {
		k, ok := str()
		if !ok || !strings.HasPrefix(s, ":[") {
			return nil, 0
		}
		s = s[2:]
		vs := []string{}
		if strings.HasPrefix(s, "]") {
			s = s[1:]
		} else {
			for {
				v, ok := str()
				if !ok {
					return nil, 0
				}
				vs = append(vs, v)
				if strings.HasPrefix(s, ",") {
					s = s[1:]
					continue
				}
				if !strings.HasPrefix(s, "]") {
					return nil, 0
				}
				s = s[1:]
				break
			}
		}
		out[k] = vs
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, `}"`):
			return out, len(rest) - len(s) + 2
		default:
			return nil, 0
		}
	}
}

// line ends a line.
func (c *cacheReader) line() {
	if c.err != nil {
		return
	}
	if !strings.HasPrefix(c.rest, "\n") {
		c.err = errors.New("line too long")
		return
	}
	c.rest = c.rest[1:]
}

// cacheSnapshot writes s, read from the manifests named, as the cache, signed with key. It is a
// best effort: a lake this process cannot write to, or a write that fails, leaves the cache as it
// was, and the next reader reads the ledger whole.
func cacheSnapshot(root string, key []byte, names []string, s *Snapshot) {
	body := encodeSnapshotCache(s, names)
	dir, err := os.OpenRoot(filepath.Join(root, metaDir))
	if err != nil {
		return
	}
	defer dir.Close()
	// A name of its own, so that readers writing at once do not write into each other's file;
	// the rename replaces the cache whole (or a link planted in its place, never followed).
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".snapshot-" + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return
	}
	mac := snapshotMAC(key, body)
	_, err = f.Write(append(append([]byte(hex.EncodeToString(mac)), '\n'), body...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	// No fsync: a cache a crash leaves empty or cut short fails its MAC and is not used.
	if err == nil {
		err = dir.Rename(tmp, filepath.Base(snapshotCacheFile))
	}
	if err != nil {
		dir.Remove(tmp)
	}
}
