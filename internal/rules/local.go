package rules

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// Local is a lake on this machine, read by the query engine: a scan over it evaluates the rules
// roweval covers in Go, over the rows decoded from the lake's files, rather than in SQL. The
// engine computed every rule's condition, title and dedup values for every row, and returned
// them as JSON: several times the time of the same rows decoded and evaluated here (see
// BenchmarkDetect). The rules roweval does not cover are scanned by the engine as before.
type Local struct {
	Snap *lake.Snapshot // what the engine reads
	// PathOf is a file's "$path" as the engine reads it, for a Scope of some Files.
	PathOf func(lake.File) string

	// What the scans over it did, for a log line: the rules evaluated in Go (of which Retried
	// went back to the engine, undecided on some row), and the files read.
	InGo, Retried, Files int
}

// columnsOf is the columns the expressions read (partition columns are not in the files: they
// come from the file's partition).
func columnsOf(es ...*roweval.Expr) []string {
	var paths []string
	for _, e := range es {
		paths = append(paths, e.Columns()...)
	}
	return paths
}

// scan evaluates rules (compiled for roweval, with the alert columns base) over the rows
// of scope in lk's files. It returns each rule's matches by rule id; the alerts packed among them
// in sorted runs (see run), their rules ranked by ranks; and the rules whose evaluation failed on
// some row (roweval cannot decide it): those are for the engine to scan, and have no matches
// here.
func (lk *Local) scan(ctx context.Context, rules []*liveRule, base []*roweval.Expr, scope Scope, ranks map[string]uint16, ranked bool) (map[string]*matches, []alertRefs, []*Rule, error) {
	from, to := "", ""
	if !scope.From.IsZero() {
		from = questions.TimeText(scope.From)
	}
	if !scope.To.IsZero() {
		to = questions.TimeText(scope.To)
	}
	var inFiles map[string]bool
	if scope.Files != nil {
		inFiles = make(map[string]bool, len(scope.Files))
		for _, p := range scope.Files {
			inFiles[p] = true
		}
	}
	type job struct {
		f  lake.File
		on []bool
	}
	var jobs []job
	for _, f := range lk.Snap.Files {
		switch {
		case inFiles != nil && !inFiles[lk.PathOf(f)],
			scope.Account != "" && f.Partition.Account != scope.Account,
			scope.Region != "" && f.Partition.Region != scope.Region,
			to != "" && f.MinTime != "" && f.MinTime >= to,
			from != "" && f.MaxTime != "" && f.MaxTime < from:
			continue
		}
		if on, any := rulesOn(rules, f); any {
			jobs = append(jobs, job{f, on})
		}
	}
	// exprsOn are the expressions read of the rules that are on (every rule when on is nil),
	// with those of the alerts.
	exprsOn := func(on []bool) []*roweval.Expr {
		es := slices.Clone(base)
		for i, lr := range rules {
			if on == nil || on[i] {
				es = append(append(es, lr.cond), lr.vals...)
			}
		}
		return es
	}
	proj := lake.NewProjection(columnsOf(exprsOn(nil)...))
	// A file's rows are read in the columns of the rules that may match them (a JSON payload
	// the rules on other events read is most of a file's bytes), with those of the alerts and
	// the facets (ev.eval reads them) and the time (the window).
	columnsOn := func(on []bool) []string {
		return slices.Concat(columnsOf(exprsOn(on)...), lake.FacetColumns, []string{"eventtime"})
	}
	files, err := lk.Snap.OpenFiles()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("evaluate the rules: %w", err)
	}
	defer files.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan job)
	go func() {
		defer close(next)
		for _, j := range jobs {
			select {
			case next <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	workers := min(runtime.GOMAXPROCS(0), max(len(jobs), 1))
	evs := make([]*evaluator, workers)
	runs := make([][]alertRefs, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		ev := newEvaluator(rules, base)
		ev.failed = make([]bool, len(rules))
		evs[w] = ev
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte // the file read, reused
			rd := proj.NewReader(true)
			k := newKeeper(rd, len(rules))
			ev.pk = newPacker(k, len(rules))
			for j := range next {
				for i := range j.on {
					j.on[i] = j.on[i] && !ev.failed[i]
				}
				k.rd.Only(columnsOn(j.on))
				var err error
				if buf, err = lk.scanFile(ev, k, files, buf, j.f, j.on, from, to); err != nil {
					errs[w] = err
					cancel()
					return
				}
				if r := ev.run(ranks, ranked); len(r.keys) > 0 {
					runs[w] = append(runs[w], r)
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	byRule := map[string]*matches{}
	var retry []*Rule
	failed := map[string]bool{}
	for i, lr := range rules {
		ms, bad := &matches{}, false
		for _, ev := range evs {
			// The workers' chunks, not copied. (The packed alerts are in the runs: n counts them.)
			ms.chunks = append(ms.chunks, ev.found[i].chunks...)
			ms.n += ev.found[i].n
			bad = bad || ev.failed[i]
		}
		if bad {
			retry = append(retry, lr.c.r)
			failed[lr.c.r.ID] = true
			continue
		}
		if ms.n > 0 {
			byRule[lr.c.r.ID] = ms
		}
	}
	lk.InGo += len(rules)
	lk.Retried += len(retry)
	lk.Files += len(jobs)
	all := slices.Concat(runs...)
	if len(failed) > 0 {
		for i := range all {
			all[i] = all[i].without(failed)
		}
	}
	return byRule, all, retry, nil
}

// rulesOn says which rules may match a row of file f, by the values the file holds in facet
// columns (lake.File.Values; NULL never satisfies a rule's facet condition), and whether any.
func rulesOn(rules []*liveRule, f lake.File) ([]bool, bool) {
	on := make([]bool, len(rules))
	var lowers [4][]string // of the file's values, by facet column, once asked for
	any := false
	for i, lr := range rules {
		on[i] = true
		if lr.facet >= 0 {
			if vs, known := f.Values[lake.FacetColumns[lr.facet]]; known {
				low := lowers[lr.facet]
				if low == nil {
					low = make([]string, len(vs))
					for k, v := range vs {
						low[k] = strings.ToLower(v)
					}
					lowers[lr.facet] = low
				}
				on[i] = false
				for k, v := range vs {
					if lr.holdsOn(v, low[k]) {
						on[i] = true
						break
					}
				}
			}
		}
		any = any || on[i]
	}
	return on, any
}

// scanFile evaluates the rules that are on over the rows of f whose eventtime is in [from, to)
// (each bound "" when none). A rule whose evaluation fails on a row is marked in ev.failed and
// not evaluated further. The file is read into buf (the records decoded copy what they hold),
// which it returns for the next. The rows are read by k's Reader, and the matches' strings kept
// out of its memory after each row group.
func (lk *Local) scanFile(ev *evaluator, k *keeper, files *lake.FileReader, buf []byte, f lake.File, on []bool, from, to string) ([]byte, error) {
	// Read whole: the files of a partition-day are small, and reading them through small
	// positioned reads cost more than decoding them.
	data, err := files.ReadFile(f, buf)
	if err != nil {
		return buf, fmt.Errorf("evaluate the rules: %w", err)
	}
	ev.part(f.Partition, on)
	err = k.rd.Read(f.Path, data, func(rows []cloudtrail.Record) error {
		for i := range rows {
			rec := &rows[i]
			if t := rec.EventTime; (from != "" || to != "") && (t == nil || from != "" && *t < from || to != "" && *t >= to) {
				continue
			}
			ev.eval(rec) // failures are marked in ev.failed
		}
		k.keep(ev)
		return nil
	})
	if err != nil {
		return data, fmt.Errorf("evaluate the rules: %w", err)
	}
	return data, nil
}
