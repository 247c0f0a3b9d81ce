package main

import (
	"context"
	"debug/buildinfo"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/bench"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/versitygw"
)

// benchShape is a shape of generated corpus the bench can measure.
type benchShape struct {
	name, about string
	days        int
	accounts    int
	regions     []string
}

// benchShapes: a long thin trail (the generator's default), and the short dense trails of busy
// accounts, where millions of events fall in few partitions.
var benchShapes = []benchShape{
	{"long", "45 days, 3 accounts, 3 regions: many thin partition-days", 45, 3, nil},
	{"dense", "7 days, 3 accounts, 3 regions", 7, 3, nil},
	{"dense-1", "1 day, 1 account, 1 region: one partition-day", 1, 1, []string{"us-east-1"}},
}

func shapeNamed(name string) (benchShape, error) {
	var names []string
	for _, s := range benchShapes {
		if s.name == name {
			return s, nil
		}
		names = append(names, s.name)
	}
	return benchShape{}, fmt.Errorf("--shape %q: want one of %s", name, strings.Join(names, ", "))
}

// benchFlags are the options of trailsql bench.
type benchFlags struct {
	dir, shape             string
	events, repeat, rounds int
	keep, questionsOnly    bool
	withS3, noDuckDB       bool
	noColumns, noZcat      bool
	reuse                  bool
}

func (m *Main) benchCommand() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench [--shape long|dense|dense-1] [--events N] [--dir DIR] [--s3]",
		Short: "Measure ingest and the classic questions on a generated corpus, against anchors run on the same files",
		Long: `Generate a corpus in the S3 layout (default 1,000,000 events; --shape says how they spread:
long = 45 days, 3 accounts, 3 regions; dense = 7 days, 3 accounts, 3 regions; dense-1 = 1 day, one
account and region) and measure, on the same files in the same run:
  - the decompression floor: every file gunzipped in Go (the library the ingest uses) on one core
    and on all cores, and by GNU zcat on one core;
  - trailsql's ingest, in a child process (its wall and CPU time, cores busy, peak RSS), and the
    lake's size against the gzip input, column by column, with the entropy floor of the random
    identifiers (which no encoding can store in less);
  - DuckDB (the same version trailsql embeds) building its own table from the same files with
    read_json and unnest of Records, in a child process: what a user would do instead;
  - each classic question as trailsql answers it in-process, and as DuckDB answers the same SQL
    over its native table.
Absolute times vary on a shared machine; the ratios printed compare figures of the same run.

With --s3, the same corpus is then served by a local S3 server (versitygw, built into .tools/ by
the project if missing, see DEVELOPERS.md) and ingested again from s3://trail through the S3 path
(listing, GETs, the same pipeline), and both rates are printed; the target is ≥ 70% of the local
rate. The server runs on the same machine and shares its CPUs.`,
		Example: `  trailsql bench --shape dense-1
  trailsql bench --shape long --events 200000 --no-duckdb
  trailsql bench --dir /tmp/b --keep && trailsql bench --dir /tmp/b --questions-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			shape, err := shapeNamed(f.shape)
			if err != nil {
				return err
			}
			switch {
			case f.questionsOnly:
				// Times an existing lake: nothing is generated, nothing removed.
				if f.dir == "" {
					return fmt.Errorf("--questions-only needs the --dir of an earlier --keep run")
				}
			case f.dir == "":
				if f.dir, err = os.MkdirTemp("", "trailsql-bench"); err != nil {
					return err
				}
				if !f.keep {
					defer os.RemoveAll(f.dir)
				}
			case !f.keep:
				// A folder the user named is never removed, only what the bench wrote in it.
				defer func() {
					for _, sub := range benchOutputs {
						os.RemoveAll(filepath.Join(f.dir, sub))
					}
				}()
			}
			return m.bench(cmd, shape, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "working folder; what the bench writes in it (trail/, lake/, lake-s3/, duckdb/) is removed afterwards unless --keep (default: a temporary folder)")
	fl.StringVar(&f.shape, "shape", "long", "corpus shape: long (45 days, 3 accounts, 3 regions), dense (7 days, 3 accounts, 3 regions) or dense-1 (1 day, 1 account, 1 region)")
	fl.IntVar(&f.events, "events", 1_000_000, "events in the generated corpus")
	fl.IntVar(&f.repeat, "repeat", 5, "runs of each question (the first, cold, is reported apart)")
	fl.BoolVar(&f.keep, "keep", false, "keep the corpus, the lake and DuckDB's table")
	fl.BoolVar(&f.questionsOnly, "questions-only", false, "time the questions over the lake (and DuckDB's table, if any) a previous --keep run left in --dir")
	fl.BoolVar(&f.withS3, "s3", false, "also ingest the corpus from a local S3 server (versitygw) and compare the rates")
	fl.BoolVar(&f.noDuckDB, "no-duckdb", false, "skip DuckDB's read_json anchor (it takes several times the ingest's time) and the native-table question timings")
	fl.BoolVar(&f.noZcat, "no-zcat", false, "skip the GNU zcat anchor")
	fl.IntVar(&f.rounds, "rounds", 1, "ingests to run (each followed by a 1-core gunzip); the fastest of each is reported")
	fl.BoolVar(&f.reuse, "reuse", false, "reuse the corpus an earlier --keep run left in --dir, if of the same --shape and --events")
	fl.BoolVar(&f.noColumns, "no-columns", false, "skip the lake's size by column and the entropy floor of its identifiers")
	cmd.AddCommand(m.benchLoadDuckDBCommand())
	return cmd
}

// benchOutputs are the folders the bench writes in its working folder.
var benchOutputs = []string{"trail", "corpus.txt", "lake", "lake-s3", "duckdb"}

// benchLoadDuckDBCommand is the child process in which the bench has DuckDB build its native
// table, so that its CPU time and peak RSS are measured apart.
func (m *Main) benchLoadDuckDBCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "load-duckdb TRAIL DB",
		Short:  "Build DuckDB's native table of a trail with read_json (a child process of trailsql bench)",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := bench.LoadNative(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%d rows\n", n)
			return nil
		},
	}
}

// benchReport gathers the figures of one run, printed together with their ratios.
type benchReport struct {
	events                int
	gzBytes, jsonBytes    int64
	files                 int
	floor1, floorN, zcat  bench.Usage
	floorRuns, ingestRuns []time.Duration
	ingest, duck          bench.Usage
	lakeBytes, duckBytes  int64
	duckRows              int64
}

func (m *Main) bench(cmd *cobra.Command, shape benchShape, f benchFlags) error {
	ctx := cmd.Context()
	out := m.Stdout
	trail, lakeDir, duckDB := filepath.Join(f.dir, "trail"), filepath.Join(f.dir, "lake"), filepath.Join(f.dir, "duckdb", "native.duckdb")
	if f.questionsOnly {
		if _, err := os.Stat(duckDB); err != nil || f.noDuckDB {
			duckDB = ""
		}
		return m.benchQuestions(cmd, lakeDir, duckDB, f.repeat)
	}
	start := time.Now()
	marker := filepath.Join(f.dir, "corpus.txt")
	want := fmt.Sprintf("shape %s, %d events, seed 1\n", shape.name, f.events)
	had, _ := os.ReadFile(marker)
	reused := f.reuse && string(had) == want
	for _, sub := range benchOutputs {
		if !(reused && (sub == "trail" || sub == "corpus.txt")) {
			os.RemoveAll(filepath.Join(f.dir, sub))
		}
	}
	if !reused {
		if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 1, Events: f.events, End: time.Now().UTC(), Days: shape.days, Accounts: shape.accounts, Regions: shape.regions}); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(want), 0o644); err != nil {
			return err
		}
	}
	files, err := bench.CorpusFiles(trail)
	if err != nil {
		return err
	}
	r := &benchReport{events: f.events, files: len(files)}
	r.gzBytes, r.jsonBytes, _ = corpusSize(trail)
	how := "generated"
	if reused {
		how = "found"
	}
	fmt.Fprintf(out, "corpus %s (%s): %d events, %d files, %.1f MB JSON, %.1f MB gzip (%s in %.1fs)\n",
		shape.name, shape.about, f.events, len(files), float64(r.jsonBytes)/1e6, float64(r.gzBytes)/1e6, how, time.Since(start).Seconds())

	// The floor is measured before and after each ingest, and the fastest runs kept: the ratios
	// against it are then the least flattering, and a neighbour's load on a shared machine
	// weighs less.
	if err := r.measureFloor(ctx, files); err != nil {
		return err
	}
	if r.floorN, _, err = bench.Decompress(ctx, files, runtime.NumCPU()); err != nil {
		return err
	}
	if !f.noZcat {
		r.zcat, err = bench.Zcat(ctx, files)
		if errors.Is(err, bench.ErrNoZcat) {
			fmt.Fprintf(out, "  (%v)\n", err)
		} else if err != nil {
			return err
		}
	}
	for round := range max(f.rounds, 1) {
		os.RemoveAll(lakeDir)
		run, err := m.childRun(ctx, nil, "ingest", "--lake", lakeDir, trail)
		if err != nil {
			return err
		}
		r.ingestRuns = append(r.ingestRuns, run.usage.Wall)
		if round == 0 || run.usage.Wall < r.ingest.Wall {
			r.ingest = run.usage
		}
		if err := r.measureFloor(ctx, files); err != nil {
			return err
		}
	}
	r.lakeBytes = dirSize(lakeDir) // data files and the ledger (hashes, manifests)
	if !f.noDuckDB {
		if err := os.MkdirAll(filepath.Dir(duckDB), 0o755); err != nil {
			return err
		}
		run, err := m.childRun(ctx, nil, "bench", "load-duckdb", trail, duckDB)
		if err != nil {
			return err
		}
		r.duck = run.usage
		r.duckBytes = dirSize(filepath.Dir(duckDB))
		fmt.Sscanf(run.lastLine, "%d rows", &r.duckRows)
	} else {
		duckDB = ""
	}
	r.print(out, runtime.NumCPU())
	if !f.noColumns {
		if err := benchColumns(out, lakeDir, r.lakeBytes, r.gzBytes); err != nil {
			return err
		}
	}
	if f.withS3 {
		if err := m.benchS3(cmd, f.dir, f.events, float64(f.events)/r.ingest.Wall.Seconds()); err != nil {
			return err
		}
	}
	return m.benchQuestions(cmd, lakeDir, duckDB, f.repeat)
}

// measureFloor gunzips the corpus on one core and keeps the fastest run so far.
func (r *benchReport) measureFloor(ctx context.Context, files []string) error {
	u, _, err := bench.Decompress(ctx, files, 1)
	if err != nil {
		return err
	}
	r.floorRuns = append(r.floorRuns, u.Wall)
	if r.floor1.Wall == 0 || u.Wall < r.floor1.Wall {
		r.floor1 = u
	}
	return nil
}

// print writes the ingest's figures, the anchors' and the ratios, with the targets of issue 12.
func (r *benchReport) print(out io.Writer, cpus int) {
	mbJSON := float64(r.jsonBytes) / 1e6
	var runs []string
	for _, d := range r.floorRuns {
		runs = append(runs, fmt.Sprintf("%.2f s", d.Seconds()))
	}
	fmt.Fprintf(out, "decompression floor (klauspost/compress gzip, as the ingest reads):\n")
	fmt.Fprintf(out, "  1 core:   %s (%.0f MB/s JSON; runs before and after the ingest: %s)\n", r.floor1, mbJSON/r.floor1.Wall.Seconds(), strings.Join(runs, ", "))
	fmt.Fprintf(out, "  %d cores:  %s\n", cpus, r.floorN)
	if r.zcat.Wall > 0 {
		fmt.Fprintf(out, "  GNU zcat, 1 core: %s\n", r.zcat)
	}
	rate := float64(r.events) / r.ingest.Wall.Seconds()
	fmt.Fprintf(out, "trailsql ingest: %s; %.0f events/s, %.1f MB/s JSON\n", r.ingest, rate, mbJSON/r.ingest.Wall.Seconds())
	if len(r.ingestRuns) > 1 {
		var runs []string
		for _, d := range r.ingestRuns {
			runs = append(runs, fmt.Sprintf("%.2f s", d.Seconds()))
		}
		fmt.Fprintf(out, "  fastest of %d runs: %s\n", len(runs), strings.Join(runs, ", "))
	}
	fmt.Fprintf(out, "  lake %.1f MB (data files and ledger)\n", float64(r.lakeBytes)/1e6)
	if r.duck.Wall > 0 {
		fmt.Fprintf(out, "DuckDB read_json + unnest into its own table: %s; %d rows, database file %.1f MB\n", r.duck, r.duckRows, float64(r.duckBytes)/1e6)
	}
	ingest := r.ingest.Wall.Seconds()
	fmt.Fprintf(out, "ratios (this run):\n")
	fmt.Fprintf(out, "  ingest / gunzip on 1 core      %6.2f×\n", ingest/r.floor1.Wall.Seconds())
	fmt.Fprintf(out, "  ingest / gunzip on %d cores     %6.2f×\n", cpus, ingest/r.floorN.Wall.Seconds())
	fmt.Fprintf(out, "  ingest CPU / gunzip CPU         %6.2f×   (the work, whatever the machine's load)\n", r.ingest.CPU.Seconds()/r.floor1.CPU.Seconds())
	if r.zcat.Wall > 0 {
		fmt.Fprintf(out, "  ingest / zcat on 1 core        %6.2f×   target ≤ 1.00×: %s\n", ingest/r.zcat.Wall.Seconds(), mark(ingest <= r.zcat.Wall.Seconds()))
	}
	if r.duck.Wall > 0 {
		fmt.Fprintf(out, "  ingest / DuckDB read_json      %6.2f×   (peak RSS %.2f×)\n", ingest/r.duck.Wall.Seconds(), float64(r.ingest.MaxRSS)/float64(max(r.duck.MaxRSS, 1)))
	}
	fmt.Fprintf(out, "  cores busy                     %6.2f of %d   target ≥ %.1f: %s\n", r.ingest.Cores(), cpus, 0.9*float64(cpus), mark(r.ingest.Cores() >= 0.9*float64(cpus)))
	if avail := r.floorN.Cores(); avail < 0.9*float64(cpus) {
		// Gunzip on every core is embarrassingly parallel: what it got is what the machine gave.
		fmt.Fprintf(out, "    (the machine is shared: gunzip on %d cores kept only %.2f busy)\n", cpus, avail)
	}
	fmt.Fprintf(out, "  peak RSS                       %6.0f MiB   target ≤ 1024 MiB: %s\n", float64(r.ingest.MaxRSS)/(1<<20), mark(r.ingest.MaxRSS <= 1<<30))
	fmt.Fprintf(out, "  lake / gzip input              %6.3f×   target ≤ 0.400×: %s\n", float64(r.lakeBytes)/float64(r.gzBytes), mark(float64(r.lakeBytes) <= 0.4*float64(r.gzBytes)))
	if r.duckBytes > 0 {
		fmt.Fprintf(out, "  lake / DuckDB's database file  %6.3f×\n", float64(r.lakeBytes)/float64(r.duckBytes))
	}
}

// benchColumns prints what the lake's columns take, and how close the random identifiers are
// to their entropy floor.
func benchColumns(out io.Writer, lakeDir string, lakeBytes, gzBytes int64) error {
	files, err := bench.DataFiles(filepath.Join(lakeDir, lake.Table))
	if err != nil {
		return err
	}
	cols, err := bench.ReadColumns(files)
	if err != nil {
		return err
	}
	ents, err := bench.IDEntropy(files, cols)
	if err != nil {
		return err
	}
	pct := func(n int64) float64 { return 100 * float64(n) / float64(cols.Data) }
	var inColumns int64
	for _, c := range cols.Columns {
		inColumns += c.Bytes
	}
	fmt.Fprintf(out, "lake data: %d files, %d row groups, %d rows, %.1f MB, of which %.1f MB of footers; the ledger %.1f MB; largest columns:\n",
		cols.Files, cols.RowGroups, cols.Rows, float64(cols.Data)/1e6, float64(cols.Data-inColumns)/1e6, float64(lakeBytes-cols.Data)/1e6)
	for i, c := range cols.Columns {
		if i == 12 {
			break
		}
		fmt.Fprintf(out, "  %-50s %8.2f MB %5.1f%%\n", c.Path, float64(c.Bytes)/1e6, pct(c.Bytes))
	}
	var floor int64
	fmt.Fprintf(out, "random identifiers (entropy estimated position by position over the distinct values of each length):\n")
	for _, e := range ents {
		floor += e.Floor()
		what := "stored in"
		if strings.Contains(e.Path, ":") {
			what = "in a column of" // the key's share of the column is not known
		}
		fmt.Fprintf(out, "  %-54s %8d distinct × %5.1f bits = %6.2f MB floor, %s %6.2f MB\n",
			e.Path, e.Distinct, e.BitsPerValue, float64(e.Floor())/1e6, what, float64(e.Stored)/1e6)
	}
	snap, err := lake.OpenSnapshot(lakeDir)
	if err != nil {
		return err
	}
	perPart := map[lake.Partition]int64{}
	for _, f := range snap.Files {
		perPart[f.Partition] += f.Rows
	}
	var counts []int64
	for _, n := range perPart {
		counts = append(counts, n)
	}
	hashFloor := bench.HashFloor(counts)
	hashBytes := dirSize(filepath.Join(lakeDir, "_trailsql", "hashes"))
	fmt.Fprintf(out, "  %-54s %8d hashes × 64 bits in %d partitions = %6.2f MB floor, stored in %6.2f MB\n",
		"ledger: content hashes (deduplication)", cols.Rows, len(counts), float64(hashFloor)/1e6, float64(hashBytes)/1e6)
	floor += hashFloor
	fmt.Fprintf(out, "  random content: floor %.1f MB = %.3f× the gzip input; the lake is %.1f MB above it (%.3f× the gzip input)\n",
		float64(floor)/1e6, float64(floor)/float64(gzBytes), float64(lakeBytes-floor)/1e6, float64(lakeBytes-floor)/float64(gzBytes))
	return nil
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
	run, err := m.childRun(ctx, env, "ingest", "--lake", lakeDir, "--endpoint-url", srv.URL, "s3://trail")
	if err != nil {
		return err
	}
	rate := float64(events) / run.usage.Wall.Seconds()
	fmt.Fprintf(out, "ingest from S3 (versitygw %s on this machine, s3://trail): %s, %.0f events/s\n", versitygw.Version, run.usage, rate)
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

// childRun is what a child trailsql process cost, and the last line of its output.
type childRun struct {
	usage    bench.Usage
	lastLine string
}

// childRun runs trailsql with args in a child process, so that its peak RSS and CPU time are
// its own. The child is this executable, or Main.Self.
func (m *Main) childRun(ctx context.Context, env []string, args ...string) (*childRun, error) {
	self := m.Self
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	child := exec.CommandContext(ctx, self, args...)
	child.Env = append(os.Environ(), env...)
	var stdout strings.Builder
	child.Stdout, child.Stderr = &stdout, m.Stderr
	start := time.Now()
	if err := child.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stdout.String())
	}
	r := &childRun{usage: bench.ChildUsage(child.ProcessState, time.Since(start))}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	r.lastLine = lines[len(lines)-1]
	return r, nil
}

// benchQuestions times the classic questions over a lake, with windows ending at its newest
// event, and over DuckDB's native table in the database file duckDB (unless empty).
func (m *Main) benchQuestions(cmd *cobra.Command, lakeDir, duckDB string, repeat int) error {
	ctx, out := cmd.Context(), m.Stdout
	e, err := local.Open(ctx, engine.Options{Lake: lakeDir})
	if err != nil {
		return err
	}
	defer e.Close()
	var native *bench.Native
	if duckDB != "" {
		if native, err = bench.OpenNative(ctx, duckDB); err != nil {
			return err
		}
		defer native.Close()
	}
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
	if err := m.benchStartup(ctx, lakeDir, duckDB, repeat); err != nil {
		return err
	}
	fmt.Fprintf(out, "questions, in-process, median of %d runs after a first (cold) one; target ≤ 150 ms", repeat-1)
	if native != nil {
		fmt.Fprintf(out, ", and ≤ 1.2× DuckDB over its native table (the two alternating, run by run)")
	}
	fmt.Fprintln(out, ":")
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
		var rows, nrows int
		runOurs := func() error {
			res, err := e.Query(ctx, q.SQL, qargs...)
			if err != nil {
				return fmt.Errorf("%s: %w", q.Name, err)
			}
			rows = len(res.Rows)
			if q.Name == "active-roles" && len(res.Rows) > 0 {
				principal, _ = res.Rows[0][0].(string)
			}
			return nil
		}
		var runTheirs func() error
		if native != nil {
			runTheirs = func() error {
				n, err := native.Query(ctx, q.SQL, qargs...)
				if err != nil {
					return fmt.Errorf("%s over DuckDB's table: %w", q.Name, err)
				}
				nrows = n
				return nil
			}
		}
		ours, theirs, err := timeRuns(repeat, runOurs, runTheirs)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("  %-18s trailsql %7.1f ms (first %7.1f ms) %5d rows  %s", q.Name, ms(ours.median), ms(ours.first), rows, mark(ours.median <= 150*time.Millisecond))
		if native != nil {
			ratio := ours.median.Seconds() / theirs.median.Seconds()
			line += fmt.Sprintf(" | DuckDB native %7.1f ms (first %7.1f ms) %5d rows | %5.2f× %s", ms(theirs.median), ms(theirs.first), nrows, ratio, mark(ratio <= 1.2))
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

// benchStartup times, whole process, `trailsql query "SELECT 1"` over the lake against the least
// program that opens DuckDB's native table file and runs the same statement (nativeq, built from
// the repository into .tools/), alternating the two.
func (m *Main) benchStartup(ctx context.Context, lakeDir, duckDB string, repeat int) error {
	out := m.Stdout
	self := m.Self
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return err
		}
	}
	process := func(name string, args ...string) func() error {
		return func() error {
			var stderr strings.Builder
			c := exec.CommandContext(ctx, name, args...)
			c.Stderr = &stderr
			if err := c.Run(); err != nil {
				return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
			}
			return nil
		}
	}
	ours := process(self, "query", "--lake", lakeDir, "--format", "csv", "SELECT 1")
	var theirs func() error
	why := "no DuckDB table (--no-duckdb)"
	if duckDB != "" {
		job, err := json.Marshal(map[string]any{"db": duckDB, "sql": "SELECT 1"})
		if err != nil {
			return err
		}
		if bin, err := findNativeq(ctx, m.Stderr); err != nil {
			why = err.Error()
		} else {
			theirs = process(bin, string(job))
		}
	}
	a, b, err := timeRuns(repeat, ours, theirs)
	if err != nil {
		return err
	}
	// What the executable costs before it does anything: its packages' initialisation.
	idle, _, err := timeRuns(repeat, process(self, "--help"), nil)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("start-up, whole process, median of %d runs after a first: trailsql query \"SELECT 1\" %.1f ms (first %.1f ms)", repeat-1, ms(a.median), ms(a.first))
	if theirs == nil {
		fmt.Fprintf(out, "%s; no anchor: %s\n", line, why)
		return nil
	}
	over := a.median - b.median
	fmt.Fprintf(out, "%s | DuckDB open + SELECT 1 (nativeq) %.1f ms (first %.1f ms) | +%.1f ms, target ≤ +30 ms %s\n",
		line, ms(b.median), ms(b.first), ms(over), mark(over <= 30*time.Millisecond))
	fmt.Fprintf(out, "  trailsql --help (the executable's start alone) %.1f ms; the query past it %.1f ms\n", ms(idle.median), ms(a.median-idle.median))
	return nil
}

// findNativeq returns the start-up anchor program: $TRAILSQL_NATIVE_BIN, or <repo>/.tools/nativeq,
// built from internal/bench/nativeq when missing or linked with another DuckDB than this
// executable's.
func findNativeq(ctx context.Context, log io.Writer) (string, error) {
	if p := os.Getenv("TRAILSQL_NATIVE_BIN"); p != "" {
		return p, nil
	}
	wd, _ := os.Getwd()
	repo, err := versitygw.RepoRoot(wd)
	if err != nil {
		return "", fmt.Errorf("run from the trailsql repository to build the anchor (internal/bench/nativeq), or set $TRAILSQL_NATIVE_BIN to it")
	}
	bin := filepath.Join(repo, ".tools", "nativeq")
	want := duckdbVersion(debug.ReadBuildInfo())
	if bi, err := buildinfo.ReadFile(bin); err == nil && duckdbVersion(bi, true) == want {
		return bin, nil
	}
	fmt.Fprintf(log, "building the start-up anchor into %s (once)…\n", bin)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp := bin + ".build"
	c := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./internal/bench/nativeq")
	c.Dir = repo
	c.Env = append(os.Environ(), "GOWORK=off")
	if outb, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the start-up anchor: %w\n%s", err, strings.TrimSpace(string(outb)))
	}
	return bin, os.Rename(tmp, bin)
}

// duckdbVersion is the version of the DuckDB driver a build links ("" when unknown).
func duckdbVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/duckdb/duckdb-go/v2" {
			return d.Version
		}
	}
	return ""
}

// runTimes are the durations of a statement run several times.
type runTimes struct{ first, median time.Duration }

// timeRuns runs fn n times, and other (when not nil) after each run of fn, and returns for each
// the first run's time and the median of the others. Alternating the two puts each pair of runs
// in the same moment of a shared machine, whose speed drifts from one second to the next.
func timeRuns(n int, fn, other func() error) (runTimes, runTimes, error) {
	var times, others []time.Duration
	for range max(n, 1) {
		for _, run := range []struct {
			fn  func() error
			out *[]time.Duration
		}{{fn, &times}, {other, &others}} {
			if run.fn == nil {
				continue
			}
			t0 := time.Now()
			if err := run.fn(); err != nil {
				return runTimes{}, runTimes{}, err
			}
			*run.out = append(*run.out, time.Since(t0))
		}
	}
	return summary(times), summary(others), nil
}

// summary is the first of times, and the median of the others.
func summary(times []time.Duration) runTimes {
	if len(times) == 0 {
		return runTimes{}
	}
	r := runTimes{first: times[0], median: times[0]}
	if warm := slices.Clone(times[1:]); len(warm) > 0 {
		slices.Sort(warm)
		r.median = warm[len(warm)/2]
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
