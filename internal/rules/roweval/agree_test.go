package roweval_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/rules/pattern"
	"github.com/trailsql/trailsql/internal/rules/roweval"
	"github.com/trailsql/trailsql/internal/testshared"
)

// input is one expression the rules hand the engine, and where it came from.
type input struct {
	expr string
	cond bool   // a condition (compared with Holds as well as Text)
	from string // rule id and role
	kind rules.Kind
	// generated marks an expression of the generated test, which the engine may refuse.
	generated bool
}

// ruleInputs returns every expression of the built-in rules and of the Sigma rules of
// ../shared/datasets/sigma-aws-cloudtrail: conditions, titles' {{ }} parts, dedup and group_by.
func ruleInputs(t testing.TB, datasets string) []input {
	t.Helper()
	rs, errs := rules.Builtin()
	if len(errs) > 0 {
		t.Fatalf("built-in rules: %v", errs)
	}
	srs, _, _ := rules.LoadSigma(filepath.Join(datasets, "sigma-aws-cloudtrail"))
	if len(srs) == 0 {
		t.Fatal("no Sigma rules loaded")
	}
	var out []input
	for _, r := range append(rs, srs...) {
		out = append(out, input{expr: r.Condition, cond: true, from: r.ID + " condition", kind: r.Kind})
		for _, x := range titleExprs(r.Title) {
			out = append(out, input{expr: x, from: r.ID + " title", kind: r.Kind})
		}
		for _, x := range r.Dedup {
			out = append(out, input{expr: x, from: r.ID + " dedup", kind: r.Kind})
		}
		if r.Threshold != nil {
			for _, x := range r.Threshold.GroupBy {
				out = append(out, input{expr: x, from: r.ID + " group_by", kind: r.Kind})
			}
		}
	}
	return out
}

// patternInputs are the SQL of the CloudWatch patterns of internal/rules/pattern's tests: every
// part of the grammar (features.patterns) and the CIS controls, the shapes users' patterns take.
func patternInputs(t testing.TB) []input {
	t.Helper()
	var out []input
	for _, file := range []string{"../pattern/testdata/features.patterns", "../pattern/testdata/cis.patterns"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			name, text, _ := strings.Cut(line, " ")
			p, err := pattern.Parse(strings.TrimSpace(text))
			if err != nil {
				t.Fatalf("%s: %s: %v", file, name, err)
			}
			sql, err := p.SQL()
			if err != nil {
				continue // not expressible in SQL: such a pattern is no rule
			}
			out = append(out, input{expr: sql, cond: true, from: "pattern " + name, kind: patternFeatures})
		}
	}
	return out
}

// patternFeatures marks the inputs of patternInputs.
const patternFeatures rules.Kind = "pattern-features"

// titleExprs are the expressions of a title's {{ }} parts.
func titleExprs(title string) []string {
	var out []string
	for {
		i := strings.Index(title, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(title[i:], "}}")
		if j < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(title[i+2:i+j]))
		title = title[i+j+2:]
	}
}

// datasetLake ingests every event of ../shared/datasets into a lake and returns the engine's
// query function, and the lake's rows decoded from its Parquet files, each with its partition
// and file.
func datasetLake(t testing.TB) (answer.QueryFunc, []lakeRow, string) {
	t.Helper()
	datasets := testshared.Dir(t, "datasets")
	root := filepath.Join(t.TempDir(), "lake")
	st, err := ingest.Run(context.Background(), ingest.Options{Lake: root}, []string{datasets})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ingest reported %d problems (made-up regions and account ids, events without a time: the events are stored)", len(st.Problems))
	e, err := local.Open(context.Background(), engine.Options{Lake: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	var rows []lakeRow
	for _, f := range snap.Files {
		fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewGenericReader[cloudtrail.Record](fh)
		buf := make([]cloudtrail.Record, 64)
		for {
			n, err := r.Read(buf)
			for i := 0; i < n; i++ {
				rec := buf[i]
				rows = append(rows, lakeRow{row: roweval.Row{Rec: &rec, Part: f.Partition}, file: f.Path})
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		fh.Close()
	}
	if len(rows) == 0 {
		t.Fatal("the lake holds no rows")
	}
	return local.Engine(e), rows, root
}

type lakeRow struct {
	row  roweval.Row
	file string
}

func (r *lakeRow) key() string {
	id := "\x00"
	if r.row.Rec.EventID != nil {
		id = *r.row.Rec.EventID
	}
	return r.file + "|" + id
}

type compiledInput struct {
	input
	e *roweval.Expr
}

// TestAgreesWithEngine is the evaluator's specification: for every expression the rules hand the
// engine that Compile accepts, on every row of a lake holding every event of ../shared/datasets,
// Holds agrees with the engine's WHERE and Text with CAST((expr) AS VARCHAR). Rows are matched
// by file and eventid; rows sharing both are compared as a multiset.
func TestAgreesWithEngine(t *testing.T) {
	datasets := testshared.Dir(t, "datasets")
	query, rows, root := datasetLake(t)
	inputs := append(ruleInputs(t, datasets), patternInputs(t)...)

	seen := map[string]bool{}
	var exprs []compiledInput
	compiled := map[rules.Kind][2]int{}
	for _, in := range inputs {
		if seen[in.expr+fmt.Sprint(in.cond)] {
			continue
		}
		seen[in.expr+fmt.Sprint(in.cond)] = true
		c := compiled[in.kind]
		c[1]++
		e, err := roweval.Compile(in.expr)
		if err != nil {
			if !errors.Is(err, roweval.ErrUnsupported) {
				t.Errorf("%s: %v", in.from, err)
			}
			t.Logf("unsupported: %s: %v", in.from, err)
			compiled[in.kind] = c
			continue
		}
		c[0]++
		compiled[in.kind] = c
		exprs = append(exprs, compiledInput{in, e})
	}
	for _, k := range []rules.Kind{rules.SQL, rules.Pattern, rules.Sigma, patternFeatures} {
		t.Logf("%-8s %d of %d distinct expressions compile", k, compiled[k][0], compiled[k][1])
	}
	if c := compiled[rules.SQL]; c[0] != c[1] {
		t.Errorf("built-in SQL rules: %d of %d expressions compile, want all", c[0], c[1])
	}
	if c := compiled[rules.Pattern]; c[0] != c[1] {
		t.Errorf("built-in pattern rules: %d of %d expressions compile, want all", c[0], c[1])
	}
	if c := compiled[patternFeatures]; c[0] != c[1] {
		t.Errorf("the CloudWatch grammar's test patterns: %d of %d compile, want all", c[0], c[1])
	}
	if c := compiled[rules.Sigma]; c[0]*10 < c[1]*9 {
		t.Errorf("Sigma rules: %d of %d expressions compile, want 90%%", c[0], c[1])
	}

	n := compareAll(t, query, rows, root, exprs)
	t.Logf("%d rows, %d expressions compared on every row (%d comparisons, %d where a condition holds)", len(rows), len(exprs), n.checked, n.fired)
}

// compareAll evaluates exprs over every row in Go and in the engine, and reports each
// difference; it returns how many comparisons it made and how many found a condition true.
func compareAll(t *testing.T, query answer.QueryFunc, rows []lakeRow, root string, exprs []compiledInput) tally {
	t.Helper()
	// The Go side, by key.
	byKey := map[string][]*lakeRow{}
	for i := range rows {
		byKey[rows[i].key()] = append(byKey[rows[i].key()], &rows[i])
	}
	rootAbs, _ := filepath.EvalSymlinks(root)
	var n tally
	const batch = 30
	for start := 0; start < len(exprs); start += batch {
		compareBatch(t, query, byKey, rootAbs, exprs[start:min(start+batch, len(exprs))], len(rows), &n)
	}
	return n
}

// tally counts comparisons: made, those where a condition held, expressions the engine refused.
type tally struct{ checked, fired, refused int }

// compareBatch compares a few expressions in one statement; when the engine refuses it, each
// alone.
func compareBatch(t *testing.T, query answer.QueryFunc, byKey map[string][]*lakeRow, rootAbs string, part []compiledInput, nrows int, n *tally) {
	t.Helper()
	sel := []string{`"$path"`, "eventid"}
	for _, c := range part {
		sel = append(sel, "("+c.expr+")", "CAST((\n"+c.expr+"\n) AS VARCHAR)")
	}
	res, err := query(context.Background(), "SELECT "+strings.Join(sel, ",\n")+"\nFROM cloudtrail_logs")
	if err != nil {
		if len(part) == 1 {
			// The engine refuses it (a type it does not cast, a failure on some row): nothing
			// to compare. Rule expressions have passed the engine's validation, so not theirs.
			if part[0].cond && !part[0].generated {
				t.Errorf("engine: %s: %v", part[0].from, err)
			}
			t.Logf("the engine refuses %s: %s: %v", part[0].from, oneLine(part[0].expr), err)
			n.refused++
			return
		}
		for _, c := range part {
			compareBatch(t, query, byKey, rootAbs, []compiledInput{c}, nrows, n)
		}
		return
	}
	if len(res.Rows) != nrows {
		t.Fatalf("the engine reads %d rows, the lake's files hold %d", len(res.Rows), nrows)
	}
	engineBy := map[string][][]any{}
	for _, r := range res.Rows {
		p := answer.String(r[0])
		if a, err := filepath.EvalSymlinks(p); err == nil {
			p = a
		}
		rel, err := filepath.Rel(rootAbs, p)
		if err != nil {
			t.Fatal(err)
		}
		id := "\x00"
		if r[1] != nil {
			id = answer.String(r[1])
		}
		k := filepath.ToSlash(rel) + "|" + id
		engineBy[k] = append(engineBy[k], r[2:])
	}
	for k, ers := range engineBy {
		grs := byKey[k]
		if len(grs) != len(ers) {
			t.Fatalf("%s: the engine has %d rows, the files %d", k, len(ers), len(grs))
		}
		for i, c := range part {
			var want, got []string
			for _, er := range ers {
				want = append(want, engineResult(c.cond, er[2*i], er[2*i+1]))
			}
			for _, gr := range grs {
				got = append(got, goResult(c, &gr.row))
			}
			sort.Strings(want)
			sort.Strings(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s: %s\n  row %s\n  engine %q\n  go     %q", c.from, oneLine(c.expr), k, want, got)
			}
			n.checked += len(ers)
			for _, w := range want {
				if strings.HasPrefix(w, "holds=true") {
					n.fired++
				}
			}
		}
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// engineResult renders the engine's value of a condition (when cond) and its text.
func engineResult(cond bool, b, text any) string {
	var sb strings.Builder
	if cond {
		v, ok := b.(bool)
		fmt.Fprintf(&sb, "holds=%v ", ok && v)
	}
	if text == nil {
		sb.WriteString("text=NULL")
	} else {
		fmt.Fprintf(&sb, "text=%q", answer.String(text))
	}
	return sb.String()
}

func goResult(c compiledInput, r *roweval.Row) string {
	var sb strings.Builder
	if c.cond {
		h, err := c.e.Holds(r)
		if err != nil {
			return "error: " + err.Error()
		}
		fmt.Fprintf(&sb, "holds=%v ", h)
	}
	s, ok, err := c.e.Text(r)
	switch {
	case err != nil:
		return "error: " + err.Error()
	case !ok:
		sb.WriteString("text=NULL")
	default:
		fmt.Fprintf(&sb, "text=%q", s)
	}
	return sb.String()
}
