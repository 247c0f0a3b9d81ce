package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/window"
)

// The error types of the API's error shape.
const (
	ErrorRefused         = "refused"         // a statement that is not a query: 400
	ErrorSQL             = "sql"             // SQL the engine cannot run: 422, at a line and column when known
	ErrorLimit           = "limit"           // a limit stopped the request: 503, 504, 413
	ErrorParameter       = "parameter"       // a parameter that cannot be used: 400
	ErrorNotFound        = "not_found"       // 404
	ErrorUnauthenticated = "unauthenticated" // 401
	ErrorForbidden       = "forbidden"       // 403
	ErrorLake            = "lake"            // a lake file that cannot be read: 500
	ErrorUnavailable     = "unavailable"     // the engine is closed (shutting down): 503
	ErrorInternal        = "internal"        // 500
)

// APIError is the body of every error answer: {"error": {...}}.
type APIError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	// Line and Column locate a SQL error in the statement given (1-based; 0: unknown).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Limit names the server setting to raise for a limit error, and the request parameter
	// where one lowers it.
	Limit string `json:"limit,omitempty"`
	// Status is the HTTP status (not in the body).
	Status int `json:"-"`
}

func (e *APIError) Error() string { return e.Message }

// paramError is a request parameter that cannot be used.
type paramError struct{ name, value, reason string }

func (e *paramError) Error() string {
	if e.value == "" {
		return fmt.Sprintf("%s: %s", e.name, e.reason)
	}
	return fmt.Sprintf("%s %q: %s", e.name, e.value, e.reason)
}

// notFound is a named thing the API does not have.
type notFound struct{ what string }

func (e *notFound) Error() string { return e.what }

// limitNames are the server's flags for the engine's limits.
var limitNames = map[string]string{
	engine.LimitConcurrent:     "--concurrency and --queue-wait of trailsql serve",
	engine.LimitTimeout:        "--timeout of trailsql serve (the request's timeout parameter may only lower it)",
	engine.LimitRows:           "--max-rows of trailsql serve",
	engine.LimitResultBytes:    "--max-result-bytes of trailsql serve",
	engine.LimitStatementBytes: "--max-statement-bytes of trailsql serve",
	engine.LimitMemory:         "--memory-limit of trailsql serve",
}

// apiError maps an error to its API error: the one place where typed errors become statuses.
func apiError(err error) *APIError {
	var (
		ae   *APIError
		le   *engine.LimitError
		ro   *engine.ReadOnlyError
		ate  *athena.Error
		qe   *engine.QueryError
		de   *engine.DamagedFileError
		pe   *paramError
		qpe  *questions.ParamError
		nf   *notFound
		we   *window.Error
		wee  *window.EmptyError
		inv  *principal.InvalidError
		pnf  *principal.NotFoundError
		amb  *principal.AmbiguousError
		uce  *engine.UnknownColumnError
		serr *json.SyntaxError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &le):
		e := &APIError{Type: ErrorLimit, Message: err.Error(), Limit: limitNames[le.Limit], Status: http.StatusServiceUnavailable}
		switch le.Limit {
		case engine.LimitTimeout:
			e.Status = http.StatusGatewayTimeout
		case engine.LimitRows, engine.LimitResultBytes, engine.LimitStatementBytes:
			e.Status = http.StatusRequestEntityTooLarge
		}
		return e
	case errors.As(err, &ro) || errors.Is(err, engine.ErrNotReadOnly):
		return &APIError{Type: ErrorRefused, Message: err.Error(), Status: http.StatusBadRequest}
	case errors.As(err, &ate):
		return &APIError{Type: ErrorSQL, Message: err.Error(), Line: ate.Line, Column: ate.Column, Status: http.StatusUnprocessableEntity}
	case errors.As(err, &qe), errors.As(err, &uce):
		line, col := excerptPosition(err.Error())
		return &APIError{Type: ErrorSQL, Message: err.Error(), Line: line, Column: col, Status: http.StatusUnprocessableEntity}
	case errors.As(err, &de):
		return &APIError{Type: ErrorLake, Message: err.Error() + " (run trailsql check on the lake)", Status: http.StatusInternalServerError}
	case errors.Is(err, engine.ErrClosed):
		return &APIError{Type: ErrorUnavailable, Message: err.Error(), Status: http.StatusServiceUnavailable}
	case errors.As(err, &nf):
		return &APIError{Type: ErrorNotFound, Message: err.Error(), Status: http.StatusNotFound}
	case errors.As(err, &pe), errors.As(err, &qpe), errors.As(err, &we), errors.As(err, &wee), errors.As(err, &inv), errors.As(err, &pnf), errors.As(err, &serr):
		return &APIError{Type: ErrorParameter, Message: err.Error(), Status: http.StatusBadRequest}
	case errors.As(err, &amb):
		return &APIError{Type: ErrorParameter, Message: amb.Text("the account parameter"), Status: http.StatusBadRequest}
	case errors.Is(err, context.Canceled):
		return &APIError{Type: ErrorUnavailable, Message: "the request was cancelled", Status: 499}
	}
	return &APIError{Type: ErrorInternal, Message: err.Error(), Status: http.StatusInternalServerError}
}

// excerptRE is DuckDB's excerpt of the statement an error is about: the line, then a caret under
// the column.
var excerptRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\nLINE (\d+): ([^\n]*)\n( *)\^`) })

// excerptPosition reads the line and column of DuckDB's excerpt, which the engine keeps only
// when it shows the user's own SQL; 0, 0 without one (or when DuckDB cut the line short).
func excerptPosition(msg string) (line, col int) {
	m := excerptRE().FindStringSubmatch(msg)
	if m == nil || strings.HasPrefix(m[2], "...") {
		return 0, 0
	}
	line, _ = strconv.Atoi(m[1])
	prefix := len("LINE ") + len(m[1]) + len(": ")
	if len(m[3]) < prefix {
		return 0, 0
	}
	return line, len(m[3]) - prefix + 1
}

// writeError answers with err's API error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apiError(err)
	if e.Status >= 500 && e.Type != ErrorLimit {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Message)
	}
	writeJSON(w, e.Status, map[string]*APIError{"error": e})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
