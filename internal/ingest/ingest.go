// Package ingest reads CloudTrail inputs (files and folders, in any shape the cloudtrail package
// decodes) into a lake: files are decoded in parallel, records deduplicated and written by one
// lake writer, and committed in batches so that an interrupted run loses nothing and a re-run adds
// nothing twice.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// Options configures a run. Zero values take the defaults.
type Options struct {
	Lake   string
	Logger *slog.Logger
	// Workers decode files in parallel (default: the number of CPUs).
	Workers int
	// CommitRows commits once this many new records are staged (default 1,000,000); a commit also
	// happens at the end of the run.
	CommitRows int64
	// Progress, when set, is called after each file with the totals so far.
	Progress func(Stats)
	// MaxProblems bounds the problems kept in Stats (default 1000); the rest are only counted.
	MaxProblems int
	// CompactFiles compacts, after the run, every partition that has at least this many files
	// (default 8; negative: never).
	CompactFiles int
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
	FilesUnchanged int            // already ingested (same name, size and time): not read again
	FilesSkipped   int            // not CloudTrail (digest files, other JSON, other formats)
	SkipReasons    map[string]int // why files were skipped
	FilesFailed    int            // files that could not be read to their end
	EventsRead     int64
	EventsAdded    int64
	EventsPresent  int64 // identical to an event already in the lake (or earlier in this run)
	EventsNoTime   int64 // stored with a NULL or unreadable eventTime
	RecordErrors   int64 // items that could not be stored
	Warnings       int64 // records stored with a converted value
	Bytes          int64 // bytes of input read (as stored: compressed if gzip)
	Commits        int
	Compacted      int // small files merged after the run
	Problems       []Problem
	MoreProblems   int // problems beyond MaxProblems
	Elapsed        time.Duration
}

// Failed reports whether anything could not be ingested: the exit status should say so.
func (s *Stats) Failed() bool { return s.FilesFailed > 0 || s.RecordErrors > 0 }

type decoded struct {
	rec  *cloudtrail.Record
	part lake.Partition
	hash uint64
}

type fileResult struct {
	src      lake.Source
	events   []decoded
	res      cloudtrail.Result
	openErr  error
	skip     string // reason the file was skipped, if it was
	problems []Problem
	noTime   int64
	warnings int64
}

// Run ingests the files under paths into the lake.
func Run(ctx context.Context, opt Options, paths []string) (*Stats, error) {
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
	log := opt.Logger.With("component", "ingest")
	w, err := lake.OpenWriter(ctx, opt.Lake, lake.WriterOptions{Logger: opt.Logger})
	if err != nil {
		return nil, err
	}
	defer w.Close()

	files, err := listFiles(paths)
	if err != nil {
		return nil, err
	}
	st := &Stats{SkipReasons: map[string]int{}}
	addProblem := func(p Problem) {
		if len(st.Problems) < opt.MaxProblems {
			st.Problems = append(st.Problems, p)
		} else {
			st.MoreProblems++
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan lake.Source)
	results := make(chan fileResult, 4*opt.Workers)
	// Sources already committed are filtered here, before the writer starts changing its ledger.
	todo := files[:0]
	unchanged := 0
	for _, f := range files {
		if w.Done(f) {
			unchanged++
		} else {
			todo = append(todo, f)
		}
	}
	go func() {
		defer close(jobs)
		for _, f := range todo {
			select {
			case jobs <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd fileReader
			for src := range jobs {
				r := rd.readFile(src)
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	for r := range results {
		st.Bytes += r.src.Size
		for _, p := range r.problems {
			addProblem(p)
		}
		switch {
		case r.openErr != nil:
			st.FilesFailed++
			addProblem(Problem{File: r.src.Name, Record: -1, Message: r.openErr.Error()})
			continue
		case r.skip != "":
			st.FilesSkipped++
			st.SkipReasons[r.skip]++
			log.Debug("skipped", "file", r.src.Name, "reason", r.skip)
			continue
		}
		st.FilesRead++
		st.EventsRead += int64(len(r.events))
		st.EventsNoTime += r.noTime
		st.Warnings += r.warnings
		st.RecordErrors += int64(len(r.res.Errors))
		for i := range r.events {
			ev := &r.events[i]
			added, err := w.Add(ev.part, ev.rec, ev.hash)
			if err != nil {
				return st, err
			}
			if added {
				st.EventsAdded++
			} else {
				st.EventsPresent++
			}
		}
		if r.res.Fatal != nil {
			// What was read before the damage is kept; the file is not marked done, so the next
			// run reads it again (its events already stored are recognised as present).
			st.FilesFailed++
		} else {
			r.src.Events = len(r.events)
			w.AddSource(r.src)
		}
		if w.Pending() >= opt.CommitRows {
			if _, err := w.Commit(ctx); err != nil {
				return st, err
			}
			st.Commits++
		}
		if opt.Progress != nil {
			opt.Progress(*st)
		}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	m, err := w.Commit(ctx)
	if err != nil {
		return st, err
	}
	if m != nil {
		st.Commits++
	}
	if opt.CompactFiles >= 0 {
		if opt.CompactFiles == 0 {
			opt.CompactFiles = 8
		}
		cs, err := w.Compact(ctx, opt.CompactFiles, 10*time.Minute)
		if err != nil {
			return st, err
		}
		st.Compacted = cs.FilesBefore
	}
	st.FilesUnchanged = unchanged
	st.Elapsed = time.Since(start)
	log.Info("ingested", "files", st.FilesRead, "added", st.EventsAdded, "present", st.EventsPresent, "failed", st.FilesFailed)
	return st, nil
}

// listFiles expands folders (recursively, in name order; hidden entries are left out) into the
// files to read, with the size and time that identify their version.
func listFiles(paths []string) ([]lake.Source, error) {
	var out []lake.Source
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !info.IsDir() {
			out = append(out, lake.Source{Name: abs, Size: info.Size(), MTime: info.ModTime().UnixNano()})
			continue
		}
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			if strings.HasPrefix(d.Name(), ".") && path != abs {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, lake.Source{Name: path, Size: info.Size(), MTime: info.ModTime().UnixNano()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readFile decodes one file completely. Records are held until the writer takes them, which
// bounds memory by the largest file, not by the input.
// fileReader reads files one after another, reusing its buffers; one per worker.
type fileReader struct {
	rd cloudtrail.Reader
	h  cloudtrail.Hasher
}

func (fr *fileReader) readFile(src lake.Source) fileResult {
	r := fileResult{src: src}
	key := cloudtrail.ParseKey(src.Name)
	switch key.Kind {
	case cloudtrail.KeyDigest:
		r.skip = "CloudTrail digest file"
		return r
	case cloudtrail.KeyUnknown:
		r.skip = "not a CloudTrail log (another service's logs under AWSLogs/)"
		return r
	}
	f, err := os.Open(src.Name)
	if err != nil {
		r.openErr = err
		return r
	}
	defer f.Close()
	lower := strings.ToLower(src.Name)
	isCSV := strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")
	res, err := fr.rd.ReadEvents(f, isCSV, func(ev cloudtrail.Event) error {
		part := lake.Partition(cloudtrail.PartitionOf(ev.Record, key.Account))
		rec := ev.Record
		if rec.EventTime == nil {
			r.noTime++
			r.problems = append(r.problems, Problem{File: src.Name, Record: ev.Index, Line: ev.Line, Message: "no eventTime: stored with a NULL time", Warning: true})
		} else if part.Year == "" {
			r.noTime++
			r.problems = append(r.problems, Problem{File: src.Name, Record: ev.Index, Line: ev.Line, Message: fmt.Sprintf("eventTime %q is not an ISO-8601 time: stored as is, in the NULL date partition", *rec.EventTime), Warning: true})
		}
		for _, wn := range ev.Warnings {
			r.warnings++
			r.problems = append(r.problems, Problem{File: src.Name, Record: ev.Index, Line: ev.Line, Message: wn.String(), Warning: true})
		}
		r.events = append(r.events, decoded{rec: rec, part: part, hash: fr.h.Sum(rec)})
		return nil
	})
	if err != nil {
		r.openErr = err
		return r
	}
	r.res = res
	for _, e := range res.Errors {
		p := Problem{File: src.Name, Record: -1, Message: e.Error()}
		var re *cloudtrail.RecordError
		if errors.As(e, &re) {
			p.Record, p.Line, p.Message = re.Index, re.Line, re.Err.Error()
		}
		r.problems = append(r.problems, p)
	}
	if res.Fatal != nil {
		msg := res.Fatal.Error()
		if res.Events > 0 {
			msg += fmt.Sprintf(" (the %d events before it were stored; fix or remove the file and ingest again)", res.Events)
		} else {
			msg += " (fix or remove the file and ingest again)"
		}
		r.problems = append(r.problems, Problem{File: src.Name, Record: -1, Message: msg})
		return r
	}
	if res.Events == 0 && len(res.Errors) == 0 {
		switch {
		case res.Digest:
			r.skip = "CloudTrail digest file"
		default:
			r.skip = "not CloudTrail (no CloudTrail events in it)"
		}
	}
	return r
}
