package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

func openWith(t testing.TB, opt Options) *Engine {
	t.Helper()
	e, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// DuckDB spills into a folder of its own: a random name, only this user may enter, made new
// (a link planted at the old predictable name is not followed), removed on Close.
func TestTempFolder(t *testing.T) {
	parent := t.TempDir()
	target := t.TempDir()
	planted := filepath.Join(parent, fmt.Sprintf("trailsql-duckdb-%d", os.Getpid()))
	if err := os.Symlink(target, planted); err != nil {
		t.Fatal(err)
	}
	root := writeLake(t, twoDays)
	a, err := Open(context.Background(), Options{Lake: root, TempDir: parent})
	if err != nil {
		t.Fatal(err)
	}
	b := openWith(t, Options{Lake: root, TempDir: parent})
	if a.tmp == b.tmp || a.tmp == planted || filepath.Dir(a.tmp) != parent {
		t.Fatalf("temporary folders %s and %s (planted link %s)", a.tmp, b.tmp, planted)
	}
	fi, err := os.Lstat(a.tmp)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("temporary folder %s: %v %v, want a folder with mode 0700", a.tmp, fi.Mode(), err)
	}
	var setting string
	var err2 error
	withSession(t, a, func(s *session) {
		err2 = s.cn.c.QueryRowContext(context.Background(), "SELECT current_setting('temp_directory')").Scan(&setting)
	})
	if err2 != nil || filepath.Dir(setting) != a.tmp {
		t.Fatalf("DuckDB's temp_directory is %q (%v), want a folder in %q", setting, err2, a.tmp)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(a.tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary folder left after Close: %v", err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Fatalf("something was written through the planted link: %v", entries)
	}
}

// Links inside the lake lead nowhere: not to a folder outside it, nor as a data file.
func TestLinksInLake(t *testing.T) {
	root := writeLake(t, twoDays)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o600)
	data := filepath.Join(root, dataDir)
	if err := os.Symlink(outside, filepath.Join(data, "etc")); err != nil {
		t.Fatal(err)
	}
	e := openTestEngine(t, root, true)
	ctx := context.Background()
	for _, q := range []string{
		"SELECT * FROM read_text('" + filepath.Join(data, "etc", "secret.txt") + "')",
		"SELECT * FROM read_text('" + filepath.Join(data, "..", "..", filepath.Base(outside), "secret.txt") + "')",
		"SELECT * FROM read_text('" + secret + "')",
		"SELECT * FROM glob('" + data + "/**')",
		"SELECT * FROM read_text('" + filepath.Join(root, "_trailsql") + "/**')",
	} {
		res, err := e.Query(ctx, q)
		if err == nil && len(res.Rows) > 0 {
			t.Errorf("%s read %v", q, res.Rows)
		}
	}
	if res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs"); err != nil || res.Rows[0][0] != int64(2) {
		t.Fatalf("count: %v %v", res, err)
	}

	// A data file replaced by a link is left out, and said to be.
	f := e.Snapshot().Files[0]
	real := filepath.Join(outside, "copy.parquet")
	os.Rename(e.absPath(f), real)
	os.Symlink(real, e.absPath(f))
	e = openTestEngine(t, root, true)
	_, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
	var damaged *DamagedFileError
	if !errors.As(err, &damaged) || damaged.File.Path != f.Path || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a linked data file: %v", err)
	}
	e = openWith(t, Options{Lake: root, SkipDamaged: true})
	res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
	if err != nil || res.Rows[0][0] != int64(1) || len(res.Skipped) != 1 || res.Skipped[0].Path != f.Path {
		t.Fatalf("skipping the linked file: %v %v", res, err)
	}
}

// A damaged file is named, with its partition and what to do; queries that do not read it
// answer; --skip-damaged answers from the rest and says what it left out. The sound file that
// DuckDB names beside a damaged one is never taken for it.
func TestDamagedFile(t *testing.T) {
	for _, damage := range []struct {
		name string
		fn   func(data []byte) []byte
	}{
		{"not parquet", func([]byte) []byte { return []byte("this is not a parquet file at all") }},
		{"truncated", func(d []byte) []byte { return d[:len(d)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		// A footer damaged into another valid schema: DuckDB names the sound file it compared
		// this one with too.
		{"another schema", func(d []byte) []byte {
			return bytes.ReplaceAll(d, []byte("eventversion"), []byte("eventversiom"))
		}},
		{"pages overwritten", func(d []byte) []byte {
			d = append([]byte(nil), d...)
			for i := 4; i < len(d)/2; i++ {
				d[i] = 0xff
			}
			return d
		}},
	} {
		t.Run(damage.name, func(t *testing.T) {
			root := writeLake(t, twoDays)
			e := openTestEngine(t, root, true)
			var bad string
			for _, f := range e.Snapshot().Files {
				if f.Partition.Day == "01" {
					bad = f.Path
					data, _ := os.ReadFile(e.absPath(f))
					os.WriteFile(e.absPath(f), damage.fn(data), 0o644)
				}
			}
			ctx := context.Background()
			e = openTestEngine(t, root, true)
			_, err := e.Query(ctx, "SELECT count(eventid), count(eventversion) FROM cloudtrail_logs")
			var damaged *DamagedFileError
			if !errors.As(err, &damaged) || damaged.File.Path != bad {
				t.Fatalf("error %v, want one naming %s", err, bad)
			}
			for _, want := range []string{bad, "day=01"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Pruned away: the other day answers.
			res, err := e.Query(ctx, "SELECT count(eventid), count(eventversion) FROM cloudtrail_logs WHERE day = '02'")
			if err != nil || res.Rows[0][0] != int64(1) {
				t.Fatalf("the other partition: %v %v", res, err)
			}
			opt := testOptions(root, true)
			opt.SkipDamaged = true
			skip := openWith(t, opt)
			for range 2 { // the second time, the file is known to be damaged
				res, err = skip.Query(ctx, "SELECT count(eventid), count(eventversion) FROM cloudtrail_logs")
				if err != nil || res.Rows[0][0] != int64(1) {
					t.Fatalf("skipping: %v %v", res, err)
				}
				if len(res.Skipped) != 1 || res.Skipped[0].Path != bad || res.Skipped[0].Rows != 1 || res.Skipped[0].Reason == "" {
					t.Fatalf("skipped %+v, want %s", res.Skipped, bad)
				}
			}
		})
	}
}

// checkLimit fails unless err is a *LimitError of limit at value, matched by errors.Is with
// sentinel, whose message names the limit and its value and no flag.
func checkLimit(t testing.TB, what string, err, sentinel error, limit, value string) {
	t.Helper()
	var le *LimitError
	switch {
	case !errors.As(err, &le) || !errors.Is(err, sentinel):
		t.Errorf("%s: %v, want a *LimitError matching %v", what, err, sentinel)
	case le.Limit != limit || le.Value != value:
		t.Errorf("%s: limit %q = %q, want %q = %q", what, le.Limit, le.Value, limit, value)
	case !strings.Contains(err.Error(), limit) || !strings.Contains(err.Error(), value) || strings.Contains(err.Error(), "--"):
		t.Errorf("%s: %q does not say the limit %s and its value %s, or names a flag", what, err, limit, value)
	}
}

// Results are bounded by rows and bytes, inside DuckDB before values reach Go, with errors that
// name the limit and its value.
func TestResultLimits(t *testing.T) {
	root := writeLake(t, twoDays)
	e := openWith(t, Options{Lake: root, MaxRows: 5, MaxResultBytes: 1 << 20})
	ctx := context.Background()
	cases := []struct {
		sql   string
		args  []any
		limit string // "" for no error
	}{
		{"SELECT * FROM range(5)", nil, ""},
		{"SELECT * FROM range(6)", nil, LimitRows},
		{"SELECT * FROM cloudtrail_logs a, cloudtrail_logs b, cloudtrail_logs c", nil, LimitRows},
		{"SELECT repeat('x', 1000)", nil, ""},
		{"SELECT repeat('x', 2000000)", nil, LimitResultBytes},
		{"SELECT [repeat('x', 2000000)]", nil, LimitResultBytes},
		{"SELECT {'a': {'b': [repeat('x', 2000000)]}}", nil, LimitResultBytes},
		{"SELECT MAP {'k': repeat('x', 2000000)}", nil, LimitResultBytes},
		{"SELECT repeat('x', 2000000)::BLOB", nil, LimitResultBytes},
		{"SELECT repeat('x', 300000) FROM range(4)", nil, LimitResultBytes},
		{"SELECT ?", []any{strings.Repeat("x", 2000000)}, LimitResultBytes},
		{"SELECT ? AS a, ? AS a", []any{"x", "y"}, ""},
	}
	for _, c := range cases {
		_, err := e.Query(ctx, c.sql, c.args...)
		switch c.limit {
		case "":
			if err != nil {
				t.Errorf("%s: %v", c.sql, err)
			}
		case LimitRows:
			checkLimit(t, c.sql, err, ErrResultTooLarge, LimitRows, "5")
		default:
			checkLimit(t, c.sql, err, ErrResultTooLarge, LimitResultBytes, "1 MiB")
		}
	}
	// A handle's own limits are lower, never higher.
	_, err := e.With(QueryOptions{MaxRows: 2}).Query(ctx, "SELECT * FROM range(3)")
	checkLimit(t, "max rows 2", err, ErrResultTooLarge, LimitRows, "2")
	_, err = e.With(QueryOptions{MaxRows: 100}).Query(ctx, "SELECT * FROM range(6)")
	checkLimit(t, "max rows 100", err, ErrResultTooLarge, LimitRows, "5")
	_, err = e.With(QueryOptions{MaxResultBytes: 1000}).Query(ctx, "SELECT repeat('x', 2000)")
	checkLimit(t, "max result bytes 1000", err, ErrResultTooLarge, LimitResultBytes, "1000 bytes")
	// Duplicate column names survive the wrapping.
	res, err := e.Query(ctx, "SELECT 1 AS a, 2 AS a")
	if err != nil || strings.Join(res.Columns, ",") != "a,a" || len(res.Rows[0]) != 2 {
		t.Fatalf("duplicate names: %v %v", res, err)
	}
}

// sinkCheck checks that a sink sees Begin once, before the rows.
type sinkCheck struct {
	begun bool
	cols  []string
	rows  int
	err   error
}

func (s *sinkCheck) Begin(cols, types []string) error {
	if s.begun {
		s.err = errors.New("Begin twice")
	}
	s.begun, s.cols = true, cols
	return nil
}

func (s *sinkCheck) Row(row []any) error {
	if !s.begun {
		s.err = errors.New("a row before Begin")
	}
	s.rows++
	return nil
}

func TestQueryTo(t *testing.T) {
	e := openWith(t, Options{Lake: writeLake(t, twoDays)})
	for q, n := range map[string]int{"SELECT * FROM range(3000) t(x)": 3000, "SELECT 1 AS x WHERE false": 0} {
		var s sinkCheck
		res, err := e.QueryTo(context.Background(), &s, q)
		if err != nil || s.err != nil || !s.begun || s.rows != n || res.Rows != nil || strings.Join(s.cols, ",") != "x" {
			t.Errorf("%s: %v %v %+v", q, err, s.err, s)
		}
	}
}

// The statement's deadline covers everything Query does, translation and checks included.
func TestTimeoutCoversPreparation(t *testing.T) {
	root := writeLake(t, twoDays)
	ctx := context.Background()

	// A translator that never returns.
	stuck := make(chan struct{})
	defer close(stuck)
	e := openWith(t, Options{Lake: root, Timeout: 100 * time.Millisecond, Dialect: Dialect{Translate: func(s string) (string, func(error) error, error) {
		<-stuck
		return s, nil, nil
	}}})
	_, err := e.Query(ctx, "SELECT 1")
	checkLimit(t, "stuck translation", err, ErrTimeout, LimitTimeout, "100ms")

	// A long IN list, through the Athena translator, the check, pruning and inlining.
	var b strings.Builder
	b.WriteString("SELECT count(*) FROM cloudtrail_logs WHERE eventid IN ('x'")
	for i := range 300000 {
		fmt.Fprintf(&b, ", 'e%07d'", i)
	}
	b.WriteString(") AND day = '01'")
	e = openTestEngine(t, root, true)
	e.opt.Timeout = 50 * time.Millisecond
	e.opt.MaxStatementBytes = 8 << 20
	if _, err := e.Query(ctx, b.String()); !errors.Is(err, ErrTimeout) {
		t.Fatalf("a %d-byte IN list: %v, want a timeout", b.Len(), err)
	}
	// The statement limit refuses it first. (Another engine: the first may still be preparing.)
	e = openTestEngine(t, root, true)
	_, err = e.Query(ctx, b.String())
	checkLimit(t, "a long statement", err, ErrStatementTooLarge, LimitStatementBytes, "1 MiB")
	// Cancelling (SIGINT, SIGTERM) interrupts as the deadline does.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Query(cctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A DuckDB that failed inside refuses every statement after ("database has been invalidated"):
// such errors are told from others, and the next statement starts a new DuckDB over the same
// snapshot while the broken one closes.
func TestBrokenDatabaseLeft(t *testing.T) {
	refused := &duckdb.Error{Type: duckdb.ErrorTypeFatal, Msg: "FATAL Error: Failed: database has been invalidated because of a previous fatal error."}
	for _, c := range []struct {
		err             error
		broken, refused bool
	}{
		{&duckdb.Error{Type: duckdb.ErrorTypeInternal, Msg: "INTERNAL Error: Attempted to access index 1 within vector of size 1"}, true, false},
		{&QueryError{Msg: "x", Err: refused}, true, true},
		{fmt.Errorf("select files: %w", refused), true, true},
		{&duckdb.Error{Type: duckdb.ErrorTypeInvalidInput, Msg: "Invalid Input Error: database has been invalidated"}, false, false}, // error('…')
		{errors.New("FATAL Error: Failed: database has been invalidated"), false, false},
		{&duckdb.Error{Type: duckdb.ErrorTypeBinder, Msg: "Binder Error: column x not found"}, false, false},
		{&duckdb.Error{Type: duckdb.ErrorTypeIO, Msg: "IO Error: No files found"}, false, false},
		{context.Canceled, false, false},
	} {
		if got, again := broken(c.err), refusedBroken(c.err); got != c.broken || again != c.refused {
			t.Errorf("%v: broken %v, refused for an earlier one %v", c.err, got, again)
		}
	}
	root := writeLake(t, twoDays)
	e := openTestEngine(t, root, true)
	ctx := context.Background()
	count := func() {
		t.Helper()
		if res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs"); err != nil || res.Rows[0][0] != int64(2) {
			t.Fatalf("%v %v", res, err)
		}
	}
	count()
	e.mu.Lock()
	first := e.gen
	e.mu.Unlock()
	e.abandon(first)
	count()
	e.mu.Lock()
	again, open := e.gen, e.generations
	e.mu.Unlock()
	if again == first || open != 1 || !first.retired {
		t.Errorf("after abandon: the same database %v, %d open, the broken one retired %v", again == first, open, first.retired)
	}
}
