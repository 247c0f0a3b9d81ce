package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/ingest"
)

func (m *Main) ingestCommand() *cobra.Command {
	var workers int
	var commitRows int64
	var showAll bool
	cmd := &cobra.Command{
		Use:   "ingest [--lake DIR] PATH...",
		Short: "Read CloudTrail logs from files and folders into the lake",
		Long: `Read CloudTrail logs into the lake. PATH is a file or a folder (read recursively). Understood:
  - CloudTrail log files {"Records":[…]} (.json or .json.gz, pretty or one line, any size), also in
    the S3 trail layout AWSLogs/[o-xxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/…: the account
    comes from the path; digest files are skipped;
  - JSON arrays of events, JSON lines (one event per line), single events;
  - 'aws cloudtrail lookup-events' output and the console's Event history downloads (JSON, and CSV
    with the "CloudTrail event" column).
Files already ingested (same path, size and time) are not read again, and an event identical to one
in the lake is stored once. Bad input is reported with its file, record and line, and the rest is
still ingested; the exit status is 1 when anything could not be ingested.`,
		Example: `  trailsql ingest ~/Downloads/AWSLogs
  trailsql ingest --lake ./lake trail/*.json.gz lookup-events.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := m.lakeDir(cmd)
			if err != nil {
				return err
			}
			opt := ingest.Options{Lake: dir, Logger: m.logger(cmd), Workers: workers, CommitRows: commitRows}
			var bar *progressbar.ProgressBar
			if m.IsTerminal {
				bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(m.Stderr),
					progressbar.OptionSetDescription("ingesting"), progressbar.OptionShowCount(),
					progressbar.OptionSpinnerType(14), progressbar.OptionClearOnFinish())
				opt.Progress = func(s ingest.Stats) {
					bar.Describe(fmt.Sprintf("ingesting: %d files, %d events added", s.FilesRead+s.FilesSkipped+s.FilesFailed, s.EventsAdded))
					bar.Add(1)
				}
			}
			st, err := ingest.Run(cmd.Context(), opt, args)
			if bar != nil {
				bar.Finish()
			}
			if st != nil {
				writeIngestSummary(m.Stdout, st, dir, showAll)
			}
			if err != nil {
				return err
			}
			if st.Failed() {
				return &exitError{code: 1, err: fmt.Errorf("some input could not be ingested (see the problems above); everything else was stored")}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&workers, "workers", 0, "files decoded in parallel (default: number of CPUs)")
	cmd.Flags().BoolVar(&showAll, "all-problems", false, "list every problem, not only the first 20")
	cmd.Flags().Int64Var(&commitRows, "commit-rows", 0, "commit after this many new events (default 1,000,000); smaller commits lose less work to an interruption")
	return cmd
}

func writeIngestSummary(w io.Writer, st *ingest.Stats, lake string, all bool) {
	secs := st.Elapsed.Seconds()
	fmt.Fprintf(w, "lake %s\n", lake)
	fmt.Fprintf(w, "files: %d read, %d unchanged since the last ingest, %d skipped, %d failed\n", st.FilesRead, st.FilesUnchanged, st.FilesSkipped, st.FilesFailed)
	if len(st.SkipReasons) > 0 {
		var rs []string
		for r, n := range st.SkipReasons {
			rs = append(rs, fmt.Sprintf("%d %s", n, r))
		}
		sort.Strings(rs)
		fmt.Fprintf(w, "  skipped: %s\n", strings.Join(rs, "; "))
	}
	fmt.Fprintf(w, "events: %d read, %d added, %d already present", st.EventsRead, st.EventsAdded, st.EventsPresent)
	if st.EventsNoTime > 0 {
		fmt.Fprintf(w, ", %d without a usable eventTime", st.EventsNoTime)
	}
	if st.RecordErrors > 0 {
		fmt.Fprintf(w, ", %d could not be stored", st.RecordErrors)
	}
	if st.Warnings > 0 {
		fmt.Fprintf(w, ", %d stored with a converted value", st.Warnings)
	}
	fmt.Fprintln(w)
	rate := 0.0
	if secs > 0 {
		rate = float64(st.EventsRead) / secs
	}
	fmt.Fprintf(w, "input: %.1f MB in %.2fs (%.0f events/s), %d commit(s)\n", float64(st.Bytes)/1e6, secs, rate, st.Commits)
	if len(st.Problems) == 0 {
		return
	}
	// Errors before warnings: they are what made the exit status non-zero.
	probs := append([]ingest.Problem(nil), st.Problems...)
	sort.SliceStable(probs, func(i, j int) bool { return !probs[i].Warning && probs[j].Warning })
	limit := len(probs)
	if !all && limit > 20 {
		limit = 20
	}
	total := len(probs) + st.MoreProblems
	fmt.Fprintf(w, "problems (%d):\n", total)
	for _, p := range probs[:limit] {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		fmt.Fprintf(w, "  %s: %s\n", kind, p)
	}
	if total > limit {
		fmt.Fprintf(w, "  … %d more (--all-problems lists them)\n", total-limit)
	}
}
