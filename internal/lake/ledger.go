package lake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// The ledger is authenticated with a key that only trailsql reads: SQL over the lake may read
// <lake>/cloudtrail_logs only, so whatever a query manages to write into the lake cannot carry a
// valid MAC. Every manifest ends with a seal line, {"hmac_sha256":"<hex>"}, the HMAC-SHA256 under
// the key of the manifest's JSON line; trailsql versions before the seal refuse such a manifest
// (a second JSON value) rather than misreading it, so an older binary never deletes files of a
// signed lake.
//
// Lakes written before are unsigned and have no key. The first writer that opens one signs it
// (see migrateLedger): it writes the key as _trailsql/key.migrating, rewrites each manifest signed
// after checking its paths and recording the checksums of its files, then renames the key into
// place. While only key.migrating exists (a crash during that), unsigned and signed manifests are
// both read; once _trailsql/key exists, an unsigned manifest is refused.
const (
	keyFile          = "_trailsql/key"
	migratingKeyFile = "_trailsql/key.migrating"
	sealPrefix       = `{"hmac_sha256":"`
	macContext       = "trailsql manifest v1\n"
)

// keyState says how far a lake's ledger is signed.
type keyState int

const (
	keyNone      keyState = iota // an older lake: no manifest is signed
	keyMigrating                 // being signed: signed and unsigned manifests are both valid
	keyFinal                     // signed: every manifest must carry a valid MAC
)

// ErrLedger is matched (errors.Is) by every *LedgerError.
var ErrLedger = errors.New("the lake's ledger holds an entry trailsql cannot trust")

// LedgerError says which ledger entry cannot be trusted, and why: it cannot be read or decoded,
// it is not signed with the lake's key, or a path it names leaves its folder.
type LedgerError struct {
	Entry string // the entry's path relative to the lake root
	Field string // what is wrong in it: content, mac, name, files[2].path, replaces[0], hashes, …
	Err   error
}

func (e *LedgerError) Error() string {
	return fmt.Sprintf("ledger entry %s: %s: %v (run `trailsql check --repair` to quarantine it; the lake's other commits are kept)", e.Entry, e.Field, e.Err)
}

// Unwrap lets errors.Is match ErrLedger and the cause.
func (e *LedgerError) Unwrap() []error { return []error{ErrLedger, e.Err} }

// readKey reads the lake's key: the final one, else the one of a signing in progress.
func readKey(root string) ([]byte, keyState, error) {
	// The final key is looked for again last: a migration may rename key.migrating to key
	// between the first two reads.
	for _, k := range []struct {
		name  string
		state keyState
	}{{keyFile, keyFinal}, {migratingKeyFile, keyMigrating}, {keyFile, keyFinal}} {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(k.name)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read the lake's key %s: %w (readers and writers of a lake need its key, which only the lake's owner may read)", k.name, err)
		}
		key, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) != 32 {
			return nil, 0, &LedgerError{Entry: k.name, Field: "key", Err: errors.New("not a 32-byte hex key (restore the file from a backup of the lake)")}
		}
		return key, k.state, nil
	}
	return nil, keyNone, nil
}

// writeNewKey creates a random key at rel (mode 0600) and returns it.
func writeNewKey(root, rel string) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	if err := writeFileAtomicMode(filepath.Join(root, filepath.FromSlash(rel)), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("create the lake's key %s: %w", rel, err)
	}
	return key, nil
}

// macOf is the MAC of a manifest's JSON line.
func macOf(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macContext))
	m.Write(body)
	return m.Sum(nil)
}

// sealLine is the line that signs body.
func sealLine(key, body []byte) []byte {
	return []byte(sealPrefix + hex.EncodeToString(macOf(key, body)) + "\"}\n")
}

// splitSeal splits a decompressed manifest into its JSON and its MAC; an unsigned manifest has no
// seal line and a nil MAC.
func splitSeal(data []byte) (body, mac []byte, err error) {
	if !bytes.HasSuffix(data, []byte("\"}\n")) {
		return data, nil, nil
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 || !bytes.HasPrefix(data[i+1:], []byte(sealPrefix)) {
		return data, nil, nil
	}
	line := data[i+1:]
	mac, err = hex.DecodeString(string(line[len(sealPrefix) : len(line)-3]))
	if err != nil || len(mac) != sha256.Size {
		return nil, nil, errors.New("damaged seal line")
	}
	return data[:i+1], mac, nil
}

// sealManifest returns a manifest's file content, signed with key.
func sealManifest(m *Manifest, key []byte) ([]byte, error) { return gzipManifest(m, key) }

// ledgerEntry is one manifest of the ledger, trusted or not.
type ledgerEntry struct {
	name   string // file name in _trailsql/commits
	m      Manifest
	signed bool
	err    *LedgerError // why it cannot be trusted; nil if it can
}

// ledger is what a lake's _trailsql/commits holds, every entry judged.
type ledger struct {
	root     string
	key      []byte
	keyState keyState
	entries  []ledgerEntry // in commit order; entries that cannot be decoded first, by name
}

// loadLedger reads and judges every manifest of the lake. It fails only when the ledger cannot
// be listed or the key cannot be read; entries that cannot be trusted carry their error.
func loadLedger(root string) (*ledger, error) {
	l := &ledger{root: root}
	dirents, err := os.ReadDir(filepath.Join(root, commitsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the ledger of lake %s: %w", root, err)
	}
	if l.key, l.keyState, err = readKey(root); err != nil {
		return nil, err
	}
	for _, d := range dirents {
		name := d.Name()
		if !isManifestName(name) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, commitsDir, name))
		if err != nil {
			l.entries = append(l.entries, ledgerEntry{name: name, err: &LedgerError{Entry: commitsDir + "/" + name, Field: "file", Err: err}})
			continue
		}
		l.entries = append(l.entries, l.judge(commitsDir, name, data))
	}
	sort.SliceStable(l.entries, func(i, j int) bool {
		a, b := &l.entries[i], &l.entries[j]
		if a.m.Seq != b.m.Seq {
			return a.m.Seq < b.m.Seq
		}
		return a.name < b.name
	})
	return l, nil
}

// isManifestName reports whether a file of the commits folder is a manifest (not a temporary
// file of an interrupted write).
func isManifestName(name string) bool {
	return !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz"))
}

// judge decodes a manifest read from dir/name and says whether it can be trusted.
func (l *ledger) judge(dir, name string, data []byte) ledgerEntry {
	e := ledgerEntry{name: name}
	bad := func(field string, err error) ledgerEntry {
		e.err = &LedgerError{Entry: dir + "/" + name, Field: field, Err: err}
		return e
	}
	body, mac, err := unsealManifest(data)
	if err != nil {
		return bad("content", err)
	}
	if err := json.Unmarshal(body, &e.m); err != nil {
		return bad("content", err)
	}
	e.signed = mac != nil
	switch {
	case e.signed && l.key == nil:
		return bad("mac", errors.New("signed, but the lake has no key: _trailsql/key is missing (restore it from a backup of the lake)"))
	case e.signed && !hmac.Equal(mac, macOf(l.key, body)):
		return bad("mac", errors.New("does not match the lake's key: not written by trailsql (forged), or damaged"))
	case !e.signed && l.keyState == keyFinal:
		return bad("mac", errors.New("unsigned in a signed lake: not written by trailsql (forged)"))
	}
	if field, err := validateManifest(&e.m); err != nil {
		return bad(field, err)
	}
	if e.signed {
		prefix := fmt.Sprintf("%016d-%s.", e.m.Seq, e.m.ID)
		if name != prefix+"json.gz" && name != prefix+"json" {
			return bad("name", fmt.Errorf("the file's name does not match its commit %d %s (copied from another commit)", e.m.Seq, e.m.ID))
		}
	}
	return e
}

// err returns the error of the first entry that cannot be trusted, or nil.
func (l *ledger) err() error {
	for _, e := range l.entries {
		if e.err != nil {
			return e.err
		}
	}
	return nil
}

// manifests returns the trusted manifests in commit order.
func (l *ledger) manifests() []Manifest {
	out := make([]Manifest, 0, len(l.entries))
	for _, e := range l.entries {
		if e.err == nil {
			out = append(out, e.m)
		}
	}
	return out
}

// validateManifest checks every path a manifest names and the form of its fields; it returns
// the field at fault.
func validateManifest(m *Manifest) (string, error) {
	if m.Seq <= 0 {
		return "seq", fmt.Errorf("%d is not a commit number", m.Seq)
	}
	if !validID(m.ID) {
		return "id", fmt.Errorf("%q is not a commit id", m.ID)
	}
	for i, f := range m.Files {
		field := fmt.Sprintf("files[%d]", i)
		if err := checkDataPath(f.Path); err != nil {
			return field + ".path", err
		}
		if f.Rows < 0 || f.Bytes < 0 || f.HashOffset < 0 || f.HashBytes < 0 {
			return field, errors.New("negative count")
		}
		if f.HashVersion < 0 || f.HashVersion > cloudtrail.HashVersion {
			return field + ".hash_version", fmt.Errorf("hash version %d: written by a newer trailsql (use that version)", f.HashVersion)
		}
		if f.SHA256 != "" && !isHexSum(f.SHA256) {
			return field + ".sha256", fmt.Errorf("%q is not a SHA-256", f.SHA256)
		}
	}
	for i, p := range m.Replaces {
		if err := checkDataPath(p); err != nil {
			return fmt.Sprintf("replaces[%d]", i), err
		}
	}
	for i, p := range m.Quarantined {
		if err := checkDataPath(p); err != nil {
			return fmt.Sprintf("quarantined[%d]", i), err
		}
	}
	if m.Hashes != "" {
		if err := checkHashPath(m.Hashes); err != nil {
			return "hashes", err
		}
	} else if len(m.Files) > 0 {
		return "hashes", errors.New("missing: the commit has files")
	}
	if m.HashesSHA256 != "" && !isHexSum(m.HashesSHA256) {
		return "hashes_sha256", fmt.Errorf("%q is not a SHA-256", m.HashesSHA256)
	}
	return "", nil
}

// validID reports whether a commit id is one a writer makes (it goes into file names).
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

func isHexSum(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// checkRelPath accepts a plain relative slash-separated path: not absolute, no backslash or NUL,
// no empty, "." or ".." segment.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("%q holds a backslash or NUL", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is absolute", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%q has an empty segment", p)
		case ".", "..":
			return fmt.Errorf("%q has a %q segment", p, seg)
		}
	}
	return nil
}

// checkDataPath accepts the path of a data file: a .parquet file under cloudtrail_logs/.
func checkDataPath(p string) error {
	if err := checkRelPath(p); err != nil {
		return err
	}
	if !strings.HasPrefix(p, Table+"/") || !strings.HasSuffix(p, ".parquet") {
		return fmt.Errorf("%q is not a .parquet file under %s/", p, Table)
	}
	return nil
}

// checkHashPath accepts the path of a hash file: a .ef or .bin file right in _trailsql/hashes/.
func checkHashPath(p string) error {
	if err := checkRelPath(p); err != nil {
		return err
	}
	base, ok := strings.CutPrefix(p, hashesDir+"/")
	if !ok || strings.Contains(base, "/") || !(strings.HasSuffix(base, hashFileExt) || strings.HasSuffix(base, ".bin")) {
		return fmt.Errorf("%q is not a hash file in %s/", p, hashesDir)
	}
	return nil
}

// ledgerFile is a data file as the trusted ledger knows it.
type ledgerFile struct {
	File
	hashes       string // the commit's hash file
	hashesSum    string // its SHA-256
	live         bool
	superseded   bool  // replaced by a compaction (may still be on disk)
	quarantined  bool  // taken out by a repair
	supersededAt int64 // Unix nanoseconds of the compaction
	// origins are the indexes in ledger.entries of the commits whose sources the file's rows
	// came from: its own commit's, or those of the files a compaction merged into it.
	origins []int
	// seqs are the sequence numbers of the commits that wrote the file's rows: its own for an
	// ingest's file, the merged files' for a compaction's (File.Origins).
	seqs []int64
}

// ledgerFiles are the data files the trusted ledger ever listed.
type ledgerFiles struct {
	byPath map[string]*ledgerFile
	order  []string // in the order first listed
}

// files replays the trusted manifests.
func (l *ledger) files() ledgerFiles {
	out := ledgerFiles{byPath: map[string]*ledgerFile{}}
	for i, e := range l.entries {
		if e.err != nil {
			continue
		}
		m := &e.m
		inherited := map[Partition][]int{}
		inheritedSeqs := map[Partition][]int64{}
		for _, r := range m.Replaces {
			if f := out.byPath[r]; f != nil {
				if f.live {
					f.live, f.superseded, f.supersededAt = false, true, m.Time.UnixNano()
				}
				inherited[f.Partition] = append(inherited[f.Partition], f.origins...)
				inheritedSeqs[f.Partition] = append(inheritedSeqs[f.Partition], f.seqs...)
			}
		}
		for _, q := range m.Quarantined {
			if f := out.byPath[q]; f != nil {
				f.live, f.superseded, f.quarantined = false, false, true
			}
		}
		for _, f := range m.Files {
			lf := &ledgerFile{File: f, hashes: m.Hashes, hashesSum: m.HashesSHA256, live: true}
			lf.Commit = e.name
			lf.origins = slices.Clone(inherited[f.Partition])
			if len(m.Sources) > 0 {
				lf.origins = append(lf.origins, i)
			}
			slices.Sort(lf.origins)
			lf.origins = slices.Compact(lf.origins)
			lf.seqs = fileSeqs(m, inheritedSeqs[f.Partition])
			if _, seen := out.byPath[f.Path]; !seen {
				out.order = append(out.order, f.Path)
			}
			out.byPath[f.Path] = lf
		}
	}
	return out
}

// fileSeqs returns the sequence numbers of the commits that wrote the rows of a file that m
// lists (File.Origins): m's own, or for a compaction those of the files it replaces in the
// file's partition (inherited).
func fileSeqs(m *Manifest, inherited []int64) []int64 {
	if len(m.Replaces) == 0 {
		return []int64{m.Seq}
	}
	seqs := slices.Clone(inherited)
	slices.Sort(seqs)
	return slices.Compact(seqs)
}

// sourcesOf returns the sources of the given commits.
func (l *ledger) sourcesOf(origins []int) []Source {
	var out []Source
	for _, i := range origins {
		out = append(out, l.entries[i].m.Sources...)
	}
	return out
}

// migrateLedger signs the ledger of a lake an older trailsql wrote, once: every manifest is
// checked (paths inside their folders), given the checksums of its files still on disk (a full
// read of the lake, once), and rewritten signed; then the key is put in place. A crash midway
// leaves key.migrating, with which the next writer goes on. A lake already signed is left alone;
// a new lake just gets its key.
//
// Signing a lake vouches for what it holds now: a manifest forged into an unsigned lake before
// this ran would be signed too. Its paths are checked, so it cannot point outside the lake, and
// `trailsql check` before the first write of a new version shows what the ledger holds.
func migrateLedger(ctx context.Context, l *lakeFS, log *slog.Logger) error {
	led, err := loadLedger(l.dir)
	if err != nil {
		return err
	}
	if led.keyState == keyFinal {
		return nil
	}
	if err := led.err(); err != nil {
		return fmt.Errorf("sign the ledger of lake %s: %w", l.dir, err)
	}
	if len(led.entries) == 0 && led.keyState == keyNone {
		_, err := writeNewKey(l.dir, keyFile)
		return err
	}
	key := led.key
	if key == nil {
		if key, err = writeNewKey(l.dir, migratingKeyFile); err != nil {
			return err
		}
	}
	log.Info("signing the lake's ledger, once: reading every data file to record its checksum", "commits", len(led.entries))
	for i := range led.entries {
		e := &led.entries[i]
		if e.signed {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		m := e.m
		for j := range m.Files {
			f := &m.Files[j]
			if f.SHA256 != "" {
				continue
			}
			n, sum, err := l.sum(f.Path)
			var fe *FileError
			if errors.As(err, &fe) {
				continue // gone (superseded and deleted) or damaged: `trailsql check` says which
			}
			if err != nil {
				return fmt.Errorf("sign the ledger of lake %s: %w", l.dir, err)
			}
			if n != f.Bytes {
				log.Warn("a data file's size is not its commit's: its checksum is not recorded (run `trailsql check`)", "file", f.Path, "bytes", n, "ledger", f.Bytes)
				continue
			}
			f.SHA256 = sum
		}
		if m.Hashes != "" && m.HashesSHA256 == "" {
			if _, sum, err := l.sum(m.Hashes); err == nil {
				m.HashesSHA256 = sum
			}
		}
		data, err := sealManifest(&m, key)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(l.dir, commitsDir, e.name), data); err != nil {
			return fmt.Errorf("sign the ledger of lake %s: %w", l.dir, err)
		}
	}
	if err := os.Rename(filepath.Join(l.dir, filepath.FromSlash(migratingKeyFile)), filepath.Join(l.dir, filepath.FromSlash(keyFile))); err != nil {
		return fmt.Errorf("sign the ledger of lake %s: %w", l.dir, err)
	}
	return syncDir(filepath.Join(l.dir, metaDir))
}
