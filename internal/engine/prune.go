package engine

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// selectFiles returns the snapshot files a statement can need: all of them, unless Bounds finds
// restrictions on every row the statement reads.
func (s *session) selectFiles(ctx context.Context, stmt string, args []any) ([]lake.File, error) {
	all := s.g.snap.Files
	bounds := s.opt.Dialect.Bounds
	if bounds == nil {
		return all, nil
	}
	// The bounds come from Go code over the user's text: under the deadline, like translation.
	// Every name the lake is read through: a bound on one reference says nothing of another.
	tables := map[string][]string{"cloudtrail_logs": nil}
	for _, a := range s.opt.Aliases {
		tables[strings.ToLower(a)] = nil
	}
	defs := map[string]*TableDef{}
	for _, d := range s.g.tables {
		defs[d.Name] = d
		tables[d.Name] = []string{}
		for _, p := range d.Partitions {
			tables[d.Name] = append(tables[d.Name], p.Name)
		}
	}
	b, err := inTime(ctx, func() *Bounds { return bounds(stmt, tables) })
	if err != nil {
		return nil, err
	}
	if b == nil {
		return all, nil
	}
	arg := func(n int) string {
		if n > 0 && n <= len(args) {
			if s, ok := args[n-1].(string); ok {
				return s
			}
		}
		return ""
	}
	if s := arg(b.TimeMinArg); s != "" && (b.TimeMin == "" || s > b.TimeMin) {
		b.TimeMin = s
	}
	if s := arg(b.TimeMaxArg); s != "" && (b.TimeMax == "" || s < b.TimeMax) {
		b.TimeMax = s
	}
	for col, n := range b.PartitionArgs {
		if n > 0 && n <= len(args) {
			if s, ok := args[n-1].(string); ok {
				if b.Partitions == nil {
					b.Partitions = map[string][]string{}
				}
				b.Partitions[col] = []string{s}
			}
		}
	}
	var dayMin, dayMax string
	if b.TSMin != "" {
		if dayMin, err = s.evalDay(ctx, b.TSMin); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return all, nil // not a constant after all: read everything
		}
	}
	if b.TSMax != "" {
		if dayMax, err = s.evalDay(ctx, b.TSMax); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return all, nil
		}
	}
	var out []lake.File
	for _, f := range all {
		if keep(f, s.absPath(f), b, dayMin, dayMax) && keepDerived(f.Partition, defs[b.Table], b.Derived) && keepFacets(f.Values, b.Facets) {
			out = append(out, f)
		}
	}
	return out, nil
}

// keepFacets reports whether a file whose recorded distinct values are values (lake.File.Values)
// can hold rows that satisfy every clause. A column it has no values for can hold anything.
// NULL satisfies none of the conditions, so the values (NULL left out) are all that matters.
func keepFacets(values map[string][]string, clauses [][]Cond) bool {
	for _, clause := range clauses {
		if !slices.ContainsFunc(clause, func(c Cond) bool { return facetMayHold(c, values) }) {
			return false
		}
	}
	return true
}

// facetMayHold reports whether some of a file's distinct values of c.Column satisfies c (true
// when not known).
func facetMayHold(c Cond, values map[string][]string) bool {
	vals, known := values[c.Column]
	if !known || c.Number {
		return true
	}
	return slices.ContainsFunc(vals, func(v string) bool { return lake.FacetHolds(c.Op, c.Values, v) })
}

// keep reports whether a file, at path, can hold rows within the bounds. Rows whose eventtime is NULL or
// unreadable never satisfy a comparison, so files that hold only such rows go too.
func keep(f lake.File, path string, b *Bounds, dayMin, dayMax string) bool {
	p := f.Partition
	for col, vals := range b.Partitions {
		v, _ := p.Value(col)
		if col == PathColumn {
			v = path
		}
		if !slices.Contains(vals, v) {
			return false
		}
	}
	if b.TimeMin != "" && (f.MaxTime == "" || f.MaxTime < b.TimeMin) {
		return false
	}
	if b.TimeMax != "" && (f.MinTime == "" || f.MinTime > b.TimeMax) {
		return false
	}
	day := p.Year + "-" + p.Month + "-" + p.Day
	if dayMin != "" && (p.Year == "" || day < dayMin) {
		return false
	}
	if dayMax != "" && (p.Year == "" || day > dayMax) {
		return false
	}
	return true
}

// keepDerived reports whether the rows of partition p can satisfy the conditions on the
// derived columns of def: every row of a partition has the same value there, which the
// conditions are evaluated on as DuckDB would (strings compared byte by byte, integers as
// numbers, NULL satisfying nothing). What it cannot evaluate it keeps.
func keepDerived(p lake.Partition, def *TableDef, clauses [][]Cond) bool {
	if def == nil {
		return true
	}
	for _, clause := range clauses {
		if !slices.ContainsFunc(clause, func(c Cond) bool {
			i := slices.IndexFunc(def.Partitions, func(tp TablePartition) bool { return tp.Name == c.Column })
			if i < 0 {
				return true
			}
			v, null, ok := def.Partitions[i].value(p)
			switch {
			case !ok:
				return true
			case null:
				return false
			}
			holds, known := condHolds(c, v, def.Partitions[i].Integer)
			return holds || !known
		}) {
			return false
		}
	}
	return true
}

// condHolds evaluates c on v, a value of an integer or string column; known is false
// when the literals are not of a kind trailsql compares like DuckDB.
func condHolds(c Cond, v string, integer bool) (holds, known bool) {
	compare := strings.Compare
	switch {
	case integer:
		compare = func(a, b string) int {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return cmp.Compare(x, y)
		}
		for _, lit := range c.Values {
			// A string literal is cast to the column's type: only plain digits are sure.
			if _, err := strconv.ParseInt(lit, 10, 64); err != nil || lit == "" || lit[0] == '+' {
				return false, false
			}
		}
	case c.Number:
		return false, false
	}
	if len(c.Values) == 0 {
		return false, false
	}
	x := c.Values[0]
	switch c.Op {
	case "=":
		return compare(v, x) == 0, true
	case "<>":
		return compare(v, x) != 0, true
	case "<":
		return compare(v, x) < 0, true
	case "<=":
		return compare(v, x) <= 0, true
	case ">":
		return compare(v, x) > 0, true
	case ">=":
		return compare(v, x) >= 0, true
	case "between":
		return len(c.Values) == 2 && compare(v, x) >= 0 && compare(v, c.Values[1]) <= 0, len(c.Values) == 2
	case "in":
		return slices.ContainsFunc(c.Values, func(x string) bool { return compare(v, x) == 0 }), true
	case "like":
		if integer || strings.Contains(x, `\`) {
			return false, false
		}
		return lake.FacetHolds("like", []string{x}, v), true
	}
	return false, false
}

// evalDay evaluates a bound expression and returns its UTC date. The expression is text from
// the user's statement, so it runs as a query checked like the statement itself.
func (s *session) evalDay(ctx context.Context, expr string) (string, error) {
	text := "SELECT CAST((\n" + expr + "\n) AS TIMESTAMPTZ)"
	if _, err := s.parseRead(ctx, text); err != nil {
		return "", fmt.Errorf("evaluate bound: %w", err)
	}
	var c collector
	if _, _, err := s.run(ctx, &c, text, "", nil, true); err != nil {
		return "", fmt.Errorf("evaluate bound: %w", err)
	}
	if len(c.rows) != 1 || len(c.rows[0]) != 1 {
		return "", fmt.Errorf("evaluate bound: not one value")
	}
	t, ok := c.rows[0][0].(time.Time)
	if !ok {
		return "", fmt.Errorf("evaluate bound: %T is not a time", c.rows[0][0])
	}
	return t.UTC().Format("2006-01-02"), nil
}

// viewKey identifies a list of files.
func viewKey(files []lake.File) string {
	h := fnv.New128a()
	for _, f := range files {
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%d:%x", len(files), h.Sum(nil))
}

// useFiles points the connection's view at files, unless it already reads exactly them.
func (s *session) useFiles(ctx context.Context, files []lake.File) error {
	key := viewKey(files)
	if key == s.cn.viewKey {
		return nil
	}
	s.cn.viewKey = ""
	if _, err := s.cn.c.ExecContext(ctx, s.viewSQL(files)); err != nil {
		return fmt.Errorf("select files: %w", err)
	}
	s.cn.viewKey = key
	return nil
}
