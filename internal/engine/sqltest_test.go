package engine

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/render"
)

var update = flag.Bool("update", false, "rewrite the expected results in testdata/*.test")

// The SQL test language (in the spirit of Prometheus' promqltest). A file is a sequence of
// blocks separated by blank lines:
//
//	# a comment
//	events                      CloudTrail events, one JSON object per line, added to the lake
//	{"eventName": …}
//
//	query [unordered]           Athena SQL, then "----" and the expected rows, one per line,
//	SELECT …                    values separated by " | ", NULL as NULL; "unordered" compares
//	----                        the rows as sets
//	a | 1
//
//	query error                 the query must fail; the text after "----" must be in the error
//	SELECT …
//	----
//	line 1:8
//
// Expected values come from Trino's documented semantics; each file says where they are from.
// `go test -run TestSQL -update` rewrites the expected rows from the actual ones (review the diff).
func TestSQL(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) { runSQLTest(t, f) })
	}
}

type sqlBlock struct {
	kind     string // events, query
	args     string // unordered, error
	line     int
	body     []string
	expected []string
	hasExp   bool
}

func parseSQLTest(t *testing.T, path string) []*sqlBlock {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*sqlBlock
	var cur *sqlBlock
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			cur = nil
		case cur == nil && strings.HasPrefix(line, "#"):
		case cur == nil:
			kind, args, _ := strings.Cut(strings.TrimSpace(line), " ")
			if kind != "events" && kind != "query" {
				t.Fatalf("%s:%d: unknown block %q (want events or query)", path, n, kind)
			}
			cur = &sqlBlock{kind: kind, args: args, line: n}
			blocks = append(blocks, cur)
		case line == "----":
			cur.hasExp = true
		case cur.hasExp:
			cur.expected = append(cur.expected, line)
		default:
			cur.body = append(cur.body, line)
		}
	}
	return blocks
}

func runSQLTest(t *testing.T, path string) {
	ctx := context.Background()
	blocks := parseSQLTest(t, path)
	root := t.TempDir()
	var e *Engine
	changed := false
	for _, b := range blocks {
		switch b.kind {
		case "events":
			addEvents(t, root, path, b)
			e = nil
		case "query":
			if e == nil {
				e = openTestEngine(t, root, false)
			}
			sql := strings.Join(b.body, "\n")
			res, err := e.Query(ctx, sql)
			if b.args == "error" {
				want := strings.Join(b.expected, "\n")
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s:%d: want an error containing %q, got %v", path, b.line, want, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s:%d: %v", path, b.line, err)
				continue
			}
			got := make([]string, len(res.Rows))
			for i, r := range res.Rows {
				vals := make([]string, len(r))
				for j, v := range r {
					if v == nil {
						vals[j] = "NULL"
					} else {
						vals[j] = render.Text(v)
					}
				}
				got[i] = strings.Join(vals, " | ")
			}
			want := append([]string(nil), b.expected...)
			if b.args == "unordered" {
				sort.Strings(got)
				sort.Strings(want)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				if *update {
					b.expected, changed = got, true
					continue
				}
				t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, b.line, sql, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	if changed {
		writeSQLTest(t, path, blocks)
	}
}

func addEvents(t *testing.T, root, path string, b *sqlBlock) {
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := cloudtrail.ReadEvents(strings.NewReader(strings.Join(b.body, "\n")), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	})
	if err != nil || res.Fatal != nil || len(res.Errors) > 0 {
		t.Fatalf("%s:%d: events: %v %v %v", path, b.line, err, res.Fatal, res.Errors)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// writeSQLTest rewrites a test file with updated expectations, keeping comments and layout of
// the blocks.
func writeSQLTest(t *testing.T, path string, blocks []*sqlBlock) {
	data, _ := os.ReadFile(path)
	lines := strings.Split(string(data), "\n")
	var out []string
	bi := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if bi < len(blocks) && i+1 == blocks[bi].line {
			b := blocks[bi]
			bi++
			j := i + 1
			for ; j < len(lines) && lines[j] != "----" && strings.TrimSpace(lines[j]) != ""; j++ {
				out = append(out, lines[j])
			}
			if b.kind == "query" {
				out = append(out, "----")
				out = append(out, b.expected...)
				for j < len(lines) && strings.TrimSpace(lines[j]) != "" {
					j++
				}
			}
			i = j - 1
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Println("updated", path)
}
