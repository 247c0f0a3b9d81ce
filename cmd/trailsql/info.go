package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/render"
)

func (m *Main) infoCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "info [--format table|csv|json|jsonl|markdown]",
		Aliases: []string{"status"},
		Short:   "Say what the lake holds: time range, accounts, regions, events per day, files, size, last ingest, sources",
		Long: `Say what the lake holds, from its ledger (no data file is read, so it answers at once on any
size of lake): the events and their time range, the accounts and regions with their events, the
events of each day (the event's UTC day, as the lake partitions them), the Parquet files and their
size, the commits and the time of the last ingest, and the inputs it was built from (log files,
S3 objects, LookupEvents pages).

--format json writes it all as one object; csv and jsonl write the events per day, the summary
going to stderr. The answers of ask, policy and unused say the same coverage for their window.`,
		Example: `  trailsql info
  trailsql info --lake /data/lake --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			chosen, err := render.Choose(format, m.IsTerminal)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			format = chosen
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			info, err := lake.ReadInfo(lk.Dir)
			if err != nil {
				return fmt.Errorf("lake %s: %w", lk.Dir, err)
			}
			if format == "json" {
				out, err := json.MarshalIndent(infoJSON{info, lk.How, emptyNote(lk, info)}, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(m.Stdout, "%s\n", out)
				return err
			}
			// The summary goes where people read it; piped formats keep stdout to the rows.
			hw := m.Stderr
			if format == "table" || format == "markdown" {
				hw = m.Stdout
			}
			for _, line := range infoLines(info, lk, m.now()) {
				if format == "markdown" {
					line = "> " + line + "  "
				}
				fmt.Fprintln(hw, line)
			}
			if info.Coverage.Events == 0 {
				return nil
			}
			if hw == m.Stdout {
				fmt.Fprintln(hw)
			}
			var rows [][]any
			for _, d := range info.Days {
				rows = append(rows, []any{d.Name, d.Events, d.Files})
			}
			return m.writeTable(cmd, format, []string{"day", "events", "files"}, rows)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	return cmd
}

// infoJSON is the JSON of 'trailsql info': the lake's info, what chose the lake, and a note when
// it is empty.
type infoJSON struct {
	*lake.Info
	ChosenBy string `json:"chosen_by"`
	Note     string `json:"note,omitempty"`
}

func emptyNote(lk *openedLake, info *lake.Info) string {
	if info.Coverage.Events > 0 {
		return ""
	}
	return emptyLakeNote(lk)
}

// infoLines says the lake's info in sentences, one a line.
func infoLines(info *lake.Info, lk *openedLake, now time.Time) []string {
	lines := []string{fmt.Sprintf("lake: %s (chosen by %s)", info.Root, lk.How)}
	if info.Coverage.Events == 0 {
		return append(lines, emptyLakeNote(lk))
	}
	c := info.Coverage
	lines = append(lines,
		fmt.Sprintf("events: %d from %s to %s, on %d day%s", c.Events, c.First, c.Last, len(info.Days), plural(len(info.Days))),
		fmt.Sprintf("accounts: %s", countList(info.Accounts)),
		fmt.Sprintf("regions: %s", countList(info.Regions)),
		fmt.Sprintf("files: %d Parquet file%s, %s", info.Files, plural(info.Files), humanBytes(info.Bytes)))
	s := info.Sources
	var src []string
	for _, k := range []struct {
		n    int
		what string
	}{{s.Files, "log file"}, {s.S3Objects, "S3 object"}, {s.APIPages, "LookupEvents page"}, {s.CWLPages, "CloudWatch Logs page"}} {
		if k.n > 0 {
			src = append(src, fmt.Sprintf("%d %s%s", k.n, k.what, plural(k.n)))
		}
	}
	if len(src) == 0 {
		src = append(src, "none recorded")
	}
	lines = append(lines, fmt.Sprintf("sources: %s (%s)", strings.Join(src, ", "), humanBytes(s.Bytes)))
	last := "never"
	if !info.LastIngest.IsZero() {
		last = info.LastIngest.UTC().Format(time.RFC3339) + " (" + ago(now.Sub(info.LastIngest)) + ")"
	}
	lines = append(lines, fmt.Sprintf("last ingest: %s; %d commit%s", last, info.Commits, plural(info.Commits)))
	return lines
}

// countList writes counts as "a (n), b (m)", the number of them first when there are several.
func countList(cs []lake.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s (%d)", c.Name, c.Events)
	}
	s := strings.Join(parts, ", ")
	if len(cs) > 1 {
		s = fmt.Sprintf("%d: %s", len(cs), s)
	}
	return s
}

// ago says a duration in the largest whole unit.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future: check this machine's clock"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}
