package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// selectFiles returns the snapshot files a statement can need: all of them, unless Bounds finds
// restrictions on every row the statement reads.
func (e *Engine) selectFiles(ctx context.Context, stmt string, args []any) ([]lake.File, error) {
	all := e.snap.Files
	if e.opt.Bounds == nil {
		return all, nil
	}
	// The bounds come from Go code over the user's text: under the deadline, like translation.
	b, err := inTime(ctx, func() *Bounds { return e.opt.Bounds(stmt, append([]string{"cloudtrail_logs"}, e.opt.Aliases...)...) })
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
		if dayMin, err = e.evalDay(ctx, b.TSMin); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return all, nil // not a constant after all: read everything
		}
	}
	if b.TSMax != "" {
		if dayMax, err = e.evalDay(ctx, b.TSMax); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return all, nil
		}
	}
	var out []lake.File
	for _, f := range all {
		if keep(f, e.absPath(f), b, dayMin, dayMax) {
			out = append(out, f)
		}
	}
	return out, nil
}

// keep reports whether a file, at path, can hold rows within the bounds. Rows whose eventtime is NULL or
// unreadable never satisfy a comparison, so files that hold only such rows go too.
func keep(f lake.File, path string, b *Bounds, dayMin, dayMax string) bool {
	p := f.Partition
	for col, vals := range b.Partitions {
		var v string
		switch col {
		case PathColumn:
			v = path
		case "account":
			v = p.Account
		case "region":
			v = p.Region
		case "year":
			v = p.Year
		case "month":
			v = p.Month
		case "day":
			v = p.Day
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

// evalDay evaluates a bound expression and returns its UTC date. The expression is text from
// the user's statement, so it runs as a query checked like the statement itself.
func (e *Engine) evalDay(ctx context.Context, expr string) (string, error) {
	text := "SELECT CAST((\n" + expr + "\n) AS TIMESTAMPTZ)"
	if _, err := e.parseRead(ctx, text); err != nil {
		return "", fmt.Errorf("evaluate bound: %w", err)
	}
	var c collector
	if _, _, err := e.run(ctx, &c, text, nil, true); err != nil {
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

// useFiles points the view at files, unless it already reads exactly them.
func (e *Engine) useFiles(ctx context.Context, files []lake.File) error {
	key := viewKey(files)
	if key == e.viewKey {
		return nil
	}
	e.viewKey = ""
	for _, s := range e.viewSQL(files) {
		if _, err := e.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("select files: %w", err)
		}
	}
	e.viewKey = key
	return nil
}
