package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/usage"
)

// An answer as a front end computes it, from one snapshot of the lake, rendered for comparison.
type answerFunc struct {
	name string
	run  func(ctx context.Context, query answer.QueryFunc) (string, error)
}

// Sixteen goroutines compute answers the way every front end does — raw SQL, questions (one
// with a name resolved first), a least-privilege policy, a used-vs-granted report, each of
// several statements — through local.Pinned while an ingest commits twenty times into the lake:
// no answer fails, the statements of each read one commit, each answer equals the one over a
// quiet lake at that commit, and an answer started after a commit ended reads it.
func TestAnswersWhileIngesting(t *testing.T) {
	const commits = 20
	end := time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)
	opt := generate.Options{Seed: 11, Events: 3000, EventsPerFile: 25, Days: 3, Accounts: 1, End: end}
	trail := t.TempDir()
	truth, err := generate.Generate(context.Background(), trail, opt)
	if err != nil {
		t.Fatal(err)
	}
	groups := split(t, trail, commits+1)
	accounts, err := generate.Authz(opt, truth)
	if err != nil {
		t.Fatal(err)
	}
	details, err := authz.Parse(accounts[0].JSON, "authz.json")
	if err != nil {
		t.Fatal(err)
	}
	carol, err := principal.Inventory(details, "carol", "")
	if err != nil || len(carol) != 1 {
		t.Fatalf("carol in the inventory: %v %v", carol, err)
	}
	from, to := truth.Oldest, truth.Newest.Add(time.Second)
	admin := truth.Identities.Roles["Admin"]
	ask := func(name string, set func(*questions.Params)) func(context.Context, answer.QueryFunc) (string, error) {
		return func(ctx context.Context, query answer.QueryFunc) (string, error) {
			q, err := questions.Get(name)
			if err != nil {
				return "", err
			}
			p := questions.Params{From: from, To: to}
			if set != nil {
				set(&p)
			}
			res, err := q.Answer(ctx, query, p)
			if err != nil {
				return "", err
			}
			return fmt.Sprint(res.Columns, res.Rows), nil
		}
	}
	answers := []answerFunc{
		{"raw SQL", func(ctx context.Context, query answer.QueryFunc) (string, error) {
			res, err := query(ctx, "SELECT eventname, count(*) AS n FROM cloudtrail_logs WHERE errorcode IS NULL GROUP BY eventname ORDER BY n DESC, eventname LIMIT 20")
			if err != nil {
				return "", err
			}
			return fmt.Sprint(res.Rows), nil
		}},
		{"active-users", ask("active-users", nil)},
		{"access-denied", ask("access-denied", nil)},
		{"identity-activity of a name", func(ctx context.Context, query answer.QueryFunc) (string, error) {
			pr, err := principal.Resolve(ctx, query, "Admin", "")
			var nf *principal.NotFoundError
			if errors.As(err, &nf) {
				return "Admin is not in the lake yet", nil
			} else if err != nil {
				return "", err
			}
			return ask("identity-activity", func(p *questions.Params) { p.Principal = pr.Value })(ctx, query)
		}},
		{"policy", func(ctx context.Context, query answer.QueryFunc) (string, error) {
			u, err := usage.Collect(ctx, query, usage.Query{Principal: admin, From: from, To: to, Resources: true})
			if err != nil {
				return "", err
			}
			doc, notes := policy.Build(u, policy.Options{Resources: true})
			b, err := json.Marshal(doc)
			return string(b) + strings.Join(notes, "\n"), err
		}},
		{"unused", func(ctx context.Context, query answer.QueryFunc) (string, error) {
			reports, logged, err := usage.Unused(ctx, query, details, carol, usage.UnusedQuery{Query: usage.Query{From: from, To: to}})
			if err != nil {
				return "", err
			}
			b, err := json.Marshal(reports)
			return string(b) + fmt.Sprint(logged), err
		}},
	}
	ctx := context.Background()
	open := func(root string) *engine.Engine {
		e, err := engine.Open(ctx, engine.Options{Lake: root, Dialect: athena.Dialect(), MaxConcurrent: 4, MaxQueueWait: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// compute runs one answer from one pinned snapshot and returns the commit every one of its
	// statements read.
	compute := func(e *engine.Engine, a answerFunc) (string, int64, error) {
		query, release, err := local.Pinned(ctx, e)
		if err != nil {
			return "", 0, err
		}
		defer release()
		var mu sync.Mutex
		read := map[int64]bool{}
		out, err := a.run(ctx, func(ctx context.Context, sql string, args ...any) (*answer.Result, error) {
			res, err := query(ctx, sql, args...)
			if err == nil {
				mu.Lock()
				read[res.Commit] = true
				mu.Unlock()
			}
			return res, err
		})
		if err != nil {
			return "", 0, fmt.Errorf("%s: %w", a.name, err)
		}
		if len(read) != 1 {
			return "", 0, fmt.Errorf("%s: its statements read commits %v, not one", a.name, read)
		}
		for seq := range read {
			return out, seq, nil
		}
		return "", 0, nil
	}

	// The expected answers, commit by commit, over a quiet lake that takes the same runs.
	quiet := filepath.Join(t.TempDir(), "lake")
	want := map[int64][]string{}
	for _, g := range groups {
		run(t, quiet, g)
		e := open(quiet)
		var got []string
		var seq int64
		for _, a := range answers {
			out, s, err := compute(e, a)
			if err != nil {
				t.Fatalf("over the quiet lake: %v", err)
			}
			got, seq = append(got, out), s
		}
		// Every commit of the run (its data, then maybe a compaction) holds the same rows.
		for ; seq > 0 && want[seq] == nil; seq-- {
			want[seq] = got
		}
		e.Close()
	}
	last := int64(len(want))
	if len(want) < commits+1 {
		t.Fatalf("expected answers for %d commits, want %d at least", len(want), commits+1)
	}
	for i, a := range answers {
		if want[1][i] == want[last][i] {
			t.Fatalf("%s answers the first commit as the last: the test proves nothing", a.name)
		}
	}

	live := filepath.Join(t.TempDir(), "lake")
	run(t, live, groups[0])
	e := open(live)
	defer e.Close()
	var committed atomic.Int64 // the last commit of the runs that ended
	committed.Store(e.Snapshot().Seq)
	stop := make(chan struct{})
	var ran atomic.Int64
	var seen sync.Map
	var readers sync.WaitGroup
	for r := range 16 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := answers[i%len(answers)]
				floor := committed.Load()
				got, seq, err := compute(e, a)
				if err != nil {
					t.Error(err)
					return
				}
				ran.Add(1)
				seen.Store(seq, true)
				if seq < floor {
					t.Errorf("%s read commit %d, started after commit %d ended", a.name, seq, floor)
				}
				if exp := want[seq]; exp == nil || got != exp[i%len(answers)] {
					t.Errorf("%s at commit %d differs from the quiet lake's", a.name, seq)
					return
				}
			}
		}()
	}
	for _, g := range groups[1:] {
		run(t, live, g)
		snap, err := lake.OpenSnapshot(live)
		if err != nil {
			t.Fatal(err)
		}
		committed.Store(snap.Seq)
	}
	close(stop)
	readers.Wait()
	var commitsSeen int
	seen.Range(func(any, any) bool { commitsSeen++; return true })
	t.Logf("%d answers over %d commits (of %d)", ran.Load(), commitsSeen, len(want))
	if commitsSeen < 3 {
		t.Errorf("the answers read %d commits: the ingest and the answers did not overlap", commitsSeen)
	}
	for i, a := range answers {
		got, seq, err := compute(e, a)
		if err != nil || seq != last || got != want[last][i] {
			t.Errorf("%s after the ingest: commit %d (want %d), %v", a.name, seq, last, err)
		}
	}
}

// split lists a generated trail's log files in n groups, each to ingest as one run.
func split(t *testing.T, dir string, n int) [][]string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	groups := make([][]string, n)
	for i, f := range files {
		groups[i%n] = append(groups[i%n], f)
	}
	return groups
}

// run ingests files into the lake as one run.
func run(t *testing.T, root string, files []string) {
	t.Helper()
	if _, err := ingest.Run(context.Background(), ingest.Options{Lake: root, Workers: 1}, files); err != nil {
		t.Fatal(err)
	}
}
