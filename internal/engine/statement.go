package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailsql/trailsql/internal/lake"
)

// session is one statement's hold on the engine: the generation (snapshot, database) it reads,
// the connection it runs on, and its options.
type session struct {
	*core
	g  *generation
	cn *conn
	q  QueryOptions
}

// query runs one statement: a table definition, an Athena DDL statement explained, or a query.
func (s *session) query(ctx context.Context, sink Sink, userSQL string, args []any) (*Result, error) {
	d := s.opt.Dialect
	if d.ParseDDL != nil {
		spec, drop, err := d.ParseDDL(userSQL)
		switch {
		case err != nil:
			return nil, err
		case spec != nil && s.ownTable(spec.Name):
			// Athena's own CloudTrail DDL: the table is already there (ddlNotice says so).
		case spec != nil:
			notice, err := s.defineTable(tableDef(spec))
			if err != nil {
				return nil, err
			}
			return &Result{Notice: notice}, nil
		case drop != "":
			notice, err := s.dropTable(drop)
			if err != nil {
				return nil, err
			}
			return &Result{Notice: notice}, nil
		}
	}
	if res, ok := ddlNotice(userSQL); ok {
		return res, nil
	}
	sqlText := userSQL
	var mapErr func(error) error
	if d.Translate != nil {
		type translation struct {
			sql    string
			mapErr func(error) error
			err    error
		}
		t, err := inTime(ctx, func() translation {
			s, m, err := d.Translate(userSQL)
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
	if s.q.Records {
		sqlText = "SELECT to_json(t)::VARCHAR AS record FROM (\n" + strings.TrimRight(strings.TrimSpace(sqlText), ";") + "\n) AS t"
		mapErr = nil
	}
	p, err := s.parseRead(ctx, sqlText)
	if err != nil {
		return nil, s.queryError(userSQL, sqlText, mapErr, err)
	}
	if !p.explain && !s.q.Records {
		if text, ok := hideColumns(p, s.hidden()); ok {
			// The narrowed text is checked as the user's was.
			if q, err := s.parseRead(ctx, text); err == nil && !q.explain {
				q.orig = p.orig
				p = q
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	files, err := s.selectFiles(ctx, userSQL, args)
	if err != nil {
		return nil, err
	}
	snap := s.g.snap
	for {
		use, skipped, err := s.usable(files)
		if err != nil {
			return nil, err
		}
		// After the damaged files are left out: the newest rows that remain are the answer.
		use = s.topFiles(ctx, p, use)
		res, started, err := s.attempt(ctx, sink, p, use, args)
		if err == nil {
			res.Skipped = skipped
			res.Stats = Stats{FilesRead: len(use), FilesTotal: len(snap.Files), BytesTotal: snap.Bytes()}
			for _, f := range use {
				res.Stats.BytesRead += f.Bytes
				res.Stats.RowsInFilesRead += f.Rows
			}
			return res, nil
		}
		if started || ctx.Err() != nil || broken(err) {
			// A broken DuckDB fails on every file: probing would take a sound one for damaged.
			return nil, s.queryError(userSQL, sqlText, mapErr, err)
		}
		f, ok := s.fileIn(err.Error(), use)
		reason := firstErrorLine(err.Error())
		if !ok && fileError(err) {
			f, reason, ok = s.probe(ctx, use)
		}
		if !ok {
			return nil, s.queryError(userSQL, sqlText, mapErr, err)
		}
		s.g.markBad(f, reason)
		s.log.Warn("lake file cannot be read", "file", f.Path, "reason", reason)
		if !s.opt.SkipDamaged {
			return nil, &DamagedFileError{File: f, Reason: reason}
		}
	}
}

// usable returns files without those that cannot be read, which are an error unless
// Options.SkipDamaged.
func (s *session) usable(files []lake.File) ([]lake.File, []SkippedFile, error) {
	var use []lake.File
	var skipped []SkippedFile
	for _, f := range files {
		why, bad := s.g.badFile(f)
		switch {
		case !bad:
			use = append(use, f)
		case s.opt.SkipDamaged:
			skipped = append(skipped, SkippedFile{File: f, Reason: why})
		default:
			return nil, nil, &DamagedFileError{File: f, Reason: why}
		}
	}
	return use, skipped, nil
}

// attempt runs a checked statement over files. started reports whether the sink saw anything.
func (s *session) attempt(ctx context.Context, sink Sink, p *parsed, files []lake.File, args []any) (res *Result, started bool, err error) {
	if p.explain {
		if err := s.useFiles(ctx, files); err != nil {
			return nil, false, err
		}
		return s.run(ctx, sink, p.full, "", args, false)
	}
	query, inlined := p.text, false
	var typed string
	if !p.show && !s.noInline {
		if q, ok := s.inlineTable(p, files); ok {
			query, inlined = q, true
			if len(files) > 1 {
				// The result's columns are the same over the first file alone (every file has
				// the schema of the first, which DuckDB binds to), and binding hundreds of files
				// costs DuckDB 15 µs each: learn them from that (see run).
				typed, _ = s.inlineTable(p, files[:1])
			}
		}
	}
	if !inlined {
		if err := s.useFiles(ctx, files); err != nil {
			return nil, false, err
		}
	}
	res, started, err = s.run(ctx, sink, query, typed, args, true)
	if err != nil && !started && ctx.Err() == nil && query != p.orig {
		if _, named := s.fileIn(err.Error(), files); !named {
			// Errors point into the statement as translated, not as rewritten (inlined, or its
			// stars narrowed): run it as translated over the view for an error that points at
			// the user's SQL (or, should the rewrite be at fault, for the answer).
			if err := s.useFiles(ctx, files); err != nil {
				return nil, false, err
			}
			res, started, err = s.run(ctx, sink, p.orig, "", args, true)
		}
	}
	return res, started, err
}

// run prepares text, which parseRead accepted, as exactly one statement of the type DuckDB must
// give it (SELECT, or EXPLAIN when !query), and executes that prepared statement. A query runs
// within the result limits of wrapQuery, built for the columns of typed when it is not empty:
// a text of the same columns, cheaper to prepare.
func (s *session) run(ctx context.Context, sink Sink, text, typed string, args []any, query bool) (res *Result, started bool, err error) {
	if err := s.defineMacros(ctx, text); err != nil {
		return nil, false, err
	}
	if typed == "" {
		typed = text
	}
	err = s.raw(func(c *duckdb.Conn) error {
		var st *duckdb.Stmt
		if query {
			inner, err := prepareAs(c, typed, duckdb.STATEMENT_TYPE_SELECT)
			if err != nil {
				return err
			}
			wrapped, err := s.wrapQuery(text, inner)
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
		res, started, err = s.execute(ctx, c, st, args, sink, query)
		return err
	})
	return res, started, err
}

// execute runs a prepared statement and hands its rows to sink, within the result limits. With
// rowBytes, the last column is the size of each row (see wrapQuery), not part of the result.
func (s *session) execute(ctx context.Context, c *duckdb.Conn, st *duckdb.Stmt, args []any, sink Sink, rowBytes bool) (*Result, bool, error) {
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
		if rows++; rows > s.q.MaxRows {
			return nil, true, s.rowsError()
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
		if total > s.q.MaxResultBytes {
			return nil, true, s.bytesError(false)
		}
		if err := sink.Row(row); errors.Is(err, ErrEnoughRows) {
			res.Truncated = true
			break
		} else if err != nil {
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

func (s *session) queryError(user, translated string, mapErr func(error) error, err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return err
	}
	// DuckDB's message, without the excerpt of the statement it may add ("LINE 1: …"), which
	// quotes the wrapper's own error() texts whenever the error is near them.
	head, _, _ := strings.Cut(err.Error(), "\nLINE ")
	if strings.Contains(head, rowTooLarge) {
		return s.bytesError(true)
	}
	if strings.Contains(head, resultTooLarge) {
		return s.bytesError(false)
	}
	if de.Type == duckdb.ErrorTypeOutOfMemory || strings.Contains(err.Error(), "Out of Memory Error") {
		return s.memoryError()
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
