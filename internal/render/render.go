// Package render writes query results as a terminal table, CSV, JSON, JSON lines or Markdown.
// Values print the way Athena's console prints them: timestamps as "2024-01-02 03:04:05.000 UTC",
// rows and maps as {k=v, …}, arrays as [a, b].
package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Formats are the output formats.
var Formats = []string{"table", "csv", "json", "jsonl", "markdown"}

// FormatError is an output format that is not one of Formats.
type FormatError struct{ Format string }

func (e *FormatError) Error() string {
	return fmt.Sprintf("unknown format %q (use one of %s)", e.Format, strings.Join(Formats, ", "))
}

// Choose decides a result's format before anything runs: format when given (one of Formats,
// else a *FormatError), else a table for a person at a terminal and CSV for a pipe or a file.
func Choose(format string, terminal bool) (string, error) {
	switch {
	case format == "" && terminal:
		return "table", nil
	case format == "":
		return "csv", nil
	case !slices.Contains(Formats, format):
		return "", &FormatError{format}
	}
	return format, nil
}

// MaxTableRows is how many rows a table or Markdown output shows: both are laid out once all
// their rows are known, so they are held in memory. The rows past it are counted, and the
// output says how many there were and how to get them all.
const MaxTableRows = 10000

// Write renders columns and rows in format to w.
func Write(w io.Writer, format string, columns []string, rows [][]any) error {
	return WriteTotal(w, format, columns, rows, len(rows))
}

// WriteTotal is Write for the first rows of a result of total rows (a table says so).
func WriteTotal(w io.Writer, format string, columns []string, rows [][]any, total int) error {
	s, err := NewStream(w, format)
	if err != nil {
		return err
	}
	if err := s.Begin(columns, nil); err != nil {
		return err
	}
	for _, r := range rows {
		if err := s.Row(r); err != nil {
			return err
		}
	}
	s.total = max(total, len(rows))
	return s.Close()
}

// Stream renders rows as they come: CSV, JSON and JSON lines are written row by row; a table
// or Markdown holds its first MaxTableRows rows and is written by Close. It has the methods of
// engine.Sink.
type Stream struct {
	w       io.Writer
	format  string
	columns []string
	types   []*colType // nil where unknown
	csv     *csv.Writer
	rows    [][]any  // table, markdown
	rec     []string // csv: a row's fields, reused
	total   int      // rows seen
	begun   bool
	width   int // table: the terminal's width, 0 for any (see SetWidth)
}

// NewStream returns a Stream writing format to w.
func NewStream(w io.Writer, format string) (*Stream, error) {
	if !slices.Contains(Formats, format) {
		return nil, &FormatError{format}
	}
	return &Stream{w: w, format: format}, nil
}

// Begin starts the output with the columns' names. types, the columns' DuckDB type names (nil:
// unknown), say how values print: a DATE as a date, a ROW with its fields in order.
func (s *Stream) Begin(columns, types []string) error {
	s.columns, s.begun = columns, true
	s.types = make([]*colType, len(columns))
	for i := range min(len(columns), len(types)) {
		s.types[i] = parseType(types[i])
	}
	switch s.format {
	case "csv":
		s.csv = csv.NewWriter(s.w)
		hdr := make([]string, len(columns))
		for i, c := range columns {
			hdr[i] = escapeControl(c, "\t\n")
		}
		return s.csv.Write(hdr)
	case "json":
		_, err := io.WriteString(s.w, "[")
		return err
	}
	return nil
}

// Row writes one row, or holds it for a table.
func (s *Stream) Row(r []any) error {
	s.total++
	switch s.format {
	case "table", "markdown":
		if len(s.rows) < MaxTableRows {
			// A copy: the caller may reuse r, and what its *string values point to.
			row := slices.Clone(r)
			for i, v := range row {
				if p, ok := v.(*string); ok {
					row[i] = nil
					if p != nil {
						row[i] = *p
					}
				}
			}
			s.rows = append(s.rows, row)
		}
		return nil
	case "csv":
		rec := slices.Grow(s.rec[:0], len(r))[:len(r)] // csv.Writer keeps none of it
		s.rec = rec
		for i, v := range r {
			rec[i] = escapeControl(s.text(i, v), "\t\n")
		}
		if len(rec) == 1 && rec[0] == "" {
			// A lone empty field would be an empty line, which CSV readers skip: the row
			// would vanish. Quote it.
			s.csv.Flush()
			_, err := io.WriteString(s.w, "\"\"\n")
			return err
		}
		return s.csv.Write(rec)
	}
	b := []byte{'{'}
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(s.columns[i])
		b = append(b, k...)
		b = append(b, ':')
		vb, err := json.Marshal(s.json(i, v))
		if err != nil {
			return err
		}
		b = append(b, vb...)
	}
	b = escapeJSONControl(append(b, '}'))
	if s.format == "jsonl" {
		_, err := fmt.Fprintf(s.w, "%s\n", b)
		return err
	}
	// As json.Encoder with SetIndent("", "  ") writes an array of objects.
	var ind bytes.Buffer
	json.Indent(&ind, b, "  ", "  ")
	sep := ",\n  "
	if s.total == 1 {
		sep = "\n  "
	}
	_, err := fmt.Fprintf(s.w, "%s%s", sep, ind.Bytes())
	return err
}

// Close ends the output: the table, the closing bracket, the last CSV bytes.
func (s *Stream) Close() error {
	if !s.begun {
		return nil
	}
	switch s.format {
	case "csv":
		s.csv.Flush()
		return s.csv.Error()
	case "json":
		end := "\n]\n"
		if s.total == 0 {
			end = "]\n"
		}
		_, err := io.WriteString(s.w, end)
		return err
	case "jsonl":
		return nil
	}
	t := table.NewWriter()
	t.SetOutputMirror(s.w)
	hdr := make([]string, len(s.columns))
	for i, c := range s.columns {
		hdr[i] = escapeControl(c, "")
	}
	cells := make([][]string, len(s.rows))
	for j, r := range s.rows {
		row := make([]string, len(r))
		for i, v := range r {
			cell := s.text(i, v)
			if v == nil {
				cell = "NULL"
			}
			if s.format == "markdown" {
				cell = strings.ReplaceAll(strings.ReplaceAll(cell, "|", `\|`), "\n", " ")
				row[i] = escapeControl(cell, "\t")
			} else {
				row[i] = escapeControl(cell, "\n")
			}
		}
		cells[j] = row
	}
	cut := s.format == "table" && fitColumns(hdr, cells, s.width)
	t.AppendHeader(tableRow(hdr), table.RowConfig{AutoMerge: false})
	for _, r := range cells {
		t.AppendRow(tableRow(r))
	}
	t.Style().Format.Header = text.FormatDefault
	if s.format == "markdown" {
		t.RenderMarkdown()
		if s.total > len(s.rows) {
			fmt.Fprintf(s.w, "\n(%d of %d rows; --format csv or jsonl prints them all)\n", len(s.rows), s.total)
		}
		return nil
	}
	t.SetStyle(table.StyleLight)
	t.Style().Format.Header = text.FormatDefault
	t.Render()
	if s.total > len(s.rows) {
		more := ""
		if len(s.rows) == MaxTableRows {
			more = "; --format csv or jsonl prints them all"
		}
		fmt.Fprintf(s.w, "(%d of %d rows%s)\n", len(s.rows), s.total, more)
	} else {
		fmt.Fprintf(s.w, "(%d row%s)\n", len(s.rows), plural(len(s.rows)))
	}
	if cut {
		fmt.Fprintf(s.w, "(columns cut with … to fit the terminal's %d columns; --wide shows them whole, --format csv or json never cuts)\n", s.width)
	}
	return nil
}

// text renders the value of column i.
func (s *Stream) text(i int, v any) string {
	if i < len(s.types) {
		return textOf(v, s.types[i])
	}
	return Text(v)
}

// json converts the value of column i for encoding/json.
func (s *Stream) json(i int, v any) any {
	if i < len(s.types) {
		return jsonOf(v, s.types[i])
	}
	return JSONValue(v)
}

func tableRow(cells []string) table.Row {
	row := make(table.Row, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	return row
}

// plainPrefix is the length of a prefix of s that is printable ASCII (0x20 to 0x7e), read eight
// bytes at a time: most of what is printed is, and a byte at a time took a fifth of writing a
// backtest's alerts as CSV.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte below 0x20 sets its high bit in (x - 0x20…) &^ x; one of 0x7f or more, in
		// (x + 1…) | x. (A borrow or carry crosses a byte only from one that set it already.)
		if ((x-0x20*ones)&^x|(x+ones)|x)&highs != 0 {
			break
		}
	}
	return i
}

// escapeControl makes s safe to print on a terminal: control characters (C0 but those in keep,
// DEL, C1: ESC, BEL, CR, CSI…) and bytes that are not UTF-8 are written as visible escapes
// (\x1b, \r, \u009b, \xff). Valid UTF-8 text is kept as it is. A value such as a userAgent or
// an errorMessage is whatever the caller of an AWS API sent.
func escapeControl(s, keep string) string {
	i := plainPrefix(s)
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && strings.IndexByte(keep, c) < 0 || c >= 0x7f {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && !strings.ContainsRune(keep, r):
			b.WriteString(`\r`)
		case r < 0x20 && !strings.ContainsRune(keep, r), r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeJSONControl escapes DEL and the C1 controls in JSON text, which encoding/json leaves as
// they are (it escapes C0 and replaces bytes that are not UTF-8): the same JSON value.
func escapeJSONControl(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r == 0x7f || r >= 0x80 && r <= 0x9f }) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Text renders one value as Athena prints it; NULL is the empty string.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *string: // a string the caller did not box (see Stream.Row)
		if x == nil {
			return ""
		}
		return *x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000 UTC")
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case *big.Int:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = textOrNull(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + textOrNull(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func textOrNull(v any) string {
	if v == nil {
		return "null"
	}
	return Text(v)
}

// JSONValue converts a result value (as the engine returns it) into something encoding/json writes naturally.
func JSONValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *big.Int:
		return json.Number(x.String())
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = JSONValue(e)
		}
		return out
	}
	return v
}
