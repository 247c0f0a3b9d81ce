package render

import (
	"bytes"
	"encoding/csv"
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
