package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrResultTooLarge is returned for a result past Options.MaxRows or Options.MaxResultBytes.
var ErrResultTooLarge = errors.New("result too large")

// ErrOutOfMemory is returned for a statement stopped at DuckDB's memory limit or the process
// ceiling (Options.ProcessCeiling).
var ErrOutOfMemory = errors.New("out of memory")

// ErrStatementTooLarge is returned for a statement longer than Options.MaxStatementBytes.
var ErrStatementTooLarge = errors.New("statement too large")

// Results are bounded inside DuckDB, before the driver copies a value into Go (it copies a string
// twice): the query runs wrapped as
//
//	SELECT c1 AS "name", …, <row bytes, or error() past the limit> AS trailsql_row_bytes
//	FROM (<query>) AS trailsql_result(c1, …) LIMIT MaxRows+1
//
// so DuckDB stops producing rows after MaxRows+1 (a cross join of the lake no longer fills the
// memory), refuses a row larger than MaxResultBytes before it leaves DuckDB (repeat('x', 1e9) no
// longer reaches Go), and tells Go each row's size, which Go sums against MaxResultBytes. The
// size of a row is 16 bytes per value plus the bytes of its strings and blobs, at any depth of
// lists, structs and maps: about what the row costs in Go.

// rowBytesColumn is the wrapper's last column.
const rowBytesColumn = "trailsql_row_bytes"

// rowTooLarge is the text of the wrapper's error(), recognised in DuckDB's error.
const (
	rowTooLarge    = "trailsql: result row larger than the result limit"
	resultTooLarge = "trailsql: result larger than the result limit"
)

// wrapQuery returns query wrapped as above, for the columns DuckDB prepared it with.
func (s *session) wrapQuery(query string, st *duckdb.Stmt) (string, error) {
	n, err := st.ColumnCount()
	if err != nil {
		return "", err
	}
	lim := strconv.FormatInt(s.q.MaxResultBytes, 10)
	// The running total makes DuckDB stop once the result passes the limit: DuckDB holds a
	// whole result before the driver reads any of it.
	check := "CASE WHEN " + rowBytesColumn + " > " + lim + " THEN error('" + rowTooLarge + "') WHEN trailsql_total > " + lim +
		" THEN error('" + resultTooLarge + "') ELSE " + rowBytesColumn + " END"
	total := ", sum(" + rowBytesColumn + ") OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS trailsql_total"
	limit := ") LIMIT " + strconv.Itoa(s.q.MaxRows+1)
	for i := range n {
		if t, err := st.ColumnType(i); err != nil || t == duckdb.TYPE_INVALID {
			// The columns depend on parameters, which DuckDB types only when it runs the
			// statement: measure each row as text. (A subquery renames duplicate column
			// names, a_1: only such statements see that.)
			return "SELECT * EXCLUDE (trailsql_total) REPLACE (" + check + " AS " + rowBytesColumn + ") FROM (SELECT *" + total +
				" FROM (SELECT *, 16 + coalesce(strlen(CAST(trailsql_result AS VARCHAR)), 0) AS " + rowBytesColumn + " FROM (\n" + query +
				"\n) AS trailsql_result)" + limit, nil
		}
	}
	inner := make([]string, n)
	outer := make([]string, n)
	size := []string{strconv.Itoa(16 * n)}
	for i := range n {
		name, err := st.ColumnName(i)
		if err != nil {
			return "", err
		}
		inner[i] = fmt.Sprintf("c%d", i+1)
		outer[i] = inner[i] + " AS " + quoteIdent(name)
		info, err := st.ColumnTypeInfo(i)
		if s := sizeExpr(inner[i], info, err, 0); s != "" {
			size = append(size, s)
		}
	}
	bytes := strings.Join(size, " + ")
	return "SELECT " + strings.Join(outer, ", ") + ", " + check + " AS " + rowBytesColumn +
		" FROM (SELECT *" + total + " FROM (SELECT *, " + bytes + " AS " + rowBytesColumn + " FROM (\n" + query + "\n) AS trailsql_result(" +
		strings.Join(inner, ", ") + "))" + limit, nil
}

// sizeExpr returns a DuckDB expression for the bytes that the strings and blobs of x hold, ""
// for a value of fixed size. A type the driver cannot describe (a parameter's, before binding)
// is measured as text.
func sizeExpr(x string, info duckdb.TypeInfo, infoErr error, depth int) string {
	if infoErr != nil || info == nil {
		return "coalesce(strlen(CAST(" + x + " AS VARCHAR)), 0)"
	}
	v := fmt.Sprintf("trailsql_e%d", depth)
	list := func(l string, elem duckdb.TypeInfo) string {
		s := sizeExpr(v, elem, nil, depth+1)
		if s == "" {
			s = "0"
		}
		return "coalesce(list_sum(list_transform(" + l + ", lambda " + v + ": 16 + " + s + ")), 0)"
	}
	switch info.InternalType() {
	case duckdb.TYPE_VARCHAR:
		return "coalesce(strlen(" + x + "), 0)"
	case duckdb.TYPE_BLOB, duckdb.TYPE_BIT:
		return "coalesce(octet_length(" + x + "), 0)"
	case duckdb.TYPE_LIST:
		d, _ := info.Details().(*duckdb.ListDetails)
		if d == nil {
			break
		}
		return list(x, d.Child)
	case duckdb.TYPE_ARRAY:
		d, _ := info.Details().(*duckdb.ArrayDetails)
		if d == nil {
			break
		}
		return list(x, d.Child)
	case duckdb.TYPE_MAP:
		d, _ := info.Details().(*duckdb.MapDetails)
		if d == nil {
			break
		}
		return list("map_keys("+x+")", d.Key) + " + " + list("map_values("+x+")", d.Value)
	case duckdb.TYPE_STRUCT:
		d, _ := info.Details().(*duckdb.StructDetails)
		if d == nil {
			break
		}
		var parts []string
		for _, f := range d.Entries {
			if s := sizeExpr("struct_extract("+x+", "+quote(f.Name())+")", f.Info(), nil, depth+1); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return "coalesce(" + strings.Join(parts, " + ") + ", 0)"
	case duckdb.TYPE_UNION, duckdb.TYPE_INVALID, duckdb.TYPE_ANY, duckdb.TYPE_SQLNULL:
	default:
		return ""
	}
	return "coalesce(strlen(CAST(" + x + " AS VARCHAR)), 0)"
}

// quoteIdent renders s as a SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// The limits a LimitError names.
const (
	LimitConcurrent     = "max concurrent queries"
	LimitTimeout        = "timeout"
	LimitRows           = "max rows"
	LimitResultBytes    = "max result bytes"
	LimitStatementBytes = "max statement bytes"
	LimitMemory         = "memory limit"
)

// LimitError is a statement refused, or stopped, at one of the engine's limits. Its message says
// which limit and its value, and what else than raising it helps; it names no flag or setting of
// a front end, which each adds in its own words (the CLI's flags, the server's configuration).
type LimitError struct {
	// Err is the sentinel errors.Is matches: ErrBusy, ErrTimeout, ErrResultTooLarge,
	// ErrStatementTooLarge or ErrOutOfMemory.
	Err error
	// Limit is which limit: one of the Limit constants.
	Limit string
	// Value is the limit's value for the statement, as the message gives it ("2", "1 MiB",
	// "5m0s", "2GB").
	Value string
	// Size is what passed the limit, when known: the statement's length, for LimitStatementBytes.
	Size string
	// Row is set when one row alone passed LimitResultBytes.
	Row bool
	// QueueWait is how long the statement waited for a turn, for LimitConcurrent.
	QueueWait time.Duration
	// Ceiling is the process's memory ceiling (Options.ProcessCeiling), for LimitMemory; 0 when
	// none is set and DuckDB's own memory limit refused the statement.
	Ceiling string
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitConcurrent:
		return fmt.Sprintf("%v: %s statements were running, the max concurrent queries, and none ended within %s, the max queue wait (try again later, or raise either limit)", e.Err, e.Value, e.QueueWait)
	case LimitTimeout:
		return fmt.Sprintf("%v after %s, the timeout (raise it, or narrow the query: partitions and eventtime bounds let it read fewer files)", e.Err, e.Value)
	case LimitRows:
		return fmt.Sprintf("%v: more than %s rows, the max rows (raise it, or narrow the query with WHERE, LIMIT or an aggregate)", e.Err, e.Value)
	case LimitResultBytes:
		if e.Row {
			return fmt.Sprintf("%v: a row is larger than %s, the max result bytes (raise it, or select less of it: substr, fewer columns)", e.Err, e.Value)
		}
		return fmt.Sprintf("%v: more than %s of values, the max result bytes (raise it, or select fewer rows or columns)", e.Err, e.Value)
	case LimitStatementBytes:
		return fmt.Sprintf("%v: %s, the max statement bytes is %s (raise it)", e.Err, e.Size, e.Value)
	case LimitMemory:
		if e.Ceiling != "" {
			return fmt.Sprintf("%v: the statement needed more memory than this process may use (%s: what it held at the start, the memory limit %s, twice the max result bytes and 256 MiB). %s: build smaller values, or raise the memory limit", e.Err, e.Ceiling, e.Value, spillNote)
		}
		return fmt.Sprintf("%v: the statement needed more than the memory limit, %s. %s: build smaller values, or raise the memory limit", e.Err, e.Value, spillNote)
	}
	return fmt.Sprintf("%v: %s %s", e.Err, e.Limit, e.Value)
}

func (e *LimitError) Unwrap() error { return e.Err }

// spillNote says which memory DuckDB's limit does not cover.
const spillNote = "DuckDB spills joins, sorts and aggregates to disk but not a value a function builds (repeat, lpad, replace, range …)"

// ErrTimeout is returned for a statement that ran past its deadline (Options.Timeout,
// QueryOptions.Timeout, or its context's).
var ErrTimeout = errors.New("query timed out")

// ErrBusy is returned for a statement that found Options.MaxConcurrent statements running and
// none ended within Options.MaxQueueWait.
var ErrBusy = errors.New("too many queries at once")

// ErrClosed is returned for a statement on a closed engine, or one that Close interrupted.
var ErrClosed = errors.New("the query engine is closed")

func (s *session) rowsError() error {
	return &LimitError{Err: ErrResultTooLarge, Limit: LimitRows, Value: strconv.Itoa(s.q.MaxRows)}
}

func (s *session) bytesError(row bool) error {
	return &LimitError{Err: ErrResultTooLarge, Limit: LimitResultBytes, Value: formatBytes(s.q.MaxResultBytes), Row: row}
}

func (c *core) statementError(n int) error {
	return &LimitError{Err: ErrStatementTooLarge, Limit: LimitStatementBytes, Value: formatBytes(int64(c.opt.MaxStatementBytes)), Size: formatBytes(int64(n))}
}

func (s *session) memoryError() error {
	le := &LimitError{Err: ErrOutOfMemory, Limit: LimitMemory, Value: s.opt.MemoryLimit}
	if s.ceiling > 0 {
		le.Ceiling = formatBytes(s.ceiling >> 20 << 20)
	}
	return le
}

// formatBytes renders n bytes for a message.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseBytes reads a size such as 1048576, 512KiB, 256MiB, 1GB or 4 GB (KB, MB, GB, TB: powers
// of 1000; KiB, MiB, GiB, TiB: of 1024); what names the setting in the error.
func ParseBytes(what, s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}} {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%s %q: give a size in bytes, e.g. 1048576, 512KiB, 256MiB or 1GiB", what, s)
	}
	return n * mult, nil
}
