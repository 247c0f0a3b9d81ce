package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailsql/trailsql/internal/lake"
)

// One engine, many statements. DuckDB may open the snapshot's files and nothing else
// (allowed_paths), and its configuration is locked so that no statement can widen that: so a
// database serves one snapshot, and a new commit needs a new database. Each is a generation:
// the snapshot, the users' tables defined when it was read, the files found damaged, and a
// DuckDB database with its pool of connections. Before each statement the engine compares the
// lake's version (lake.Version: a listing of the ledger, no manifest read) with the one its
// newest generation was built for, and builds a new one when they differ; statements that
// started on an older generation finish on it, and it closes when the last one ends. So every
// statement reads one snapshot, whole commits only, and a statement that starts after a commit
// ended reads it.
//
// Within a generation each statement has a connection to itself: the view cloudtrail_logs, over
// the files the statement needs, is a TEMP view of that connection (as are the aliases and the
// users' tables, which read it), so that statements running at once over other files do not
// see each other's.

// generation is one DuckDB database over one snapshot of the lake.
type generation struct {
	snap   *lake.Snapshot
	tables []*TableDef
	// files are the Parquet files of each file table (Options.FileTables) by its name.
	files map[string][]string
	db    *sql.DB
	tmp   string // DuckDB's temp_directory, inside the engine's
	// refs counts the statements on it and the engine's own hold while it is the newest
	// (guarded by core.mu); retired is set once a newer one replaces it.
	refs    int
	retired bool

	mu sync.Mutex
	// bad holds the snapshot's files that cannot be read (path → why): found unsafe when the
	// snapshot was read, or named by DuckDB in an error.
	bad  map[string]string
	idle []*conn
}

// conn is a connection of a generation, with the files its view reads.
type conn struct {
	c *sql.Conn
	// viewKey identifies the files the view cloudtrail_logs reads ("" unknown).
	viewKey string
	// macros says which of core.setup's macros the connection has (nil: none).
	macros []bool
}

// current returns the generation for the lake as it is now, building it if the lake changed,
// held for a statement until leave.
func (c *core) current(ctx context.Context) (*generation, error) {
	version, err := lake.Version(c.opt.Lake)
	if err != nil {
		return nil, err
	}
	version += c.fileTablesVersion()
	if g, err := c.hold(version); g != nil || err != nil {
		return g, err
	}
	// One statement builds; the others that need the new snapshot wait for it.
	c.building.Lock()
	defer c.building.Unlock()
	if g, err := c.hold(version); g != nil || err != nil {
		return g, err
	}
	c.mu.Lock()
	prev := c.gen
	c.built++
	n := c.built
	c.mu.Unlock()
	g, err := c.build(ctx, prev, n)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.closeGeneration(g)
		return nil, ErrClosed
	}
	c.gen, c.version = g, version
	g.refs = 2 // the engine's and the statement's
	closeOld := prev != nil && c.retire(prev)
	c.mu.Unlock()
	if closeOld {
		c.closeGeneration(prev)
	}
	return g, nil
}

// hold returns the newest generation, held, if it was built for version.
func (c *core) hold(version string) (*generation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.gen != nil && c.version == version {
		c.gen.refs++
		return c.gen, nil
	}
	return nil, nil
}

// holdPinned holds a pinned generation for a statement; it fails once the pin is released or
// the engine closed.
func (c *core) holdPinned(p *pin) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || p.released {
		return ErrClosed
	}
	p.g.refs++
	return nil
}

// unpin releases a pin's hold on its generation.
func (c *core) unpin(p *pin) {
	p.once.Do(func() {
		c.mu.Lock()
		p.released = true
		c.mu.Unlock()
		c.leave(p.g)
	})
}

// leave ends a statement's hold on g.
func (c *core) leave(g *generation) {
	c.mu.Lock()
	g.refs--
	done := g.retired && g.refs == 0
	c.mu.Unlock()
	if done {
		c.closeGeneration(g)
	}
}

// retire drops the engine's hold on g, the newest until now, and reports whether no statement
// holds it any more; c.mu is held.
func (c *core) retire(g *generation) bool {
	g.retired = true
	g.refs--
	return g.refs == 0
}

// abandon makes the next statement start a new database if g is the newest: g's DuckDB failed
// inside and refuses every statement after (see broken). Statements still on g finish on it.
func (c *core) abandon(g *generation) {
	c.mu.Lock()
	if c.gen == g {
		c.version = ""
	}
	c.mu.Unlock()
	c.log.Warn("DuckDB failed inside: the next statement starts it anew")
}

// broken reports whether err says that DuckDB failed inside, after which its database refuses
// every statement: an internal error (a bug in DuckDB, which a statement can meet) or a fatal
// one. (By its type: a statement's own text, error('…'), cannot pass for it.)
func broken(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && (de.Type == duckdb.ErrorTypeFatal || de.Type == duckdb.ErrorTypeInternal)
}

// refusedBroken reports whether err is DuckDB refusing a statement because an earlier one broke
// the database: "FATAL Error: Failed: database has been invalidated because of a previous fatal
// error".
func refusedBroken(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeFatal && strings.Contains(de.Msg, "database has been invalidated")
}

// invalidate makes the next statement read the lake anew (after a table definition changed).
func (c *core) invalidate() {
	c.mu.Lock()
	c.version = ""
	c.mu.Unlock()
}

// closeGeneration releases g's database, and the engine once it is closed and g was its last.
func (c *core) closeGeneration(g *generation) {
	g.mu.Lock()
	idle := g.idle
	g.idle = nil
	g.mu.Unlock()
	for _, cn := range idle {
		cn.c.Close()
	}
	err := g.db.Close()
	if rerr := os.RemoveAll(g.tmp); rerr != nil && err == nil {
		err = fmt.Errorf("remove DuckDB's temporary folder: %w", rerr)
	}
	c.mu.Lock()
	c.closeErr = errors.Join(c.closeErr, err)
	c.generations--
	last := c.closed && c.generations == 0
	c.mu.Unlock()
	if last {
		c.finalize()
	}
}

// build reads the lake's snapshot and table definitions and opens a database over them, with
// one connection ready. prev, the generation before (nil for the first), lends what its
// statements found out about files. DuckDB starts while the snapshot is read and its files
// checked: its start is most of a first statement's fixed cost.
func (c *core) build(ctx context.Context, prev *generation, n int) (*generation, error) {
	started := make(chan startedDB, 1)
	go func() { started <- startDuckDB(ctx) }()
	g, err := c.readSnapshot(prev)
	st := <-started
	if err == nil {
		err = st.err
	}
	if err != nil {
		if st.err == nil {
			st.cn.Close()
			st.db.Close()
		}
		return nil, err
	}
	g.db = st.db
	c.mu.Lock()
	c.generations++
	c.mu.Unlock()
	g.tmp = filepath.Join(c.tmp, strconv.Itoa(n))
	if err = os.Mkdir(g.tmp, 0o700); err != nil {
		err = fmt.Errorf("make DuckDB's temporary folder: %w", err)
	} else if err = c.configure(ctx, g, st.cn); err == nil {
		err = c.setupConn(ctx, g, st.cn)
	}
	if err != nil {
		st.cn.Close()
		c.closeGeneration(g)
		return nil, err
	}
	g.idle = append(g.idle, &conn{c: st.cn, viewKey: viewKey(nil)})
	return g, nil
}

// startedDB is a DuckDB database just started, with its first connection.
type startedDB struct {
	db  *sql.DB
	cn  *sql.Conn
	err error
}

func startDuckDB(ctx context.Context) startedDB {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return startedDB{err: fmt.Errorf("start duckdb: %w", err)}
	}
	db := sql.OpenDB(connector)
	cn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return startedDB{err: fmt.Errorf("start duckdb: %w", err)}
	}
	return startedDB{db: db, cn: cn}
}

// readSnapshot reads the lake's snapshot and table definitions, and checks the snapshot's files.
func (c *core) readSnapshot(prev *generation) (*generation, error) {
	snap, err := lake.OpenSnapshot(c.opt.Lake)
	if err != nil {
		return nil, err
	}
	// Every file is checked again: a file checked before may have been replaced by a link
	// since. What DuckDB found it could not read stays known: files never change once
	// committed.
	g := &generation{snap: snap, tables: c.loadTables(), files: c.fileTableFiles(), bad: checkFiles(c.opt.Lake, snap.Files)}
	for _, f := range snap.Files {
		known, wasBad := prev.badFile(f)
		why, bad := g.bad[f.Path]
		switch {
		case !bad && wasBad:
			g.bad[f.Path] = known
		case bad && !wasBad:
			c.log.Warn("lake file left out", "file", f.Path, "reason", why)
		}
	}
	return g, nil
}

// configure sets up g's database on its first connection, for all of them (SET GLOBAL), then
// locks its configuration.
func (c *core) configure(ctx context.Context, g *generation, cn *sql.Conn) error {
	stmts := []string{
		"SET GLOBAL autoinstall_known_extensions = false",
		"SET GLOBAL autoload_known_extensions = false",
		"SET GLOBAL temp_directory = " + quote(g.tmp),
		"SET GLOBAL TimeZone = 'UTC'",
		// Lake files never change once committed: keep their footers instead of re-reading
		// hundreds of them for every statement.
		"SET GLOBAL parquet_metadata_cache = true",
		// Read the columns a statement needs of a row group in one go, as DuckDB does for
		// remote files, instead of one read per column chunk: a lake file of a thin
		// partition-day is one small row group, and the throttling question over 278 of them
		// took 10 to 20% less CPU (DuckDB 1.4, the long bench shape, interleaved runs).
		"SET GLOBAL prefetch_all_parquet_files = true",
		"SET GLOBAL memory_limit = " + quote(c.opt.MemoryLimit),
		// No late materialization: DuckDB 1.4.3 turns an ORDER BY … LIMIT of at most 50 rows
		// into a semi-join of two scans of the same files, and while one of them maps its
		// filter on a struct field (useridentity.accesskeyid = '…') to a file's columns
		// (TryCastTableFilter) it crashed: a segfault, or a fatal error that stops the
		// database, in about one run in ten (TestTopFewByStructField). The latest events
		// read few files anyway (see topFiles).
		"SET GLOBAL late_materialization_max_rows = 0",
	}
	if c.opt.Threads > 0 {
		stmts = append(stmts, fmt.Sprintf("SET GLOBAL threads = %d", c.opt.Threads))
	}
	stmts = append(stmts, c.opt.Dialect.Settings...)
	// DuckDB may open the snapshot's files and nothing else: not the ledger, not a file added
	// to the data folder, not what a link inside it points at (checkFiles left those out).
	var allowed []string
	for _, f := range g.snap.Files {
		if _, bad := g.bad[f.Path]; !bad {
			allowed = append(allowed, c.absPath(f))
		}
	}
	for _, t := range c.opt.FileTables {
		allowed = append(allowed, g.files[t.Name]...)
	}
	if len(allowed) > 0 {
		stmts = append(stmts, allowedPaths(allowed))
	}
	stmts = append(stmts,
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL lock_configuration = true",
	)
	return execAll(ctx, cn, stmts)
}

// setupConn readies a connection of g: the dialect's setup but its macros (see defineMacros),
// and the views. The view reads no file until a statement needs it: a damaged file must not stop
// the statements that do not read it.
func (c *core) setupConn(ctx context.Context, g *generation, cn *sql.Conn) error {
	stmts := append([]string(nil), c.setup.eager...)
	stmts = append(stmts, c.viewSQL(nil))
	for _, a := range c.opt.Aliases {
		stmts = append(stmts, `CREATE OR REPLACE TEMP VIEW `+quoteIdent(a)+` AS SELECT * FROM cloudtrail_logs`)
	}
	for _, d := range g.tables {
		view, _ := d.viewSQL()
		stmts = append(stmts, view)
	}
	stmts = append(stmts, c.fileTableViews(g.files)...)
	return execAll(ctx, cn, stmts)
}

// allowedPaths is the statement that lets DuckDB open paths and nothing else. DuckDB reads a
// list literal of strings slowly (406 paths: 17 ms, more than it takes to start), one string
// split on a separator no path holds three times faster.
func allowedPaths(paths []string) string {
	for _, sep := range []string{"\n", "|", "\t", ","} {
		if !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, sep) }) {
			return "SET GLOBAL allowed_paths = string_split(" + quote(strings.Join(paths, sep)) + ", " + quote(sep) + ")"
		}
	}
	lits := make([]string, len(paths))
	for i, p := range paths {
		lits[i] = quote(p)
	}
	return "SET GLOBAL allowed_paths = [" + strings.Join(lits, ", ") + "]"
}

func execAll(ctx context.Context, cn *sql.Conn, stmts []string) error {
	for _, s := range stmts {
		if _, err := cn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("set up duckdb (%s): %w", firstLine(s), err)
		}
	}
	return nil
}

// take returns an idle connection of g, or a new one.
func (c *core) take(ctx context.Context, g *generation) (*conn, error) {
	g.mu.Lock()
	if n := len(g.idle); n > 0 {
		cn := g.idle[n-1]
		g.idle = g.idle[:n-1]
		g.mu.Unlock()
		return cn, nil
	}
	g.mu.Unlock()
	sc, err := g.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	if err := c.setupConn(ctx, g, sc); err != nil {
		sc.Close()
		return nil, err
	}
	return &conn{c: sc, viewKey: viewKey(nil)}, nil
}

// give returns a connection to g's idle ones.
func (g *generation) give(cn *conn) {
	g.mu.Lock()
	g.idle = append(g.idle, cn)
	g.mu.Unlock()
}

// badFile returns why f cannot be read, if it cannot (g may be nil: nothing is known).
func (g *generation) badFile(f lake.File) (string, bool) {
	if g == nil {
		return "", false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	why, bad := g.bad[f.Path]
	return why, bad
}

// markBad records that f cannot be read.
func (g *generation) markBad(f lake.File, why string) {
	g.mu.Lock()
	g.bad[f.Path] = why
	g.mu.Unlock()
}
