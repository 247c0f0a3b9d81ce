// Command duckopen is the bench's start-up anchor (trailsql bench, issue 12): the least a Go
// program does to answer a statement from a DuckDB database file — open it read-only with the
// DuckDB trailsql embeds, run the statement (SELECT 1 unless given), read its rows and exit. It
// imports nothing else, so that its start-up is DuckDB's own.
//
//	duckopen FILE [SQL]
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: duckopen FILE [SQL]")
		os.Exit(2)
	}
	q := "SELECT 1"
	if len(os.Args) == 3 {
		q = os.Args[2]
	}
	if err := run(os.Args[1], q); err != nil {
		fmt.Fprintln(os.Stderr, "duckopen:", err)
		os.Exit(1)
	}
}

func run(file, q string) error {
	db, err := sql.Open("duckdb", file+"?access_mode=read_only")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Printf("%d rows\n", n)
	return nil
}
