package engine

import (
	"context"
	"testing"
)

// The fixed costs of the engine, over a lake of two files: opening it (and answering a first
// statement: DuckDB's start and the dialect's macros), and one small statement on an open one,
// inlined (an aggregate) and over the view (whole rows).

func BenchmarkOpen(b *testing.B) {
	root := writeLake(b, twoDays)
	for b.Loop() {
		e := openTestEngine(b, root, true)
		if _, err := e.Query(context.Background(), "SELECT count(*) FROM cloudtrail_logs"); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}

func benchmarkStatement(b *testing.B, sql string) {
	e := openTestEngine(b, writeLake(b, twoDays), true)
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.Query(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueryAggregate(b *testing.B) {
	benchmarkStatement(b, "SELECT eventname, count(*) FROM cloudtrail_logs WHERE day = '01' GROUP BY eventname")
}

func BenchmarkQueryStar(b *testing.B) {
	benchmarkStatement(b, "SELECT * FROM cloudtrail_logs WHERE day = '01'")
}

// BenchmarkNewSnapshot is a statement right after a commit: a new database over the new
// snapshot (read, files checked, DuckDB started and configured, the dialect's macros), and the
// statement on it, with no footer cached.
func BenchmarkNewSnapshot(b *testing.B) {
	e := openTestEngine(b, writeLake(b, twoDays), true)
	ctx := context.Background()
	for b.Loop() {
		e.invalidate()
		if _, err := e.Query(ctx, "SELECT eventname, count(*) FROM cloudtrail_logs WHERE day = '01' GROUP BY eventname"); err != nil {
			b.Fatal(err)
		}
	}
}
