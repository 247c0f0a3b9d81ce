package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCSVKeepsLoneNullRows(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "csv", []string{"arn"}, [][]any{{"a"}, {nil}, {""}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("%d rows (%v): %q", len(rows), err, b.String())
	}
}

func TestText(t *testing.T) {
	cases := map[string]any{
		"2024-03-05 07:08:09.500 UTC": time.Date(2024, 3, 5, 7, 8, 9, 5e8, time.UTC),
		"[a, null]":                   []any{"a", nil},
		"{a=1, b=x}":                  map[string]any{"b": "x", "a": int64(1)},
		"1.5":                         1.5,
		"":                            nil,
	}
	for want, v := range cases {
		if got := Text(v); got != want {
			t.Errorf("Text(%#v) = %q, want %q", v, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, f, []string{"a", "b"}, [][]any{{"x|y", int64(2)}}); err != nil || !strings.Contains(b.String(), "2") {
			t.Errorf("%s: %v %q", f, err, b.String())
		}
	}
	if err := Write(&bytes.Buffer{}, "xml", nil, nil); err == nil {
		t.Error("unknown format accepted")
	}
}

// Control characters from attacker-controlled fields (userAgent, errorMessage) never reach a
// terminal raw: they are escaped visibly in tables, Markdown and CSV, and JSON escapes them too.
func TestControlCharactersEscaped(t *testing.T) {
	evil := "ua\x1b[31mred\x07\r\x7f\u009b2J\xff tab\tnewline\nend é€😀"
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, f, []string{"useragent\x1b"}, [][]any{{evil}, {[]any{evil}}, {map[string]any{"k": evil}}}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, raw := range []string{"\x1b", "\x07", "\r", "\x7f", "\u009b", "\xff"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s: %q printed raw in %q", f, raw, out)
			}
		}
		if !strings.Contains(out, "é€😀") {
			t.Errorf("%s: UTF-8 text changed: %q", f, out)
		}
		if f == "table" || f == "csv" || f == "markdown" {
			for _, esc := range []string{`\x1b[31mred\x07\r\x7f\u009b2J\xff`} {
				if !strings.Contains(out, esc) {
					t.Errorf("%s: %q not in %q", f, esc, out)
				}
			}
		}
	}
	// CSV keeps its newlines and tabs, inside quotes, and reads back.
	var b bytes.Buffer
	Write(&b, "csv", []string{"a"}, [][]any{{"x\ty\nz"}})
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || rows[1][0] != "x\ty\nz" {
		t.Fatalf("csv: %q %v", rows, err)
	}
	// JSON values stay the same values.
	b.Reset()
	Write(&b, "jsonl", []string{"a"}, [][]any{{evil}})
	var v map[string]string
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || v["a"] != strings.ToValidUTF8(evil, "\ufffd") {
		t.Fatalf("jsonl: %q %v", b.String(), err)
	}
}

// A Stream writes the same bytes as Write; a table shows at most MaxTableRows rows and says how
// many there were.
func TestStream(t *testing.T) {
	rows := [][]any{{"a", int64(1)}, {"b", nil}}
	for _, f := range Formats {
		var want, got bytes.Buffer
		Write(&want, f, []string{"x", "y"}, rows)
		s, err := NewStream(&got, f)
		if err != nil {
			t.Fatal(err)
		}
		s.Begin([]string{"x", "y"}, nil)
		for _, r := range rows {
			s.Row(r)
		}
		if err := s.Close(); err != nil || got.String() != want.String() {
			t.Errorf("%s: stream %q, Write %q (%v)", f, got.String(), want.String(), err)
		}
	}
	var b bytes.Buffer
	if err := Write(&b, "json", []string{"x"}, [][]any{{int64(1)}}); err != nil || b.String() != "[\n  {\n    \"x\": 1\n  }\n]\n" {
		t.Errorf("json: %q", b.String())
	}
	b.Reset()
	Write(&b, "json", []string{"x"}, nil)
	if b.String() != "[]\n" {
		t.Errorf("empty json: %q", b.String())
	}
	b.Reset()
	s, _ := NewStream(&b, "table")
	s.Begin([]string{"x"}, nil)
	for i := range MaxTableRows + 5 {
		s.Row([]any{int64(i)})
	}
	s.Close()
	if !strings.Contains(b.String(), fmt.Sprintf("(%d of %d rows; --format csv or jsonl prints them all)", MaxTableRows, MaxTableRows+5)) {
		t.Errorf("table footer: %q", b.String()[len(b.String())-100:])
	}
}

// A column's type says how its values print (trino.io/docs/current/language/types.html).
func TestTypedText(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		typ  string
		v    any
		want string
	}{
		{"DATE", day, "2026-12-01"},
		{"TIMESTAMP", day, "2026-12-01 00:00:00.000"},
		{"TIMESTAMPTZ", day, "2026-12-01 00:00:00.000 UTC"},
		{"TIME", day.Add(90 * time.Minute), "01:30:00.000"},
		{`STRUCT("z" DATE, "a ""q""" INTEGER)`, map[string]any{"a \"q\"": int64(1), "z": day}, `{z=2026-12-01, a "q"=1}`},
		{`STRUCT("b" STRUCT("y" INTEGER, "x" INTEGER)[])[]`, []any{map[string]any{"b": []any{map[string]any{"x": int64(1), "y": int64(2)}, nil}}}, "[{b=[{y=2, x=1}, null]}]"},
		{"MAP(VARCHAR, DATE)", map[string]any{"k": day}, "{k=2026-12-01}"},
		{"DATE[3]", []any{day}, "[2026-12-01]"},
		{"DECIMAL(4,2)", "1.10", "1.10"},
		{"STRUCT(", map[string]any{"b": 1, "a": 2}, "{a=2, b=1}"}, // unreadable: as untyped
	}
	for _, c := range cases {
		if got := textOf(c.v, parseType(c.typ)); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.typ, c.v, got, c.want)
		}
	}
}

// plainPrefix, eight bytes at a time, stops where a byte at a time would: at the first byte that
// is not printable ASCII, whatever the byte and its place, and whatever follows it.
func TestPlainPrefix(t *testing.T) {
	byteAtATime := func(s string) int {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				return i
			}
		}
		return len(s)
	}
	for n := range 20 {
		base := []byte(strings.Repeat("~ Az09", 4)[:n])
		for at := range n {
			for c := range 256 {
				for _, after := range []byte{' ', 0x00, 0xff, 0x7f, 0x1f} {
					b := slices.Clone(base)
					b[at] = byte(c)
					if at+1 < n {
						b[at+1] = after
					}
					// plainPrefix may stop at the start of the word holding the byte; what
					// escapeControl does from there is byte at a time.
					got, want := plainPrefix(string(b)), byteAtATime(string(b))
					if got > want || want-got >= 8 || got%8 != 0 && got != len(b) {
						t.Fatalf("%q: plainPrefix %d, the first byte not printable is at %d", b, got, want)
					}
				}
			}
		}
	}
}

// A row's *string values print as their strings (nil as NULL) in every format, and a table keeps
// what they pointed to when the row was given: the caller may reuse the row and the strings.
func TestStreamStringPointers(t *testing.T) {
	rows := [][]any{{"a\x1b", "1", nil}, {"b", "2,3", "x"}, {"", "c\nd", "y"}}
	for _, f := range Formats {
		var want, got bytes.Buffer
		if err := Write(&want, f, []string{"p", "q", "r"}, rows); err != nil {
			t.Fatal(err)
		}
		s, err := NewStream(&got, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Begin([]string{"p", "q", "r"}, nil); err != nil {
			t.Fatal(err)
		}
		var p, q, r string
		row := make([]any, 3)
		for _, in := range rows {
			p, q = in[0].(string), in[1].(string)
			row[0], row[1], row[2] = &p, &q, (*string)(nil)
			if in[2] != nil {
				r = in[2].(string)
				row[2] = &r
			}
			if err := s.Row(row); err != nil {
				t.Fatal(err)
			}
		}
		p, q, r = "changed", "changed", "changed"
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: with *string values\n%s\nwant\n%s", f, got.String(), want.String())
		}
	}
}
