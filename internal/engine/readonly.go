package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrNotReadOnly is returned for statements that could change anything: only queries run
// (SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW, SUMMARIZE, and EXPLAIN of a query).
var ErrNotReadOnly = errors.New("only read-only statements run")

// How a statement is accepted. Our own reading of SQL text decides nothing: two lexers always
// disagree somewhere (nested block comments, a -- comment ended by \r, E'\'' and $$ strings), and
// the statement that runs is the one DuckDB reads. So DuckDB's parser decides, twice:
//
//  1. json_serialize_sql parses the text without binding or running it and serialises SELECT
//     statements only. The text must be exactly one statement, a SELECT (DuckDB turns DESCRIBE,
//     SHOW and SUMMARIZE into a SELECT over a SHOW_REF; VALUES, WITH and FROM-first are SELECTs
//     too; PRAGMA is not, although DuckDB prepares some PRAGMAs as SELECTs). Its table functions
//     must be in readTableFunctions: a SELECT can call enable_logging() or checkpoint(), and
//     query() runs SQL this check never sees.
//  2. The text that runs is prepared as one statement (duckdb.Conn.Prepare refuses several; the
//     database/sql path would run all but the last one), its type must be SELECT, and that
//     prepared statement is the one executed.
//
// EXPLAIN is not a SELECT for json_serialize_sql and EXPLAIN ANALYZE runs its statement, so
// EXPLAIN is accepted in one spelling only: the text starts with the word EXPLAIN and one white
// space character, and what follows passes step 1 on its own, which no ANALYZE, option list or
// statement other than a query does. DuckDB must then prepare the whole text as an EXPLAIN.

// parsed is a statement DuckDB's parser read as one query.
type parsed struct {
	// text is the query: the statement itself, or what EXPLAIN explains; with its stars
	// narrowed to Athena's columns (see hideColumns).
	text string
	// orig is text as parseRead read it.
	orig string
	// full is the whole statement.
	full string
	// tree is json_serialize_sql's serialisation of the query.
	tree map[string]any
	// explain is set for EXPLAIN <query>.
	explain bool
	// show is set when the query is (or holds) DESCRIBE, SHOW or SUMMARIZE.
	show bool
}

// readTableFunctions are the table functions a query may call: they read (rows they make up,
// files within the lake, the catalog) and change nothing. Any other table function is refused.
var readTableFunctions = map[string]bool{
	"range": true, "generate_series": true, "unnest": true, "repeat": true, "repeat_row": true,
	"read_parquet": true, "parquet_scan": true, "parquet_metadata": true, "parquet_schema": true,
	"parquet_file_metadata": true, "parquet_kv_metadata": true,
	"read_json": true, "read_json_auto": true, "read_ndjson": true, "read_ndjson_auto": true,
	"read_json_objects": true, "read_json_objects_auto": true, "read_ndjson_objects": true,
	"read_csv": true, "read_csv_auto": true, "read_text": true, "read_blob": true, "glob": true,
	"json_each": true, "json_tree": true,
	"duckdb_columns": true, "duckdb_constraints": true, "duckdb_databases": true,
	"duckdb_functions": true, "duckdb_keywords": true, "duckdb_schemas": true, "duckdb_tables": true,
	"duckdb_types": true, "duckdb_views": true, "duckdb_settings": true,
	"pragma_table_info": true, "table_info": true, "pragma_version": true, "version": true,
	"icu_calendar_names": true, "pg_timezone_names": true,
}

// ReadOnlyError is a statement refused because it is not a query; errors.Is(err,
// ErrNotReadOnly) holds.
type ReadOnlyError struct {
	// Reason says what the statement is, or does, that a query is not.
	Reason string
}

// Error names what runs; a front end adds how it exports results.
func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("%v (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of a query): %s; the lake is read-only from SQL", ErrNotReadOnly, e.Reason)
}

func (e *ReadOnlyError) Unwrap() error { return ErrNotReadOnly }

// refusal is the error for a statement that is not a query.
func refusal(what string) error { return &ReadOnlyError{Reason: what} }

// parseRead reads text with DuckDB's parser and accepts it only as one query or EXPLAIN of one.
func (s *session) parseRead(ctx context.Context, text string) (*parsed, error) {
	tree, perr, err := s.serialize(ctx, text)
	if err != nil {
		return nil, err
	}
	if perr != nil {
		if perr.kind == "parser" {
			return nil, s.syntaxError(text, perr)
		}
		// Not a SELECT: EXPLAIN of a query is the one other statement accepted.
		if rest, ok := explainPrefix(text); ok {
			inner, err := s.parseRead(ctx, rest)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				// The whole text parses, what follows EXPLAIN alone does not or is no query:
				// ANALYZE, an option list, or another statement.
				return nil, refusal("EXPLAIN runs as EXPLAIN followed by a query (no ANALYZE, no options)")
			}
			if inner.explain {
				return nil, refusal("EXPLAIN of EXPLAIN")
			}
			inner.explain, inner.full = true, text
			return inner, nil
		}
		return nil, refusal("this statement is not a query (COPY, ATTACH, CREATE, INSERT, PRAGMA, SET, CALL, EXPORT … are refused)")
	}
	p := &parsed{text: text, orig: text, full: text, tree: tree}
	var bad string
	walkJSON(tree, func(m map[string]any) {
		switch m["type"] {
		case "SHOW_REF":
			p.show = true
		case "TABLE_FUNCTION":
			fn, _ := m["function"].(map[string]any)
			name, _ := fn["function_name"].(string)
			if !readTableFunctions[strings.ToLower(name)] && bad == "" {
				bad = name
			}
		}
	})
	if bad != "" {
		return nil, refusal(fmt.Sprintf("the table function %s is not allowed in a query", bad))
	}
	return p, nil
}

// explainPrefix returns what follows "EXPLAIN" and one white space character at the start of text.
func explainPrefix(text string) (string, bool) {
	t := strings.TrimLeft(text, " \t\r\n")
	const kw = "EXPLAIN"
	if len(t) <= len(kw) || !strings.EqualFold(t[:len(kw)], kw) || !strings.ContainsRune(" \t\r\n", rune(t[len(kw)])) {
		return "", false
	}
	return t[len(kw)+1:], true
}

// parseError is json_serialize_sql's answer for text it did not serialise.
type parseError struct {
	kind, msg string
}

// serialize returns the one SELECT statement of text as json_serialize_sql serialises it, or
// the parser's objection.
func (s *session) serialize(ctx context.Context, text string) (map[string]any, *parseError, error) {
	var out string
	if err := s.cn.c.QueryRowContext(ctx, "SELECT json_serialize_sql(CAST($1 AS VARCHAR))::VARCHAR", text).Scan(&out); err != nil {
		return nil, nil, fmt.Errorf("check statement: %w", err)
	}
	var doc struct {
		Error      bool             `json:"error"`
		Type       string           `json:"error_type"`
		Message    string           `json:"error_message"`
		Statements []map[string]any `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, nil, fmt.Errorf("check statement: read DuckDB's parse: %w", err)
	}
	switch {
	case doc.Error:
		return nil, &parseError{kind: doc.Type, msg: doc.Message}, nil
	case len(doc.Statements) == 0:
		return nil, nil, errors.New("no SQL statement given")
	case len(doc.Statements) > 1:
		return nil, nil, fmt.Errorf("%d statements given: run one statement at a time", len(doc.Statements))
	}
	return doc.Statements[0], nil, nil
}

// syntaxError returns DuckDB's own error for text its parser refused, which says where. Only
// the parser runs: a text that fails to parse binds and runs nothing. Should the connection's
// parser accept what json_serialize_sql's refused, the statement is refused.
func (s *session) syntaxError(text string, perr *parseError) error {
	err := s.raw(func(c *duckdb.Conn) error {
		st, err := c.Prepare(text)
		if err != nil {
			return err
		}
		st.Close()
		return refusal("DuckDB's parsers disagree about this statement: " + perr.msg)
	})
	if err == nil {
		err = errors.New(perr.msg)
	}
	return err
}

// raw runs fn with the DuckDB connection, for what database/sql does not offer: preparing
// exactly one statement and reading its type.
func (s *session) raw(fn func(c *duckdb.Conn) error) error {
	return s.cn.c.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected DuckDB driver connection %T", dc)
		}
		return fn(c)
	})
}

// prepareAs prepares text as exactly one statement and returns it if DuckDB classifies it as
// want. The caller closes the statement.
func prepareAs(c *duckdb.Conn, text string, want duckdb.StmtType) (*duckdb.Stmt, error) {
	ds, err := c.Prepare(text)
	if err != nil {
		if strings.Contains(err.Error(), "missing context for multi-statement query") {
			return nil, refusal("DuckDB reads this text as several statements (PIVOT without IN runs as several): run one query at a time")
		}
		return nil, err
	}
	st, ok := ds.(*duckdb.Stmt)
	if !ok {
		ds.Close()
		return nil, fmt.Errorf("unexpected DuckDB statement %T", ds)
	}
	typ, err := st.StatementType()
	if err != nil || typ != want {
		st.Close()
		return nil, refusal(fmt.Sprintf("DuckDB prepares this statement as type %d, not as a query", typ))
	}
	return st, nil
}

// namedArgs converts arguments as database/sql would for the DuckDB driver.
func namedArgs(c *duckdb.Conn, args []any) ([]driver.NamedValue, error) {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		if err := c.CheckNamedValue(&nv); err != nil {
			if !errors.Is(err, driver.ErrSkip) {
				return nil, fmt.Errorf("parameter %d: %w", i+1, err)
			}
			v, err := driver.DefaultParameterConverter.ConvertValue(a)
			if err != nil {
				return nil, fmt.Errorf("parameter %d: %w", i+1, err)
			}
			nv.Value = v
		}
		out[i] = nv
	}
	return out, nil
}

var (
	alterAddPartition = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+\S+\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?PARTITION\b`)
	})
	createExternal = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?is)^\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\S+).*?\bLOCATION\s+'([^']*)'`)
	})
	msckRepair = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)^\s*MSCK\s+REPAIR\s+TABLE\b`) })
)

// ddlNotice answers the Athena DDL users paste from the docs: partitions and table definitions
// are automatic here, so these statements are explained rather than run. It only ever answers
// with a notice: whatever the text holds besides, nothing of it runs.
func ddlNotice(stmt string) (*Result, bool) {
	stmt = skipComments(stmt)
	switch {
	case alterAddPartition().MatchString(stmt):
		return &Result{Notice: "ALTER TABLE … ADD PARTITION is not needed: trailsql finds partitions by itself (account, region, year, month, day). Nothing was changed."}, true
	case msckRepair().MatchString(stmt):
		return &Result{Notice: "MSCK REPAIR TABLE is not needed: trailsql finds partitions by itself. Nothing was changed."}, true
	case createExternal().MatchString(stmt):
		m := createExternal().FindStringSubmatch(stmt)
		ext := &ExternalTable{Name: m[2], Location: m[3]}
		name := strings.Trim(m[2], "`\"")
		return &Result{External: ext, Notice: fmt.Sprintf("CREATE EXTERNAL TABLE is not needed: the table cloudtrail_logs already has Athena's CloudTrail columns. To query the logs at that location, ingest them into the lake: %s\n(table %s: query it as cloudtrail_logs, or declare %s an alias of cloudtrail_logs)", ext.Location, ext.Name, name)}, true
	}
	return nil, false
}

// skipComments returns s without the white space and comments it starts with, for ddlNotice
// only: at worst it makes a notice answer a text DuckDB would have refused.
func skipComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexAny(s, "\r\n")
			if i < 0 {
				return ""
			}
			s = s[i:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return ""
			}
			s = s[i+2:]
		default:
			return s
		}
	}
}
