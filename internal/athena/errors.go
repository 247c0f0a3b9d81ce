package athena

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error reports Athena SQL that cannot be translated. Line and Column are 1-based and point into
// the user's original SQL; Msg is written in Athena's terms.
type Error struct {
	Line, Column int
	Msg          string

	cause error // the DuckDB error MapError translated, if any
}

// Error renders the error as Athena does: "line L:C: message".
func (e *Error) Error() string {
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Column, e.Msg)
}

// errorAt builds an *Error for the byte offset off of sql.
func errorAt(sql string, off int, format string, args ...any) *Error {
	line, col := lineCol(sql, off)
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// lineCol converts a byte offset of sql into a 1-based line and column (columns count runes).
func lineCol(sql string, off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(sql) {
		off = len(sql)
	}
	before := sql[:off]
	line = strings.Count(before, "\n") + 1
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		before = before[nl+1:]
	}
	return line, utf8.RuneCountInString(before) + 1
}
