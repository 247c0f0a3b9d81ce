// Package engine owns the DuckDB databases that answer SQL over a lake. It is the only package
// that talks to DuckDB: it opens them sandboxed (no file access outside the lake, configuration
// locked, memory and time bounded), exposes the lake as the view cloudtrail_logs, and runs
// read-only statements only. One Engine serves many goroutines at once: each statement reads the
// lake's newest snapshot when it starts, on a connection of its own, within limits that say
// which one refused it (see LimitError).
package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// Options configures an Engine. Zero values take the defaults.
type Options struct {
	Lake   string
	Logger *slog.Logger
	// Dialect is the SQL users write (athena.Dialect() for Athena's); the zero Dialect runs
	// DuckDB's own SQL.
	Dialect Dialect
	// MemoryLimit bounds DuckDB's memory, e.g. "2GB" (default: a quarter of RAM, at most 4 GiB;
	// see defaultMemoryLimit). The statements running at once share it. While a new snapshot's
	// database starts and an older one still finishes its statements, each has this limit.
	MemoryLimit string
	// Threads bounds DuckDB's threads (default: the number of CPUs).
	Threads int
	// Timeout bounds one statement, from the moment Query is called: the wait for a turn,
	// translation, checks, file selection and reading the rows included (default 5 minutes). A
	// statement's own deadline (its context's, QueryOptions.Timeout) may be shorter, never longer.
	Timeout time.Duration
	// MaxConcurrent bounds the statements that run at once (default: the number of CPUs). A
	// statement beyond waits for one of them to end, at most MaxQueueWait, and is refused after
	// with a *LimitError.
	MaxConcurrent int
	// MaxQueueWait bounds that wait (default 10 seconds).
	MaxQueueWait time.Duration
	// Aliases are more table names for cloudtrail_logs (e.g. "cloudtrail", "cloudtrail_123456789012").
	Aliases []string
	// FileTables are tables beside cloudtrail_logs, each the Parquet files of one folder of
	// the lake (the alerts): read as they are when a statement starts, like the lake.
	FileTables []FileTable
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
	DefaultMaxQueueWait      = 10 * time.Second
)

// Dialect makes the engine speak a SQL other than DuckDB's. Every field is optional.
//
// It is an alias of a struct type, and so are the types of its fields, declared identically by
// the package that implements a dialect (athena.EngineDialect): the two packages need not import
// each other, and the compiler checks they agree where one is assigned to the other.
type Dialect = struct {
	// Settings run once on each DuckDB database the engine opens, before its configuration is
	// locked: SET GLOBAL statements.
	Settings []string
	// Setup runs on every connection, after the configuration is locked: the translator's
	// TEMP macros. A statement CREATE [OR REPLACE] TEMP MACRO name(…) runs only once a
	// statement on the connection names the macro (see defineMacros); the others run when the
	// connection is made.
	Setup []string
	// Translate rewrites a user's statement into DuckDB SQL. mapErr, when not nil, re-points a
	// DuckDB error about the translated SQL at the user's original line and column. It runs
	// under the statement's deadline: should it not return by then, the statement fails and it
	// finishes in the background.
	Translate func(sql string) (duckSQL string, mapErr func(error) error, err error)
	// ParseDDL reads the statements that define users' own tables as views of the lake: CREATE
	// EXTERNAL TABLE (def) or DROP TABLE (drop, the name). Both are zero for any other statement.
	ParseDDL func(sql string) (def *TableSpec, drop string, err error)
	// Bounds finds the restrictions a statement places on the rows it reads from the lake, so
	// that only the files that can hold such rows are read. tables maps the names the lake is
	// read through (cloudtrail_logs, its aliases, users' tables) to their derived columns (a
	// user's table's partition columns; nil for the others); the statement must read exactly
	// one of them once, else nil.
	Bounds func(sql string, tables map[string][]string) *Bounds
}

// FileTable is a table of the Parquet files directly in one folder of the lake.
type FileTable struct {
	Name string
	// Dir is the folder, relative to the lake, slash-separated.
	Dir string
	// Columns are the table's columns and their DuckDB types, in order: what a statement
	// reads of the files, and the table's shape while the folder holds none.
	Columns []FileColumn
}

// FileColumn is a column of a FileTable.
type FileColumn struct{ Name, Type string }

// TableSpec is a user's table as a Dialect reads its definition: its name, its declared
// columns, and how its partition columns derive from the lake's (see TableDef).
type TableSpec = struct {
	Name       string
	Columns    []string
	Partitions []PartitionSpec
}

// PartitionSpec is a partition column of a TableSpec (see TablePartition).
type PartitionSpec = struct {
	Name    string
	From    string
	Format  string
	Integer bool
}

// Bounds restrict the rows a statement can read: partition values, eventtime as text, and
// from_iso8601_timestamp(eventtime) between two DuckDB expressions that depend on no row; on
// a user's table, conditions on its derived partition columns too. It is an alias of a struct
// type, as Dialect is.
type Bounds = struct {
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
	// Facets are conditions, in the same form, on the columns whose distinct values the lake
	// may record per file (lake.File.Values); Op is also not in, not like or is not null.
	Facets [][]Cond
}

// Cond compares a derived column with literals: Op is =, <>, <, <=, >, >=, like (one value),
// between (two) or in (any number); Number says the literals are numbers, not strings.
// It is an alias of a struct type, as Dialect is.
type Cond = struct {
	Column string
	Op     string
	Values []string
	Number bool
}

// Engine runs SQL over one lake. Its methods are safe for concurrent use: each statement runs
// on a connection of its own, over the lake's snapshot of the moment it starts, within
// Options.MaxConcurrent. An Engine returned by With shares everything with the one it came
// from but its QueryOptions.
type Engine struct {
	*core
	q QueryOptions
	// pin, when set, holds the one snapshot's database every statement of this handle reads (Pin).
	pin *pin
}

// pin is a generation held by Pin until released.
type pin struct {
	g        *generation
	released bool // guarded by core.mu
	once     sync.Once
}

// QueryOptions are settings of the statements run through one Engine handle (see With). Zero
// values take the engine's Options; a limit may be lowered, not raised.
type QueryOptions struct {
	// Records makes every result row one column, record, holding the whole row as a JSON
	// object, with the columns SELECT * leaves out for Athena's sake too (residual,
	// managementevent, insightdetails, "$path"): what rebuilds the CloudTrail records the rows
	// came from. The wrapping is applied to the translated SQL (the user's SQL is Athena's and
	// has no to_json), so an error in records mode carries DuckDB's message without a position.
	Records bool
	// Timeout bounds each statement, at most Options.Timeout.
	Timeout time.Duration
	// MaxRows bounds the rows of a result, at most Options.MaxRows.
	MaxRows int
	// MaxResultBytes bounds the size of a result's values, at most Options.MaxResultBytes.
	MaxResultBytes int64
}

// With returns a handle on the same engine whose statements run with q. Closing either closes
// the engine.
func (e *Engine) With(q QueryOptions) *Engine {
	return &Engine{core: e.core, q: q, pin: e.pin}
}

// Pin returns a handle whose statements all read the lake as it is now, one snapshot, while
// commits go on: for an answer computed from several statements (a principal resolved and then
// asked about, a policy, a used-vs-granted report), which would otherwise mix commits. release
// lets the snapshot go; call it once the answer is done (the handle then fails with ErrClosed).
// The pinned handle shares the engine's limits; tables defined through it are defined for the
// engine and read by statements that start after its pin is released.
func (e *Engine) Pin(ctx context.Context) (pinned *Engine, release func(), err error) {
	if e.pin != nil {
		return e, func() {}, nil
	}
	g, err := e.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := &pin{g: g}
	return &Engine{core: e.core, q: e.q, pin: p}, func() { e.unpin(p) }, nil
}

// limits returns the handle's options with the engine's filled in and capped.
func (e *Engine) limits() QueryOptions {
	q := e.q
	if q.Timeout <= 0 || q.Timeout > e.opt.Timeout {
		q.Timeout = e.opt.Timeout
	}
	if q.MaxRows <= 0 || q.MaxRows > e.opt.MaxRows {
		q.MaxRows = e.opt.MaxRows
	}
	if q.MaxResultBytes <= 0 || q.MaxResultBytes > e.opt.MaxResultBytes {
		q.MaxResultBytes = e.opt.MaxResultBytes
	}
	return q
}

// core is what the handles of one engine share.
type core struct {
	opt      Options
	log      *slog.Logger
	memLimit int64
	// setup is Options.Dialect.Setup, its macros defined when a statement needs them.
	setup setupPlan
	// tmp is the engine's private temporary folder, removed once the engine is closed; each
	// database spills into a folder of its own inside it.
	tmp string
	// slots holds a token per running statement (Options.MaxConcurrent).
	slots chan struct{}
	// closing ends when Close is called: it cancels the statements still running.
	closing     context.Context
	cancelAll   context.CancelFunc
	ceiling     int64 // the process's data limit while this engine is open (0: none)
	releaseCeil func()
	noInline    bool // makes every statement read the view (see inlineTable); for tests
	scalarFunctions
	building     sync.Mutex
	mu           sync.Mutex
	gen          *generation // the newest database, over the newest snapshot seen
	version      string      // the lake's version gen was built for ("": build anew)
	generations  int         // databases open
	built        int         // databases ever built, to name their folders
	closed       bool
	closeErr     error
	finalizeOnce sync.Once
}

// Open starts the engine over the lake and reads its current snapshot (so that a lake whose
// ledger cannot be trusted fails here).
func Open(ctx context.Context, opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = runtime.NumCPU()
	}
	if opt.MaxQueueWait <= 0 {
		opt.MaxQueueWait = DefaultMaxQueueWait
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
	c := &core{opt: opt, log: opt.Logger.With("component", "engine"), memLimit: memLimit, tmp: tmp,
		slots: make(chan struct{}, opt.MaxConcurrent), releaseCeil: func() {}, setup: planSetup(opt.Dialect.Setup)}
	c.closing, c.cancelAll = context.WithCancel(context.Background())
	if opt.ProcessCeiling {
		c.ceiling, c.releaseCeil = acquireCeiling(memLimit + 2*opt.MaxResultBytes + 256<<20)
	}
	g, err := c.current(ctx)
	if err != nil {
		c.close()
		return nil, err
	}
	c.leave(g)
	return &Engine{core: c}, nil
}

// Snapshot is the newest lake snapshot the engine has read: the one the last statement to
// start read (Result.Seq says which each statement read); for a pinned handle (Pin), the
// snapshot it reads.
func (e *Engine) Snapshot() *lake.Snapshot {
	if e.pin != nil {
		return e.pin.g.snap
	}
	return e.snapshot()
}

func (c *core) snapshot() *lake.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen.snap
}

// quote renders s as a SQL string literal. It is used only for the engine's own values (lake
// paths, settings), never for user input, which is bound as parameters.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// Close stops the engine, for every handle of it: statements that start after it fail with
// ErrClosed, running ones are interrupted (their callers get ErrClosed at once), and DuckDB is
// released and its temporary folder removed as soon as none runs. Should a statement be inside
// DuckDB where nothing interrupts it (preparing a statement), Close returns at once and that
// statement releases the engine when it ends (or the process exits first).
func (e *Engine) Close() error { return e.close() }

func (c *core) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cancelAll()
	g := c.gen
	idle := g != nil && c.retire(g)
	none := g == nil
	c.mu.Unlock()
	if idle {
		c.closeGeneration(g)
	}
	if none {
		c.finalize()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// finalize releases what the engine holds beyond its databases, once closed and none is open.
func (c *core) finalize() {
	c.finalizeOnce.Do(func() {
		c.releaseCeil()
		if err := os.RemoveAll(c.tmp); err != nil {
			c.mu.Lock()
			c.closeErr = errors.Join(c.closeErr, fmt.Errorf("remove DuckDB's temporary folder: %w", err))
			c.mu.Unlock()
		}
	})
}

// Result is the answer to one statement.
type Result struct {
	Columns []string
	Types   []string // DuckDB type names
	// Rows are the rows, for Query; QueryTo hands them to its Sink instead.
	Rows [][]any
	// Notice is set for statements accepted without running anything (e.g. Athena's ALTER TABLE
	// ADD PARTITION: partitions are automatic here).
	Notice string
	// External is set with Notice for Athena's CREATE EXTERNAL TABLE of the lake's own table
	// (or an alias): what a front end needs to say how to load the logs it names.
	External *ExternalTable
	Elapsed  time.Duration
	Stats    Stats
	// Truncated says the Sink ended the result early (ErrEnoughRows): more rows were there.
	Truncated bool
	// Seq is the lake's last commit the statement read (lake.Snapshot.Seq): every statement
	// reads whole commits, those up to Seq.
	Seq int64
	// Skipped lists the files the answer needed but left out (Options.SkipDamaged): the answer
	// lacks their rows.
	Skipped []SkippedFile
}

// ExternalTable is what an Athena CREATE EXTERNAL TABLE of the lake's own table named.
type ExternalTable struct {
	// Name is the table's name, as written.
	Name string
	// Location is its LOCATION: where the logs are that the lake would need to hold.
	Location string
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

// ErrEnoughRows, returned by a Sink's Row (errors.Is), ends a result early without failing the
// statement: its Result says Truncated. A front end that shows the first rows of a result (the
// server's row cap) stops DuckDB this way instead of reading rows it would drop.
var ErrEnoughRows = errors.New("enough rows")

// guardedSink passes rows on until abandoned.
type guardedSink struct {
	mu        sync.Mutex
	sink      Sink
	abandoned bool
	begun     bool // Begin was called: the statement cannot run again
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
	g.begun = true
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

// Query runs one read-only statement and returns its rows, collected in memory: at most
// Options.MaxRows, of at most Options.MaxResultBytes (or the handle's lower QueryOptions).
// Callers that pass rows on (a server, an export) should use QueryTo, which holds none.
func (e *Engine) Query(ctx context.Context, userSQL string, args ...any) (*Result, error) {
	var c collector
	res, err := e.QueryTo(ctx, &c, userSQL, args...)
	if err != nil {
		return nil, err
	}
	res.Rows = c.rows
	return res, nil
}

// QueryTo runs one read-only statement and hands its rows to sink as DuckDB produces them,
// holding none: the way for many callers at once, and for results of any size within the
// limits. Everything runs under the statement's deadline (the handle's timeout, at most
// Options.Timeout, and ctx's): the wait for a turn among Options.MaxConcurrent, reading the
// lake's snapshot, translation, checks, file selection, execution, reading.
//
// Its errors: *LimitError for a limit (errors.Is ErrBusy, ErrTimeout, ErrResultTooLarge,
// ErrStatementTooLarge, ErrOutOfMemory), ErrNotReadOnly for what is not a query, *QueryError
// for what DuckDB refused (at the user's line and column when the dialect maps it),
// *DamagedFileError for a lake file that cannot be read, ErrClosed after Close.
func (e *Engine) QueryTo(ctx context.Context, sink Sink, userSQL string, args ...any) (*Result, error) {
	start := time.Now()
	if e.closing.Err() != nil {
		return nil, ErrClosed
	}
	q := e.limits()
	if len(userSQL) > e.opt.MaxStatementBytes {
		return nil, e.statementError(len(userSQL))
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, q.Timeout)
	defer cancel()
	defer context.AfterFunc(e.closing, cancel)()
	type answer struct {
		res *Result
		err error
	}
	var res *Result
	err := e.acquire(ctx)
	if err == nil {
		done := make(chan answer, 1)
		gs := &guardedSink{sink: sink}
		go func() {
			defer func() { <-e.slots }()
			res, err := e.statement(ctx, gs, q, userSQL, args)
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
	}
	if err != nil {
		return nil, e.stopped(parent, ctx, start, q, err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// stopped returns the error of a statement that failed with err, saying so when its context
// ended it: Close, the caller, or its deadline.
func (e *Engine) stopped(parent, ctx context.Context, start time.Time, q QueryOptions, err error) error {
	var le *LimitError
	if ctx.Err() == nil || errors.As(err, &le) {
		return err
	}
	switch {
	case e.closing.Err() != nil:
		return ErrClosed
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		// The caller's deadline came first: the statement had until then.
		d, _ := parent.Deadline()
		return &LimitError{Err: ErrTimeout, Limit: LimitTimeout, Value: d.Sub(start).Round(time.Millisecond).String()}
	case parent.Err() != nil:
		return fmt.Errorf("query interrupted: %w", parent.Err())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &LimitError{Err: ErrTimeout, Limit: LimitTimeout, Value: q.Timeout.String()}
	}
	return err
}

// acquire takes one of the Options.MaxConcurrent turns, waiting at most Options.MaxQueueWait.
func (c *core) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	default:
	}
	wait := time.NewTimer(c.opt.MaxQueueWait)
	defer wait.Stop()
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-wait.C:
		return &LimitError{Err: ErrBusy, Limit: LimitConcurrent, Value: fmt.Sprint(cap(c.slots)), QueueWait: c.opt.MaxQueueWait}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statement runs one statement on a connection of the newest database. A DuckDB that failed
// inside (an internal error: a bug in DuckDB, which then refuses every statement after) is left:
// the next statement starts another over the same snapshot. A statement refused because an
// earlier one broke it runs again there, once (its sink has seen nothing: DuckDB refuses it
// before it starts).
func (e *Engine) statement(ctx context.Context, sink *guardedSink, q QueryOptions, userSQL string, args []any) (*Result, error) {
	res, err := e.statementOnce(ctx, sink, q, userSQL, args)
	if err != nil && e.pin == nil && refusedBroken(err) && ctx.Err() == nil {
		sink.mu.Lock()
		again := !sink.begun
		sink.mu.Unlock()
		if again {
			res, err = e.statementOnce(ctx, sink, q, userSQL, args)
		}
	}
	return res, err
}

func (e *Engine) statementOnce(ctx context.Context, sink Sink, q QueryOptions, userSQL string, args []any) (*Result, error) {
	var g *generation
	if e.pin != nil {
		if err := e.holdPinned(e.pin); err != nil {
			return nil, err
		}
		g = e.pin.g
	} else {
		var err error
		if g, err = e.current(ctx); err != nil {
			return nil, err
		}
	}
	defer e.leave(g)
	cn, err := e.take(ctx, g)
	if err != nil {
		return nil, err
	}
	defer g.give(cn)
	s := &session{core: e.core, g: g, cn: cn, q: q}
	res, err := s.query(ctx, sink, userSQL, args)
	if err != nil {
		if broken(err) {
			e.abandon(g)
		}
		return nil, err
	}
	res.Seq = g.snap.Seq
	return res, nil
}
