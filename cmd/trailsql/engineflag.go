package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/athenaapi"
	"github.com/trailsql/trailsql/internal/lake"
)

// engineFlags choose where the statements of query, ask, policy, unused and detect run: the
// local engine over the lake, or Amazon Athena over the lake's copy on S3 (see trailsql ddl).
type engineFlags struct {
	engine string
	athena athenaapi.Options
}

const engineAthena = "athena"

func (f *engineFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.engine, "engine", "local", "where the SQL runs: local (DuckDB over the lake) or athena (Amazon Athena over the lake copied to S3; see trailsql ddl)")
	cmd.Flags().StringVar(&f.athena.WorkGroup, "workgroup", "", "athena: the workgroup (default: the account's primary)")
	cmd.Flags().StringVar(&f.athena.Database, "database", "", "athena: the Glue database holding the table cloudtrail_logs")
	cmd.Flags().StringVar(&f.athena.OutputLocation, "output-location", "", "athena: s3:// folder for the query results (default: the workgroup's)")
	cmd.Flags().StringVar(&f.athena.Region, "athena-region", "", "athena: the region (default: the profile's or $AWS_REGION)")
	cmd.Flags().StringVar(&f.athena.Profile, "profile", "", "athena: the AWS profile whose credentials sign the requests")
	cmd.Flags().StringVar(&f.athena.Endpoint, "athena-endpoint", "", "athena: the API endpoint (default https://athena.REGION.amazonaws.com; a VPC endpoint)")
}

// isAthena says whether the statements run on Athena; any other value than local is refused.
func (f *engineFlags) isAthena() (bool, error) {
	switch f.engine {
	case "", "local":
		return false, nil
	case engineAthena:
		return true, nil
	}
	return false, fmt.Errorf("--engine %q: give local or athena", f.engine)
}

// answerQuery is where an answer's QueryFunc is made, for every command that takes --engine:
// on the local engine, one snapshot of the lake for all the answer's statements; on Athena, the
// statements as they are, the local lake (when there is one) only saying what it holds. snap is
// the snapshot the statements read (on Athena, the local lake's); lk and snap are nil when the
// statements run on Athena and there is no local lake.
func (m *Main) answerQuery(cmd *cobra.Command, q *queryFlags) (query answer.QueryFunc, lk *openedLake, snap *lake.Snapshot, done func(), err error) {
	onAthena, err := q.engine.isAthena()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	lk, err = m.existingLake(cmd)
	if !onAthena {
		if err != nil {
			return nil, nil, nil, nil, err
		}
		e, err := m.openEngine(cmd, q)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		query, release, err := local.Pinned(cmd.Context(), e)
		if err != nil {
			e.Close()
			return nil, nil, nil, nil, err
		}
		return query, lk, e.Snapshot(), func() { release(); e.Close() }, nil
	}
	if err != nil {
		if cmd.Flags().Changed("lake") {
			return nil, nil, nil, nil, err
		}
		lk = nil // on Athena a local lake is optional
	}
	if lk != nil {
		snap = lk.Snap
	}
	opt := q.engine.athena
	opt.MaxRows, opt.Logger = q.maxRows, m.logger(cmd)
	c, err := athenaapi.Open(cmd.Context(), opt)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	timeout := q.timeout
	query = func(ctx context.Context, sql string, args ...any) (*answer.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return c.Query(ctx, sql, args...)
	}
	return query, lk, snap, func() {}, nil
}

// writeStats writes on stderr what a statement read and what Athena bills, or would bill, for it.
func (f *engineFlags) writeStats(w io.Writer, st answer.Scan, elapsed time.Duration) {
	if f.engine != engineAthena {
		writeStats(w, st, elapsed)
		return
	}
	fmt.Fprintf(w, "Athena scanned %s in %s: about $%.6f ($%.0f/TB, 10 MB minimum)\n",
		humanBytes(st.BytesRead), elapsed.Round(time.Millisecond), athena.ScanPrice(st.BytesRead), athena.PricePerTB)
}
