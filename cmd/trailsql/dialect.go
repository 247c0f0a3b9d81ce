package main

import (
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
)

// dialect makes the engine speak Athena's SQL: the translator's macros at open, and every
// statement translated, with DuckDB's errors pointed back at the user's SQL.
func dialect(opt *engine.Options) {
	opt.Setup = append(opt.Setup, athena.Setup()...)
	opt.Translate = func(sql string) (string, func(error) error, error) {
		t, err := athena.TranslateMapped(sql)
		if err != nil {
			return "", nil, err
		}
		return t.SQL, t.MapError, nil
	}
	opt.Bounds = func(sql string, tables ...string) *engine.Bounds {
		b := athena.FindBounds(sql, tables...)
		if b == nil {
			return nil
		}
		eb := engine.Bounds(*b)
		return &eb
	}
}
