package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/athena"
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
	if err := a.conn.QueryRowContext(context.Background(), "SELECT current_setting('temp_directory')").Scan(&setting); err != nil || setting != a.tmp {
		t.Fatalf("DuckDB's temp_directory is %q (%v), want %q", setting, err, a.tmp)
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
	f := e.snap.Files[0]
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
// answer; --skip-damaged answers from the rest and says what it left out.
func TestDamagedFile(t *testing.T) {
	for _, damage := range []struct {
		name string
		fn   func(data []byte) []byte
	}{
		{"not parquet", func([]byte) []byte { return []byte("this is not a parquet file at all") }},
		{"truncated", func(d []byte) []byte { return d[:len(d)/2] }},
		{"empty", func([]byte) []byte { return nil }},
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
			for _, f := range e.snap.Files {
				if f.Partition.Day == "01" {
					bad = f.Path
					data, _ := os.ReadFile(e.absPath(f))
					os.WriteFile(e.absPath(f), damage.fn(data), 0o644)
				}
			}
			ctx := context.Background()
			e = openTestEngine(t, root, true)
			_, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
			var damaged *DamagedFileError
			if !errors.As(err, &damaged) || damaged.File.Path != bad {
				t.Fatalf("error %v, want one naming %s", err, bad)
			}
			for _, want := range []string{bad, "day=01", "trailsql check", "--skip-damaged"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Pruned away: the other day answers.
			res, err := e.Query(ctx, "SELECT count(*) FROM cloudtrail_logs WHERE day = '02'")
			if err != nil || res.Rows[0][0] != int64(1) {
				t.Fatalf("the other partition: %v %v", res, err)
			}
			skip := openWith(t, Options{Lake: root, SkipDamaged: true, Setup: athena.Setup()})
			for range 2 { // the second time, the file is known to be damaged
				res, err = skip.Query(ctx, "SELECT count(*) FROM cloudtrail_logs")
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

// Results are bounded by rows and bytes, inside DuckDB before values reach Go, with errors that
// name the limit and the flag that raises it.
func TestResultLimits(t *testing.T) {
	root := writeLake(t, twoDays)
	e := openWith(t, Options{Lake: root, MaxRows: 5, MaxResultBytes: 1 << 20})
	ctx := context.Background()
	cases := []struct {
		sql  string
		args []any
		flag string // "" for no error
	}{
		{"SELECT * FROM range(5)", nil, ""},
		{"SELECT * FROM range(6)", nil, "--max-rows"},
		{"SELECT * FROM cloudtrail_logs a, cloudtrail_logs b, cloudtrail_logs c", nil, "--max-rows"},
		{"SELECT repeat('x', 1000)", nil, ""},
		{"SELECT repeat('x', 2000000)", nil, "--max-result-bytes"},
		{"SELECT [repeat('x', 2000000)]", nil, "--max-result-bytes"},
		{"SELECT {'a': {'b': [repeat('x', 2000000)]}}", nil, "--max-result-bytes"},
		{"SELECT MAP {'k': repeat('x', 2000000)}", nil, "--max-result-bytes"},
		{"SELECT repeat('x', 2000000)::BLOB", nil, "--max-result-bytes"},
		{"SELECT repeat('x', 300000) FROM range(4)", nil, "--max-result-bytes"},
		{"SELECT ?", []any{strings.Repeat("x", 2000000)}, "--max-result-bytes"},
		{"SELECT ? AS a, ? AS a", []any{"x", "y"}, ""},
	}
	for _, c := range cases {
		res, err := e.Query(ctx, c.sql, c.args...)
		if c.flag == "" {
			if err != nil {
				t.Errorf("%s: %v", c.sql, err)
			}
			continue
		}
		if !errors.Is(err, ErrResultTooLarge) || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s: %v (%v), want a result limit naming %s", c.sql, err, res, c.flag)
		}
	}
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
	e := openWith(t, Options{Lake: root, Timeout: 100 * time.Millisecond, Translate: func(s string) (string, func(error) error, error) {
		<-stuck
		return s, nil, nil
	}})
	if _, err := e.Query(ctx, "SELECT 1"); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("stuck translation: %v, want a timeout", err)
	}

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
	if _, err := e.Query(ctx, b.String()); !errors.Is(err, ErrStatementTooLarge) || !strings.Contains(err.Error(), "--max-statement-bytes") || !strings.Contains(err.Error(), "1 MiB") {
		t.Fatalf("a %d-byte statement: %v, want the statement limit", b.Len(), err)
	}
	// Cancelling (SIGINT, SIGTERM) interrupts as the deadline does.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Query(cctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
