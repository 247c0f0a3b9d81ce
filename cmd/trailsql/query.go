package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/render"
)

// queryFlags are the engine settings shared by the commands that run SQL.
type queryFlags struct {
	timeout     time.Duration
	memoryLimit string
	aliases     []string
}

func (q *queryFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&q.timeout, "timeout", 5*time.Minute, "longest a statement may run")
	cmd.Flags().StringVar(&q.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GB (default: DuckDB's, 80% of RAM)")
	cmd.Flags().StringSliceVar(&q.aliases, "alias", nil, "more names for the table cloudtrail_logs, as your Athena queries call it (e.g. cloudtrail)")
}

func (m *Main) openEngine(cmd *cobra.Command, q *queryFlags) (*engine.Engine, error) {
	dir, err := m.lakeDir(cmd)
	if err != nil {
		return nil, err
	}
	opt := engine.Options{Lake: dir, Logger: m.logger(cmd), Timeout: q.timeout, MemoryLimit: q.memoryLimit, Aliases: q.aliases}
	dialect(&opt)
	return engine.Open(cmd.Context(), opt)
}

func (m *Main) queryCommand() *cobra.Command {
	var q queryFlags
	var format, file string
	var original, stats bool
	cmd := &cobra.Command{
		Use:   "query [--format table|csv|json|jsonl|markdown] (SQL | -f FILE | -)",
		Short: "Run Athena (Trino) SQL over the lake's table cloudtrail_logs",
		Long: `Run one Athena SQL statement over the table cloudtrail_logs, which has the columns of Athena's
CloudTrail table (see 'trailsql schema'). Queries written for Athena run unchanged: nested fields in
any case (useridentity.sessioncontext.sessionissuer.arn), from_iso8601_timestamp, date_add/date_diff,
json_extract_scalar, regexp_like, CROSS JOIN UNNEST(resources) …

Only read-only statements run (SELECT, WITH, VALUES, EXPLAIN, DESCRIBE, SHOW). Athena's CREATE
EXTERNAL TABLE and ALTER TABLE ADD PARTITION are accepted and explained: the table and its
partitions need no definition here.

Output is a table on a terminal and CSV otherwise, unless --format says.`,
		Example: `  trailsql query "SELECT DISTINCT useridentity.arn FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin'"
  trailsql query -f root-activity.sql --format json
  trailsql query --original "SELECT * FROM cloudtrail_logs WHERE eventid = '…'"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sqlText, err := m.readSQL(args, file)
			if err != nil {
				return err
			}
			if format == "" {
				format = "csv"
				if m.IsTerminal {
					format = "table"
				}
			}
			e, err := m.openEngine(cmd, &q)
			if err != nil {
				return err
			}
			defer e.Close()
			if original {
				sqlText = "SELECT to_json(t)::VARCHAR AS record FROM (" + strings.TrimRight(strings.TrimSpace(sqlText), ";") + "\n) AS t"
			}
			res, err := e.Query(cmd.Context(), sqlText)
			if err != nil {
				return err
			}
			if res.Notice != "" {
				fmt.Fprintln(m.Stdout, res.Notice)
				return nil
			}
			if original {
				err = writeOriginal(m.Stdout, res)
			} else {
				err = render.Write(m.Stdout, format, res.Columns, res.Rows)
			}
			if stats {
				writeStats(m.Stderr, res)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "read the SQL from this file")
	cmd.Flags().BoolVar(&stats, "stats", false, "print to stderr the files and bytes read, the time, and what Athena would have charged for the scan")
	cmd.Flags().BoolVar(&original, "original", false, "print each row as the original CloudTrail record (JSON lines); the query must select whole rows (SELECT *)")
	q.register(cmd)
	return cmd
}

func (m *Main) readSQL(args []string, file string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", fmt.Errorf("give the SQL as an argument or with -f, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read SQL: %w", err)
		}
		return string(b), nil
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(m.Stdin)
		if err != nil {
			return "", fmt.Errorf("read SQL from stdin: %w", err)
		}
		return string(b), nil
	case len(args) == 1:
		return args[0], nil
	}
	return "", fmt.Errorf("no SQL: give a statement, -f FILE, or - to read standard input")
}

// writeOriginal rebuilds each row into the CloudTrail record it came from.
func writeOriginal(w io.Writer, res *engine.Result) error {
	for _, row := range res.Rows {
		s, _ := row[0].(string)
		var rec cloudtrail.Record
		if err := json.Unmarshal([]byte(s), &rec); err != nil {
			return fmt.Errorf("rebuild record: %w (select whole rows: SELECT * FROM cloudtrail_logs …)", err)
		}
		if _, err := fmt.Fprintf(w, "%s\n", cloudtrail.Rebuild(&rec)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Main) schemaCommand() *cobra.Command {
	var format string
	var nested bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the columns and types of the table cloudtrail_logs",
		Long: `Print the columns of cloudtrail_logs: Athena's CloudTrail DDL column for column (nested fields are
listed with their dotted path), then the fields Athena's DDL drops, then the partition columns.
--nested prints each top-level column with its full nested type instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows [][]any
			for _, c := range cloudtrail.Columns() {
				note := c.Doc
				if !c.Athena {
					note = "not in Athena's DDL: " + note
				}
				if nested || !strings.HasPrefix(c.Type, "STRUCT(") {
					rows = append(rows, []any{c.Name, c.Type, note})
					continue
				}
				for _, f := range cloudtrail.Fields(c.Name) {
					rows = append(rows, []any{f.Name, f.Type, f.Doc})
				}
			}
			if format == "" {
				format = "table"
			}
			return render.Write(m.Stdout, format, []string{"column", "type", "note"}, rows)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: table, csv, json, jsonl, markdown")
	cmd.Flags().BoolVar(&nested, "nested", false, "print top-level columns with their nested types")
	return cmd
}

// athenaPricePerTB and athenaMinBytes are Athena's scan pricing: $5 per TB scanned, at least
// 10 MB per query.
const (
	athenaPricePerTB = 5.0
	athenaMinBytes   = 10 << 20
)

func writeStats(w io.Writer, res *engine.Result) {
	st := res.Stats
	billed := st.BytesRead
	if billed < athenaMinBytes {
		billed = athenaMinBytes
	}
	fmt.Fprintf(w, "read %d of %d files (%s of %s, %d rows in them) in %s; partitions and eventtime bounds pruned the rest\n",
		st.FilesRead, st.FilesTotal, humanBytes(st.BytesRead), humanBytes(st.BytesTotal), st.RowsInFilesRead, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "Athena would bill this scan (same Parquet files, $%.0f/TB, 10 MB minimum) about $%.6f; here it cost nothing\n",
		athenaPricePerTB, float64(billed)/1e12*athenaPricePerTB)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
