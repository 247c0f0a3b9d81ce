package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trailsql/trailsql/internal/engine"
)

// flagHint returns err in the command line's words: the engine's typed errors say which limit
// refused a statement, or what is wrong, without naming flags (the engine serves other front
// ends too); this adds the flag that raises the limit, or the command that helps. Other errors
// are returned as they are. Any context the commands wrapped around the engine's error stays.
func flagHint(err error) error {
	var (
		limit   *engine.LimitError
		damaged *engine.DamagedFileError
		refused *engine.ReadOnlyError
		column  *engine.UnknownColumnError
		typed   error
		text    string
	)
	switch {
	case errors.As(err, &limit):
		typed, text = limit, limitText(limit)
	case errors.As(err, &damaged):
		typed, text = damaged, damaged.Error()+"; run 'trailsql check' to find the damaged files, or add --skip-damaged to answer from the other files"
	case errors.As(err, &refused):
		typed, text = refused, refused.Error()+". To export results use --format csv|json and redirect the output"
	case errors.As(err, &column):
		typed, text = column, fmt.Sprintf("table %s: column %q: cloudtrail_logs has no such column, so the table cannot show it (remove it from the column list; `trailsql schema` lists the columns there are)", column.Table, column.Column)
	}
	if typed == nil || text == "" {
		return err
	}
	return &hinted{msg: strings.Replace(err.Error(), typed.Error(), text, 1), err: err}
}

// limitText says which flag raises a limit ("" for a limit no flag sets).
func limitText(e *engine.LimitError) string {
	switch e.Limit {
	case engine.LimitTimeout:
		return fmt.Sprintf("%v after %s (raise it with --timeout)", e.Err, e.Value)
	case engine.LimitRows:
		return fmt.Sprintf("%v: more than %s rows, the limit (raise it with --max-rows, or narrow the query with WHERE, LIMIT or an aggregate)", e.Err, e.Value)
	case engine.LimitResultBytes:
		if e.Row {
			return fmt.Sprintf("%v: a row is larger than %s, the limit (raise it with --max-result-bytes, or select less of it: substr, fewer columns)", e.Err, e.Value)
		}
		return fmt.Sprintf("%v: more than %s of values, the limit (raise it with --max-result-bytes, or select fewer rows or columns)", e.Err, e.Value)
	case engine.LimitStatementBytes:
		return fmt.Sprintf("%v: %s, the limit is %s (raise it with --max-statement-bytes)", e.Err, e.Size, e.Value)
	case engine.LimitMemory:
		const spill = "DuckDB spills joins, sorts and aggregates to disk but not a value a function builds (repeat, lpad, replace, range …): build smaller values, or raise --memory-limit"
		if e.Ceiling != "" {
			return fmt.Sprintf("%v: the statement needed more memory than this process may use (%s: what it held at the start, --memory-limit %s, twice --max-result-bytes and 256 MiB). %s", e.Err, e.Ceiling, e.Value, spill)
		}
		return fmt.Sprintf("%v: the statement needed more than --memory-limit %s. %s", e.Err, e.Value, spill)
	}
	return ""
}

// hinted is an error with its message in the command line's words.
type hinted struct {
	msg string
	err error
}

func (h *hinted) Error() string { return h.msg }
func (h *hinted) Unwrap() error { return h.err }

// noticeHint is a statement's notice in the command line's words: for Athena's CREATE EXTERNAL
// TABLE of the lake's own table, the ingest command that loads its logs and the flag that names
// it.
func noticeHint(res *engine.Result) string {
	if x := res.External; x != nil {
		return fmt.Sprintf("CREATE EXTERNAL TABLE is not needed: the table cloudtrail_logs already has Athena's CloudTrail columns. To load the logs at that location, run:\n  trailsql ingest %s\n(table %s: query it as cloudtrail_logs, or declare the name as an alias with --alias %s)", x.Location, x.Name, strings.Trim(x.Name, "`\""))
	}
	return res.Notice
}
