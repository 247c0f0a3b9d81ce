// Package answer is the seam between the answer packages (questions, principal, usage, policy,
// and later the rules) and whatever runs their SQL: the local engine today, Amazon Athena or
// Trino later. After Prometheus's rules.QueryFunc, which Loki's ruler reuses: an answer is
// computed from a QueryFunc, never from a particular engine, so the same question, policy or rule
// runs wherever the lake is read.
//
// Every statement given to a QueryFunc is Athena (Trino) SQL over the table cloudtrail_logs, with
// positional parameters (?).
package answer

import (
	"context"
	"encoding/json"
	"math/big"
	"time"
)

// QueryFunc runs one Athena SQL statement with positional parameters and returns its rows.
type QueryFunc func(ctx context.Context, sql string, args ...any) (*Result, error)

// Result is a statement's answer.
type Result struct {
	Columns []string
	// Types are the columns' types as the runner names them (DuckDB's locally).
	Types []string
	// Rows hold plain Go values: string, int64, float64, bool, json.Number (a DECIMAL),
	// time.Time, []any, map[string]any, nil.
	Rows [][]any
	// Scan says what the statement read; zero when the runner cannot tell.
	Scan    Scan
	Elapsed time.Duration
	// Commit is the lake commit the statement read (every statement reads whole commits, those
	// up to Commit); 0 when the runner cannot tell.
	Commit int64
}

// Scan says what a statement read of the lake: Athena bills BytesRead.
type Scan struct {
	FilesRead, FilesTotal int
	BytesRead, BytesTotal int64
	RowsInFilesRead       int64
}

// Strings runs a statement that returns one string column and returns its non-empty values.
func Strings(ctx context.Context, query QueryFunc, sql string, args ...any) ([]string, error) {
	res, err := query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range res.Rows {
		if s, ok := r[0].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Strings returns the first column's non-empty strings, in row order: the answer of a statement
// that selects one string column (SELECT DISTINCT …).
func (r *Result) Strings() []string {
	var out []string
	for _, row := range r.Rows {
		if s, ok := row[0].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// String returns a value of a row as a string: "" for NULL and for values of other types.
func String(v any) string {
	s, _ := v.(string)
	return s
}

// Int returns a value of a row as an integer (a count): 0 for NULL and for values that are not
// numbers. Runners return counts as int64, a DECIMAL as json.Number, DuckDB's HUGEINT as *big.Int.
func Int(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case uint64:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	case *big.Int:
		return n.Int64()
	}
	return 0
}
