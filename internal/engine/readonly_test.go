package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// writeLake commits events (JSON lines) to a new lake and returns its root.
func writeLake(t testing.TB, events string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "lake")
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloudtrail.ReadEvents(strings.NewReader(events), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return root
}

const twoDays = `{"eventTime":"2024-03-01T10:00:00Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"1","userAgent":"ua\u001b[31mred","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}}
{"eventTime":"2024-03-02T10:00:00Z","eventName":"B","awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventID":"2","userIdentity":{"type":"Root"}}`

// traces is what a statement that changed anything leaves behind: the files under the folders
// a statement could write to (with their contents), DuckDB's catalog, settings, variables,
// prepared statements and logs.
type traces struct {
	e    *Engine
	dirs []string
}

func (tr traces) snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, d := range tr.dirs {
		filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fmt.Fprintf(&b, "%s %v", p, de.Type())
			if de.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				fmt.Fprintf(&b, " %x", sha256.Sum256(data))
			}
			b.WriteByte('\n')
			return nil
		})
	}
	var catalog string
	var err error
	withSession(t, tr.e, func(s *session) {
		err = s.cn.c.QueryRowContext(context.Background(), `SELECT concat_ws(' | ',
		(SELECT string_agg(database_name, ',' ORDER BY database_name) FROM duckdb_databases()),
		(SELECT string_agg(schema_name || '.' || table_name, ',' ORDER BY 1) FROM duckdb_tables()),
		(SELECT string_agg(view_name, ',' ORDER BY 1) FROM duckdb_views() WHERE NOT internal),
		(SELECT string_agg(sequence_name, ',' ORDER BY 1) FROM duckdb_sequences()),
		(SELECT string_agg(type_name, ',' ORDER BY 1) FROM duckdb_types() WHERE NOT internal),
		(SELECT count(*) FROM duckdb_functions()),
		(SELECT string_agg(name || '=' || coalesce(value, ''), ',' ORDER BY name) FROM duckdb_settings()),
		(SELECT string_agg(name, ',' ORDER BY 1) FROM duckdb_variables()),
		(SELECT string_agg(name, ',' ORDER BY 1) FROM duckdb_prepared_statements()))`).Scan(&catalog)
	})
	if err != nil {
		t.Fatalf("read the catalog: %v", err)
	}
	b.WriteString(catalog)
	return b.String()
}

// attackEngine opens an engine over a small lake, with a folder outside the lake that
// statements also try to write to.
func attackEngine(t testing.TB) (*Engine, traces, map[string]string) {
	t.Helper()
	root := writeLake(t, twoDays)
	outside := t.TempDir()
	e := openTestEngine(t, root, true)
	var data string
	snap := e.Snapshot()
	for _, f := range snap.Files {
		data = e.absPath(f)
	}
	vars := map[string]string{
		"LAKE":    snap.Root,
		"DATA":    filepath.Join(snap.Root, dataDir),
		"FILE":    data,
		"OUTSIDE": outside,
	}
	return e, traces{e: e, dirs: []string{filepath.Dir(root), outside, e.tmp}}, vars
}

// forbidden are statements that change something, each of which left a trace on the old code
// through one of the wrappings.
var forbidden = []string{
	"COPY (SELECT 1) TO '$DATA/x.csv'",
	"COPY (SELECT 1) TO '$LAKE/_trailsql/commits/forged.json' (FORMAT json)",
	"COPY (SELECT * FROM cloudtrail_logs) TO '$FILE' (FORMAT parquet, USE_TMP_FILE false)",
	"COPY (SELECT 1) TO '$OUTSIDE/x.csv'",
	"COPY cloudtrail_logs TO '$DATA/y.csv'",
	"ATTACH ':memory:' AS x",
	"ATTACH '$DATA/db.duckdb' AS y",
	"DETACH memory",
	"USE system",
	"EXPORT DATABASE '$DATA/exp'",
	"CREATE TEMP TABLE t AS SELECT 1",
	"CREATE TABLE t2 (a INTEGER)",
	"CREATE VIEW v AS SELECT 1",
	"CREATE OR REPLACE VIEW cloudtrail_logs AS SELECT 1",
	"CREATE MACRO m() AS 1",
	"CREATE SEQUENCE s",
	"CREATE TYPE ty AS ENUM ('a')",
	"DROP VIEW cloudtrail_logs",
	"INSERT INTO cloudtrail_logs SELECT * FROM cloudtrail_logs",
	"PRAGMA enable_profiling",
	"PRAGMA show_tables",
	"CALL enable_logging()",
	"CALL checkpoint()",
	"SET threads = 1",
	"SET VARIABLE x = 1",
	"RESET memory_limit",
	"INSTALL httpfs",
	"LOAD tpch",
	"CHECKPOINT",
	"VACUUM",
	"PREPARE p AS SELECT 1",
	"BEGIN TRANSACTION",
	"FROM enable_logging(storage = 'file', storage_path = '$DATA/log')",
	"FROM enable_logging()",
	"FROM checkpoint()",
	"FROM query('CREATE TABLE q AS SELECT 1')",
	"FROM json_execute_serialized_sql('x')",
}

// wrappings put a statement where the old lexer did not see it, or where a second statement
// rides along.
var wrappings = []string{
	"%s",
	"/* /* */ SHOW */ %s",
	"/* /* nested */ */ %s",
	"SELECT 1 --\r; %s",
	"SELECT 1 --\r\n; %s",
	"SELECT E'\\''; %s",
	"SELECT $$ ' $$; %s",
	"SELECT $tag$ ; ' $tag$; %s",
	"DESCRIBE %s",
	"SHOW %s",
	"SUMMARIZE %s",
	"EXPLAIN %s",
	"EXPLAIN ANALYZE %s",
	"EXPLAIN (ANALYZE) %s",
	"EXPLAIN ANALYZE /* x */ %s",
	"explain\tanalyze %s",
	"SELECT 1; %s",
	"%s; SELECT 1",
	"SELECT 1;\n%s;",
	"WITH x AS (SELECT 1) %s",
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "$"+k, v)
	}
	return s
}

// Every forbidden statement, in every wrapping, is refused and leaves no trace; the engine
// still answers afterwards.
func TestReadOnlyAttacks(t *testing.T) {
	e, tr, vars := attackEngine(t)
	ctx := context.Background()
	before := tr.snapshot(t)
	for _, stmt := range forbidden {
		for _, w := range wrappings {
			q := fmt.Sprintf(w, expand(stmt, vars))
			_, err := e.Query(ctx, q)
			if err == nil {
				t.Errorf("%q ran", q)
			}
			if after := tr.snapshot(t); after != before {
				t.Fatalf("%q left a trace (error %v):\n%s", q, err, diffLines(before, after))
			}
		}
	}
	res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
	if err != nil || res.Rows[0][0] != int64(2) {
		t.Fatalf("after the attacks: %v %v", res, err)
	}
}

// Refusals say so, and name what runs.
func TestReadOnlyRefusalMessages(t *testing.T) {
	e, _, vars := attackEngine(t)
	for _, q := range []string{
		"COPY (SELECT 1) TO '$DATA/x.csv'", "/* /* */ SHOW */ COPY (SELECT 1) TO '$DATA/x.csv'",
		"EXPLAIN ANALYZE SELECT 1", "PRAGMA show_tables", "FROM enable_logging()", "SELECT 1 --\r; SELECT 2",
	} {
		q = expand(q, vars)
		_, err := e.Query(context.Background(), q)
		if !errors.Is(err, ErrNotReadOnly) && !strings.Contains(fmt.Sprint(err), "one statement at a time") {
			t.Errorf("%q: %v, want a refusal", q, err)
		}
	}
}

// Reads run, whatever comments and strings surround them.
func TestReadOnlyAccepts(t *testing.T) {
	e, _, _ := attackEngine(t)
	cases := map[string]int{ // statement → rows
		"SELECT count(*) FROM cloudtrail_logs":          1,
		"/* /* nested */ */ SELECT 1 -- trailing\r":     1,
		"SELECT 'a;b' -- c;\n":                          1,
		"  SELECT 1;  ":                                 1,
		"WITH x AS (SELECT 1 AS a) SELECT * FROM x":     1,
		"VALUES (1), (2)":                               2,
		"FROM cloudtrail_logs SELECT eventid":           2,
		"DESCRIBE cloudtrail_logs":                      len(athenaColumns()), // SELECT * columns
		"DESCRIBE SELECT 1 AS a":                        1,
		"SHOW TABLES":                                   2, // cloudtrail_logs and the alias cloudtrail
		"SUMMARIZE SELECT eventid FROM cloudtrail_logs": 1,
		"EXPLAIN SELECT count(*) FROM cloudtrail_logs":  1,
		"explain\nSELECT 1":                             1,
		"SELECT * FROM range(3)":                        3,
		"SELECT unnest([1, 2])":                         2,
		"SELECT eventid FROM cloudtrail_logs CROSS JOIN UNNEST([1]) AS u(x)": 2,
	}
	for q, n := range cases {
		res, err := e.Query(context.Background(), q)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if len(res.Rows) != n {
			t.Errorf("%q: %d rows, want %d", q, len(res.Rows), n)
		}
	}
}

// FuzzReadOnly wraps forbidden and allowed statements in generated text (comments of every kind,
// string forms, line endings, leading keywords, semicolons) and checks by their traces, not by
// the classifier, that nothing but reads ran.
func FuzzReadOnly(f *testing.F) {
	for i, w := range wrappings {
		pre, post, _ := strings.Cut(w, "%s")
		f.Add(uint8(i), pre, post)
	}
	for _, s := range []string{"-- x\r", "/*/**/*/", "E'\\''", "$a$;$a$", "'; ", "\"x;\"", "\u00a0", "\x00", ";;", "EXPLAIN", "DESCRIBE", "SHOW", "SUMMARIZE", "(", "SELECT 1 UNION ALL"} {
		f.Add(uint8(0), s, "")
		f.Add(uint8(1), "SELECT 1 "+s+"; ", "")
	}
	e, tr, vars := attackEngine(f)
	before := tr.snapshot(f)
	stmts := append(append([]string(nil), forbidden...), "SELECT 1", "SELECT * FROM cloudtrail_logs", "DESCRIBE cloudtrail_logs")
	f.Fuzz(func(t *testing.T, which uint8, pre, post string) {
		q := pre + expand(stmts[int(which)%len(stmts)], vars) + post
		e.Query(context.Background(), q)
		if after := tr.snapshot(t); after != before {
			t.Fatalf("%q left a trace:\n%s", q, diffLines(before, after))
		}
	})
}

// diffLines lists the lines of b not in a, and of a not in b.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
