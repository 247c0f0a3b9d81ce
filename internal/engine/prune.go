package engine

import (
	"context"
	"fmt"
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
	b := e.opt.Bounds(stmt, append([]string{"cloudtrail_logs"}, e.opt.Aliases...)...)
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
	var err error
	if b.TSMin != "" {
		if dayMin, err = e.evalDay(ctx, b.TSMin); err != nil {
			return all, nil // not a constant after all: read everything
		}
	}
	if b.TSMax != "" {
		if dayMax, err = e.evalDay(ctx, b.TSMax); err != nil {
			return all, nil
		}
	}
	var out []lake.File
	for _, f := range all {
		if keep(f, b, dayMin, dayMax) {
			out = append(out, f)
		}
	}
	return out, nil
}

// keep reports whether a file can hold rows within the bounds. Rows whose eventtime is NULL or
// unreadable never satisfy a comparison, so files that hold only such rows go too.
func keep(f lake.File, b *Bounds, dayMin, dayMax string) bool {
	p := f.Partition
	for col, vals := range b.Partitions {
		var v string
		switch col {
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

// evalDay evaluates a bound expression and returns its UTC date.
func (e *Engine) evalDay(ctx context.Context, expr string) (string, error) {
	var t time.Time
	if err := e.conn.QueryRowContext(ctx, "SELECT CAST(("+expr+") AS TIMESTAMPTZ)").Scan(&t); err != nil {
		return "", fmt.Errorf("evaluate bound: %w", err)
	}
	return t.UTC().Format("2006-01-02"), nil
}

// useFiles points the view at the given files, unless it already reads exactly them.
func (e *Engine) useFiles(ctx context.Context, files []lake.File) error {
	n := len(files)
	if n == len(e.snap.Files) {
		n = -1
	}
	if n == -1 && e.viewFiles == -1 {
		return nil
	}
	for _, s := range e.viewSQL(files) {
		if _, err := e.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("select files: %w", err)
		}
	}
	e.viewFiles = n
	return nil
}
