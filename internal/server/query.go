package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/render"
)

// queryRequest is a statement to run: POST /api/v1/query's body, or GET's query string.
type queryRequest struct {
	SQL string `json:"sql"`
	// Saved runs a saved query (its id) instead of SQL.
	Saved string `json:"saved,omitempty"`
	// Params are the values of the placeholders: a list for ?, an object for :name.
	Params json.RawMessage `json:"params,omitempty"`
	// Format is json (default), ndjson or csv; Shape, for json and ndjson, objects (default)
	// or arrays.
	Format  string `json:"format,omitempty"`
	Shape   string `json:"shape,omitempty"`
	MaxRows int    `json:"max_rows,omitempty"`
	Timeout string `json:"timeout,omitempty"`

	named      map[string]any // GET: the query string's other parameters
	positional []any          // GET: p=…&p=…
}

// reserved are the query string parameters that are not named parameters' values.
var reserved = map[string]bool{"sql": true, "saved": true, "format": true, "_shape": true, "shape": true, "max_rows": true, "_size": true, "timeout": true, "p": true}

// readQueryRequest reads a statement from a GET query string or a POST JSON body.
func readQueryRequest(r *http.Request) (*queryRequest, error) {
	q := &queryRequest{}
	if r.Method == http.MethodPost {
		if err := decodeBody(r, q); err != nil {
			return nil, err
		}
		return q, nil
	}
	v := r.URL.Query()
	q.SQL, q.Saved, q.Format, q.Timeout = v.Get("sql"), v.Get("saved"), v.Get("format"), v.Get("timeout")
	q.Shape = v.Get("_shape")
	if q.Shape == "" {
		q.Shape = v.Get("shape")
	}
	if m := v.Get("max_rows"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			return nil, &paramError{"max_rows", m, "give a positive number of rows"}
		}
		q.MaxRows = n
	}
	for _, p := range v["p"] {
		q.positional = append(q.positional, p)
	}
	for k, vals := range v {
		if !reserved[k] && len(vals) > 0 {
			if q.named == nil {
				q.named = map[string]any{}
			}
			q.named[k] = vals[0]
		}
	}
	return q, nil
}

// statement is a request's SQL with its arguments bound.
type statement struct {
	sql  string
	args []any
}

// statement resolves the request's SQL (or saved query) and binds its parameters.
func (s *Server) statement(q *queryRequest) (statement, error) {
	text := q.SQL
	if q.Saved != "" {
		if text != "" {
			return statement{}, &paramError{"saved", q.Saved, "give sql or saved, not both"}
		}
		sq, err := s.files.saved(q.Saved)
		if err != nil {
			return statement{}, err
		}
		text = sq.SQL
	}
	if strings.TrimSpace(text) == "" {
		return statement{}, &paramError{"sql", "", "give a statement: Athena SQL over cloudtrail_logs"}
	}
	named, positional := q.named, q.positional
	if len(q.Params) > 0 && string(q.Params) != "null" {
		dec := json.NewDecoder(bytes.NewReader(q.Params))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return statement{}, &paramError{"params", "", "give a list (for ?) or an object (for :name): " + err.Error()}
		}
		switch p := v.(type) {
		case []any:
			positional = p
		case map[string]any:
			named = p
		default:
			return statement{}, &paramError{"params", string(q.Params), "give a list (for ?) or an object (for :name)"}
		}
	}
	rewritten, names, err := athena.NamedParameters(text)
	if err != nil {
		return statement{}, err
	}
	if len(names) == 0 {
		args := make([]any, len(positional))
		for i, a := range positional {
			args[i] = paramValue(a)
		}
		return statement{sql: text, args: args}, nil
	}
	if len(positional) > 0 {
		return statement{}, &paramError{"params", "", "the statement names its parameters (:name): give their values by name, not as a list"}
	}
	args := make([]any, len(names))
	for i, n := range names {
		v, ok := named[n]
		if !ok {
			return statement{}, &paramError{"params", n, "the statement's parameter :" + n + " has no value (give " + n + "=… in the query string, or in params)"}
		}
		args[i] = paramValue(v)
	}
	return statement{sql: rewritten, args: args}, nil
}

// paramValue converts a JSON value into an argument: integers as int64, other numbers float64.
func paramValue(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}

// defines reports whether a statement defines or drops a table (stored in the lake: admin only).
func defines(sql string) bool {
	_, create, _ := athena.ParseCreateTable(sql)
	_, drop, _ := athena.ParseDropTable(sql)
	return create || drop
}

// Column is a result column.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Stats say what a statement read, what Athena would have billed for it, and how long it took.
type Stats struct {
	FilesRead       int     `json:"files_read"`
	FilesTotal      int     `json:"files_total"`
	BytesRead       int64   `json:"bytes_read"`
	BytesTotal      int64   `json:"bytes_total"`
	RowsInFilesRead int64   `json:"rows_in_files_read"`
	AthenaPriceUSD  float64 `json:"athena_price_usd"`
	ElapsedMS       float64 `json:"elapsed_ms"`
}

// QueryResult is the JSON answer of a statement.
type QueryResult struct {
	QueryID string   `json:"query_id,omitempty"`
	Columns []Column `json:"columns"`
	// Rows are objects (shape objects) or lists (shape arrays).
	Rows []any `json:"rows"`
	// Truncated says the result had more rows than max_rows.
	Truncated bool   `json:"truncated"`
	RowCount  int    `json:"row_count"`
	Notice    string `json:"notice,omitempty"`
	Stats     Stats  `json:"stats"`
	// Commit is the lake commit the statement read (every commit up to it, whole).
	Commit int64 `json:"commit"`
}

func statsOf(res *engine.Result) Stats {
	st := res.Stats
	return Stats{FilesRead: st.FilesRead, FilesTotal: st.FilesTotal, BytesRead: st.BytesRead, BytesTotal: st.BytesTotal,
		RowsInFilesRead: st.RowsInFilesRead, AthenaPriceUSD: athena.ScanPrice(st.BytesRead), ElapsedMS: float64(res.Elapsed.Microseconds()) / 1000}
}

// rowSink is the engine Sink of a response: it stops the result at max rows (ErrEnoughRows,
// which marks it truncated) and hands each row, converted for JSON, to emit.
type rowSink struct {
	max   int
	n     int
	shape string
	cols  []string
	typed *render.Typed
	begin func(cols, types []string) error
	emit  func(row []any, converted any) error
}

func (k *rowSink) Begin(cols, types []string) error {
	k.cols, k.typed = cols, render.NewTyped(types)
	if k.begin != nil {
		return k.begin(cols, types)
	}
	return nil
}

func (k *rowSink) Row(row []any) error {
	if k.n == k.max {
		return engine.ErrEnoughRows
	}
	k.n++
	if k.shape == "arrays" {
		out := make([]any, len(row))
		for i, v := range row {
			out[i] = k.typed.JSON(i, v)
		}
		return k.emit(row, out)
	}
	return k.emit(row, k.typed.Object(k.cols, row))
}

func checkShape(format, shape string) error {
	switch format {
	case "", "json", "ndjson", "csv":
	default:
		return &paramError{"format", format, "give json, ndjson or csv"}
	}
	switch shape {
	case "", "objects", "arrays":
	default:
		return &paramError{"_shape", shape, "give objects or arrays"}
	}
	return nil
}

// run runs a statement within lim and collects its JSON answer.
func (s *Server) run(ctx context.Context, st statement, shape string, lim limits) (*QueryResult, error) {
	out := &QueryResult{Rows: []any{}}
	sink := &rowSink{max: lim.maxRows, shape: shape, emit: func(_ []any, v any) error {
		out.Rows = append(out.Rows, v)
		return nil
	}}
	res, err := s.queryTo(ctx, sink, st, lim)
	if err != nil {
		return nil, err
	}
	out.Columns = columnsOf(res.Columns, res.Types)
	out.Truncated, out.RowCount, out.Notice = res.Truncated, len(out.Rows), res.Notice
	out.Stats, out.Commit = statsOf(res), res.Seq
	return out, nil
}

// columnsOf pairs a result's column names and types.
func columnsOf(names, types []string) []Column {
	cols := make([]Column, len(names))
	for i, c := range names {
		cols[i] = Column{Name: c}
		if i < len(types) {
			cols[i].Type = types[i]
		}
	}
	return cols
}

// queryTo runs a statement on the engine within lim.
func (s *Server) queryTo(ctx context.Context, sink engine.Sink, st statement, lim limits) (*engine.Result, error) {
	ctx, cancel := lim.context(ctx)
	defer cancel()
	e := s.opt.Engine.With(engine.QueryOptions{Timeout: lim.timeout, MaxRows: lim.maxRows + 1})
	return e.QueryTo(ctx, sink, st.sql, st.args...)
}

// query answers GET and POST /api/v1/query.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q, err := readQueryRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, lim, err := s.checkQuery(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entry := s.files.newEntry(callerOf(r.Context()), q, start)
	switch q.Format {
	case "ndjson", "csv":
		err = s.stream(w, r, q, st, lim, entry)
	default:
		var res *QueryResult
		if res, err = s.run(r.Context(), st, q.Shape, lim); err == nil {
			res.QueryID = entry.ID
			entry.done(res, nil)
			writeJSON(w, http.StatusOK, res)
		}
	}
	if err != nil {
		entry.done(nil, err)
		s.writeError(w, r, err)
	}
	s.files.record(entry)
}

// checkQuery checks a request and returns its bound statement and limits.
func (s *Server) checkQuery(ctx context.Context, q *queryRequest) (statement, limits, error) {
	if err := checkShape(q.Format, q.Shape); err != nil {
		return statement{}, limits{}, err
	}
	lim, err := s.limitsOf(strconv.Itoa(q.MaxRows), q.Timeout)
	if q.MaxRows == 0 {
		lim, err = s.limitsOf("", q.Timeout)
	}
	if err != nil {
		return statement{}, lim, err
	}
	st, err := s.statement(q)
	if err != nil {
		return st, lim, err
	}
	if defines(st.sql) && callerOf(ctx).Role != RoleAdmin {
		return st, lim, &APIError{Type: ErrorForbidden, Message: "CREATE EXTERNAL TABLE and DROP TABLE change the lake's tables: they need a token of role admin", Status: http.StatusForbidden}
	}
	return st, lim, nil
}

// stream writes the rows as they come: NDJSON (a row a line, then one line {"_meta": …}) or
// CSV (a download; an error after the first row breaks the connection, so that a short file is
// never taken for a whole one).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, q *queryRequest, st statement, lim limits, entry *historyEntry) error {
	flusher, _ := w.(http.Flusher)
	started := false
	n := 0
	var csvOut *render.Stream
	enc := json.NewEncoder(w)
	sink := &rowSink{max: lim.maxRows, shape: q.Shape}
	sink.begin = func(cols, types []string) error {
		started = true
		h := w.Header()
		if q.Format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
			h.Set("Content-Disposition", `attachment; filename="trailsql-`+entry.ID+`.csv"`)
			h.Set("Trailer", "X-Trailsql-Truncated, X-Trailsql-Commit")
			w.WriteHeader(http.StatusOK)
			var err error
			if csvOut, err = render.NewStream(w, "csv"); err != nil {
				return err
			}
			return csvOut.Begin(cols, types)
		}
		h.Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	sink.emit = func(row []any, v any) error {
		n++
		var err error
		if csvOut != nil {
			err = csvOut.Row(row)
		} else {
			err = enc.Encode(v)
		}
		if flusher != nil && n%1000 == 0 {
			if csvOut != nil {
				csvOut.Close()
			}
			flusher.Flush()
		}
		return err
	}
	res, err := s.queryTo(r.Context(), sink, st, lim)
	if err != nil && !started {
		return err
	}
	if err != nil {
		entry.done(nil, err)
		if csvOut != nil {
			s.files.record(entry)
			panic(http.ErrAbortHandler)
		}
		enc.Encode(map[string]any{"_meta": map[string]any{"error": apiError(err)}})
		return nil
	}
	if !started { // a notice: no rows at all
		sink.begin(res.Columns, res.Types)
	}
	out := &QueryResult{QueryID: entry.ID, Columns: columnsOf(res.Columns, res.Types), Truncated: res.Truncated, RowCount: n, Notice: res.Notice, Stats: statsOf(res), Commit: res.Seq}
	entry.done(out, nil)
	if csvOut != nil {
		csvOut.Close()
		w.Header().Set("X-Trailsql-Truncated", strconv.FormatBool(res.Truncated))
		w.Header().Set("X-Trailsql-Commit", strconv.FormatInt(res.Seq, 10))
		return nil
	}
	return enc.Encode(map[string]any{"_meta": struct {
		*QueryResult
		Rows []any `json:"rows,omitempty"` // the lines before
	}{QueryResult: out}})
}
