package athena

import (
	"strconv"
	"strings"
)

// MapError rewrites a DuckDB error about t.SQL so that it points at the user's original SQL.
// DuckDB marks the position as a "LINE n: <text>" line followed by a caret line; when that is
// present the result is an *Error at the matching original line and column, with DuckDB's first
// line as the message and err as its cause. Other errors are returned unchanged.
func (t *Translation) MapError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m, ok := trinoFailure(msg); ok {
		return &RuntimeError{Msg: m, cause: err}
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, "LINE ")
		if !ok || i+1 >= len(lines) {
			continue
		}
		num, text, ok := strings.Cut(rest, ": ")
		n, convErr := strconv.Atoi(num)
		if !ok || convErr != nil || n < 1 {
			continue
		}
		caret := strings.IndexByte(lines[i+1], '^')
		prefix := len("LINE ") + len(num) + len(": ")
		if caret < prefix {
			continue
		}
		col := caret - prefix // byte offset of the caret inside text
		sqlLines := strings.Split(t.SQL, "\n")
		if n > len(sqlLines) {
			continue
		}
		// DuckDB may cut long lines and mark the cut with "...": find the shown window.
		window := strings.TrimPrefix(text, "...")
		col -= len(text) - len(window)
		window = strings.TrimSuffix(window, "...")
		start := strings.Index(sqlLines[n-1], window)
		if start < 0 || col < 0 {
			continue
		}
		off := start + col
		for _, sl := range sqlLines[:n-1] {
			off += len(sl) + 1
		}
		line, column := t.Position(off)
		first := t.trinoMessage(strings.TrimSpace(lines[0]))
		return &Error{Line: line, Column: column, Msg: first, cause: err}
	}
	if m := t.trinoMessage(msg); m != msg {
		return &RuntimeError{Msg: m, cause: err}
	}
	return err
}

// Unwrap returns the error e was made from, if any.
func (e *Error) Unwrap() error { return e.cause }
