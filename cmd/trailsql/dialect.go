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
	opt.ParseDDL = parseDDL
	opt.Bounds = func(sql string, tables map[string][]string) *engine.Bounds {
		b := athena.FindBounds(sql, tables)
		if b == nil {
			return nil
		}
		eb := engine.Bounds(*b)
		return &eb
	}
}

// parseDDL reads users' own table definitions for the engine.
func parseDDL(sql string) (*engine.TableDef, string, error) {
	ddl, parts, drop, err := athena.ParseTableStatement(sql)
	if ddl == nil || err != nil {
		return nil, drop, err
	}
	def := &engine.TableDef{Name: ddl.Name}
	for _, c := range ddl.Columns {
		def.Columns = append(def.Columns, c.Name)
	}
	for _, p := range parts {
		def.Partitions = append(def.Partitions, engine.TablePartition(p))
	}
	return def, "", nil
}
