package engine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/testshared"
)

// The engine against DuckDB's own anchors (issue 12), as ratios measured in one process: the
// machine is shared and absolute times vary twofold from hour to hour, so each benchmark runs
// trailsql and its anchor alternately and reports the medians of both and their ratio.
//
//   - BenchmarkAnchorOpen: DuckDB's own open and SELECT 1, against engine.Open (as the CLI
//     opens it: Athena's dialect, the process ceiling), SELECT 1 and Close.
//   - BenchmarkAnchorQuestions: each catalogue question through the engine, against DuckDB
//     running the same translated SQL over a native table of the same rows, in a database file
//     of its own; warm (both open) and cold (opened for the question, as a CLI process does).
//   - BenchmarkAnchorLayout: each question, warm, over the lake's files rewritten sorted and
//     with other row group sizes (benchLayouts), against the same native table.
//   - BenchmarkAnchorProcess: whole processes, when TRAILSQL_BIN names a built trailsql and
//     TRAILSQL_NATIVE_BIN the anchor program (internal/bench/nativeq): `trailsql query "SELECT 1"` and
//     `trailsql ask <question>` against the anchor opening the native database and running the
//     same statement.
//
// The lake is generated (internal/generate) and ingested (internal/ingest) in two shapes: thin
// (45 days) and dense (7 days), of TRAILSQL_BENCH_EVENTS events each (default 200,000). Set
// TRAILSQL_BENCH_DIR to keep the lakes and native databases between runs, and
// TRAILSQL_BENCH_FACETS to give the engine the distinct values of each file's facet columns
// (lake.File.Values) in BenchmarkAnchorQuestions, as a lake whose writer records them would. For
// example:
//
//	go build -o /tmp/trailsql ./cmd/trailsql
//	go build -o /tmp/nativeq ./internal/bench/nativeq
//	TRAILSQL_BENCH_DIR=/tmp/anchor TRAILSQL_BIN=/tmp/trailsql TRAILSQL_NATIVE_BIN=/tmp/nativeq \
//	  go test ./internal/engine -run '^$' -bench Anchor -benchtime 7x

// benchEnd is the newest event time of the generated trails.
var benchEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// benchShape is a generated trail: its name and how many days its events spread over.
type benchShape struct {
	name string
	days int
}

func benchShapes() []benchShape { return []benchShape{{"thin", 45}, {"dense", 7}} }

func benchEvents(b *testing.B) int { return testshared.BenchEvents(b, 200_000) }

// benchLake returns a lake of the shape and a DuckDB database file whose table cloudtrail_logs
// holds the same rows, columns and types as the engine's view.
func benchLake(b *testing.B, sh benchShape) (root, native string) {
	b.Helper()
	n := benchEvents(b)
	base := os.Getenv("TRAILSQL_BENCH_DIR")
	if base == "" {
		base = b.TempDir()
	}
	dir := filepath.Join(base, fmt.Sprintf("%s-%d", sh.name, n))
	root, native = filepath.Join(dir, "lake"), filepath.Join(dir, "native.duckdb")
	if _, err := os.Stat(native); err == nil {
		return root, native
	}
	ctx := context.Background()
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	trail := filepath.Join(dir, "trail")
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 1, Events: n, Days: sh.days, End: benchEnd}); err != nil {
		b.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Lake: root}, []string{trail}); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(trail); err != nil {
		b.Fatal(err)
	}
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		b.Fatal(err)
	}
	c := &core{opt: Options{Lake: root}}
	body := strings.TrimPrefix(c.viewSQL(snap.Files), "CREATE OR REPLACE TEMP VIEW cloudtrail_logs AS ")
	db := openDuck(b, native+".tmp")
	if _, err := db.ExecContext(ctx, `CREATE TABLE cloudtrail_logs AS SELECT * EXCLUDE ("$path") FROM (`+body+`)`); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(native+".tmp", native); err != nil {
		b.Fatal(err)
	}
	return root, native
}

func openDuck(b testing.TB, path string) *sql.DB {
	b.Helper()
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	return sql.OpenDB(c)
}

// benchQuestion is a catalogue question as the benchmarks ask it: its Athena SQL and arguments
// for the engine, the translated SQL for DuckDB, and the CLI's arguments for `trailsql ask`.
type benchQuestion struct {
	name string
	sql  string
	args []any
	duck string
	cli  []string
}

// benchQuestions builds every catalogue question over the lake e reads: a 90-day window (new
// behaviour: the last day against the 30 before), the busiest role and access key as principals,
// the lake's users and roles as the inventory.
func benchQuestions(b *testing.B, e *Engine) []benchQuestion {
	b.Helper()
	ctx := context.Background()
	one := func(q string) string {
		res, err := e.Query(ctx, q)
		if err != nil || len(res.Rows) == 0 {
			b.Fatalf("%s: %v", q, err)
		}
		s, _ := res.Rows[0][0].(string)
		return s
	}
	role := one(`SELECT useridentity.sessioncontext.sessionissuer.arn FROM cloudtrail_logs WHERE useridentity.sessioncontext.sessionissuer.arn IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
	key := one(`SELECT useridentity.accesskeyid FROM cloudtrail_logs WHERE useridentity.type = 'IAMUser' AND useridentity.accesskeyid IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
	inv, err := e.Query(ctx, `SELECT DISTINCT CASE WHEN useridentity.type = 'IAMUser' THEN 'user' ELSE 'role' END, coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn)
FROM cloudtrail_logs WHERE useridentity.type IN ('IAMUser', 'AssumedRole') AND coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) IS NOT NULL ORDER BY 1, 2`)
	if err != nil {
		b.Fatal(err)
	}
	var inventory []questions.Identity
	for _, r := range inv.Rows {
		arn := r[1].(string)
		inventory = append(inventory, questions.Identity{Kind: r[0].(string), Name: arn[strings.LastIndex(arn, "/")+1:], ARN: arn})
	}
	inventory = append(inventory, questions.Identity{Kind: "user", Name: "never-seen", ARN: "arn:aws:iam::111122223333:user/never-seen"})
	all, err := questions.Catalog()
	if err != nil {
		b.Fatal(err)
	}
	var out []benchQuestion
	for _, q := range all {
		p := questions.Params{From: benchEnd.Add(-90 * 24 * time.Hour), To: benchEnd.Add(time.Second)}
		cli := []string{"ask", q.Name, "--format", "csv"}
		switch {
		case q.Needs("baseline_from"):
			p.From = benchEnd.Add(-24 * time.Hour)
			p.BaselineFrom = p.From.Add(-30 * 24 * time.Hour)
			cli = append(cli, "--baseline-days", "30")
		case q.Name == "access-key":
			p.Principal = key
			cli = append(cli, "--principal", key)
		case q.Needs("principal"):
			p.Principal = role
			cli = append(cli, "--principal", role)
		case q.Needs("inventory"):
			p.Inventory = inventory
			cli = nil // the CLI reads an IAM inventory file
		}
		if cli != nil {
			cli = append(cli, "--from", p.From.Format(time.RFC3339), "--to", p.To.Format(time.RFC3339))
		}
		text, args, err := q.Build(p)
		if err != nil {
			b.Fatal(err)
		}
		duck, err := athena.Translate(text)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchQuestion{name: q.Name, sql: text, args: args, duck: duck, cli: cli})
	}
	return out
}

// nativeSetup is what a DuckDB user runs before Athena's translated SQL: the settings it needs,
// the engine's time zone, and the macros the statement calls (and those they call).
func nativeSetup(duck string) []string {
	stmts := []string{"SET integer_division = true", "SET TimeZone = 'UTC'"}
	macros := athena.Dialect().Setup
	need := strings.ToLower(duck)
	used := make([]bool, len(macros))
	for changed := true; changed; {
		changed = false
		for i, m := range macros {
			name := macroName.FindStringSubmatch(m)
			if !used[i] && name != nil && strings.Contains(need, strings.ToLower(name[1])) {
				used[i], changed = true, true
				need += " " + strings.ToLower(m)
			}
		}
	}
	for i, m := range macros {
		if used[i] {
			stmts = append(stmts, m)
		}
	}
	return stmts
}

var macroName = regexp.MustCompile(`(?i)^CREATE\s+OR\s+REPLACE\s+TEMP\s+MACRO\s+(\w+)`)

// nativeQuery opens the native database, sets it up for duck and runs it, reading every row:
// what a DuckDB user does for the question.
func nativeQuery(ctx context.Context, path, duck string, args []any) error {
	c, err := duckdb.NewConnector(path+"?access_mode=read_only", nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	cn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	return nativeRun(ctx, cn, duck, args, true)
}

// nativeRun runs duck on cn (after its setup), reading every row.
func nativeRun(ctx context.Context, cn *sql.Conn, duck string, args []any, setup bool) error {
	if setup {
		for _, s := range nativeSetup(duck) {
			if _, err := cn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", firstLine(s), err)
			}
		}
	}
	rows, err := cn.QueryContext(ctx, duck, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// alternate runs each of fns once per iteration of b.Loop, in turn (the order rotating so that
// none always runs on a cache the other warmed or cooled), and reports the median time of each
// (ms, named by names) and the ratio of the first to the second.
func alternate(b *testing.B, names []string, fns ...func() error) []time.Duration {
	b.Helper()
	times := make([][]time.Duration, len(fns))
	i := 0
	for b.Loop() {
		for k := range fns {
			j := (k + i) % len(fns)
			start := time.Now()
			if err := fns[j](); err != nil {
				b.Fatalf("%s: %v", names[j], err)
			}
			times[j] = append(times[j], time.Since(start))
		}
		i++
	}
	med := make([]time.Duration, len(fns))
	for j, t := range times {
		slices.Sort(t)
		med[j] = t[len(t)/2]
		b.ReportMetric(float64(med[j].Microseconds())/1000, names[j]+"-ms")
	}
	b.ReportMetric(0, "ns/op")
	if len(med) >= 2 && med[1] > 0 {
		b.ReportMetric(float64(med[0])/float64(med[1]), "ratio")
	}
	return med
}

// cliOptions are the engine's options as the CLI's query commands set them (see openEngine in
// cmd/trailsql).
func cliOptions(root string) Options {
	return Options{Lake: root, Dialect: athena.Dialect(), ProcessCeiling: true}
}

func BenchmarkAnchorOpen(b *testing.B) {
	for _, sh := range benchShapes() {
		root, native := benchLake(b, sh)
		b.Run(sh.name, func(b *testing.B) {
			ctx := context.Background()
			selectOne := func(db *sql.DB) error {
				var n int
				return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
			}
			alternate(b, []string{"engine", "duckdb", "duckdb-file"},
				func() error {
					e, err := Open(ctx, cliOptions(root))
					if err != nil {
						return err
					}
					if _, err := e.Query(ctx, "SELECT 1"); err != nil {
						return err
					}
					return e.Close()
				},
				func() error {
					db := openDuck(b, "")
					if err := selectOne(db); err != nil {
						return err
					}
					return db.Close()
				},
				func() error {
					db := openDuck(b, native+"?access_mode=read_only")
					if err := selectOne(db); err != nil {
						return err
					}
					return db.Close()
				})
		})
	}
}

// benchFacets returns, when TRAILSQL_BENCH_FACETS is set, the distinct values of the facet
// columns of each file of the lake (by path): what the lake's writer would record in
// lake.File.Values, computed here to measure what they save (see withFacets).
func benchFacets(b *testing.B, root string) map[string]map[string][]string {
	if os.Getenv("TRAILSQL_BENCH_FACETS") == "" {
		return nil
	}
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		b.Fatal(err)
	}
	c := &core{opt: Options{Lake: root}}
	db := openDuck(b, "")
	defer db.Close()
	out := map[string]map[string][]string{}
	for _, f := range snap.Files {
		vals := map[string][]string{}
		for _, col := range lake.FacetColumns {
			var list []any
			if err := db.QueryRow("SELECT coalesce(list(DISTINCT " + col + ") FILTER (WHERE " + col + " IS NOT NULL), []) FROM read_parquet([" + quote(c.absPath(f)) + "])").Scan(&list); err != nil {
				b.Fatal(err)
			}
			vals[col] = []string{}
			for _, v := range list {
				vals[col] = append(vals[col], v.(string))
			}
		}
		out[f.Path] = vals
	}
	return out
}

// withFacets gives the files of e's current snapshot the values of facets, as if the lake had
// recorded them.
func withFacets(e *Engine, facets map[string]map[string][]string) {
	if facets == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.gen.snap.Files {
		e.gen.snap.Files[i].Values = facets[e.gen.snap.Files[i].Path]
	}
}

// warmPair times q through e, open, against DuckDB on cn, a connection to the native database.
func warmPair(b *testing.B, e *Engine, cn *sql.Conn, q benchQuestion) {
	ctx := context.Background()
	for _, s := range nativeSetup(q.duck) {
		if _, err := cn.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	alternate(b, []string{"engine", "duckdb"},
		func() error { _, err := e.Query(ctx, q.sql, q.args...); return err },
		func() error { return nativeRun(ctx, cn, q.duck, q.args, false) })
}

func BenchmarkAnchorQuestions(b *testing.B) {
	for _, sh := range benchShapes() {
		root, native := benchLake(b, sh)
		ctx := context.Background()
		e, err := Open(ctx, cliOptions(root))
		if err != nil {
			b.Fatal(err)
		}
		qs := benchQuestions(b, e)
		facets := benchFacets(b, root)
		withFacets(e, facets)
		db := openDuck(b, native+"?access_mode=read_only")
		cn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range qs {
			b.Run(sh.name+"/warm/"+q.name, func(b *testing.B) { warmPair(b, e, cn, q) })
		}
		for _, q := range qs {
			b.Run(sh.name+"/cold/"+q.name, func(b *testing.B) {
				alternate(b, []string{"engine", "duckdb"},
					func() error {
						e, err := Open(ctx, cliOptions(root))
						if err != nil {
							return err
						}
						defer e.Close()
						withFacets(e, facets)
						_, err = e.Query(ctx, q.sql, q.args...)
						return err
					},
					func() error { return nativeQuery(ctx, native, q.duck, q.args) })
			})
		}
		cn.Close()
		db.Close()
		e.Close()
	}
}

func BenchmarkAnchorProcess(b *testing.B) {
	bin, native := os.Getenv("TRAILSQL_BIN"), os.Getenv("TRAILSQL_NATIVE_BIN")
	if bin == "" || native == "" {
		b.Skip("set TRAILSQL_BIN to a built trailsql (go build -o /tmp/trailsql ./cmd/trailsql) and TRAILSQL_NATIVE_BIN to the anchor (go build -o /tmp/nativeq ./internal/bench/nativeq)")
	}
	run := func(name string, args ...string) func() error {
		return func() error {
			cmd := exec.Command(name, args...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s %.200s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
			}
			return nil
		}
	}
	nativeJob := func(db, duck string, args []any) func() error {
		setup := nativeSetup(duck)
		if duck == "SELECT 1" {
			setup = nil
		}
		job, err := json.Marshal(map[string]any{"db": db, "setup": setup, "sql": duck, "args": args})
		if err != nil {
			b.Fatal(err)
		}
		return run(native, string(job))
	}
	for _, sh := range benchShapes() {
		root, db := benchLake(b, sh)
		b.Run(sh.name+"/select-1", func(b *testing.B) {
			alternate(b, []string{"trailsql", "duckdb"},
				run(bin, "query", "--lake", root, "--format", "csv", "SELECT 1"),
				nativeJob(db, "SELECT 1", nil))
		})
		e, err := Open(context.Background(), cliOptions(root))
		if err != nil {
			b.Fatal(err)
		}
		qs := benchQuestions(b, e)
		e.Close()
		for _, q := range qs {
			if q.cli == nil {
				continue
			}
			b.Run(sh.name+"/"+q.name, func(b *testing.B) {
				alternate(b, []string{"trailsql", "duckdb"},
					run(bin, append(q.cli, "--lake", root)...),
					nativeJob(db, q.duck, q.args))
			})
		}
	}
}

// benchLayout is a way to lay out the rows of each lake file, rewritten by DuckDB (COPY … ORDER
// BY …) to measure what the lake's writer would gain by writing them so.
type benchLayout struct {
	name    string
	orderBy string // "" keeps the rows in the order the writer wrote them
	rows    int    // row group size
}

// benchLayouts are the layouts BenchmarkAnchorLayout compares with the lake as written.
func benchLayouts() []benchLayout {
	sorted := "useridentity.type, eventsource, eventname, eventtime"
	return []benchLayout{
		{"rewritten", "", 122880},
		{"sorted-rg8k", sorted, 8192},
		{"sorted-rg2k", sorted, 2048},
	}
}

// layoutLake returns a copy of the lake at root with every file rewritten in layout l (kept
// beside root between runs).
func layoutLake(b *testing.B, root string, l benchLayout) string {
	b.Helper()
	dir := root + "-" + l.name
	if _, err := os.Stat(dir); err == nil {
		return dir
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.Command("cp", "-r", root, tmp).CombinedOutput(); err != nil {
		b.Fatalf("copy the lake: %v: %s", err, out)
	}
	snap, err := lake.OpenSnapshot(tmp)
	if err != nil {
		b.Fatal(err)
	}
	db := openDuck(b, "")
	defer db.Close()
	for _, f := range snap.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		q := "SELECT * FROM read_parquet(" + quote(p) + ", hive_partitioning = false)"
		if l.orderBy != "" {
			q += " ORDER BY " + l.orderBy
		}
		if _, err := db.Exec("COPY (" + q + ") TO " + quote(p+".new") + fmt.Sprintf(" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE %d)", l.rows)); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(p+".new", p); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkAnchorLayout runs each question, warm, over the lake as written and rewritten in each
// of benchLayouts, against DuckDB over its native table: what sorting the rows of a file and
// sizing its row groups would change. The engine reads the rewritten files as it reads the lake's
// (it does not check their checksums; `trailsql check` would refuse them).
func BenchmarkAnchorLayout(b *testing.B) {
	for _, sh := range benchShapes() {
		root, native := benchLake(b, sh)
		ctx := context.Background()
		db := openDuck(b, native+"?access_mode=read_only")
		cn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		layouts := append([]benchLayout{{name: "as-written"}}, benchLayouts()...)
		for _, l := range layouts {
			dir := root
			if l.orderBy != "" || l.rows != 0 {
				dir = layoutLake(b, root, l)
			}
			e, err := Open(ctx, cliOptions(dir))
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range benchQuestions(b, e) {
				b.Run(sh.name+"/"+l.name+"/"+q.name, func(b *testing.B) { warmPair(b, e, cn, q) })
			}
			e.Close()
		}
		cn.Close()
		db.Close()
	}
}
