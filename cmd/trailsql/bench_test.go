package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The bench runs on a small corpus of each shape, with every anchor: the ingest and DuckDB's
// read_json load as child processes of the real binary, the questions over the lake and over
// DuckDB's table (which give the same rows), and the lake's floor.
func TestBenchShapesWithAnchors(t *testing.T) {
	bin := trailsqlBinary(t)
	for _, shape := range []string{"long", "dense", "dense-1"} {
		t.Run(shape, func(t *testing.T) {
			var out, errOut bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Self: bin}
			code := m.Run(context.Background(), []string{"bench", "--shape", shape, "--events", "3000", "--dir", t.TempDir(), "--repeat", "2"})
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			got := out.String()
			for _, want := range []string{
				"corpus " + shape + " (", "1 core:", "trailsql ingest:", "DuckDB read_json + unnest into its own table:",
				"ingest / gunzip on 1 core", "ingest / DuckDB read_json", "cores busy", "lake / gzip input",
				"random content: floor", "ledger: content hashes", "DuckDB native",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("no %q in the output:\n%s", want, got)
				}
			}
			// Both answer every question with the same number of rows.
			for _, line := range strings.Split(got, "\n") {
				if !strings.Contains(line, "DuckDB native") {
					continue
				}
				f := strings.Split(line, "|")
				ours, theirs := rowsField(f[0]), rowsField(f[1])
				if ours == "" || ours != theirs {
					t.Errorf("rows differ: %s", line)
				}
			}
		})
	}
}

// rowsField returns the number before " rows" in a part of a question's line.
func rowsField(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		if f == "rows" && i > 0 {
			return fields[i-1]
		}
	}
	return ""
}

func TestBenchRejectsUnknownShape(t *testing.T) {
	code, _, errOut := run(t, "", "bench", "--shape", "wide")
	if code == 0 || !strings.Contains(errOut, "long, dense, dense-1") {
		t.Fatalf("exit %d, stderr %q: want a failure naming the shapes", code, errOut)
	}
}
