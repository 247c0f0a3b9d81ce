// Package ingest reads CloudTrail inputs into a lake: local files and folders (in any shape the
// cloudtrail package decodes), objects of S3 trails, pages of the CloudTrail LookupEvents API and
// pages of the log streams of a CloudWatch Logs log group.
// Every source lists Objects; one pipeline reads them in parallel, decodes and deduplicates their
// records, hands them to one lake writer and commits in batches, so that an interrupted run loses
// nothing and a re-run adds nothing twice.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// Object is one input of a run: a local file, an S3 object or a page of LookupEvents results.
type Object struct {
	// Source identifies the object in the ledger (name, and size with a time or an ETag) and
	// names it in problems. Objects already in the ledger are not read again.
	Source lake.Source
	// Key is the object's path in the trail layout, which cloudtrail.ParseKey reads for the
	// account partition and to skip digest files; empty: Source.Name.
	Key string
	// Open returns the object's content.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Err, when set, is why a listed entry cannot be read (a folder that cannot be listed, a
	// named pipe, a device): it is reported as a problem of the run, named by Source.Name, and
	// Open is never called. Errors that wrap ErrAlreadyListed are reported as warnings, others
	// make the run fail.
	Err error
	// FromAPI marks events returned by the CloudTrail API. Its copy of an event may differ a
	// little from the one CloudTrail delivers to S3, so these events are known by their identity
	// (see identity) rather than their content; the object is not recorded in the ledger (an API
	// answer has no version to recognise later).
	FromAPI bool
	// Named marks an object the user named (a file given as an argument, standard input) rather
	// than one found in a folder or a bucket: if it yields no events, that is a failure of the
	// run, not a skip.
	Named bool
}

// Lister lists the objects of one pass of a run, calling yield for each. An error from yield
// ends the listing and must be returned. A Lister is called again for every pass of a watching
// run.
type Lister func(ctx context.Context, yield func(Object) error) error

// Options configures a run. Zero values take the defaults.
type Options struct {
	Lake   string
	Logger *slog.Logger
	// Workers read and decode objects in parallel (default: the number of CPUs).
	Workers int
	// Prefetch, when positive, fetches this many objects at a time into memory ahead of the
	// decoders, so that objects whose reads wait on the network (S3: tens of milliseconds per
	// GET) keep Workers decoders busy without a decoder per request in flight. Objects larger
	// than PrefetchMaxBytes are left to the decoders to stream.
	Prefetch int
	// PrefetchMaxBytes is the largest object prefetched whole (default 16 MiB).
	PrefetchMaxBytes int64
	// CommitRows commits once this many new records are staged (default 1,000,000); a commit also
	// happens at the end of every pass.
	CommitRows int64
	// Progress, when set, is called after each object with the totals so far.
	Progress func(Stats)
	// MaxProblems bounds the problems kept in Stats (default 1000), and those kept for one
	// object while it is read; the rest are only counted.
	MaxProblems int
	// ChunkEvents is how many decoded events of an object are handed to the lake writer at a
	// time (default 1024), so that memory does not grow with the events of one object: a file
	// of five million events is never held whole. An object is recorded as read in the ledger
	// only with its last events; a commit in between stores part of it, which a run that is
	// interrupted before the rest reads again and recognises.
	ChunkEvents int
	// WarnPartitions: an object whose events spread over more partitions than this (distinct
	// account, region and day) is reported (default 1000). A CloudTrail log file holds one
	// account and one region; each partition costs a folder and a Parquet file.
	WarnPartitions int
	// CompactFiles compacts, after each pass, every partition that has at least this many files
	// (default 8; negative: never).
	CompactFiles int
	// Watch, when positive, makes the run go on: after a pass it waits this long and lists
	// again, until ctx ends.
	Watch time.Duration
	// PassDone, when set, is called after each pass with the totals so far.
	PassDone func(Stats)
	// AfterPass, when set, is called after each pass that was not interrupted, before the
	// compaction: detection evaluates the pass's commits there, while their files are still the
	// ones the pass wrote. Its error ends the run.
	AfterPass func(ctx context.Context) error
	// AfterPassDue, when set with AfterPass, is asked as the pass goes: when it answers true,
	// the pass commits what it has added and calls AfterPass before it goes on. What AfterPass
	// works on then stays bounded whatever the trail's size: detection holds the alerts found on
	// the rows written (rules.Live.Held), which a trail of millions of events would make
	// gigabytes of, held until the pass's end.
	AfterPassDue func() bool
	// Observer, when set, is shown every row the ingest adds, as it is written, and each
	// commit (lake.RowObserver): the rules evaluated as events arrive.
	Observer lake.RowObserver
	// AfterCommit, when set, is told what became of the listed objects once that is final: it
	// is called after each commit (mid-pass and at the end of every pass, even one with nothing
	// to commit) with the outcomes settled since the previous call. An object whose events are
	// stored is reported only after the commit that holds them, so a source that must
	// acknowledge its input (a queue's messages) can do so here without losing anything to a
	// crash. An object the run did not finish (interrupted) is not reported.
	AfterCommit func(ctx context.Context, settled []Outcome)
}

// Outcome is what became of one listed object (see Options.AfterCommit).
type Outcome struct {
	Object Object
	// Err is why the object could not be ingested (it is reported among the problems, and read
	// again by a later pass or run). When nil, the object is settled: its events are committed,
	// or it holds none to store (Skipped says why), or the ledger held it already (Unchanged).
	Err       error
	Skipped   string
	Unchanged bool
}

// Problem is one thing wrong with the input, located as precisely as known.
type Problem struct {
	File    string
	Record  int // -1 when it concerns the whole file
	Line    int // 0 when unknown
	Message string
	Warning bool // the record was stored anyway
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Record >= 0 {
		fmt.Fprintf(&b, ": record %d", p.Record)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Stats are the totals of a run.
type Stats struct {
	FilesRead      int            // files decoded
	FilesUnchanged int            // already ingested (same name, size and time or ETag): not read again
	FilesSkipped   int            // not CloudTrail (digest files, other JSON, other formats)
	SkipReasons    map[string]int // why files were skipped
	FilesFailed    int            // files that could not be read to their end
	FilesRecovered int            // files that failed in an earlier pass of this run and were read since
	ListErrors     int            // sources, or entries of them, that could not be listed or are not files
	GaveUp         int            // passes stopped because every object failed for a while
	Queued         int            // objects found to read so far (read, skipped, failed or pending)
	QueuedBytes    int64
	EventsRead     int64
	EventsAdded    int64
	EventsPresent  int64 // identical to an event already in the lake (or earlier in this run)
	EventsNoTime   int64 // stored with a NULL or unreadable eventTime
	RecordErrors   int64 // items that could not be stored
	Warnings       int64 // records stored with a converted value
	Bytes          int64 // bytes of input read (as stored: compressed if gzip)
	Commits        int
	Compacted      int // small files merged after the run
	Passes         int // listings done (more than one when watching)
	Interrupted    bool
	Problems       []Problem
	MoreProblems   int // problems beyond MaxProblems
	Elapsed        time.Duration
}

// Failed reports whether anything could not be ingested: the exit status should say so.
func (s *Stats) Failed() bool {
	return s.FilesFailed > 0 || s.RecordErrors > 0 || s.ListErrors > 0 || s.GaveUp > 0
}

type decoded struct {
	rec  *cloudtrail.Record
	part lake.Partition
	hash uint64 // content
	old  uint64 // content hash of version 1 (cloudtrail.HashV1), when the lake holds such hashes
	id   uint64 // identity; 0 without an eventID
}

// chunk is what a worker hands the run: some of an object's events, and with its last chunk
// the outcome of reading it.
type chunk struct {
	obj    Object
	events []decoded
	// last marks the object's last chunk; the fields below are set only in it.
	last         bool
	res          cloudtrail.Result
	openErr      error
	opened       bool   // the content was read (a skip decided by the name is not recorded)
	skip         string // reason the file was skipped, if it was
	problems     []Problem
	moreProblems int // beyond Options.MaxProblems, only counted
	noTime       int64
	warnings     int64
}

// Run ingests the files under paths into the lake (see PathLister).
func Run(ctx context.Context, opt Options, paths []string) (*Stats, error) {
	// A path that does not exist is the user's mistake: say so before opening the lake.
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return RunObjects(ctx, opt, PathLister(paths))
}

// run is the state of one RunObjects.
type run struct {
	opt    Options
	log    *slog.Logger
	w      *lake.Writer
	ledger sync.Mutex // guards the writer's ledger of sources, read by listers while the run adds to it
	st     *Stats
	ids    *lakeIdentities
	// failed are the objects that failed, retried at the start of the next pass.
	failed map[string]Object
	// listReported are the listing problems reported, so that a watching run reports each once.
	listReported map[string]bool
	// settled are the outcomes not yet handed to Options.AfterCommit; guarded by ledger, as the
	// lister adds those of unchanged objects.
	settled []Outcome

	unchanged   atomic.Int64
	queued      atomic.Int64
	queuedBytes atomic.Int64
}

// RunObjects ingests the objects list yields, once or, with opt.Watch, pass after pass until
// ctx ends. When ctx ends, what was read completely is committed before RunObjects returns
// ctx's error with the totals, so that an interrupted run leaves the ledger consistent and the
// next run goes on where it stopped.
func RunObjects(ctx context.Context, opt Options, list Lister) (*Stats, error) {
	start := time.Now()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.CommitRows <= 0 {
		opt.CommitRows = 1_000_000
	}
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 1000
	}
	if opt.ChunkEvents <= 0 {
		opt.ChunkEvents = 1024
	}
	if opt.WarnPartitions <= 0 {
		opt.WarnPartitions = 1000
	}
	if opt.CompactFiles == 0 {
		opt.CompactFiles = 8
	}
	w, err := lake.OpenWriter(ctx, opt.Lake, lake.WriterOptions{Logger: opt.Logger, Observer: opt.Observer})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	r := &run{opt: opt, log: opt.Logger.With("component", "ingest"), w: w, st: &Stats{SkipReasons: map[string]int{}}}
	r.ids = &lakeIdentities{root: opt.Lake}
	r.failed = map[string]Object{}
	r.listReported = map[string]bool{}
	st := r.st
	finish := func(err error) (*Stats, error) {
		r.sync()
		st.Elapsed = time.Since(start)
		r.log.Info("ingested", "files", st.FilesRead, "added", st.EventsAdded, "present", st.EventsPresent, "failed", st.FilesFailed, "interrupted", st.Interrupted)
		return st, err
	}
	for {
		if err := r.pass(ctx, list); err != nil {
			return finish(err)
		}
		st.Passes++
		if ctx.Err() != nil {
			st.Interrupted = true
			return finish(ctx.Err())
		}
		if opt.AfterPass != nil {
			if err := opt.AfterPass(ctx); err != nil {
				if ctx.Err() != nil {
					st.Interrupted = true
					return finish(ctx.Err())
				}
				return finish(err)
			}
		}
		if opt.CompactFiles > 0 {
			cs, err := w.Compact(ctx, opt.CompactFiles, 10*time.Minute)
			if err != nil && ctx.Err() == nil {
				return finish(err)
			}
			if cs != nil {
				st.Compacted += cs.FilesBefore
			}
		}
		if opt.PassDone != nil {
			r.sync()
			st.Elapsed = time.Since(start)
			opt.PassDone(*st)
		}
		if opt.Watch <= 0 {
			return finish(nil)
		}
		select {
		case <-time.After(opt.Watch):
		case <-ctx.Done():
			st.Interrupted = true
			return finish(ctx.Err())
		}
	}
}

// sync copies the counters the listers keep into the stats.
func (r *run) sync() {
	r.st.FilesUnchanged = int(r.unchanged.Load())
	r.st.Queued = int(r.queued.Load())
	r.st.QueuedBytes = r.queuedBytes.Load()
}

func (r *run) addProblem(p Problem) {
	if len(r.st.Problems) < r.opt.MaxProblems {
		r.st.Problems = append(r.st.Problems, p)
	} else {
		r.st.MoreProblems++
	}
}

// pass lists the objects once, reads those not yet in the ledger and commits them. It returns
// only errors that stop the run (the lake cannot be written); problems with the input are kept
// in the stats. When ctx ends, what was read whole is committed and pass returns nil.
func (r *run) pass(parent context.Context, list Lister) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// Commits are not interrupted: a half-made commit is worth nothing, and a whole one keeps
	// the work done.
	commitCtx := context.WithoutCancel(parent)
	r.ids.reset()
	jobs := make(chan Object, 256)
	// Chunks in flight, not whole objects: with ChunkEvents, this bounds the events decoded and
	// not yet written.
	results := make(chan chunk, min(4*r.opt.Workers, 32))
	var listErr error
	retry := make([]Object, 0, len(r.failed))
	for _, o := range r.failed {
		retry = append(retry, o)
	}
	firstPass := r.st.Passes == 0
	listed := make(chan struct{}) // closed once listErr is set
	go func() {
		defer close(listed)
		defer close(jobs)
		queued := map[string]bool{}
		yield := func(o Object) error {
			if o.Err == nil && !o.FromAPI {
				if queued[o.Source.Name] {
					return nil // a failed object retried first, listed again
				}
				r.ledger.Lock()
				done := r.w.Done(o.Source)
				r.ledger.Unlock()
				if done {
					if firstPass { // later passes of a watch see the same objects again
						r.unchanged.Add(1)
					}
					// Done may be an object added by this pass and not yet committed: its outcome
					// goes out after the next commit, like the others'.
					r.ledger.Lock()
					r.settle(Outcome{Object: o, Unchanged: true})
					r.ledger.Unlock()
					return nil
				}
			}
			if o.Err == nil {
				r.queued.Add(1)
				r.queuedBytes.Add(o.Source.Size)
			}
			select {
			case jobs <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, o := range retry {
			if err := yield(o); err != nil {
				return
			}
			queued[o.Source.Name] = true
		}
		listErr = list(ctx, yield)
	}()
	var decode <-chan Object = jobs
	if r.opt.Prefetch > 0 {
		decode = prefetch(ctx, jobs, r.opt.Prefetch, r.opt.PrefetchMaxBytes)
	}
	// A lake written before cloudtrail.HashVersion 2 holds records under their version-1 hash:
	// each record is looked for under both.
	legacy := r.w.LegacyHashes()
	var wg sync.WaitGroup
	for range r.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := objectReader{chunkEvents: r.opt.ChunkEvents, maxProblems: r.opt.MaxProblems, warnPartitions: r.opt.WarnPartitions, legacy: legacy}
			rd.rd.MaxErrors = r.opt.MaxProblems
			send := func(c chunk) bool {
				select {
				case results <- c:
					return true
				case <-ctx.Done():
					return false
				}
			}
			for o := range decode {
				if !rd.read(ctx, o, send) {
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	var fatal error
	// A source that stops answering (a server down, credentials expired) would otherwise cost
	// every remaining object its full retries: after this many failures in a row, the pass stops.
	giveUpAfter, inARow := 2*r.opt.Workers+10, 0
	gaveUp := false
	for res := range results {
		if fatal != nil || gaveUp {
			continue // draining
		}
		if err := r.take(parent, res); err != nil {
			fatal = err
			cancel()
			continue
		}
		if res.openErr != nil && parent.Err() == nil {
			inARow++
		} else {
			inARow = 0
		}
		if inARow >= giveUpAfter {
			gaveUp = true
			r.st.GaveUp++
			r.addProblem(Problem{File: "ingest", Record: -1, Message: fmt.Sprintf("stopped after %d objects in a row could not be read (the last: %v); what was read is stored, run again to go on", inARow, res.openErr)})
			cancel()
			continue
		}
		due := r.opt.AfterPass != nil && r.opt.AfterPassDue != nil && r.opt.AfterPassDue()
		if r.w.Pending() >= r.opt.CommitRows || due {
			m, err := r.w.Commit(commitCtx)
			if err != nil {
				fatal = err
				cancel()
				continue
			}
			if m != nil {
				r.st.Commits++
			}
			r.afterCommit(commitCtx)
			if due {
				// Interrupted, the pass ends without it, as it would after its last commit.
				if err := r.opt.AfterPass(parent); err != nil && parent.Err() == nil {
					fatal = err
					cancel()
					continue
				}
			}
		}
		if r.opt.Progress != nil {
			r.sync()
			r.opt.Progress(*r.st)
		}
	}
	<-listed // the workers are gone: the lister has ended, or ends now that ctx is cancelled
	if fatal != nil {
		return fatal
	}
	if listErr != nil && parent.Err() == nil && !gaveUp {
		r.st.ListErrors++
		r.addProblem(Problem{File: "listing", Record: -1, Message: "listing stopped: " + listErr.Error() + " (the objects listed before that were read; run again to list the rest)"})
	}
	m, err := r.w.Commit(commitCtx)
	if err != nil {
		return err
	}
	if m != nil {
		r.st.Commits++
	}
	r.afterCommit(commitCtx)
	return nil
}

// settle keeps an outcome for Options.AfterCommit; the caller holds r.ledger.
func (r *run) settle(o Outcome) {
	if r.opt.AfterCommit != nil {
		r.settled = append(r.settled, o)
	}
}

// afterCommit hands the outcomes settled so far to Options.AfterCommit. It runs right after a
// commit, in the goroutine that adds sources to the ledger: every object recorded before it is
// in that commit.
func (r *run) afterCommit(ctx context.Context) {
	if r.opt.AfterCommit == nil {
		return
	}
	r.ledger.Lock()
	settled := r.settled
	r.settled = nil
	r.ledger.Unlock()
	r.opt.AfterCommit(ctx, settled)
}

// take adds one chunk of an object's records to the lake, and with its last chunk records the
// outcome of reading the object.
func (r *run) take(parent context.Context, res chunk) error {
	st := r.st
	name := res.obj.Source.Name
	if res.obj.Err != nil {
		r.listProblem(res.obj)
		r.lockedSettle(Outcome{Object: res.obj, Err: res.obj.Err})
		return nil
	}
	if err := r.addEvents(res); err != nil {
		return err
	}
	if !res.last {
		return nil
	}
	if parent.Err() != nil && (res.openErr != nil || res.res.Fatal != nil) {
		// Cut short by the interruption, not broken: the next run reads it again (what of it
		// was stored is recognised then).
		return nil
	}
	st.Bytes += res.obj.Source.Size
	_, again := r.failed[name]
	if !again || res.openErr == nil && res.res.Fatal == nil {
		for _, p := range res.problems {
			r.addProblem(p)
		}
		st.MoreProblems += res.moreProblems
	}
	switch {
	case res.openErr != nil:
		if r.fail(res.obj) {
			r.addProblem(Problem{File: name, Record: -1, Message: res.openErr.Error() + " (it is read again on the next run)"})
		}
		r.lockedSettle(Outcome{Object: res.obj, Err: res.openErr})
		return nil
	case res.skip != "" && res.obj.Named:
		// The user named it: storing nothing from it is not success.
		st.FilesFailed++
		r.addProblem(Problem{File: name, Record: -1, Message: res.skip + ": no events ingested from it"})
		r.lockedSettle(Outcome{Object: res.obj, Err: errors.New(res.skip + ": no events ingested from it")})
		return nil
	case res.skip != "":
		st.FilesSkipped++
		st.SkipReasons[res.skip]++
		r.log.Debug("skipped", "file", name, "reason", res.skip)
		r.ledger.Lock()
		if res.opened && !res.obj.FromAPI {
			// Read whole and found to hold no CloudTrail events: not worth reading again.
			r.w.AddSource(res.obj.Source)
		}
		r.settle(Outcome{Object: res.obj, Skipped: res.skip})
		r.ledger.Unlock()
		return nil
	}
	st.FilesRead++
	st.EventsNoTime += res.noTime
	st.Warnings += res.warnings
	st.RecordErrors += int64(res.res.ErrorCount())
	if res.res.Fatal != nil {
		// What was read before the damage is kept; the file is not marked done, so the next
		// run reads it again (its events already stored are recognised as present).
		r.fail(res.obj)
		r.lockedSettle(Outcome{Object: res.obj, Err: res.res.Fatal})
		return nil
	}
	if _, ok := r.failed[name]; ok && !res.obj.FromAPI {
		// It failed in an earlier pass: no longer a failure, nor a problem to report.
		delete(r.failed, name)
		st.FilesFailed--
		st.FilesRecovered++
		st.Problems = slices.DeleteFunc(st.Problems, func(p Problem) bool { return p.File == name && p.Record < 0 && !p.Warning })
	}
	r.ledger.Lock()
	if !res.obj.FromAPI {
		res.obj.Source.Events = res.res.Events
		r.w.AddSource(res.obj.Source)
	}
	r.settle(Outcome{Object: res.obj})
	r.ledger.Unlock()
	return nil
}

// lockedSettle is settle for a caller that does not hold r.ledger.
func (r *run) lockedSettle(o Outcome) {
	r.ledger.Lock()
	r.settle(o)
	r.ledger.Unlock()
}

// addEvents adds a chunk's events to the lake.
func (r *run) addEvents(c chunk) error {
	r.st.EventsRead += int64(len(c.events))
	for i := range c.events {
		added, err := r.add(&c.events[i], c.obj.FromAPI)
		if err != nil {
			return err
		}
		if added {
			r.st.EventsAdded++
		} else {
			r.st.EventsPresent++
		}
	}
	return nil
}

// listProblem reports an entry of a listing that cannot be read, once per run.
func (r *run) listProblem(o Object) {
	msg := o.Err.Error()
	if r.listReported[o.Source.Name+"\x00"+msg] {
		return
	}
	r.listReported[o.Source.Name+"\x00"+msg] = true
	warning := errors.Is(o.Err, ErrAlreadyListed)
	if !warning {
		r.st.ListErrors++
	}
	r.addProblem(Problem{File: o.Source.Name, Record: -1, Message: msg, Warning: warning})
}

// fail counts a failed object, once however many passes it fails in, and reports whether this
// is its first failure.
func (r *run) fail(o Object) bool {
	if o.FromAPI {
		r.st.FilesFailed++ // the next pass asks the API again
		return true
	}
	_, again := r.failed[o.Source.Name]
	if !again {
		r.st.FilesFailed++
	}
	r.failed[o.Source.Name] = o
	return !again
}

// add stores an event unless the lake holds it already. A file's event is known by its content,
// so that distinct records sharing an eventID are all kept, or by the identity of an API copy of
// it; an API event is known by its content or its identity, and is stored under its identity.
func (r *run) add(ev *decoded, fromAPI bool) (bool, error) {
	if ev.old != 0 && ev.old != ev.hash {
		if dup, err := r.w.Has(ev.part, ev.old); err != nil || dup {
			return false, err
		}
	}
	if ev.id != 0 {
		dup, err := r.w.Has(ev.part, ev.id)
		if err != nil || dup {
			return false, err
		}
	}
	if !fromAPI || ev.id == 0 {
		return r.w.Add(ev.part, ev.rec, ev.hash)
	}
	if dup, err := r.w.Has(ev.part, ev.hash); err != nil || dup {
		return false, err
	}
	if dup, err := r.ids.has(ev.part, ev.id); err != nil || dup {
		return false, err
	}
	return r.w.Add(ev.part, ev.rec, ev.id)
}

// objectReader reads objects one after another, reusing its buffers; one per worker.
type objectReader struct {
	rd             cloudtrail.Reader
	h              cloudtrail.Hasher
	legacy         bool // also compute decoded.old
	chunkEvents    int
	maxProblems    int
	warnPartitions int
	pwarns         []cloudtrail.PartitionWarning
}

// maxCountedPartitions bounds the distinct partitions counted per object for the fan-out
// warning (and so the memory the count takes).
const maxCountedPartitions = 1 << 16

// read decodes one object and sends its events in chunks of chunkEvents, the last chunk with
// the outcome; it returns false when ctx ended before the chunks were taken. Memory is bounded
// by the chunks in flight, whatever the object's size.
func (fr *objectReader) read(ctx context.Context, o Object, send func(chunk) bool) bool {
	r := chunk{obj: o, last: true}
	if o.Err != nil {
		return send(r)
	}
	name := o.Source.Name
	problem := func(p Problem) {
		if len(r.problems) < fr.maxProblems {
			r.problems = append(r.problems, p)
		} else {
			r.moreProblems++
		}
	}
	var key cloudtrail.Key
	if !o.FromAPI {
		if o.Key == "" {
			o.Key = name
		}
		key = cloudtrail.ParseKey(o.Key)
		switch key.Kind {
		case cloudtrail.KeyDigest:
			r.skip = "CloudTrail digest file"
			return send(r)
		case cloudtrail.KeyUnknown:
			r.skip = "not a CloudTrail log (another service's logs under AWSLogs/)"
			return send(r)
		}
	}
	f, err := o.Open(ctx)
	if err != nil {
		r.openErr = err
		return send(r)
	}
	defer f.Close()
	r.opened = true
	lower := strings.ToLower(o.Key)
	isCSV := strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")
	// A log file holds tens of events: a chunk grows from a small one (a chunk of ChunkEvents
	// made per file cost 1 s of zeroing in the 1M-event benchmark).
	events := make([]decoded, 0, min(fr.chunkEvents, 64))
	parts := map[lake.Partition]struct{}{}
	spread := 0 // distinct partitions, counted up to maxCountedPartitions
	// Reads end with ctx, so that an interruption does not wait for the end of a large file
	// that yields no events (millions of bad records, a large file that is not CloudTrail).
	res, err := fr.rd.ReadEvents(ctxReader{ctx, f}, isCSV, func(ev cloudtrail.Event) error {
		rec := ev.Record
		var cp cloudtrail.Partition
		cp, fr.pwarns = cloudtrail.CheckPartition(rec, key.Account, fr.pwarns[:0])
		part := lake.Partition(cp)
		for _, pw := range fr.pwarns {
			r.warnings++
			problem(Problem{File: name, Record: ev.Index, Line: ev.Line, Message: pw.String(), Warning: true})
		}
		if rec.EventTime == nil {
			r.noTime++
			problem(Problem{File: name, Record: ev.Index, Line: ev.Line, Message: "no eventTime: stored with a NULL time", Warning: true})
		} else if part.Year == "" {
			r.noTime++
			problem(Problem{File: name, Record: ev.Index, Line: ev.Line, Message: fmt.Sprintf("eventTime %s is not a valid ISO-8601 time: stored as is, in the NULL date partition", cloudtrail.Excerpt(*rec.EventTime)), Warning: true})
		}
		for _, wn := range ev.Warnings {
			r.warnings++
			problem(Problem{File: name, Record: ev.Index, Line: ev.Line, Message: wn.String(), Warning: true})
		}
		if spread < maxCountedPartitions {
			if _, ok := parts[part]; !ok {
				parts[part] = struct{}{}
				spread++
			}
		}
		d := decoded{rec: rec, part: part, hash: fr.h.Sum(rec), id: identity(rec)}
		if fr.legacy {
			d.old = fr.h.SumV1(rec)
		}
		events = append(events, d)
		if len(events) < fr.chunkEvents {
			return nil
		}
		if !send(chunk{obj: o, events: events}) {
			return ctx.Err()
		}
		events = make([]decoded, 0, fr.chunkEvents) // the run owns the chunk sent; more follow
		return nil
	})
	if err != nil {
		r.openErr = err
		return send(r)
	}
	r.events = events
	r.res = res
	if spread > fr.warnPartitions {
		n := fmt.Sprint(spread)
		if spread >= maxCountedPartitions {
			n = fmt.Sprintf("more than %d", maxCountedPartitions)
		}
		r.problems = append(r.problems, Problem{File: name, Record: -1, Warning: true, Message: fmt.Sprintf("its events spread over %s partitions (account, region, day), each a folder chain and a Parquet file in the lake; "+
			"a CloudTrail log file holds one account and one region: check that this input is what you meant", n)})
	}
	for _, e := range res.Errors {
		p := Problem{File: name, Record: -1, Message: e.Error()}
		var re *cloudtrail.RecordError
		if errors.As(e, &re) {
			p.Record, p.Line, p.Message = re.Index, re.Line, re.Err.Error()
		}
		problem(p)
	}
	r.moreProblems += res.MoreErrors
	if res.Fatal != nil {
		if ctx.Err() != nil {
			return send(r) // interrupted: not a problem of the input
		}
		msg := res.Fatal.Error()
		if res.Events > 0 {
			msg += fmt.Sprintf(" (the %d events before it were stored; fix or remove the file and ingest again)", res.Events)
		} else {
			msg += " (fix or remove the file and ingest again)"
		}
		// Kept whatever the bound: it says why the file is read again.
		r.problems = append(r.problems, Problem{File: name, Record: -1, Message: msg})
		return send(r)
	}
	if res.Events == 0 && res.ErrorCount() == 0 {
		switch {
		case res.Digest:
			r.skip = "CloudTrail digest file"
		case strings.HasSuffix(lower, ".gz") && !res.Gzip:
			r.skip = "not gzip (the name ends in .gz, the content is not gzip-compressed)"
		case res.NotJSON:
			r.skip = "not CloudTrail (neither JSON nor gzip)"
		default:
			r.skip = "not CloudTrail (no CloudTrail events in it)"
		}
	}
	return send(r)
}

// ctxReader is a reader that stops when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
