// Package engine owns the DuckDB database that answers SQL over a lake. It is the only package
// that talks to DuckDB: it opens it sandboxed (no file access outside the lake, configuration
// locked, memory and time bounded), exposes the lake's current snapshot as the view
// cloudtrail_logs, and runs read-only statements only.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// TranslateFunc rewrites a user's statement (Athena/Trino SQL) into DuckDB SQL. mapErr, when not
// nil, re-points a DuckDB error about the translated SQL at the user's original line and column.
type TranslateFunc func(sql string) (duckSQL string, mapErr func(error) error, err error)

// Options configures an Engine. Zero values take the defaults.
type Options struct {
	Lake   string
	Logger *slog.Logger
	// Setup statements run once at open, before the configuration is locked (the translator's
	// macros).
	Setup []string
	// Translate rewrites user SQL; nil runs it as DuckDB SQL.
	Translate TranslateFunc
	// MemoryLimit bounds DuckDB's memory, e.g. "2GB" (default: DuckDB's, 80% of RAM).
	MemoryLimit string
	// Threads bounds DuckDB's threads (default: the number of CPUs).
	Threads int
	// Timeout bounds one statement (default 5 minutes).
	Timeout time.Duration
	// Aliases are more table names for cloudtrail_logs (e.g. "cloudtrail", "cloudtrail_123456789012").
	Aliases []string
	// Bounds, when set, finds the restrictions a statement places on the table's rows, so that
	// only the files that can hold such rows are read.
	Bounds func(sql string, tables ...string) *Bounds
}

// Bounds restrict the rows a statement can read: partition values, eventtime as text, and
// from_iso8601_timestamp(eventtime) between two DuckDB expressions that depend on no row.
type Bounds struct {
	Partitions             map[string][]string
	TimeMin, TimeMax       string
	TSMin, TSMax           string
	TimeMinArg, TimeMaxArg int            // 1-based index of the parameter that bounds eventtime as text
	PartitionArgs          map[string]int // partition column = the parameter of this 1-based index
}

// Engine runs SQL over one lake.
type Engine struct {
	db   *sql.DB
	conn *sql.Conn
	opt  Options
	log  *slog.Logger
	snap *lake.Snapshot
	// viewFiles is the number of files the view currently reads (-1: all of the snapshot).
	viewFiles int
	// noInline makes every statement read the view (see inlineTable); for tests.
	noInline bool
}

// Open starts DuckDB over the lake's current snapshot.
func Open(ctx context.Context, opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Minute
	}
	root, err := filepath.Abs(opt.Lake)
	if err != nil {
		return nil, err
	}
	opt.Lake = root
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		return nil, err
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	e := &Engine{db: db, conn: conn, opt: opt, log: opt.Logger.With("component", "engine"), snap: snap, viewFiles: -1}
	if err := e.setup(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Snapshot is the lake snapshot this engine reads.
func (e *Engine) Snapshot() *lake.Snapshot { return e.snap }

// quote renders s as a SQL string literal. It is used only for the engine's own values (lake
// paths, settings), never for user input, which is bound as parameters.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (e *Engine) setup(ctx context.Context) error {
	tmp := filepath.Join(os.TempDir(), fmt.Sprintf("trailsql-duckdb-%d", os.Getpid()))
	stmts := []string{
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET temp_directory = " + quote(tmp),
		"SET TimeZone = 'UTC'",
		// Lake files never change once committed: keep their footers instead of re-reading
		// hundreds of them for every statement.
		"SET parquet_metadata_cache = true",
	}
	if e.opt.MemoryLimit != "" {
		stmts = append(stmts, "SET memory_limit = "+quote(e.opt.MemoryLimit))
	}
	if e.opt.Threads > 0 {
		stmts = append(stmts, fmt.Sprintf("SET threads = %d", e.opt.Threads))
	}
	stmts = append(stmts, e.opt.Setup...)
	stmts = append(stmts, e.viewSQL(e.snap.Files)...)
	stmts = append(stmts,
		"SET allowed_directories = ["+quote(e.opt.Lake+string(filepath.Separator))+"]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	)
	for _, s := range stmts {
		if _, err := e.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("set up duckdb (%s): %w", firstLine(s), err)
		}
	}
	return nil
}

// viewSQL defines cloudtrail_logs over the snapshot's files, with Athena's column order and the
// partition columns as strings.
func (e *Engine) viewSQL(files []lake.File) []string {
	cols := cloudtrail.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = `"` + c.Name + `"`
	}
	var body string
	if len(files) == 0 {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = "CAST(NULL AS " + c.Type + `) AS "` + c.Name + `"`
		}
		body = "SELECT " + strings.Join(parts, ", ") + " WHERE false"
	} else {
		body = "SELECT " + strings.Join(names, ", ") + " FROM " + e.scanSQL(files)
	}
	out := []string{"CREATE OR REPLACE VIEW cloudtrail_logs AS " + body}
	for _, a := range e.opt.Aliases {
		out = append(out, `CREATE OR REPLACE VIEW "`+strings.ReplaceAll(a, `"`, `""`)+`" AS SELECT * FROM cloudtrail_logs`)
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// Close releases DuckDB.
func (e *Engine) Close() error {
	if e.conn != nil {
		e.conn.Close()
	}
	return e.db.Close()
}

// Result is the answer to one statement.
type Result struct {
	Columns []string
	Types   []string // DuckDB type names
	Rows    [][]any
	// Notice is set for statements accepted without running anything (e.g. Athena's ALTER TABLE
	// ADD PARTITION: partitions are automatic here).
	Notice  string
	Elapsed time.Duration
	Stats   Stats
}

// Stats say what a statement read.
type Stats struct {
	FilesRead, FilesTotal int
	BytesRead, BytesTotal int64
	RowsInFilesRead       int64
}

// Query runs one read-only statement and returns all its rows.
func (e *Engine) Query(ctx context.Context, userSQL string, args ...any) (*Result, error) {
	start := time.Now()
	stmt, err := splitSingle(userSQL)
	if err != nil {
		return nil, err
	}
	if notice, ok := ddlNotice(stmt); ok {
		return &Result{Notice: notice}, nil
	}
	sqlText := stmt
	var mapErr func(error) error
	if e.opt.Translate != nil {
		if sqlText, mapErr, err = e.opt.Translate(stmt); err != nil {
			return nil, err
		}
	}
	if err := e.checkReadOnly(ctx, sqlText); err != nil {
		return nil, err
	}
	files, err := e.selectFiles(ctx, stmt, args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.opt.Timeout)
	defer cancel()
	var res *Result
	inlined, ok := sqlText, false
	if isQuery(sqlText) {
		inlined, ok = e.inlineTable(ctx, sqlText, files)
	}
	if ok {
		res, err = e.run(ctx, inlined, args)
		if err != nil && ctx.Err() == nil && inlined != sqlText {
			// Errors point into the statement as translated, not as rewritten: run it over the
			// view for an error that points at the user's SQL (or, should the rewrite be at
			// fault, for the answer).
			ok = false
		}
	}
	if !ok {
		if err := e.useFiles(ctx, files); err != nil {
			return nil, err
		}
		res, err = e.run(ctx, sqlText, args)
	}
	if err != nil {
		return nil, e.queryError(ctx, stmt, sqlText, mapErr, err)
	}
	res.Stats = Stats{FilesRead: len(files), FilesTotal: len(e.snap.Files), BytesTotal: e.snap.Bytes()}
	for _, f := range files {
		res.Stats.BytesRead += f.Bytes
		res.Stats.RowsInFilesRead += f.Rows
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// isQuery reports whether a statement is a query (not DESCRIBE, SHOW, EXPLAIN…), whose table
// references may be rewritten.
func isQuery(stmt string) bool {
	w := leadingWords(stmt, 1)
	return len(w) == 1 && (w[0] == "SELECT" || w[0] == "WITH" || w[0] == "FROM" || w[0] == "VALUES")
}

// run runs one statement and reads all its rows.
func (e *Engine) run(ctx context.Context, sqlText string, args []any) (*Result, error) {
	rows, err := e.conn.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := &Result{}
	res.Columns, _ = rows.Columns()
	cts, _ := rows.ColumnTypes()
	for _, ct := range cts {
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read result: %w", err)
		}
		for i, v := range vals {
			vals[i] = plain(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// ErrTimeout is returned for a statement that ran past Options.Timeout.
var ErrTimeout = errors.New("query timed out")

func (e *Engine) queryError(ctx context.Context, user, translated string, mapErr func(error) error, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s (raise it with --timeout)", ErrTimeout, e.opt.Timeout)
	}
	if mapErr != nil && translated != user {
		err = mapErr(err)
		return &QueryError{Msg: err.Error(), Err: err}
	}
	msg := err.Error()
	if translated != user {
		// DuckDB's excerpt shows the rewritten SQL, which would mislead: keep its message only.
		if i := strings.Index(msg, "\n\nLINE "); i >= 0 {
			msg = msg[:i]
		}
	}
	return &QueryError{Msg: msg, Err: err}
}

// QueryError is an error DuckDB reported for a user's statement.
type QueryError struct {
	Msg string
	Err error
}

func (e *QueryError) Error() string { return e.Msg }
func (e *QueryError) Unwrap() error { return e.Err }

// plain converts the driver's DuckDB-specific values into plain Go values (strings, numbers,
// time.Time, []any, map[string]any), so that nothing above this package depends on DuckDB.
func plain(v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		f := x.Float64()
		if x.Scale == 0 {
			return x.Value
		}
		return f
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = plain(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	}
	return v
}
