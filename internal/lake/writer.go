package lake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// encodeSlots bounds the batches of rows sorted, encoded and compressed in the background at
// once (and so their memory): one per core, so that a single partition-day keeps every core
// busy, and at least two.
func encodeSlots() int { return max(2, runtime.GOMAXPROCS(0)) }

// ErrLocked is returned by OpenWriter when another process is writing to the lake.
var ErrLocked = errors.New("another trailsql process is writing to this lake")

// WriterOptions tunes a Writer. Zero values take the defaults.
type WriterOptions struct {
	Logger *slog.Logger
	// MaxOpenFiles bounds the partitions being written at once; past it the least recently used
	// partition's file is finished (default 64).
	MaxOpenFiles int
	// RowGroupRows bounds a Parquet row group (default 64k rows). The rows of a row group are
	// held in memory until it is written, sorted.
	RowGroupRows int64
	// BufferedRows bounds the rows held in memory across all open files; past it the least
	// recently used files are finished (default 32k rows, about 70 MB). It bounds memory
	// whatever the input's size. Held rows are full of pointers, which the garbage collector
	// scans again and again: 100k rows cost 7% more CPU than 32k on the 1M-event benchmark.
	BufferedRows int64
	// Observer, when set, sees every row a commit adds (see RowObserver).
	Observer RowObserver
}

// RowObserver sees the rows the writer adds, while they are written, so that a consumer (the
// rules, evaluated as events arrive) need not read them back from the files. Rows a compaction
// copies are not shown: they were shown when first added.
type RowObserver interface {
	// Rows is called with rows of one partition that the commit named commit will hold, before
	// they are encoded, from the writer's background goroutines: concurrently, in no particular
	// order. It must not keep or change the records after it returns.
	Rows(commit string, p Partition, rows []*cloudtrail.Record)
	// Committed is called after the commit named commit became the lake's commit seq: every
	// row Rows was shown for it is in the lake. A commit never reported (it failed, or the
	// writer was closed first) holds none of its rows.
	Committed(commit string, seq int64)
}

// Writer adds records to a lake. One Writer at a time holds a lake (an exclusive lock); readers
// are never blocked. Not safe for concurrent use.
type Writer struct {
	root string
	opt  WriterOptions
	log  *slog.Logger
	lock *os.File
	fs   *lakeFS
	key  []byte // signs the manifests (see ledger.go)

	seq     int64
	sources map[string]bool // Source.Key of every committed source
	// index of committed hashes per partition, loaded lazily
	hashIndex map[Partition][]hashRef
	seen      map[Partition]map[uint64]struct{}

	open   map[Partition]*partFile
	staged []*partFile
	// last is the partition of the last Add and its file and hashes: a trail's records come
	// partition after partition, and a Partition is five strings to hash.
	last struct {
		p   Partition
		pf  *partFile
		set map[uint64]struct{}
	}
	// idleBuf are buffers for encoded batches, and idleEnc encoders, reused: a new encoder
	// allocates its buffers for every column, and a trail of many small partitions (one
	// batch each) made one per batch. parquet-go's GenericWriter.Reset clears the column
	// paths of the files a reused encoder writes (ColumnMetaData.Reset clears path_in_schema,
	// which shares its strings with the encoder's columns); parseSegment puts them back, for
	// readers such as parquet-mr map column chunks by that path.
	idleBuf []*bytes.Buffer
	idleEnc []*parquet.GenericWriter[*cloudtrail.Record]

	// batches and files being written in the background (see writeGroup); mu guards idleBuf,
	// staged and bgErr
	mu       sync.Mutex
	slots    chan struct{}
	inflight sync.WaitGroup
	bgErr    error
	pending  []Source
	codec    compress.Codec // shared: an encoder per file would allocate its history again and again
	commitID string
	fileSeq  int
	tick     int64
	buffered int64 // rows held by open files, not yet handed to a row group
	// superseded are the files compactions replaced that may still be on disk.
	superseded []supersededFile
	// pendingRows counts the records added since the last commit (files being finished in the
	// background included, which is why it is not derived from them).
	pendingRows int64
}

type supersededFile struct {
	path string
	at   time.Time
	size int64  // File.Bytes
	sum  string // File.SHA256
}

type hashRef struct {
	path   string // data file, relative to root
	file   string // hash file, relative to root
	offset int64  // File.HashOffset
	count  int64
	bytes  int64  // File.HashBytes
	size   int64  // File.Bytes
	sum    string // File.SHA256
	// version is the file's cloudtrail.HashVersion (File.HashVersion, 0 read as 1)
	version int
}

func newHashRef(f File, hashes string, rows int64) hashRef {
	v := f.HashVersion
	if v == 0 {
		v = 1
	}
	return hashRef{f.Path, hashes, f.HashOffset, rows, f.HashBytes, f.Bytes, f.SHA256, v}
}

// partFile is a Parquet file being written for one partition. Its rows are held until a batch
// is complete (or the file is finished), then sorted and encoded in the background, each batch
// on its own (see segment.go), and appended to the file in the order they were handed off.
type partFile struct {
	part     Partition
	name     string // relative path of the final file
	tmp      string // absolute staging path
	f        *os.File
	sw       *sumWriter           // what is written to f goes through sw, which hashes it
	sum      string               // the finished file's SHA-256
	pending  []*cloudtrail.Record // rows of the next batch
	hashes   []uint64
	legacy   bool // hashes holds version-1 content hashes (copied by a compaction)
	rows     int64
	min, max string
	facets   facetSet
	used     int64
	bytes    int64

	// tail is closed once the last batch handed off is in the file (nil: none handed off);
	// each batch appends after its predecessor's tail. Only the goroutine of the batch whose
	// turn it is touches footer and failed.
	tail   chan struct{}
	footer fileFooter
	failed bool
	// copied marks a compaction's file: its rows are not new (RowObserver)
	copied bool
}

// OpenWriter locks the lake at root for writing, creating it if needed, signs its ledger if an
// older trailsql wrote it (see ledger.go), and removes what an interrupted writer left behind.
// It refuses a lake whose ledger holds an entry it cannot trust (a *LedgerError): `trailsql check
// --repair` quarantines those.
func OpenWriter(ctx context.Context, root string, opt WriterOptions) (*Writer, error) {
	lock, err := lockLake(root)
	if err != nil {
		return nil, err
	}
	return openLocked(ctx, root, opt, lock)
}

// lockLake creates the lake's folders if needed and takes its writer lock.
func lockLake(root string) (*os.File, error) {
	for _, d := range []string{Table, commitsDir, hashesDir, stagingDir, intentsDir} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("create lake %s: %w", root, err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(root, metaDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock lake %s: %w", root, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock lake %s: %w (wait for it to finish)", root, ErrLocked)
	}
	return lock, nil
}

// openLocked opens a Writer on a lake whose lock is held; the Writer owns the lock from then on.
func openLocked(ctx context.Context, root string, opt WriterOptions, lock *os.File) (*Writer, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxOpenFiles <= 0 {
		opt.MaxOpenFiles = 64
	}
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = 64 << 10
	}
	if opt.BufferedRows <= 0 {
		opt.BufferedRows = 32 << 10
	}
	w := &Writer{
		root: root, opt: opt, log: opt.Logger.With("component", "lake"), lock: lock,
		sources: map[string]bool{}, hashIndex: map[Partition][]hashRef{},
		seen: map[Partition]map[uint64]struct{}{}, open: map[Partition]*partFile{},
		codec: Zstd(zstd.SpeedBetterCompression),
		slots: make(chan struct{}, encodeSlots()),
	}
	var err error
	if w.fs, err = openLakeFS(root); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrateLedger(ctx, w.fs, w.log); err != nil {
		w.Close()
		return nil, err
	}
	l, err := loadLedger(root)
	if err == nil {
		err = l.err()
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open lake %s for writing: %w", root, err)
	}
	w.key = l.key
	for _, e := range l.entries {
		w.seq = e.m.Seq
		for _, s := range e.m.Sources {
			w.sources[s.Key()] = true
		}
		for _, s := range e.m.Forget {
			delete(w.sources, s.Key())
		}
	}
	files := l.files()
	for _, p := range files.order {
		f := files.byPath[p]
		switch {
		case f.live:
			w.hashIndex[f.Partition] = append(w.hashIndex[f.Partition], newHashRef(f.File, f.hashes, f.Rows))
		case f.superseded:
			w.superseded = append(w.superseded, supersededFile{f.Path, time.Unix(0, f.supersededAt), f.Bytes, f.SHA256})
		}
	}
	if err := w.cleanup(l); err != nil {
		w.Close()
		return nil, err
	}
	w.newCommitID()
	return w, nil
}

// cleanup removes what an interrupted writer left: the staging folder, temporary files of
// atomic writes, and the files of commits whose intent was recorded but whose manifest was not
// (a crash between renaming the files into place and writing the manifest). It deletes nothing
// else: a data file that no trusted manifest or intent lists was not written by the ledger, or
// belongs to a commit that is damaged; `trailsql check` reports it.
func (w *Writer) cleanup(l *ledger) error {
	os.RemoveAll(filepath.Join(w.root, stagingDir))
	if err := os.MkdirAll(filepath.Join(w.root, stagingDir), 0o755); err != nil {
		return fmt.Errorf("clean lake: %w", err)
	}
	for _, dir := range []string{metaDir, commitsDir, hashesDir, intentsDir} {
		entries, _ := os.ReadDir(filepath.Join(w.root, dir))
		for _, e := range entries {
			if name := e.Name(); strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && e.Type().IsRegular() {
				w.fs.root.Remove(filepath.Join(dir, name))
			}
		}
	}
	committed := map[string]bool{}
	for _, e := range l.entries {
		committed[e.name] = true
	}
	intents, err := os.ReadDir(filepath.Join(w.root, intentsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clean lake: %w", err)
	}
	n := 0
	for _, d := range intents {
		name := d.Name()
		if !isManifestName(name) {
			continue
		}
		data, err := w.fs.root.ReadFile(filepath.Join(intentsDir, name))
		if err != nil {
			return fmt.Errorf("clean lake: %w", err)
		}
		e := l.judge(intentsDir, name, data)
		if e.err != nil {
			w.log.Warn("left an intent that cannot be trusted (run `trailsql check --repair`)", "intent", intentsDir+"/"+name, "err", e.err)
			continue
		}
		if !committed[name] && !inQuarantine(w.root, name) {
			// The commit never landed: its files are a crash's leftovers, each checked to be
			// still the file the writer made before it goes.
			kept := false
			for _, f := range e.m.Files {
				if err := w.fs.removeVerified(f.Path, f.Bytes, f.SHA256); err != nil {
					w.log.Warn("left a file of an interrupted commit that is not the file written (run `trailsql check`)", "file", f.Path, "err", err)
					kept = true
					continue
				}
				n++
			}
			if e.m.Hashes != "" {
				if err := w.fs.removeVerified(e.m.Hashes, -1, e.m.HashesSHA256); err != nil {
					w.log.Warn("left the hash file of an interrupted commit", "file", e.m.Hashes, "err", err)
					kept = true
				}
			}
			if kept {
				continue
			}
		}
		if err := w.fs.root.Remove(filepath.Join(intentsDir, name)); err != nil {
			return fmt.Errorf("clean lake: %w", err)
		}
	}
	if n > 0 {
		w.log.Info("removed files of an interrupted commit", "files", n)
	}
	return nil
}

// inQuarantine reports whether a repair quarantined the manifest of that name.
func inQuarantine(root, name string) bool {
	m, _ := filepath.Glob(filepath.Join(root, quarantineDir, "*", commitsDir, name))
	return len(m) > 0
}

func (w *Writer) newCommitID() {
	var b [6]byte
	rand.Read(b[:])
	w.commitID = time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	w.fileSeq = 0
}

// Done reports whether a source (same name, size and modification time or ETag) was already
// committed, so it need not be read again. Sources a repair forgot (Manifest.Forget) are not.
func (w *Writer) Done(s Source) bool { return w.sources[s.Key()] }

// AddSource records that a source was read whole; it is committed with the records added so far.
func (w *Writer) AddSource(s Source) {
	w.sources[s.Key()] = true
	w.pending = append(w.pending, s)
}

// Has reports whether a hash is already in a partition (committed, or added in this run). The
// ingest of LookupEvents results stores an event under a hash of its identity rather than of its
// content and asks Has whether that identity is known before adding another copy.
func (w *Writer) Has(p Partition, hash uint64) (bool, error) {
	set, err := w.partitionHashes(p)
	if err != nil {
		return false, err
	}
	_, ok := set[hash]
	return ok, nil
}

// LegacyHashes reports whether a live file of the lake holds content hashes of a version before
// cloudtrail.HashVersion: the ingest then also asks Has about each record's cloudtrail.HashV1,
// so that a record stored by an older trailsql is recognised (HashV1 and Hash are equal for
// most records only when their nested keys happen to be sorted).
func (w *Writer) LegacyHashes() bool {
	for _, refs := range w.hashIndex {
		for _, r := range refs {
			if r.version < cloudtrail.HashVersion {
				return true
			}
		}
	}
	return false
}

// Add stores a record unless an identical one (same hash) is already in its partition. It reports
// whether the record was new.
// The Writer keeps r, which must not change after, until it is written.
func (w *Writer) Add(p Partition, r *cloudtrail.Record, hash uint64) (bool, error) {
	set, err := w.partitionHashes(p)
	if err != nil {
		return false, err
	}
	if _, dup := set[hash]; dup {
		return false, nil
	}
	set[hash] = struct{}{}
	pf := w.last.pf
	if pf == nil || w.last.p != p {
		if pf, err = w.file(p); err != nil {
			return false, err
		}
		w.last.pf = pf
	} else {
		w.tick++
		pf.used = w.tick
	}
	pf.hashes = append(pf.hashes, hash)
	w.pendingRows++
	return true, w.addRow(pf, r)
}

// addRow holds a row for a file, writes a row group when one is complete and keeps the rows held
// across all files within BufferedRows.
func (w *Writer) addRow(pf *partFile, r *cloudtrail.Record) error {
	if pf.pending == nil {
		pf.pending = make([]*cloudtrail.Record, 0, min(w.opt.RowGroupRows, w.opt.BufferedRows, 4096))
	}
	pf.pending = append(pf.pending, r)
	pf.rows++
	pf.facets.add(r)
	if r.EventTime != nil {
		if t := *r.EventTime; pf.min == "" || t < pf.min {
			pf.min = t
		}
		if t := *r.EventTime; t > pf.max {
			pf.max = t
		}
	}
	w.buffered++
	if int64(len(pf.pending)) >= w.opt.RowGroupRows {
		if err := w.writeGroup(pf, false); err != nil {
			return err
		}
	}
	for w.buffered > w.opt.BufferedRows {
		// The least recently used file is most likely complete (a trail's files come partition
		// after partition): finish it rather than cut a row group short; unless this file holds
		// most of the rows, whose row group is then big enough.
		var lru *partFile
		for _, o := range w.open {
			if o != pf && (lru == nil || o.used < lru.used) {
				lru = o
			}
		}
		if lru == nil || int64(len(pf.pending)) >= w.opt.BufferedRows/2 {
			return w.writeGroup(pf, false)
		}
		if err := w.finish(lru); err != nil {
			return err
		}
	}
	return nil
}

// Pending is the number of records added since the last commit.
func (w *Writer) Pending() int64 { return w.pendingRows }

func (w *Writer) partitionHashes(p Partition) (map[uint64]struct{}, error) {
	if w.last.set != nil && w.last.p == p {
		return w.last.set, nil
	}
	if set, ok := w.seen[p]; ok {
		w.last.p, w.last.set, w.last.pf = p, set, nil
		return set, nil
	}
	set := map[uint64]struct{}{}
	for _, ref := range w.hashIndex[p] {
		hs, err := readHashes(filepath.Join(w.root, filepath.FromSlash(ref.file)), ref.offset, ref.count, ref.bytes)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			set[h] = struct{}{}
		}
	}
	w.seen[p] = set
	w.last.p, w.last.set, w.last.pf = p, set, nil
	return set, nil
}

// writerOptions are the Parquet settings of every data file, chosen on the 1M-event benchmark
// (its 127 MB of files became 105.5 MB, then 102.9 MB without the page index):
//   - zstd at its "better" level: the faster levels leave hex identifiers such as eventID
//     uncompressed, the best one saves 1% more for four times the CPU;
//   - dictionary encoding where values repeat (see the tags on cloudtrail.Record);
//   - pages of up to 1 MiB, so that a column of a file is usually one page compressed as a whole
//     (64 KiB pages: +3.5 MB), and version 1 data pages, whose levels are compressed too (v2
//     leaves them raw: +0.9 MB);
//   - no statistics in page headers (DuckDB reads those of the column chunks: −2.7 MB), and no
//     bounds for the JSON payloads and random identifiers, which prune nothing (−0.9 MB).
//
// The rows of a batch are sorted (see sortRows).
func (w *Writer) writerOptions() []parquet.WriterOption {
	opts := []parquet.WriterOption{
		parquet.Compression(w.codec),
		parquet.MaxRowsPerRowGroup(w.opt.RowGroupRows),
		parquet.PageBufferSize(1 << 20),
		parquet.DataPageVersion(1),
		parquet.DataPageStatistics(false),
		parquet.CreatedBy("trailsql", "", ""),
	}
	for _, c := range noBounds {
		opts = append(opts, parquet.SkipPageBounds(strings.Split(c, ".")...))
	}
	return opts
}

// noBounds are the columns whose minimum and maximum are not worth their place in the footer.
var noBounds = []string{
	"requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails",
	"edgedevicedetails", "insightdetails", "residual", "useridentity.inscopeof", "eventid",
	"requestid", "sharedeventid", "errormessage", "useragent",
}

func (w *Writer) file(p Partition) (*partFile, error) {
	w.tick++
	if pf, ok := w.open[p]; ok {
		pf.used = w.tick
		return pf, nil
	}
	if len(w.open) >= w.opt.MaxOpenFiles {
		var lru *partFile
		for _, pf := range w.open {
			if lru == nil || pf.used < lru.used {
				lru = pf
			}
		}
		if err := w.finish(lru); err != nil {
			return nil, err
		}
	}
	w.fileSeq++
	base := fmt.Sprintf("%s-%04d.parquet", w.commitID, w.fileSeq)
	tmp := filepath.Join(w.root, stagingDir, base)
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("stage lake file: %w", err)
	}
	pf := &partFile{part: p, name: p.Dir() + "/" + base, tmp: tmp, f: f, sw: newSumWriter(f), used: w.tick}
	if _, err := pf.sw.Write([]byte(parquetMagic)); err != nil {
		f.Close()
		return nil, fmt.Errorf("stage lake file: %w", err)
	}
	pf.footer.offset = int64(len(parquetMagic))
	w.open[p] = pf
	return pf, nil
}

// finish completes a partition's staged file: its last rows are written, and the file closed
// and synced, in the background, so that adding records goes on meanwhile; wait collects the
// results.
func (w *Writer) finish(pf *partFile) error {
	delete(w.open, pf.part)
	if w.last.pf == pf {
		w.last.pf = nil
	}
	return w.writeGroup(pf, true)
}

// writeGroup hands the file's held rows to a background goroutine that sorts and encodes them
// (at most encodeSlots at a time, whatever their files) and appends them to the file once the
// batches handed off before are in it; last also closes the file.
func (w *Writer) writeGroup(pf *partFile, last bool) error {
	if err := w.finishErr(); err != nil {
		return err
	}
	rows := pf.pending
	pf.pending = nil
	w.buffered -= int64(len(rows))
	prev := pf.tail
	done := make(chan struct{})
	pf.tail = done
	commitID := w.commitID
	w.slots <- struct{}{}
	w.inflight.Add(1)
	go func() {
		defer w.inflight.Done()
		defer close(done)
		var seg *segment
		var err error
		if obs := w.opt.Observer; obs != nil && len(rows) > 0 && !pf.copied {
			obs.Rows(commitID, pf.part, rows)
		}
		if len(rows) > 0 || (last && prev == nil) {
			seg, err = w.encode(rows)
		}
		<-w.slots
		if prev != nil {
			<-prev
		}
		if err == nil && !pf.failed {
			err = w.appendSegment(pf, seg, last)
		}
		if seg != nil {
			w.release(seg)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			pf.failed = true
			if w.bgErr == nil {
				w.bgErr = err
			}
			return
		}
		if last && !pf.failed {
			w.staged = append(w.staged, pf)
		}
	}()
	return nil
}

// encode sorts rows and encodes them as a small Parquet file in memory.
func (w *Writer) encode(rows []*cloudtrail.Record) (*segment, error) {
	w.mu.Lock()
	var buf *bytes.Buffer
	if n := len(w.idleBuf); n > 0 {
		buf, w.idleBuf = w.idleBuf[n-1], w.idleBuf[:n-1]
	}
	var enc *parquet.GenericWriter[*cloudtrail.Record]
	if n := len(w.idleEnc); n > 0 {
		enc, w.idleEnc = w.idleEnc[n-1], w.idleEnc[:n-1]
	}
	w.mu.Unlock()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if enc == nil {
		enc = parquet.NewGenericWriter[*cloudtrail.Record](buf, w.writerOptions()...)
	} else {
		enc.Reset(buf)
	}
	if len(rows) > 0 {
		order := sortRows(rows)
		sorted := make([]*cloudtrail.Record, len(rows))
		for i, j := range order {
			sorted[i] = rows[j]
		}
		clear(rows) // let the records go as soon as they are written
		for len(sorted) > 0 {
			n := min(len(sorted), 512)
			if _, err := enc.Write(sorted[:n]); err != nil {
				return nil, fmt.Errorf("encode rows: %w", err)
			}
			clear(sorted[:n])
			sorted = sorted[n:]
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	seg, err := parseSegment(buf, columnPaths())
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if len(w.idleEnc) < encodeSlots() {
		w.idleEnc = append(w.idleEnc, enc)
	}
	w.mu.Unlock()
	return seg, nil
}

// release hands a segment's buffer back for reuse.
func (w *Writer) release(seg *segment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.idleBuf) < 2*encodeSlots() {
		w.idleBuf = append(w.idleBuf, seg.buf)
	}
}

// appendSegment copies an encoded batch to the end of the file (nil: none); last then writes the
// footer and makes the file durable.
func (w *Writer) appendSegment(pf *partFile, seg *segment, last bool) error {
	if seg != nil {
		if _, err := pf.sw.Write(seg.data); err != nil {
			return fmt.Errorf("write %s: %w", pf.tmp, err)
		}
		pf.footer.add(seg)
	}
	if !last {
		return nil
	}
	return pf.close()
}

// sortRows returns the order in which to write rows: by eventsource, eventname and the caller's
// ARN, and otherwise in the order they came (by time, mostly). Alike events side by side compress
// better (their JSON payloads look alike, the caller's fields repeat in runs): 127 → 114 MB on the
// 1M-event benchmark. A batch holds few distinct groups, so the groups are ranked once and the
// rows placed by a counting sort.
func sortRows(rows []*cloudtrail.Record) []int32 {
	type group struct{ source, name, arn string }
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	// Groups are told apart by a hash of their strings: should two collide, their rows would only
	// be written side by side, which changes nothing but the compression.
	seed := maphash.MakeSeed()
	ids := make(map[uint64]int32)
	var groups []group
	gid := make([]int32, len(rows))
	for i, r := range rows {
		g := group{source: str(r.EventSource), name: str(r.EventName)}
		if r.UserIdentity != nil {
			g.arn = str(r.UserIdentity.ARN)
		}
		h := maphash.String(seed, g.source) ^ bits.RotateLeft64(maphash.String(seed, g.name), 21) ^ bits.RotateLeft64(maphash.String(seed, g.arn), 42)
		id, ok := ids[h]
		if !ok {
			id = int32(len(groups))
			ids[h] = id
			groups = append(groups, g)
		}
		gid[i] = id
	}
	byName := make([]int32, len(groups))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		x, y := &groups[a], &groups[b]
		if c := strings.Compare(x.source, y.source); c != 0 {
			return c
		}
		if c := strings.Compare(x.name, y.name); c != 0 {
			return c
		}
		return strings.Compare(x.arn, y.arn)
	})
	// next[id] is where the next row of group id goes.
	next := make([]int32, len(groups))
	counts := make([]int32, len(groups))
	for _, id := range gid {
		counts[id]++
	}
	at := int32(0)
	for _, id := range byName {
		next[id] = at
		at += counts[id]
	}
	order := make([]int32, len(rows))
	for i, id := range gid {
		order[next[id]] = int32(i)
		next[id]++
	}
	return order
}

// close writes the file's footer and makes it durable.
func (pf *partFile) close() error {
	tail, err := pf.footer.tail()
	if err != nil {
		return fmt.Errorf("finish %s: %w", pf.tmp, err)
	}
	if _, err := pf.sw.Write(tail); err != nil {
		return fmt.Errorf("finish %s: %w", pf.tmp, err)
	}
	if err := pf.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", pf.tmp, err)
	}
	pf.sum = pf.sw.sum()
	st, err := pf.f.Stat()
	if err != nil {
		return err
	}
	if pf.bytes = st.Size(); pf.bytes != pf.sw.n {
		return fmt.Errorf("finish %s: %d bytes written, %d on disk", pf.tmp, pf.sw.n, pf.bytes)
	}
	return pf.f.Close()
}

func (w *Writer) finishErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bgErr
}

// wait waits for the files being finished in the background.
func (w *Writer) wait() error {
	w.inflight.Wait()
	return w.finishErr()
}

// Commit makes everything added since the last commit visible, atomically, with the sources
// recorded as done. A commit with no records and no sources does nothing.
func (w *Writer) Commit(ctx context.Context) (*Manifest, error) { return w.commit(ctx, &Manifest{}) }

// commit writes the staged files and a manifest with them, the pending sources and what extra
// holds already (files a compaction supersedes, files and sources a repair takes out).
//
// In order: the intent (the signed manifest, in _trailsql/intents), the hash file, the data files
// renamed into place, the manifest. A crash before the manifest leaves an intent, which the next
// writer follows to remove the commit's files; a crash before the intent leaves staged files
// only.
func (w *Writer) commit(ctx context.Context, extra *Manifest) (*Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	open := make([]*partFile, 0, len(w.open))
	for _, pf := range w.open {
		open = append(open, pf)
	}
	for _, pf := range open {
		if err := w.finish(pf); err != nil {
			return nil, err
		}
	}
	if err := w.wait(); err != nil {
		return nil, err
	}
	if len(w.staged) == 0 && len(w.pending) == 0 && len(extra.Quarantined) == 0 && len(extra.Forget) == 0 {
		return nil, nil
	}
	sort.Slice(w.staged, func(i, j int) bool { return w.staged[i].name < w.staged[j].name })
	m := extra
	m.Seq, m.ID, m.Time, m.Sources = w.seq+1, w.commitID, time.Now().UTC(), w.pending
	var hashes []byte
	for _, pf := range w.staged {
		off := len(hashes)
		hashes = appendHashBlock(hashes, slices.Clone(pf.hashes))
		version := cloudtrail.HashVersion
		if pf.legacy {
			version = 1
		}
		m.Files = append(m.Files, File{Path: pf.name, Partition: pf.part, Rows: pf.rows, Bytes: pf.bytes, SHA256: pf.sum, MinTime: pf.min, MaxTime: pf.max,
			Values: pf.facets.values(), HashOffset: int64(off), HashBytes: int64(len(hashes) - off), HashVersion: version})
	}
	if len(m.Files) > 0 {
		m.Hashes = hashesDir + "/" + w.commitID + hashFileExt
		sum := sha256.Sum256(hashes)
		m.HashesSHA256 = hex.EncodeToString(sum[:])
	}
	data, err := sealManifest(m, w.key)
	if err != nil {
		return nil, err
	}
	name := manifestName(m.Seq, m.ID)
	if len(m.Files) > 0 {
		if err := writeFileAtomic(filepath.Join(w.root, intentsDir, name), data); err != nil {
			return nil, fmt.Errorf("commit: write intent: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(w.root, filepath.FromSlash(m.Hashes)), hashes); err != nil {
			return nil, fmt.Errorf("commit: write hashes: %w", err)
		}
	}
	dirs := map[string]bool{}
	for _, pf := range w.staged {
		dst := filepath.Join(w.root, filepath.FromSlash(pf.name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
		if err := os.Rename(pf.tmp, dst); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
		dirs[filepath.Dir(dst)] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
	}
	if err := writeFileAtomic(filepath.Join(w.root, commitsDir, name), data); err != nil {
		return nil, fmt.Errorf("commit: write ledger: %w", err)
	}
	if len(m.Files) > 0 {
		// Done with the intent; should this fail, the next writer finds its manifest and
		// removes it.
		os.Remove(filepath.Join(w.root, intentsDir, name))
	}
	w.seq = m.Seq
	for i, f := range m.Files {
		w.hashIndex[f.Partition] = append(w.hashIndex[f.Partition], newHashRef(f, m.Hashes, w.staged[i].rows))
	}
	for _, r := range m.Replaces {
		for p, refs := range w.hashIndex {
			for _, h := range refs {
				if h.path == r {
					w.superseded = append(w.superseded, supersededFile{r, m.Time, h.size, h.sum})
				}
			}
			w.hashIndex[p] = slices.DeleteFunc(refs, func(h hashRef) bool { return h.path == r })
		}
	}
	for _, q := range m.Quarantined {
		for p, refs := range w.hashIndex {
			w.hashIndex[p] = slices.DeleteFunc(refs, func(h hashRef) bool { return h.path == q })
		}
		for p := range w.seen {
			delete(w.seen, p) // the quarantined file's hashes are no longer in the lake
		}
		w.last.set = nil
	}
	for _, s := range m.Forget {
		delete(w.sources, s.Key())
	}
	w.staged = w.staged[:0]
	w.pending = nil
	w.pendingRows = 0
	if w.opt.Observer != nil {
		w.opt.Observer.Committed(w.commitID, m.Seq)
	}
	w.newCommitID()
	w.log.Debug("committed", "seq", m.Seq, "files", len(m.Files), "sources", len(m.Sources))
	return m, nil
}

// Close abandons whatever was not committed and releases the lake.
func (w *Writer) Close() error {
	w.inflight.Wait()
	for _, pf := range w.open {
		pf.f.Close()
		os.Remove(pf.tmp)
	}
	for _, pf := range w.staged {
		os.Remove(pf.tmp)
	}
	w.open, w.staged = nil, nil
	if w.fs != nil {
		w.fs.Close()
		w.fs = nil
	}
	if w.lock == nil {
		return nil
	}
	err := w.lock.Close()
	w.lock = nil
	return err
}

var _ io.Closer = (*Writer)(nil)
