package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Kinds of problems Verify finds beyond the damage to a data file (the Damage constants).
const (
	ProblemManifest = "manifest" // a ledger entry that cannot be trusted: undecodable, forged, a path leaving its folder
	ProblemKey      = "key"      // the lake's key is missing or replaced: no signed commit verifies
	ProblemHashes   = "hashes"   // a hash file (the dedup keys of a commit's files) is missing or damaged
	ProblemOrphan   = "orphan"   // a file in the table or hash folder that no trusted commit lists
	ProblemIntent   = "intent"   // an interrupted commit, whose files the next writer removes
)

// repair actions, what Repair does about a problem.
const (
	actNone             = iota // nothing: the next writer does it
	actQuarantineLedger        // move the ledger entry (manifest or intent) to quarantine
	actQuarantineFile          // take the live file out in the repair commit, move it to quarantine
	actQuarantineHashes        // take the live files of the hash file out, move them and it to quarantine
	actMove                    // move the stray file to quarantine
	actRefuse                  // repair cannot do it
)

// Problem is one thing wrong with a lake: what is wrong, what it affects according to the ledger,
// what it can be rebuilt from, and what `check --repair` does about it.
type Problem struct {
	Kind   string `json:"kind"`   // a Damage or Problem constant
	Path   string `json:"path"`   // the file at fault, relative to the lake root
	Detail string `json:"detail"` // what is wrong with it
	// Commit is the manifest the file belongs to, when known.
	Commit string `json:"commit,omitempty"`
	// Partitions and Events are what the ledger says the file holds (a manifest that cannot be
	// trusted: what it claims).
	Partitions []Partition `json:"partitions,omitempty"`
	Events     int64       `json:"events,omitempty"`
	// Sources are the inputs the file's events came from: after --repair, ingesting them again
	// restores the events (those still in the lake are skipped). SourcesUnknown: the ledger
	// does not say (an unreadable manifest); ingest all your inputs again.
	Sources        []Source `json:"sources,omitempty"`
	SourcesUnknown bool     `json:"sources_unknown,omitempty"`
	Repair         string   `json:"repair"`             // what --repair does about it
	Repaired       bool     `json:"repaired,omitempty"` // set by Repair
	action         int
	hashFiles      []string // actQuarantineHashes: the live files of the hash file
}

// Report is what Verify found, and Repair did.
type Report struct {
	Lake     string    `json:"lake"`
	Commits  int       `json:"commits"` // trusted commits
	Files    int       `json:"files"`   // live data files
	Events   int64     `json:"events"`  // their events, as the ledger counts them
	Bytes    int64     `json:"bytes"`   // their size, all read
	Problems []Problem `json:"problems"`
	// Quarantine is the folder Repair moved files to (relative to the lake root).
	Quarantine string `json:"quarantine,omitempty"`
	// Reingest are the sources Repair made ingestible again: ingest them to restore the events
	// taken out. ReingestUnknown: some events came from sources the ledger does not name.
	Reingest        []Source `json:"reingest,omitempty"`
	ReingestUnknown bool     `json:"reingest_unknown,omitempty"`
}

// OK reports whether nothing is wrong (or left wrong, after Repair).
func (r *Report) OK() bool {
	for _, p := range r.Problems {
		if !p.Repaired {
			return false
		}
	}
	return true
}

// Check verifies a lake (see Verify) and returns its problems as sentences, or nil when it is
// consistent.
func Check(root string) ([]string, error) {
	r, err := Verify(context.Background(), root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range r.Problems {
		out = append(out, fmt.Sprintf("%s: %s: %s", p.Path, p.Kind, p.Detail))
	}
	return out, nil
}

// Verify checks a whole lake: every manifest (decodes, carries a valid MAC, names only paths in
// their folders), every live data file (present, a regular file reached through folders only,
// its size and SHA-256 as recorded, which takes reading it all, a readable Parquet footer, the
// rows its commit says), every hash file (checksum, each file's block decodes to its row
// count), and what lies in the table and hash folders that no trusted commit lists (orphans,
// symbolic links). It changes nothing; it fails only when the lake cannot be read at all.
func Verify(ctx context.Context, root string) (*Report, error) {
	if _, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("check lake: %w", err)
	}
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	lfs, err := openLakeFS(root)
	if err != nil {
		return nil, err
	}
	defer lfs.Close()
	rep := &Report{Lake: root}
	badIDs := map[string]string{} // commit id -> manifest that cannot be trusted
	verified, signedBad := 0, 0
	for _, e := range l.entries {
		if e.err == nil {
			rep.Commits++
			if e.signed {
				verified++
			}
		} else if e.err.Field == "mac" {
			signedBad++
		}
	}
	// With no key, or a key that verifies no commit, the key is what is wrong: quarantining every
	// commit would empty the lake.
	keyLost := l.key == nil && signedBad > 0 || verified == 0 && signedBad >= 2 && l.keyState == keyFinal
	if keyLost {
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemKey, Path: keyFile, action: actRefuse,
			Detail: fmt.Sprintf("%d commits fail their MAC and none verifies with the lake's key: the key is missing or was replaced", signedBad),
			Repair: "none: restore _trailsql/key from a backup of the lake"})
	}
	for _, e := range l.entries {
		if e.err == nil || keyLost && e.err.Field == "mac" {
			continue
		}
		p := Problem{Kind: ProblemManifest, Path: commitsDir + "/" + e.name, Detail: e.err.Field + ": " + e.err.Err.Error(), action: actQuarantineLedger,
			Repair: "moves it to quarantine; files only it lists go with it"}
		if e.err.Field == "content" || e.err.Field == "file" {
			p.SourcesUnknown = true
			p.Repair += "; the sources of its commit are unknown: ingest all your inputs again (what the lake holds already is skipped)"
		} else {
			for _, f := range e.m.Files {
				p.Events += f.Rows
				p.Partitions = appendPartition(p.Partitions, f.Partition)
			}
			p.Detail += fmt.Sprintf(" (it claims %d files, %d events, %d sources; its claims are not trusted)", len(e.m.Files), p.Events, len(e.m.Sources))
		}
		if id := commitIDOf(e.name); id != "" {
			badIDs[id] = p.Path
		}
		rep.Problems = append(rep.Problems, p)
	}
	files := l.files()
	affects := func(p *Problem, f *ledgerFile) {
		p.Commit = f.Commit
		p.Partitions = appendPartition(p.Partitions, f.Partition)
		p.Events += f.Rows
		srcs := l.sourcesOf(f.origins)
		p.Sources = appendSources(p.Sources, srcs...)
		if len(f.origins) == 0 {
			p.SourcesUnknown = true
		}
	}
	hashUsers := map[string][]*ledgerFile{}
	for _, path := range files.order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := files.byPath[path]
		if !f.live {
			continue
		}
		rep.Files++
		rep.Events += f.Rows
		hashUsers[f.hashes] = append(hashUsers[f.hashes], f)
		if err := verifyDataFile(lfs, f); err != nil {
			var fe *FileError
			kind := DamageParquet
			if errors.As(err, &fe) {
				kind = fe.Kind
			}
			detail := err.Error()
			if fe != nil {
				detail = fe.Err.Error()
			}
			p := Problem{Kind: kind, Path: path, Detail: detail, action: actQuarantineFile,
				Repair: "takes the file out of the lake (moved to quarantine) and makes its sources ingestible again"}
			affects(&p, f)
			rep.Problems = append(rep.Problems, p)
			continue
		}
		rep.Bytes += f.Bytes
	}
	hashPaths := make([]string, 0, len(hashUsers))
	for h := range hashUsers {
		hashPaths = append(hashPaths, h)
	}
	sort.Strings(hashPaths)
	for _, h := range hashPaths {
		users := hashUsers[h]
		err := lfs.verify(h, -1, users[0].hashesSum)
		if err == nil {
			for _, f := range users {
				if _, err = readHashes(filepath.Join(root, filepath.FromSlash(h)), f.HashOffset, f.Rows, f.HashBytes); err != nil {
					break
				}
			}
		}
		if err == nil {
			continue
		}
		var fe *FileError
		detail := err.Error()
		if errors.As(err, &fe) {
			detail = fe.Err.Error()
		}
		p := Problem{Kind: ProblemHashes, Path: h, Detail: detail, action: actQuarantineHashes,
			Repair: "takes the files whose dedup keys it holds out of the lake (moved to quarantine, with it) and makes their sources ingestible again"}
		for _, f := range users {
			affects(&p, f)
			p.hashFiles = append(p.hashFiles, f.Path)
		}
		p.Commit = users[0].Commit
		rep.Problems = append(rep.Problems, p)
	}
	// Interrupted commits: their files are the next writer's to remove.
	pending := map[string]bool{}
	committed := map[string]bool{}
	for _, e := range l.entries {
		committed[e.name] = true
	}
	intents, _ := os.ReadDir(filepath.Join(root, intentsDir))
	for _, d := range intents {
		name := d.Name()
		if !isManifestName(name) || committed[name] {
			continue
		}
		path := intentsDir + "/" + name
		data, err := lfs.root.ReadFile(filepath.FromSlash(path))
		var e ledgerEntry
		if err == nil {
			e = l.judge(intentsDir, name, data)
		}
		if err != nil || e.err != nil {
			detail := fmt.Sprint(err)
			if e.err != nil {
				detail = e.err.Field + ": " + e.err.Err.Error()
			}
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemManifest, Path: path, Detail: detail, action: actQuarantineLedger,
				Repair: "moves it to quarantine"})
			continue
		}
		for _, f := range e.m.Files {
			pending[f.Path] = true
		}
		pending[e.m.Hashes] = true
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemIntent, Path: path, action: actNone,
			Detail: fmt.Sprintf("a commit that was interrupted before its manifest was written (%d files)", len(e.m.Files)),
			Repair: "the next writer (ingest, compact, check --repair) removes its files"})
	}
	// What no trusted commit lists.
	known := func(rel string) bool {
		if f := files.byPath[rel]; f != nil && (f.live || f.superseded) {
			return true
		}
		return pending[rel]
	}
	walkErr := filepath.WalkDir(filepath.Join(root, Table), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0 && !(files.byPath[rel] != nil && files.byPath[rel].live):
			target, _ := os.Readlink(p)
			rep.Problems = append(rep.Problems, Problem{Kind: DamageSymlink, Path: rel, action: actMove,
				Detail: fmt.Sprintf("a symbolic link (to %s) in the table's folder: trailsql never makes one", target),
				Repair: "moves the link (not what it points to) to quarantine"})
		case d.IsDir(), d.Type()&fs.ModeSymlink != 0:
		case !known(rel):
			p := Problem{Kind: ProblemOrphan, Path: rel, action: actMove, Detail: "in no trusted commit",
				Repair: "moves it to quarantine (never deleted: trailsql did not record writing it)"}
			if m, ok := badIDs[commitIDOf(filepath.Base(rel))]; ok {
				p.Detail, p.Commit = "belongs to a commit that cannot be trusted", m
			}
			rep.Problems = append(rep.Problems, p)
		}
		return nil
	})
	if walkErr != nil {
		return nil, fmt.Errorf("check lake %s: %w", root, walkErr)
	}
	referenced := map[string]bool{}
	for _, e := range l.entries {
		if e.err == nil && e.m.Hashes != "" {
			referenced[e.m.Hashes] = true
		}
	}
	hashEntries, _ := os.ReadDir(filepath.Join(root, hashesDir))
	for _, d := range hashEntries {
		rel := hashesDir + "/" + d.Name()
		if strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), ".tmp") || referenced[rel] || pending[rel] {
			continue
		}
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemOrphan, Path: rel, action: actMove, Detail: "a hash file no trusted commit lists",
			Repair: "moves it to quarantine"})
	}
	return rep, nil
}

// verifyDataFile checks a live file against its ledger record: there, a regular file, size,
// checksum, Parquet footer and row count.
func verifyDataFile(lfs *lakeFS, f *ledgerFile) error {
	if err := lfs.verify(f.Path, f.Bytes, f.SHA256); err != nil {
		return err
	}
	in, err := lfs.open(f.Path)
	if err != nil {
		return err
	}
	defer in.Close()
	pf, err := parquet.OpenFile(in, f.Bytes, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return &FileError{Path: f.Path, Kind: DamageParquet, Err: fmt.Errorf("not a readable Parquet file: %w", err)}
	}
	if pf.NumRows() != f.Rows {
		return &FileError{Path: f.Path, Kind: DamageRows, Err: fmt.Errorf("%d rows, the ledger says %d", pf.NumRows(), f.Rows)}
	}
	return nil
}

// commitIDOf returns the commit id in the name of a manifest (0000000000000012-<id>.json.gz) or
// a data file (<id>-0001.parquet), or "".
func commitIDOf(name string) string {
	if seq, rest, ok := strings.Cut(name, "-"); ok && len(seq) == 16 && strings.HasSuffix(rest, ".json.gz") {
		return strings.TrimSuffix(rest, ".json.gz")
	} else if ok && len(seq) == 16 && strings.HasSuffix(rest, ".json") {
		return strings.TrimSuffix(rest, ".json")
	}
	if base, ok := strings.CutSuffix(name, ".parquet"); ok {
		if i := strings.LastIndexByte(base, '-'); i > 0 {
			return base[:i]
		}
	}
	return ""
}

func appendPartition(ps []Partition, p Partition) []Partition {
	if slices.Contains(ps, p) {
		return ps
	}
	return append(ps, p)
}

func appendSources(out []Source, srcs ...Source) []Source {
	for _, s := range srcs {
		if !slices.ContainsFunc(out, func(o Source) bool { return o.Key() == s.Key() }) {
			out = append(out, s)
		}
	}
	return out
}

// RepairOptions tunes Repair.
type RepairOptions struct {
	Logger *slog.Logger
}

// ErrUnrepairable is returned (wrapped) by Repair when a problem is not one it can repair, such
// as a lost key.
var ErrUnrepairable = errors.New("the lake cannot be repaired by trailsql")

// Repair verifies the lake under its writer lock and repairs what Verify found, losing no data:
// ledger entries that cannot be trusted, damaged files and stray files are moved under
// _trailsql/quarantine/<time>/ (never deleted); one commit takes the damaged live files out of
// the lake and forgets the sources their events came from, so that the next ingest reads them
// again (its dedup skips the events still in the lake). The report's problems say which were
// repaired; Reingest lists the sources to ingest again.
func Repair(ctx context.Context, root string, opt RepairOptions) (*Report, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(filepath.Join(root, metaDir)); err != nil {
		return nil, fmt.Errorf("repair lake: %w", err)
	}
	lock, err := lockLake(root)
	if err != nil {
		return nil, err
	}
	rep, err := Verify(ctx, root)
	if err != nil {
		lock.Close()
		return nil, err
	}
	for _, p := range rep.Problems {
		if p.action == actRefuse {
			lock.Close()
			return rep, fmt.Errorf("repair lake %s: %w: %s (%s)", root, ErrUnrepairable, p.Detail, p.Repair)
		}
	}
	if len(rep.Problems) == 0 {
		lock.Close()
		return rep, nil
	}
	lfs, err := openLakeFS(root)
	if err != nil {
		lock.Close()
		return nil, err
	}
	defer lfs.Close()
	q := quarantineDir + "/" + time.Now().UTC().Format("20060102T150405.000000000Z")
	rep.Quarantine = q
	moveOut := func(rel string) error {
		if _, err := lfs.root.Lstat(filepath.FromSlash(rel)); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return lfs.move(rel, q+"/"+rel)
	}
	// Entries that cannot be trusted leave the ledger first: the writer refuses a ledger that
	// holds any.
	for _, p := range rep.Problems {
		if p.action != actQuarantineLedger {
			continue
		}
		if err := moveOut(p.Path); err != nil {
			lock.Close()
			return rep, err
		}
		if strings.HasPrefix(p.Path, commitsDir+"/") {
			if err := moveOut(intentsDir + "/" + strings.TrimPrefix(p.Path, commitsDir+"/")); err != nil {
				lock.Close()
				return rep, err
			}
		}
	}
	// The writer signs an older lake and removes what interrupted commits left.
	w, err := openLocked(ctx, root, WriterOptions{Logger: opt.Logger}, lock)
	if err != nil {
		return rep, err
	}
	defer w.Close()
	out := &Manifest{}
	var hashFiles []string
	for _, p := range rep.Problems {
		switch p.action {
		case actQuarantineFile:
			out.Quarantined = append(out.Quarantined, p.Path)
		case actQuarantineHashes:
			out.Quarantined = append(out.Quarantined, p.hashFiles...)
			hashFiles = append(hashFiles, p.Path)
		default:
			continue
		}
		out.Forget = appendSources(out.Forget, p.Sources...)
		rep.ReingestUnknown = rep.ReingestUnknown || p.SourcesUnknown
	}
	for _, p := range rep.Problems {
		rep.ReingestUnknown = rep.ReingestUnknown || p.action == actQuarantineLedger && p.SourcesUnknown
	}
	slices.Sort(out.Quarantined)
	out.Quarantined = slices.Compact(out.Quarantined)
	if _, err := w.commit(ctx, out); err != nil {
		return rep, fmt.Errorf("repair lake %s: %w", root, err)
	}
	rep.Reingest = out.Forget
	// Now that no commit lists them, the files go.
	for _, rel := range out.Quarantined {
		if !lfs.plainFolders(rel) {
			continue // behind a linked folder, which is moved itself as a stray file
		}
		if err := moveOut(rel); err != nil {
			return rep, err
		}
	}
	for _, p := range rep.Problems {
		if p.action == actMove {
			if err := moveOut(p.Path); err != nil {
				return rep, err
			}
		}
	}
	for _, h := range hashFiles {
		if err := moveOut(h); err != nil {
			return rep, err
		}
	}
	w.Close()
	after, err := Verify(ctx, root)
	if err != nil {
		return rep, err
	}
	left := map[string]bool{}
	for _, p := range after.Problems {
		left[p.Kind+"\x00"+p.Path] = true
	}
	for i := range rep.Problems {
		rep.Problems[i].Repaired = !left[rep.Problems[i].Kind+"\x00"+rep.Problems[i].Path]
		delete(left, rep.Problems[i].Kind+"\x00"+rep.Problems[i].Path)
	}
	for _, p := range after.Problems {
		if left[p.Kind+"\x00"+p.Path] {
			rep.Problems = append(rep.Problems, p)
		}
	}
	rep.Commits, rep.Files, rep.Events, rep.Bytes = after.Commits, after.Files, after.Events, after.Bytes
	return rep, nil
}
