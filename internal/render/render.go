// Package render writes query results as a terminal table, CSV, JSON, JSON lines or Markdown.
// Values print the way Athena's console prints them: timestamps as "2024-01-02 03:04:05.000 UTC",
// rows and maps as {k=v, …}, arrays as [a, b].
package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Formats are the output formats.
var Formats = []string{"table", "csv", "json", "jsonl", "markdown"}

// Write renders columns and rows in format to w.
func Write(w io.Writer, format string, columns []string, rows [][]any) error {
	return WriteTotal(w, format, columns, rows, len(rows))
}

// WriteTotal is Write for the first rows of a result of total rows (a table says so).
func WriteTotal(w io.Writer, format string, columns []string, rows [][]any, total int) error {
	switch format {
	case "table", "markdown":
		t := table.NewWriter()
		t.SetOutputMirror(w)
		hdr := make(table.Row, len(columns))
		for i, c := range columns {
			hdr[i] = c
		}
		t.AppendHeader(hdr, table.RowConfig{AutoMerge: false})
		for _, r := range rows {
			row := make(table.Row, len(r))
			for i, v := range r {
				s := Text(v)
				if v == nil {
					s = "NULL"
				}
				if format == "markdown" {
					s = strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
				}
				row[i] = s
			}
			t.AppendRow(row)
		}
		t.Style().Format.Header = text.FormatDefault
		if format == "markdown" {
			t.RenderMarkdown()
		} else {
			t.SetStyle(table.StyleLight)
			t.Style().Format.Header = text.FormatDefault
			t.Render()
			if total > len(rows) {
				fmt.Fprintf(w, "(%d of %d rows)\n", len(rows), total)
			} else {
				fmt.Fprintf(w, "(%d row%s)\n", len(rows), plural(len(rows)))
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(columns); err != nil {
			return err
		}
		rec := make([]string, len(columns))
		for _, r := range rows {
			for i, v := range r {
				rec[i] = Text(v)
			}
			if len(rec) == 1 && rec[0] == "" {
				// A lone empty field would be an empty line, which CSV readers skip: the row
				// would vanish. Quote it.
				cw.Flush()
				if _, err := io.WriteString(w, "\"\"\n"); err != nil {
					return err
				}
				continue
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "json", "jsonl":
		objs := make([]json.RawMessage, 0, len(rows))
		for _, r := range rows {
			b := []byte{'{'}
			for i, v := range r {
				if i > 0 {
					b = append(b, ',')
				}
				k, _ := json.Marshal(columns[i])
				b = append(b, k...)
				b = append(b, ':')
				vb, err := json.Marshal(JSONValue(v))
				if err != nil {
					return err
				}
				b = append(b, vb...)
			}
			objs = append(objs, append(b, '}'))
		}
		if format == "jsonl" {
			for _, o := range objs {
				if _, err := fmt.Fprintf(w, "%s\n", o); err != nil {
					return err
				}
			}
			return nil
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	}
	return fmt.Errorf("unknown format %q (use one of %s)", format, strings.Join(Formats, ", "))
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
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
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
