// Package local runs the answers' statements on the local engine: the adapter from
// engine.Engine to answer.QueryFunc, kept apart so that the answer packages do not link DuckDB.
package local

import (
	"context"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
)

// Open starts the local engine over opt.Lake speaking Athena's SQL (opt.Dialect is
// athena.Dialect()), with the table of the alerts the ingests stored (lake.AlertsTable) beside
// cloudtrail_logs: every front end and test opens the engine through it.
func Open(ctx context.Context, opt engine.Options) (*engine.Engine, error) {
	opt.Dialect = athena.Dialect()
	alerts := engine.FileTable{Name: lake.AlertsTable, Dir: lake.AlertsDir}
	for _, c := range lake.AlertColumns {
		alerts.Columns = append(alerts.Columns, engine.FileColumn{Name: c.Name, Type: c.Type})
	}
	opt.FileTables = append(opt.FileTables, alerts)
	return engine.Open(ctx, opt)
}

// Engine returns the QueryFunc that runs statements on the local engine.
func Engine(e *engine.Engine) answer.QueryFunc {
	return func(ctx context.Context, sql string, args ...any) (*answer.Result, error) {
		res, err := e.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		return &answer.Result{Columns: res.Columns, Types: res.Types, Rows: res.Rows, Elapsed: res.Elapsed, Scan: Scan(res.Stats), Commit: res.Seq}, nil
	}
}

// Pinned returns the QueryFunc whose statements all read the lake as it is now (engine.Pin), for
// an answer made of several statements, and the function that lets the snapshot go.
func Pinned(ctx context.Context, e *engine.Engine) (answer.QueryFunc, func(), error) {
	p, release, err := e.Pin(ctx)
	if err != nil {
		return nil, nil, err
	}
	return Engine(p), release, nil
}

// Scan is what the engine read, as answers report it.
func Scan(st engine.Stats) answer.Scan {
	return answer.Scan{FilesRead: st.FilesRead, FilesTotal: st.FilesTotal, BytesRead: st.BytesRead, BytesTotal: st.BytesTotal, RowsInFilesRead: st.RowsInFilesRead}
}
