package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/versitygw"
)

func (m *Main) benchCommand() *cobra.Command {
	var dir string
	var events, repeat int
	var keep, questionsOnly, withS3 bool
	cmd := &cobra.Command{
		Use:   "bench [--events N] [--dir DIR] [--s3]",
		Short: "Measure ingest throughput, memory, lake size and the classic questions' latency on a generated corpus",
		Long: `Generate a corpus in the S3 layout (default 1,000,000 events), ingest it in a child trailsql
process (so its peak RSS and CPU time are its own), then time the classic questions over the lake.
Prints events/s, MB/s, wall and CPU seconds, peak RSS, lake size against the gzip input, and each
question's latency, next to the project's targets.

With --s3, the same corpus is then served by a local S3 server (versitygw, built into .tools/ by
the project if missing, see DEVELOPERS.md) and ingested again from s3://trail through the S3 path
(listing, GETs, the same pipeline), and both rates are printed; the target is ≥ 70% of the local
rate. The server runs on the same machine and shares its CPUs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case questionsOnly:
				// Times an existing lake: nothing is generated, nothing removed.
				if dir == "" {
					return fmt.Errorf("--questions-only needs the --dir of an earlier --keep run")
				}
			case dir == "":
				var err error
				if dir, err = os.MkdirTemp("", "trailsql-bench"); err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
			case !keep:
				// A folder the user named is never removed, only what the bench wrote in it.
				defer func() {
					for _, sub := range []string{"trail", "lake", "lake-s3"} {
						os.RemoveAll(filepath.Join(dir, sub))
					}
				}()
			}
			return m.bench(cmd, dir, events, repeat, questionsOnly, withS3)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "working folder; its trail/, lake/ and lake-s3/ are removed afterwards unless --keep (default: a temporary folder)")
	cmd.Flags().IntVar(&events, "events", 1_000_000, "events in the generated corpus")
	cmd.Flags().IntVar(&repeat, "repeat", 5, "runs of each question (the first, cold, is reported apart)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the corpus and the lake")
	cmd.Flags().BoolVar(&questionsOnly, "questions-only", false, "time the questions over the lake a previous --keep run left in --dir")
	cmd.Flags().BoolVar(&withS3, "s3", false, "also ingest the corpus from a local S3 server (versitygw) and compare the rates")
	return cmd
}

func (m *Main) bench(cmd *cobra.Command, dir string, events, repeat int, questionsOnly, withS3 bool) error {
	ctx := cmd.Context()
	out := m.Stdout
	trail, lakeDir := filepath.Join(dir, "trail"), filepath.Join(dir, "lake")
	if questionsOnly {
		return m.benchQuestions(cmd, lakeDir, repeat)
	}
	os.RemoveAll(trail)
	os.RemoveAll(lakeDir)
	start := time.Now()
	truth, err := generate.Generate(ctx, trail, generate.Options{Seed: 1, Events: events, End: time.Now().UTC()})
	if err != nil {
		return err
	}
	gzBytes, jsonBytes, files := corpusSize(trail)
	fmt.Fprintf(out, "corpus: %d events, %d files, %.1f MB JSON, %.1f MB gzip (generated in %.1fs)\n",
		truth.Events, files, float64(jsonBytes)/1e6, float64(gzBytes)/1e6, time.Since(start).Seconds())

	run, err := childIngest(ctx, m.Stderr, nil, "ingest", "--lake", lakeDir, trail)
	if err != nil {
		return err
	}
	lakeBytes := dirSize(lakeDir) // data files and the ledger (hashes, manifests)
	rate := float64(truth.Events) / run.wall.Seconds()
	fmt.Fprintf(out, "ingest: %.2fs wall, %.2fs CPU, %.0f events/s, %.1f MB/s JSON (%.1f MB/s gzip)\n",
		run.wall.Seconds(), run.cpu.Seconds(), rate, float64(jsonBytes)/1e6/run.wall.Seconds(), float64(gzBytes)/1e6/run.wall.Seconds())
	fmt.Fprintf(out, "  target ≥ 120000 events/s: %s\n", mark(rate >= 120000))
	fmt.Fprintf(out, "  peak RSS %.0f MiB; target ≤ 1024 MiB: %s\n", float64(run.rss)/(1<<20), mark(run.rss <= 1<<30))
	fmt.Fprintf(out, "  lake %.1f MB = %.2f× the gzip input; target ≤ 0.40×: %s\n", float64(lakeBytes)/1e6, float64(lakeBytes)/float64(gzBytes), mark(float64(lakeBytes) <= 0.4*float64(gzBytes)))

	if withS3 {
		if err := m.benchS3(cmd, dir, truth.Events, rate); err != nil {
			return err
		}
	}
	return m.benchQuestions(cmd, lakeDir, repeat)
}

// benchS3 serves the corpus in dir/trail from a local versitygw (the folder dir is its posix root,
// so the corpus is the bucket "trail" as it lies on disk) and ingests it from S3 in a child
// process, through the same listing, GETs and pipeline as a real bucket.
func (m *Main) benchS3(cmd *cobra.Command, dir string, events int, localRate float64) error {
	ctx, out := cmd.Context(), m.Stdout
	bin, err := findVersitygw(ctx, m.Stderr)
	if err != nil {
		return err
	}
	srv, err := versitygw.Start(ctx, versitygw.Options{Binary: bin, Root: dir, DefaultETag: "bench"})
	if err != nil {
		return err
	}
	defer srv.Stop()
	lakeDir := filepath.Join(dir, "lake-s3")
	os.RemoveAll(lakeDir)
	env := []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey(), "AWS_REGION=us-east-1",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}
	run, err := childIngest(ctx, m.Stderr, env, "ingest", "--lake", lakeDir, "--endpoint-url", srv.URL, "s3://trail")
	if err != nil {
		return err
	}
	rate := float64(events) / run.wall.Seconds()
	fmt.Fprintf(out, "ingest from S3 (versitygw %s on this machine, s3://trail): %.2fs wall, %.2fs CPU, %.0f events/s, peak RSS %.0f MiB\n",
		versitygw.Version, run.wall.Seconds(), run.cpu.Seconds(), rate, float64(run.rss)/(1<<20))
	fmt.Fprintf(out, "  %s\n", strings.TrimSpace(run.lastLine))
	fmt.Fprintf(out, "  %.0f%% of the local-disk rate (%.0f events/s); target ≥ 70%%: %s\n", 100*rate/localRate, localRate, mark(rate >= 0.7*localRate))
	return nil
}

// findVersitygw returns the versitygw binary, building it into the repository's .tools/ when
// trailsql runs from its repository.
func findVersitygw(ctx context.Context, log io.Writer) (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	wd, _ := os.Getwd()
	repo, err := versitygw.RepoRoot(wd)
	if err != nil {
		return "", fmt.Errorf("--s3 needs versitygw %s: run from the trailsql repository (it is then built into .tools/), or set $VERSITYGW to its binary (go install %s@%s)", versitygw.Version, versitygw.Module, versitygw.Version)
	}
	if p, err := versitygw.Find(repo); err == nil {
		return p, nil
	}
	fmt.Fprintf(log, "building %s@%s into %s/.tools (once)…\n", versitygw.Module, versitygw.Version, repo)
	return versitygw.Install(ctx, repo, log)
}

// ingestRun is what a child ingest cost.
type ingestRun struct {
	wall, cpu time.Duration
	rss       int64
	lastLine  string // of its output
}

// childIngest runs trailsql with args in a child process, so that its peak RSS and CPU time are
// its own.
func childIngest(ctx context.Context, stderr io.Writer, env []string, args ...string) (*ingestRun, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	child := exec.CommandContext(ctx, self, args...)
	child.Env = append(os.Environ(), env...)
	var stdout strings.Builder
	child.Stdout, child.Stderr = &stdout, stderr
	start := time.Now()
	if err := child.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stdout.String())
	}
	r := &ingestRun{wall: time.Since(start)}
	ru := child.ProcessState.SysUsage().(*syscall.Rusage)
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.rss = ru.Maxrss * 1024
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	r.lastLine = lines[len(lines)-1]
	return r, nil
}

// benchQuestions times the classic questions over a lake, with windows ending at its newest event.
func (m *Main) benchQuestions(cmd *cobra.Command, lakeDir string, repeat int) error {
	ctx, out := cmd.Context(), m.Stdout
	opt := engine.Options{Lake: lakeDir}
	opt.Dialect = athena.Dialect()
	e, err := engine.Open(ctx, opt)
	if err != nil {
		return err
	}
	defer e.Close()
	newest := ""
	for _, f := range e.Snapshot().Files {
		if f.MaxTime > newest {
			newest = f.MaxTime
		}
	}
	last, ok := cloudtrail.ParseTime(newest)
	if !ok {
		return fmt.Errorf("the lake %s has no events", lakeDir)
	}
	end := last.Add(time.Second)
	fmt.Fprintf(out, "questions (%d runs each; target ≤ 150 ms):\n", repeat)
	var principal string
	for _, dq := range demoQuestions {
		q, err := questions.Get(dq.name)
		if err != nil {
			return err
		}
		p := questions.Params{From: end.Add(-dq.window), To: end, Principal: principal}
		if q.Name == "identity-activity" && principal == "" {
			continue
		}
		qargs, err := q.Bind(p)
		if err != nil {
			return err
		}
		var times []time.Duration
		var rows int
		for i := 0; i < repeat; i++ {
			t0 := time.Now()
			res, err := e.Query(ctx, q.SQL, qargs...)
			if err != nil {
				return fmt.Errorf("%s: %w", q.Name, err)
			}
			times = append(times, time.Since(t0))
			rows = len(res.Rows)
			if q.Name == "active-roles" && len(res.Rows) > 0 {
				principal, _ = res.Rows[0][0].(string)
			}
		}
		cold := times[0]
		warm := append([]time.Duration(nil), times[1:]...)
		sort.Slice(warm, func(i, j int) bool { return warm[i] < warm[j] })
		med := cold
		if len(warm) > 0 {
			med = warm[len(warm)/2]
		}
		fmt.Fprintf(out, "  %-18s %6.1f ms (first run %6.1f ms) %5d rows  %s\n", q.Name, float64(med.Microseconds())/1000, float64(cold.Microseconds())/1000, rows, mark(med <= 150*time.Millisecond))
	}
	return nil
}

// corpusSize sums the gzip sizes of a corpus and, from each gzip trailer, the uncompressed sizes.
func corpusSize(dir string) (gz, raw int64, files int) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		gz += info.Size()
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		var tail [4]byte
		if _, err := f.ReadAt(tail[:], info.Size()-4); err == nil {
			raw += int64(binary.LittleEndian.Uint32(tail[:]))
		}
		return nil
	})
	return gz, raw, files
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// mark says whether a figure meets its target.
func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}
