package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/insights"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/rules/pattern"
)

// queryFlags are the engine settings shared by the commands that run SQL.
type queryFlags struct {
	timeout           time.Duration
	memoryLimit       string
	aliases           []string
	maxRows           int
	maxResultBytes    string
	maxStatementBytes string
	skipDamaged       bool
	// engine is where the statements run, for the commands that register its flags.
	engine engineFlags
}

func (q *queryFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&q.timeout, "timeout", engine.DefaultTimeout, "longest a statement may take, preparation included")
	cmd.Flags().StringVar(&q.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GB (default: a quarter of RAM, at most 4 GiB; DuckDB spills to disk beyond). The whole process is held to what it used at start plus this, twice --max-result-bytes and 256 MiB")
	cmd.Flags().StringSliceVar(&q.aliases, "alias", nil, "more names for the table cloudtrail_logs, as your Athena queries call it (e.g. cloudtrail)")
	cmd.Flags().IntVar(&q.maxRows, "max-rows", engine.DefaultMaxRows, "most rows a result may have")
	cmd.Flags().StringVar(&q.maxResultBytes, "max-result-bytes", "256MiB", "most bytes of values a result (and any one row) may hold")
	cmd.Flags().StringVar(&q.maxStatementBytes, "max-statement-bytes", "1MiB", "longest SQL statement accepted")
}

func (m *Main) openEngine(cmd *cobra.Command, q *queryFlags) (*engine.Engine, error) {
	opt, err := m.engineOptions(cmd, q)
	if err != nil {
		return nil, err
	}
	opt.ProcessCeiling = true
	return local.Open(cmd.Context(), opt)
}

// engineOptions are the engine's options from the query flags.
func (m *Main) engineOptions(cmd *cobra.Command, q *queryFlags) (engine.Options, error) {
	dir, err := m.lakeDir(cmd)
	if err != nil {
		return engine.Options{}, err
	}
	resultBytes, err := engine.ParseBytes("--max-result-bytes", q.maxResultBytes)
	if err != nil {
		return engine.Options{}, err
	}
	stmtBytes, err := engine.ParseBytes("--max-statement-bytes", q.maxStatementBytes)
	if err != nil {
		return engine.Options{}, err
	}
	return engine.Options{
		Lake: dir, Logger: m.logger(cmd), Timeout: q.timeout, MemoryLimit: q.memoryLimit, Aliases: q.aliases,
		MaxRows: q.maxRows, MaxResultBytes: resultBytes, MaxStatementBytes: int(stmtBytes), SkipDamaged: q.skipDamaged,
	}, nil
}

func (m *Main) queryCommand() *cobra.Command {
	var q queryFlags
	var tf textFlags
	var format, file, filterPattern, insightsQuery string
	var original, stats, printSQL bool
	cmd := &cobra.Command{
		Use:   "query [--format table|csv|json|jsonl|markdown|text] (SQL | -f FILE | -)",
		Short: "Run Athena (Trino) SQL over the lake's table cloudtrail_logs",
		Long: `Run one Athena SQL statement over the table cloudtrail_logs, which has the columns of Athena's
CloudTrail table (see 'trailsql schema'). Queries written for Athena run unchanged: nested fields in
any case (useridentity.sessioncontext.sessionissuer.arn), from_iso8601_timestamp, date_add/date_diff,
json_extract_scalar, regexp_like, CROSS JOIN UNNEST(resources) …

Only read-only statements run (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of a
query), within --timeout, --max-rows, --max-result-bytes and --max-statement-bytes. Athena's CREATE
EXTERNAL TABLE and ALTER TABLE ADD PARTITION are accepted and explained: the table and its
partitions need no definition here.

Output is a table on a terminal and CSV otherwise, unless --format says.`,
		Example: `  trailsql query "SELECT DISTINCT useridentity.arn FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin'"
  trailsql query -f root-activity.sql --format json
  trailsql query --original "SELECT * FROM cloudtrail_logs WHERE eventid = '…'"
  trailsql query --pattern '{ $.userIdentity.userName = "Alice" }' --original
  trailsql query --insights 'fields @timestamp, eventName | filter userIdentity.userName = "Alice" | sort @timestamp desc'
  trailsql query --insights 'stats count(*) by eventSource, bin(1h)' --sql
  trailsql query --format text "SELECT * FROM cloudtrail_logs WHERE errorcode = 'AccessDenied' LIMIT 20"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sqlText string
			var err error
			if filterPattern != "" && insightsQuery != "" {
				return fmt.Errorf("--pattern and --insights are both a query: give one")
			}
			if filterPattern != "" {
				if len(args) > 0 || file != "" {
					return fmt.Errorf("--pattern is the query: give no SQL with it")
				}
				p, err := pattern.Parse(filterPattern)
				if err != nil {
					return fmt.Errorf("--pattern: %w", err)
				}
				cond, err := p.SQL()
				if err != nil {
					return fmt.Errorf("--pattern: %w", err)
				}
				sqlText = "SELECT * FROM cloudtrail_logs WHERE " + cond + " ORDER BY eventtime, eventid"
			} else if insightsQuery != "" {
				if len(args) > 0 || file != "" {
					return fmt.Errorf("--insights is the query: give no SQL with it")
				}
				q, err := insights.Parse(insightsQuery)
				if err == nil && original {
					sqlText, err = q.EventsSQL() // whole rows, to rebuild the records
				} else if err == nil {
					sqlText, err = q.SQL()
				}
				if err != nil {
					return fmt.Errorf("--insights: %w", err)
				}
			} else if sqlText, err = m.readSQL(args, file); err != nil {
				return err
			}
			if printSQL {
				if filterPattern == "" && insightsQuery == "" {
					return fmt.Errorf("--sql prints the SQL that --pattern or --insights becomes: give one of them")
				}
				_, err := fmt.Fprintln(m.Stdout, sqlText)
				return err
			}
			if format, err = chooseFormat(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			textOpt, err := tf.options()
			if err != nil {
				return err
			}
			if original && format == textFormat {
				return fmt.Errorf("--original and --format text both say how rows are written: give one")
			}
			if onAthena, err := q.engine.isAthena(); err != nil || onAthena {
				if err != nil {
					return err
				}
				if original || format == textFormat || q.skipDamaged {
					return fmt.Errorf("--original, --format text and --skip-damaged read the local lake: run them with --engine local")
				}
				return m.queryElsewhere(cmd, &q, sqlText, format, stats)
			}
			e, err := m.openEngine(cmd, &q)
			if err != nil {
				return err
			}
			defer e.Close()
			m.emptyNote(cmd, e.Snapshot())
			if original {
				e = e.With(engine.QueryOptions{Records: true}) // the residual rebuilds the record
			}
			// Rows are written as DuckDB hands them over, not collected first.
			var sink interface {
				engine.Sink
				Close() error
			}
			switch {
			case original:
				sink = &originalSink{w: m.Stdout}
			case format == textFormat:
				sink = &textSink{w: m.Stdout, opt: textOpt}
			default:
				st, err := render.NewStream(m.Stdout, format)
				if err != nil {
					return err
				}
				st.SetWidth(m.tableWidth(cmd, format))
				sink = st
			}
			res, err := e.QueryTo(cmd.Context(), sink, sqlText)
			if err != nil {
				return err
			}
			if res.Notice != "" {
				fmt.Fprintln(m.Stdout, noticeHint(res))
				return nil
			}
			err = sink.Close()
			writeSkipped(m.Stderr, res.Skipped)
			if stats {
				writeStats(m.Stderr, local.Scan(res.Stats), res.Elapsed)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown, or text (each row, of SELECT *, as a plain-language sentence) (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "read the SQL from this file")
	tf.register(cmd)
	cmd.Flags().StringVar(&filterPattern, "pattern", "", "instead of SQL, the events a CloudWatch Logs filter pattern matches, oldest first: '{ $.eventName = \"ConsoleLogin\" && $.errorMessage = \"Failed authentication\" }'")
	cmd.Flags().StringVar(&insightsQuery, "insights", "", "instead of SQL, a CloudWatch Logs Insights query (fields, filter, stats … by bin(5m), sort, limit, dedup, display, parse); @timestamp is eventtime, @message a JSON text of the event; at most 10,000 rows without limit, as in Insights; with --original, the events it returns as their records")
	cmd.Flags().BoolVar(&printSQL, "sql", false, "print the Athena SQL that --pattern or --insights becomes, and run nothing")
	cmd.Flags().BoolVar(&stats, "stats", false, "print to stderr the files and bytes read, the time, and what Athena would have charged for the scan")
	cmd.Flags().BoolVar(&q.skipDamaged, "skip-damaged", false, "answer from the lake files that can be read when some cannot, and list on stderr the files, partitions and rows left out")
	cmd.Flags().BoolVar(&original, "original", false, "print each row as the original CloudTrail record (JSON lines); the query must select whole rows (SELECT *)")
	q.register(cmd)
	q.engine.register(cmd)
	return cmd
}

// queryElsewhere runs a statement through the answers' QueryFunc (Athena) and writes its rows.
func (m *Main) queryElsewhere(cmd *cobra.Command, q *queryFlags, sqlText, format string, stats bool) error {
	query, _, _, done, err := m.answerQuery(cmd, q)
	if err != nil {
		return err
	}
	defer done()
	res, err := query(cmd.Context(), sqlText)
	if err != nil {
		return err
	}
	st, err := render.NewStream(m.Stdout, format)
	if err != nil {
		return err
	}
	st.SetWidth(m.tableWidth(cmd, format))
	if err := st.Begin(res.Columns, res.Types); err != nil {
		return err
	}
	for _, r := range res.Rows {
		if err := st.Row(r); err != nil {
			return err
		}
	}
	err = st.Close()
	if stats {
		q.engine.writeStats(m.Stderr, res.Scan, res.Elapsed)
	}
	return err
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

// originalSink rebuilds each row into the CloudTrail record it came from.
type originalSink struct{ w io.Writer }

func (o *originalSink) Begin(columns, types []string) error { return nil }
func (o *originalSink) Close() error                        { return nil }

func (o *originalSink) Row(row []any) error {
	s, _ := row[0].(string)
	rec, err := cloudtrail.RebuildRow(s)
	if err != nil {
		return fmt.Errorf("%w (select whole rows: SELECT * FROM cloudtrail_logs …)", err)
	}
	_, err = fmt.Fprintf(o.w, "%s\n", rec)
	return err
}

// writeSkipped says which lake files an answer left out (--skip-damaged): never a silent
// partial answer.
func writeSkipped(w io.Writer, skipped []engine.SkippedFile) {
	if len(skipped) == 0 {
		return
	}
	parts := map[string]bool{}
	var rows int64
	for _, f := range skipped {
		parts[f.Partition.Dir()] = true
		rows += f.Rows
	}
	fmt.Fprintf(w, "warning: the answer leaves out %d damaged lake file%s (%d partition%s, %d rows per the ledger); run 'trailsql check':\n",
		len(skipped), plural(len(skipped)), len(parts), plural(len(parts)), rows)
	for _, f := range skipped {
		fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Reason)
	}
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
					note = "not in Athena's DDL (not in SELECT *, read it by name): " + note
				}
				if nested || !strings.HasPrefix(c.Type, "STRUCT(") {
					rows = append(rows, []any{c.Name, c.Type, note})
					continue
				}
				for _, f := range cloudtrail.Fields(c.Name) {
					rows = append(rows, []any{f.Name, f.Type, f.Doc})
				}
			}
			rows = append(rows, []any{engine.PathColumn, "VARCHAR", "pseudo-column (not in SELECT *): the lake file the row was read from; in Athena, its S3 object"})
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

func writeStats(w io.Writer, st answer.Scan, elapsed time.Duration) {
	pruned := ""
	if st.FilesRead < st.FilesTotal {
		pruned = "; the statement's partitions and eventtime bounds (or the files' times, for its first rows by eventtime) left out the rest"
	}
	fmt.Fprintf(w, "read %d of %d files (%s of %s, %d rows in them) in %s%s\n",
		st.FilesRead, st.FilesTotal, humanBytes(st.BytesRead), humanBytes(st.BytesTotal), st.RowsInFilesRead, elapsed.Round(time.Millisecond), pruned)
	fmt.Fprintf(w, "Athena would bill this scan (same Parquet files, $%.0f/TB, 10 MB minimum) about $%.6f; here it cost nothing\n",
		athena.PricePerTB, athena.ScanPrice(st.BytesRead))
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

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
