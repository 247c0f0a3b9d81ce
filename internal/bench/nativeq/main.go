// Command nativeq is the anchor of the whole-process benchmarks (the engine's BenchmarkAnchorProcess,
// and trailsql bench's start-up line): what a DuckDB user runs instead of trailsql. It opens a DuckDB database file read-only, runs the
// setup statements it is given, then one query with its arguments, and writes the rows as CSV.
// Its one argument is the job, as JSON: {"db": path, "setup": [sql…], "sql": sql, "args": [value…]}.
package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"

	"github.com/duckdb/duckdb-go/v2"
)

type job struct {
	DB    string   `json:"db"`
	Setup []string `json:"setup"`
	SQL   string   `json:"sql"`
	Args  []any    `json:"args"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nativeq:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: nativeq JOB (JSON)")
	}
	var j job
	if err := json.Unmarshal([]byte(os.Args[1]), &j); err != nil {
		return fmt.Errorf("read the job: %w", err)
	}
	ctx := context.Background()
	c, err := duckdb.NewConnector(j.DB+"?access_mode=read_only", nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	cn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	for _, s := range j.Setup {
		if _, err := cn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	rows, err := cn.QueryContext(ctx, j.SQL, j.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := csv.NewWriter(os.Stdout)
	w.Write(cols)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			rec[i] = fmt.Sprint(v)
		}
		w.Write(rec)
	}
	w.Flush()
	if err := rows.Err(); err != nil {
		return err
	}
	return w.Error()
}
