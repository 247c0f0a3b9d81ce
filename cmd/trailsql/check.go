package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/lake"
)

func (m *Main) checkCommand() *cobra.Command {
	var repair bool
	var format string
	cmd := &cobra.Command{
		Use:   "check [--repair] [--format text|json]",
		Short: "Verify the lake's ledger and files; --repair quarantines what is damaged",
		Long: `Verify the whole lake: every commit of the ledger (it decodes, it is signed with the lake's key,
its paths stay inside the lake), every data file (present, a regular file, the size and SHA-256 its
commit recorded, which reads it all, a readable Parquet footer, the rows the commit says), every
hash file, and what no commit lists (stray files, symbolic links). Each problem is reported with
what it affects (partitions, commit, events) and the sources its events can be rebuilt from.

--repair moves what is damaged or stray to _trailsql/quarantine/<time>/ (nothing is deleted),
takes damaged files out of the lake in one commit, and makes the sources their events came from
ingestible again: run the ingest it names to restore them (events still in the lake are skipped).

Exit status: 0 if the lake is consistent (after --repair: if it is consistent now; the sources to
ingest again are listed), 1 if problems are found (or left), 2 on a usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return &exitError{code: 2, err: fmt.Errorf("--format %q: use text or json", format)}
			}
			c, err := m.chooseLake(cmd)
			if err != nil {
				return &exitError{exitNoLake, err}
			}
			// Not existingLake: a lake whose ledger is damaged is what check is for.
			if err := checkLake(c); err != nil {
				return &exitError{exitNoLake, err}
			}
			dir := c.Dir
			var rep *lake.Report
			if repair {
				rep, err = lake.Repair(cmd.Context(), dir, lake.RepairOptions{Logger: m.logger(cmd)})
			} else {
				rep, err = lake.Verify(cmd.Context(), dir)
			}
			if rep == nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				if e := enc.Encode(rep); e != nil {
					return e
				}
			} else {
				printReport(m.Stdout, rep, repair)
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if !rep.OK() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "quarantine damaged and stray files and untrusted commits, and make their sources ingestible again")
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

// printReport writes a check report for people.
func printReport(w io.Writer, r *lake.Report, repaired bool) {
	fmt.Fprintf(w, "lake %s: %d commits, %d files, %d events (%.1f MB read)\n", r.Lake, r.Commits, r.Files, r.Events, float64(r.Bytes)/1e6)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "ok: no problem found")
		return
	}
	fmt.Fprintf(w, "%d problems:\n", len(r.Problems))
	for _, p := range r.Problems {
		state := ""
		if repaired {
			state = "  [left]"
			if p.Repaired {
				state = "  [repaired]"
			}
		}
		fmt.Fprintf(w, "\n%-9s %s%s\n", p.Kind, p.Path, state)
		fmt.Fprintf(w, "          %s\n", p.Detail)
		if p.Commit != "" {
			fmt.Fprintf(w, "          commit: %s\n", p.Commit)
		}
		if p.Events > 0 || len(p.Partitions) > 0 {
			var parts []string
			for _, pt := range p.Partitions {
				parts = append(parts, fmt.Sprintf("%s/%s/%s-%s-%s", pt.Account, pt.Region, pt.Year, pt.Month, pt.Day))
			}
			fmt.Fprintf(w, "          affects: %d events in %s\n", p.Events, strings.Join(parts, ", "))
		}
		switch {
		case len(p.Sources) > 0:
			fmt.Fprintf(w, "          rebuilt from %d sources: %s\n", len(p.Sources), sourceList(p.Sources, 5))
		case p.SourcesUnknown:
			fmt.Fprintln(w, "          rebuilt from: sources unknown to the ledger; ingest all your inputs again")
		}
		fmt.Fprintf(w, "          --repair: %s\n", p.Repair)
	}
	fmt.Fprintln(w)
	switch {
	case !repaired:
		fmt.Fprintln(w, "run `trailsql check --repair` to quarantine them (nothing is deleted)")
	case r.OK():
		fmt.Fprintf(w, "repaired: moved to %s\n", r.Quarantine)
	default:
		fmt.Fprintf(w, "some problems are left; what was moved is in %s\n", r.Quarantine)
	}
	if len(r.Reingest) > 0 {
		fmt.Fprintf(w, "ingest these %d sources again to restore the events taken out:\n", len(r.Reingest))
		for _, s := range r.Reingest {
			fmt.Fprintf(w, "  %s\n", s.Name)
		}
	}
	if r.ReingestUnknown {
		fmt.Fprintln(w, "some events came from sources the ledger does not name: ingest all your inputs again (what the lake holds is skipped)")
	}
}

// sourceList names the first n sources.
func sourceList(srcs []lake.Source, n int) string {
	var names []string
	for i, s := range srcs {
		if i == n {
			names = append(names, fmt.Sprintf("… (%d more)", len(srcs)-n))
			break
		}
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
