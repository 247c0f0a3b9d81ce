// Package engine owns the DuckDB database that answers SQL over a lake. It is the only package
// that talks to DuckDB: it opens it sandboxed (no file access outside the lake, configuration
// locked, memory and time bounded), exposes the lake's current snapshot as the view
// cloudtrail_logs, and runs read-only statements only.
package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	// Translate rewrites user SQL; nil runs it as DuckDB SQL. It runs under the statement's
	// deadline: should it not return by then, the statement fails and it finishes in the
	// background.
	Translate TranslateFunc
	// MemoryLimit bounds DuckDB's memory, e.g. "2GB" (default: a quarter of RAM, at most 4 GiB;
	// see defaultMemoryLimit).
	MemoryLimit string
	// Threads bounds DuckDB's threads (default: the number of CPUs).
	Threads int
	// Timeout bounds one statement, from the moment Query is called: translation, checks, file
	// selection and reading the rows included (default 5 minutes).
	Timeout time.Duration
	// Aliases are more table names for cloudtrail_logs (e.g. "cloudtrail", "cloudtrail_123456789012").
	Aliases []string
	// ParseDDL, when set, reads the CREATE EXTERNAL TABLE and DROP TABLE statements that define
	// users' own tables as views of the lake (see TableDef).
	ParseDDL ParseDDLFunc
	// Bounds, when set, finds the restrictions a statement places on the rows it reads from
	// the lake, so that only the files that can hold such rows are read. tables maps the names
	// the lake is read through (cloudtrail_logs, its aliases, users' tables) to their derived
	// columns (a user's table's partition columns; nil for the others); the statement must
	// read exactly one of them once, else nil.
	Bounds func(sql string, tables map[string][]string) *Bounds
	// TempDir is where the engine makes its private folder for DuckDB's spill files (default:
	// the system's temporary folder).
	TempDir string
	// MaxRows bounds the rows of a result (default 1,000,000).
	MaxRows int
	// MaxResultBytes bounds the size of a result's values, and so of any one row (default
	// 256 MiB); see wrapQuery for how a size is counted.
	MaxResultBytes int64
	// MaxStatementBytes bounds the length of a statement (default 1 MiB).
	MaxStatementBytes int
	// SkipDamaged answers from the files that can be read when some lake file a statement needs
	// cannot be, and lists the others in Result.Skipped, instead of failing with a
	// *DamagedFileError.
	SkipDamaged bool
	// ProcessCeiling holds the whole process, while the engine is open, to what it held before
	// plus MemoryLimit, twice MaxResultBytes and 256 MiB (see ceiling_linux.go): a value DuckDB
	// builds outside its buffer manager then fails the statement instead of taking the machine.
	// The limit is the process's: for front ends that do nothing else heavy while a statement
	// runs (the CLI's query commands). Linux only.
	ProcessCeiling bool
}

// Defaults of Options.
const (
	DefaultMaxRows           = 1_000_000
	DefaultMaxResultBytes    = 256 << 20
	DefaultMaxStatementBytes = 1 << 20
	DefaultTimeout           = 5 * time.Minute
)

// Bounds restrict the rows a statement can read: partition values, eventtime as text, and
// from_iso8601_timestamp(eventtime) between two DuckDB expressions that depend on no row; on
// a user's table, conditions on its derived partition columns too.
type Bounds struct {
	Partitions             map[string][]string
	TimeMin, TimeMax       string
	TSMin, TSMax           string
	TimeMinArg, TimeMaxArg int            // 1-based index of the parameter that bounds eventtime as text
	PartitionArgs          map[string]int // partition column = the parameter of this 1-based index
	// Table is the table read (lower case): cloudtrail_logs, an alias, or a user's table.
	Table string
	// Derived are conditions on Table's derived columns, in conjunctive form: every row
	// satisfies one condition of each clause.
	Derived [][]Cond
}

// Cond compares a derived column with literals: Op is =, <>, <, <=, >, >=, like (one value),
// between (two) or in (any number); Number says the literals are numbers, not strings.
// It is an alias of a struct type, identical in every package that declares it, so that one
// package's Bounds convert to the other's as they are.
type Cond = struct {
	Column string
	Op     string
	Values []string
	Number bool
}

// Engine runs SQL over one lake. Its methods are not safe for concurrent use.
type Engine struct {
	db   *sql.DB
	conn *sql.Conn
	opt  Options
	log  *slog.Logger
	snap *lake.Snapshot
	// tmp is DuckDB's private temporary folder, removed by Close.
	tmp string
	// bad holds the snapshot's files that cannot be read (path → why): found unsafe at open, or
	// named by DuckDB in an error.
	bad map[string]string
	// records makes each result row one JSON text of the whole row (see Records).
	records bool
	// tables are the users' own tables, views of cloudtrail_logs.
	tables []*TableDef
	// viewKey identifies the files the view cloudtrail_logs reads ("" unknown).
	viewKey string
	// ceiling is the process's data limit while this engine is open (0: none); releaseCeiling
	// gives its budget back.
	ceiling        int64
	releaseCeiling func()
	// noInline makes every statement read the view (see inlineTable); for tests.
	noInline bool

	// idle holds a token while no statement runs. A statement past its deadline may still be
	// inside DuckDB (preparing a statement cannot be interrupted): the caller has its answer,
	// the next statement waits for the token, and Close leaves the closing to that statement.
	idle    chan struct{}
	mu      sync.Mutex
	closing bool
}

// Open starts DuckDB over the lake's current snapshot.
func Open(ctx context.Context, opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = DefaultMaxRows
	}
	if opt.MaxResultBytes <= 0 {
		opt.MaxResultBytes = DefaultMaxResultBytes
	}
	if opt.MaxStatementBytes <= 0 {
		opt.MaxStatementBytes = DefaultMaxStatementBytes
	}
	if opt.MemoryLimit == "" {
		opt.MemoryLimit = defaultMemoryLimit()
	}
	memLimit, err := ParseBytes("memory limit", opt.MemoryLimit)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(opt.Lake)
	if err != nil {
		return nil, err
	}
	// DuckDB checks the text of paths: give it the lake's real location.
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open lake %s: %w", root, err)
	}
	opt.Lake = root
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		return nil, err
	}
	// A folder of our own, with a name no one can guess and only this user can enter, made by
	// mkdir (never an existing folder or link): another user can neither read the spilled rows
	// nor plant a link for DuckDB to follow.
	tmp, err := os.MkdirTemp(opt.TempDir, "trailsql-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("make DuckDB's temporary folder: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("make DuckDB's temporary folder: %w", err)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	e := &Engine{db: db, opt: opt, log: opt.Logger.With("component", "engine"), snap: snap, tmp: tmp, bad: checkFiles(root, snap.Files), idle: make(chan struct{}, 1)}
	e.idle <- struct{}{}
	if e.conn, err = db.Conn(ctx); err != nil {
		e.Close()
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	for path, why := range e.bad {
		e.log.Warn("lake file left out", "file", path, "reason", why)
	}
	if err := e.setup(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if opt.ProcessCeiling {
		e.ceiling, e.releaseCeiling = acquireCeiling(memLimit + 2*opt.MaxResultBytes + 256<<20)
	}
	return e, nil
}

// Snapshot is the lake snapshot this engine reads.
func (e *Engine) Snapshot() *lake.Snapshot { return e.snap }

// quote renders s as a SQL string literal. It is used only for the engine's own values (lake
// paths, settings), never for user input, which is bound as parameters.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (e *Engine) setup(ctx context.Context) error {
	stmts := []string{
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET temp_directory = " + quote(e.tmp),
		"SET TimeZone = 'UTC'",
		// Lake files never change once committed: keep their footers instead of re-reading
		// hundreds of them for every statement.
		"SET parquet_metadata_cache = true",
		"SET memory_limit = " + quote(e.opt.MemoryLimit),
	}
	if e.opt.Threads > 0 {
		stmts = append(stmts, fmt.Sprintf("SET threads = %d", e.opt.Threads))
	}
	stmts = append(stmts, e.opt.Setup...)
	// The view reads no file until a statement needs it: a damaged file must not stop the
	// statements that do not read it.
	stmts = append(stmts, e.viewSQL(nil)...)
	e.tables = e.loadTables()
	for _, d := range e.tables {
		view, _ := d.viewSQL()
		stmts = append(stmts, view)
	}
	// DuckDB may open the snapshot's files and nothing else: not the ledger, not a file added
	// to the data folder, not what a link inside it points at (checkFiles left those out).
	var allowed []string
	for _, f := range e.snap.Files {
		if _, bad := e.bad[f.Path]; !bad {
			allowed = append(allowed, quote(e.absPath(f)))
		}
	}
	if len(allowed) > 0 {
		stmts = append(stmts, "SET allowed_paths = ["+strings.Join(allowed, ", ")+"]")
	}
	stmts = append(stmts,
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	)
	for _, s := range stmts {
		if _, err := e.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("set up duckdb (%s): %w", firstLine(s), err)
		}
	}
	e.viewKey = viewKey(nil)
	return nil
}

// viewSQL defines cloudtrail_logs over files, with Athena's column order and the partition
// columns as strings.
// Records makes every result row one column, record, holding the whole row as a JSON
// object, with the columns SELECT * leaves out for Athena's sake too (residual,
// managementevent, insightdetails, "$path"): what rebuilds the CloudTrail records the rows
// came from. The wrapping is applied to the translated SQL (the user's SQL is Athena's and
// has no to_json), so an error in records mode carries DuckDB's message without a position.
func (e *Engine) Records(on bool) { e.records = on }

// hidden maps the engine's tables (lower-case names) to the columns SELECT * leaves out.
func (e *Engine) hidden() map[string][]string {
	h := hiddenColumns()
	out := map[string][]string{"cloudtrail_logs": h}
	for _, a := range e.opt.Aliases {
		out[strings.ToLower(a)] = h
	}
	for _, d := range e.tables {
		_, out[d.Name] = d.viewSQL()
	}
	return out
}

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
		body = "SELECT " + strings.Join(parts, ", ") + ", CAST(NULL AS VARCHAR) AS " + quoteIdent(PathColumn) + " WHERE false"
	} else {
		for i, c := range cols {
			if slices.Contains(cloudtrail.PartitionColumns, c.Name) {
				// Hive's default partition is NULL in Athena: `year >= '2024'` must not
				// select it.
				names[i] = "NULLIF(" + names[i] + ", " + quote(defaultPartition) + ") AS " + names[i]
			}
		}
		body = "SELECT " + strings.Join(names, ", ") + ", filename AS " + quoteIdent(PathColumn) + " FROM " + e.scanSQL(files)
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

// Close releases DuckDB and removes its temporary folder. Should a statement abandoned at its
// deadline still be inside DuckDB, Close returns at once and the statement closes the engine
// when it ends (or the process exits first).
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.idle:
	default:
		e.closing = true
		return nil
	}
	return e.closeNow()
}

// release returns the idle token, or closes the engine if Close was called meanwhile.
func (e *Engine) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		e.closeNow()
		return
	}
	e.idle <- struct{}{}
}

func (e *Engine) closeNow() error {
	if e.releaseCeiling != nil {
		defer e.releaseCeiling()
	}
	if e.conn != nil {
		e.conn.Close()
	}
	err := e.db.Close()
	if rerr := os.RemoveAll(e.tmp); rerr != nil && err == nil {
		err = fmt.Errorf("remove DuckDB's temporary folder: %w", rerr)
	}
	return err
}

// Result is the answer to one statement.
type Result struct {
	Columns []string
	Types   []string // DuckDB type names
	// Rows are the rows, for Query; QueryTo hands them to its Sink instead.
	Rows [][]any
	// Notice is set for statements accepted without running anything (e.g. Athena's ALTER TABLE
	// ADD PARTITION: partitions are automatic here).
	Notice  string
	Elapsed time.Duration
	Stats   Stats
	// Skipped lists the files the answer needed but left out (Options.SkipDamaged): the answer
	// lacks their rows.
	Skipped []SkippedFile
}

// Stats say what a statement read.
type Stats struct {
	FilesRead, FilesTotal int
	BytesRead, BytesTotal int64
	RowsInFilesRead       int64
}

// Sink receives a statement's answer as it is read, so that a result need not be held whole.
type Sink interface {
	// Begin is called once, before any row (also for no rows), with the columns' names and
	// DuckDB types.
	Begin(columns, types []string) error
	// Row is called for each row in order; the slice is the sink's to keep.
	Row(row []any) error
}

// guardedSink passes rows on until abandoned.
type guardedSink struct {
	mu        sync.Mutex
	sink      Sink
	abandoned bool
}

var errAbandoned = errors.New("statement abandoned at its deadline")

func (g *guardedSink) abandon() {
	g.mu.Lock()
	g.abandoned = true
	g.mu.Unlock()
}

func (g *guardedSink) Begin(columns, types []string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return errAbandoned
	}
	return g.sink.Begin(columns, types)
}

func (g *guardedSink) Row(row []any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return errAbandoned
	}
	return g.sink.Row(row)
}

// collector is the Sink of Query: it keeps the rows.
type collector struct{ rows [][]any }

func (c *collector) Begin(columns, types []string) error { return nil }
func (c *collector) Row(row []any) error                 { c.rows = append(c.rows, row); return nil }

// Query runs one read-only statement and returns its rows (at most Options.MaxRows, of at most
// Options.MaxResultBytes).
func (e *Engine) Query(ctx context.Context, userSQL string, args ...any) (*Result, error) {
	var c collector
	res, err := e.QueryTo(ctx, &c, userSQL, args...)
	if err != nil {
		return nil, err
	}
	res.Rows = c.rows
	return res, nil
}

// ErrTimeout is returned for a statement that ran past Options.Timeout.
var ErrTimeout = errors.New("query timed out")

// QueryTo runs one read-only statement and hands its rows to sink as they are read. Everything
// runs under Options.Timeout and ctx: translation, checks, file selection, execution, reading.
func (e *Engine) QueryTo(ctx context.Context, sink Sink, userSQL string, args ...any) (*Result, error) {
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, e.opt.Timeout)
	defer cancel()
	type answer struct {
		res *Result
		err error
	}
	var res *Result
	var err error
	select {
	case <-e.idle:
		done := make(chan answer, 1)
		gs := &guardedSink{sink: sink}
		go func() {
			defer e.release()
			res, err := e.query(ctx, gs, userSQL, args)
			done <- answer{res, err}
		}()
		select {
		case a := <-done:
			res, err = a.res, a.err
		case <-ctx.Done():
			// DuckDB may be preparing, which nothing interrupts: answer now; the sink gets
			// nothing more, and cancel interrupts the execution as soon as it starts.
			gs.abandon()
			err = ctx.Err()
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		switch {
		case parent.Err() != nil:
			return nil, fmt.Errorf("query interrupted: %w", parent.Err())
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("%w after %s (raise it with --timeout)", ErrTimeout, e.opt.Timeout)
		}
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (e *Engine) query(ctx context.Context, sink Sink, userSQL string, args []any) (*Result, error) {
	if len(userSQL) > e.opt.MaxStatementBytes {
		return nil, e.statementError(len(userSQL))
	}
	if e.opt.ParseDDL != nil {
		def, drop, err := e.opt.ParseDDL(userSQL)
		switch {
		case err != nil:
			return nil, err
		case def != nil && e.ownTable(def.Name):
			// Athena's own CloudTrail DDL: the table is already there (ddlNotice says so).
		case def != nil:
			notice, err := e.defineTable(ctx, def)
			if err != nil {
				return nil, err
			}
			return &Result{Notice: notice}, nil
		case drop != "":
			notice, err := e.dropTable(ctx, drop)
			if err != nil {
				return nil, err
			}
			return &Result{Notice: notice}, nil
		}
	}
	if notice, ok := ddlNotice(userSQL); ok {
		return &Result{Notice: notice}, nil
	}
	sqlText := userSQL
	var mapErr func(error) error
	if e.opt.Translate != nil {
		type translation struct {
			sql    string
			mapErr func(error) error
			err    error
		}
		t, err := inTime(ctx, func() translation {
			s, m, err := e.opt.Translate(userSQL)
			return translation{s, m, err}
		})
		if err != nil {
			return nil, err
		}
		if t.err != nil {
			return nil, t.err
		}
		sqlText, mapErr = t.sql, t.mapErr
	}
	if e.records {
		sqlText = "SELECT to_json(t)::VARCHAR AS record FROM (\n" + strings.TrimRight(strings.TrimSpace(sqlText), ";") + "\n) AS t"
		mapErr = nil
	}
	p, err := e.parseRead(ctx, sqlText)
	if err != nil {
		return nil, e.queryError(userSQL, sqlText, mapErr, err)
	}
	if !p.explain && !e.records {
		if text, ok := hideColumns(p, e.hidden()); ok {
			// The narrowed text is checked as the user's was.
			if q, err := e.parseRead(ctx, text); err == nil && !q.explain {
				q.orig = p.orig
				p = q
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	files, err := e.selectFiles(ctx, userSQL, args)
	if err != nil {
		return nil, err
	}
	for {
		use, skipped, err := e.usable(files)
		if err != nil {
			return nil, err
		}
		res, started, err := e.attempt(ctx, sink, p, use, args)
		if err == nil {
			res.Skipped = skipped
			res.Stats = Stats{FilesRead: len(use), FilesTotal: len(e.snap.Files), BytesTotal: e.snap.Bytes()}
			for _, f := range use {
				res.Stats.BytesRead += f.Bytes
				res.Stats.RowsInFilesRead += f.Rows
			}
			return res, nil
		}
		if started || ctx.Err() != nil {
			return nil, e.queryError(userSQL, sqlText, mapErr, err)
		}
		f, ok := e.fileIn(err.Error(), use)
		reason := firstErrorLine(err.Error())
		if !ok && fileError(err) {
			f, reason, ok = e.probe(ctx, use)
		}
		if !ok {
			return nil, e.queryError(userSQL, sqlText, mapErr, err)
		}
		e.bad[f.Path] = reason
		e.log.Warn("lake file cannot be read", "file", f.Path, "reason", e.bad[f.Path])
		if !e.opt.SkipDamaged {
			return nil, &DamagedFileError{File: f, Reason: e.bad[f.Path]}
		}
	}
}

// usable returns files without those that cannot be read, which are an error unless
// Options.SkipDamaged.
func (e *Engine) usable(files []lake.File) ([]lake.File, []SkippedFile, error) {
	var use []lake.File
	var skipped []SkippedFile
	for _, f := range files {
		why, bad := e.bad[f.Path]
		switch {
		case !bad:
			use = append(use, f)
		case e.opt.SkipDamaged:
			skipped = append(skipped, SkippedFile{File: f, Reason: why})
		default:
			return nil, nil, &DamagedFileError{File: f, Reason: why}
		}
	}
	return use, skipped, nil
}

// attempt runs a checked statement over files. started reports whether the sink saw anything.
func (e *Engine) attempt(ctx context.Context, sink Sink, p *parsed, files []lake.File, args []any) (res *Result, started bool, err error) {
	if p.explain {
		if err := e.useFiles(ctx, files); err != nil {
			return nil, false, err
		}
		return e.run(ctx, sink, p.full, args, false)
	}
	query, inlined := p.text, false
	if !p.show && !e.noInline {
		if q, ok := e.inlineTable(p, files); ok {
			query, inlined = q, true
		}
	}
	if !inlined {
		if err := e.useFiles(ctx, files); err != nil {
			return nil, false, err
		}
	}
	res, started, err = e.run(ctx, sink, query, args, true)
	if err != nil && !started && ctx.Err() == nil && query != p.orig {
		if _, named := e.fileIn(err.Error(), files); !named {
			// Errors point into the statement as translated, not as rewritten (inlined, or its
			// stars narrowed): run it as translated over the view for an error that points at
			// the user's SQL (or, should the rewrite be at fault, for the answer).
			if err := e.useFiles(ctx, files); err != nil {
				return nil, false, err
			}
			res, started, err = e.run(ctx, sink, p.orig, args, true)
		}
	}
	return res, started, err
}

// run prepares text, which parseRead accepted, as exactly one statement of the type DuckDB must
// give it (SELECT, or EXPLAIN when !query), and executes that prepared statement. A query runs
// within the result limits of wrapQuery.
func (e *Engine) run(ctx context.Context, sink Sink, text string, args []any, query bool) (res *Result, started bool, err error) {
	err = e.raw(func(c *duckdb.Conn) error {
		var st *duckdb.Stmt
		if query {
			inner, err := prepareAs(c, text, duckdb.STATEMENT_TYPE_SELECT)
			if err != nil {
				return err
			}
			wrapped, err := e.wrapQuery(text, inner)
			inner.Close()
			if err != nil {
				return fmt.Errorf("bound the result: %w", err)
			}
			if st, err = prepareAs(c, wrapped, duckdb.STATEMENT_TYPE_SELECT); err != nil {
				return err
			}
		} else {
			if st, err = prepareAs(c, text, duckdb.STATEMENT_TYPE_EXPLAIN); err != nil {
				return err
			}
		}
		defer st.Close()
		res, started, err = e.execute(ctx, c, st, args, sink, query)
		return err
	})
	return res, started, err
}

// execute runs a prepared statement and hands its rows to sink, within the result limits. With
// rowBytes, the last column is the size of each row (see wrapQuery), not part of the result.
func (e *Engine) execute(ctx context.Context, c *duckdb.Conn, st *duckdb.Stmt, args []any, sink Sink, rowBytes bool) (*Result, bool, error) {
	nv, err := namedArgs(c, args)
	if err != nil {
		return nil, false, err
	}
	dr, err := st.QueryContext(ctx, nv)
	if err != nil {
		return nil, false, err
	}
	defer dr.Close()
	cols := dr.Columns()
	n := len(cols)
	if rowBytes {
		n--
	}
	res := &Result{Columns: cols[:n:n], Types: make([]string, n)}
	if tn, ok := dr.(driver.RowsColumnTypeDatabaseTypeName); ok {
		for i := range n {
			res.Types[i] = tn.ColumnTypeDatabaseTypeName(i)
		}
	}
	if err := sink.Begin(res.Columns, res.Types); err != nil {
		return nil, true, err
	}
	dest := make([]driver.Value, len(cols))
	var rows int
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, true, err
		}
		if err := dr.Next(dest); err == io.EOF {
			break
		} else if err != nil {
			return nil, true, fmt.Errorf("read result: %w", err)
		}
		if rows++; rows > e.opt.MaxRows {
			return nil, true, e.rowsError(e.opt.MaxRows)
		}
		row := make([]any, n)
		for i := range n {
			row[i] = plain(dest[i])
		}
		if rowBytes {
			b, _ := dest[n].(int64)
			total += b
		} else {
			total += valueBytes(row)
		}
		if total > e.opt.MaxResultBytes {
			return nil, true, e.bytesError()
		}
		if err := sink.Row(row); err != nil {
			return nil, true, err
		}
	}
	return res, true, nil
}

// valueBytes estimates what v costs in Go as wrapQuery counts it.
func valueBytes(v any) int64 {
	switch x := v.(type) {
	case string:
		return 16 + int64(len(x))
	case []byte:
		return 16 + int64(len(x))
	case []any:
		n := int64(16)
		for _, e := range x {
			n += valueBytes(e)
		}
		return n
	case map[string]any:
		n := int64(16)
		for k, e := range x {
			n += int64(len(k)) + valueBytes(e)
		}
		return n
	}
	return 16
}

// inTime runs fn, which must not use the DuckDB connection, and returns its value, or ctx's
// error once ctx ends first; fn then finishes in the background and its value is dropped.
func inTime[T any](ctx context.Context, fn func() T) (T, error) {
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (e *Engine) queryError(user, translated string, mapErr func(error) error, err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return err
	}
	// DuckDB's message, without the excerpt of the statement it may add ("LINE 1: …"), which
	// quotes the wrapper's own error() texts whenever the error is near them.
	head, _, _ := strings.Cut(err.Error(), "\nLINE ")
	if strings.Contains(head, rowTooLarge) {
		return fmt.Errorf("%w: a row is larger than %s, the limit (raise it with --max-result-bytes, or select less of it: substr, fewer columns)", ErrResultTooLarge, formatBytes(e.opt.MaxResultBytes))
	}
	if strings.Contains(head, resultTooLarge) {
		return e.bytesError()
	}
	if e.ceiling > 0 && strings.Contains(err.Error(), "Out of Memory Error") {
		return fmt.Errorf("%w: the statement needed more memory than this process may use (%s: what it held at the start, --memory-limit %s, twice --max-result-bytes and 256 MiB). DuckDB spills joins, sorts and aggregates to disk but not a value a function builds (repeat, lpad, replace, range …): build smaller values, or raise --memory-limit", ErrOutOfMemory, formatBytes(e.ceiling>>20<<20), e.opt.MemoryLimit)
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
		if x.Scale == 0 {
			return x.Value
		}
		// Exactly, with its scale, as Trino prints a DECIMAL (1.10, not 1.1): a number to
		// encoding/json, its text to everything else.
		return json.Number(decimalText(x))
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

// decimalText writes d with all the digits of its scale.
func decimalText(d duckdb.Decimal) string {
	digits := new(big.Int).Abs(d.Value).String()
	scale := int(d.Scale)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	out := digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	if d.Value.Sign() < 0 {
		out = "-" + out
	}
	return out
}
