package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/usage"
)

func (m *Main) unusedCommand() *cobra.Command {
	var q queryFlags
	w := windowFlags{now: m.now}
	var file, who, format string
	var classes, dataEvents []string
	var assumeRecorded, includeDenied, byService, listActions bool
	cmd := &cobra.Command{
		Use:   "unused --authz FILE.json [--principal X] [--days N | --from T --to T]",
		Short: "Compare what IAM grants each user and role with what CloudTrail shows they used",
		Long: `For every user and role of an IAM inventory (the output of 'aws iam
get-account-authorization-details'), compare the actions its policies grant with the actions its
calls in the window used:

  used          granted, and used
  unused        granted, CloudTrail would show a use, and shows none: a candidate for removal
  not-granted   used, but no identity policy in the file grants it (a resource-based policy may)
  unknown       granted, but CloudTrail cannot show its use: data events the trail does not log,
                calls CloudTrail does not record, permission-only actions (iam:PassRole), and
                actions no source says CloudTrail records (--assume-recorded counts them as unused)

Grants come from inline, attached managed (their default version, from the file's Policies) and
group policies, wildcards expanded against the IAM reference, NotAction and Deny honoured, and
permissions boundaries applied. What the file lacks (a managed policy not in it, a missing group)
is reported, not guessed. Calls refused for lack of permission are not uses unless
--include-denied. Data events count as logged for the services whose data events are in the lake
in the window, unless --data-events says which.

Table, CSV and Markdown show one row per principal: how many actions it is granted, and how many
are used, unused, not granted and unknown. --actions lists the actions themselves (used, unused and
not-granted; --classes all for every class): an administrator alone is granted some 17,000.
--by-service counts the classes per service. JSON and JSON lines hold the full report of every
principal, actions included.`,
		Example: `  aws iam get-account-authorization-details > authz.json
  trailsql unused --authz authz.json --days 90
  trailsql unused --authz authz.json --principal ReadOnly --actions
  trailsql unused --authz authz.json --principal ReadOnly --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("give --authz FILE, the output of 'aws iam get-account-authorization-details'")
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			show := map[authz.Class]bool{}
			for _, c := range classes {
				switch c {
				case "all":
					for _, k := range []authz.Class{authz.Used, authz.Unused, authz.NotGranted, authz.Unknown} {
						show[k] = true
					}
				case string(authz.Used), string(authz.Unused), string(authz.NotGranted), string(authz.Unknown):
					show[authz.Class(c)] = true
				default:
					return fmt.Errorf("--classes %q: give used, unused, not-granted, unknown or all", c)
				}
			}
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			details, err := authz.Load(file)
			if err != nil {
				return err
			}
			principals, err := principal.Inventory(details, who, w.account)
			if err != nil {
				return principalFlag(err)
			}
			if len(principals) == 0 {
				return fmt.Errorf("%s: no users or roles to compare", file)
			}
			query, _, done, err := m.windowQuery(cmd, &q, &w, from, to, "actions used only outside it show as unused")
			if err != nil {
				return err
			}
			defer done()
			uq := usage.UnusedQuery{
				Query:          usage.Query{From: from, To: to, Region: w.region, IncludeDenied: includeDenied},
				AssumeRecorded: assumeRecorded,
			}
			if cmd.Flags().Changed("data-events") {
				uq.DataEvents = append([]string{}, dataEvents...)
			}
			reports, logged, err := usage.Unused(cmd.Context(), query, details, principals, uq)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "%s: %d principals, window %s; data events logged for: %s\n", file, len(reports), w.describe(from, to), listOrNone(logged))
			width := m.tableWidth(cmd, format)
			if byService {
				return writeByService(m.Stdout, format, width, reports)
			}
			if !listActions && format != "json" && format != "jsonl" {
				return writeUnusedSummary(m.Stdout, m.Stderr, format, width, reports, show)
			}
			return writeUnused(m.Stdout, format, width, reports, show)
		},
	}
	w.register(cmd)
	cmd.Flags().StringVar(&file, "authz", "", "the IAM inventory: output of 'aws iam get-account-authorization-details'")
	cmd.Flags().StringVarP(&who, "principal", "p", "", "only this user or role (name, ARN or unique id in the file)")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	cmd.Flags().StringSliceVar(&classes, "classes", []string{"used", "unused", "not-granted"}, "classes of actions to list: used, unused, not-granted, unknown, all")
	cmd.Flags().StringSliceVar(&dataEvents, "data-events", nil, "IAM prefixes whose data events the trail logs (s3, lambda, …, * for all; default: those present in the lake)")
	cmd.Flags().BoolVar(&assumeRecorded, "assume-recorded", false, "count actions no source says CloudTrail records as unused rather than unknown")
	cmd.Flags().BoolVar(&listActions, "actions", false, "list every action of every principal (--classes says which) instead of one summary row per principal")
	cmd.Flags().BoolVar(&byService, "by-service", false, "count the classes per principal and service instead of listing actions")
	cmd.Flags().BoolVar(&includeDenied, "include-denied", false, "count calls refused for lack of permission as uses")
	q.register(cmd)
	q.engine.register(cmd)
	return cmd
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(slices.Compact(c), ", ")
}

// writeUnused prints the reports: JSON keeps their whole structure (rows of the chosen classes),
// the other formats one row per principal and action after a summary per principal.
func writeUnused(out io.Writer, format string, width int, reports []*authz.Report, show map[authz.Class]bool) error {
	for _, r := range reports {
		rows := r.Actions[:0:0]
		for _, a := range r.Actions {
			if show[a.Class] {
				rows = append(rows, a)
			}
		}
		r.Actions = rows
	}
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	case "jsonl":
		enc := json.NewEncoder(out)
		for _, r := range reports {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	// CSV is one table with the principal in a column; the other formats a summary and a table
	// per principal.
	cols := []string{"action", "class", "access_level", "calls", "last_used", "reason"}
	if format == "csv" {
		cols = append([]string{"principal"}, cols...)
	}
	var rows [][]any
	for _, r := range reports {
		if format != "csv" {
			s := r.Summary
			fmt.Fprintf(out, "%s %s: %d granted, %d used, %d unused, %d not granted, %d unknown (CloudTrail cannot show them)", r.Principal.Type, r.Principal.ARN, s.Granted, s.Used, s.Unused, s.NotGranted, s.Unknown)
			if s.Denied > 0 || s.OutsideBoundary > 0 {
				fmt.Fprintf(out, "; %d removed by Deny, %d outside the boundary", s.Denied, s.OutsideBoundary)
			}
			fmt.Fprintln(out)
			for _, p := range r.Problems {
				fmt.Fprintf(out, "  problem: %s\n", p.Message)
			}
		}
		for _, a := range r.Actions {
			var last any
			if !a.Last.IsZero() {
				last = a.Last.UTC().Format(time.RFC3339)
			}
			row := []any{a.Action, string(a.Class), a.AccessLevel, a.Calls, last, a.Reason}
			if format == "csv" {
				row = append([]any{r.Principal.ARN}, row...)
			}
			rows = append(rows, row)
		}
		if format == "csv" || len(reports) == 1 && len(rows) == 0 {
			continue
		}
		if err := writeRows(out, format, width, cols, rows); err != nil {
			return err
		}
		if len(reports) > 1 {
			fmt.Fprintln(out)
		}
		rows = rows[:0]
	}
	if format == "csv" {
		return render.Write(out, format, cols, rows)
	}
	return nil
}

// writeUnusedSummary writes one row per principal with the counts of its classes, then the
// problems of the file that leave grants undecided (after the table, or on stderr for CSV), and
// how to see the actions.
func writeUnusedSummary(out, errOut io.Writer, format string, width int, reports []*authz.Report, show map[authz.Class]bool) error {
	cols := []string{"principal", "type", "granted", "used", "unused", "not_granted", "unknown", "denied", "outside_boundary", "problems"}
	var rows [][]any
	var problems []string
	actions := 0
	for _, r := range reports {
		s := r.Summary
		rows = append(rows, []any{r.Principal.ARN, string(r.Principal.Type), s.Granted, s.Used, s.Unused, s.NotGranted, s.Unknown, s.Denied, s.OutsideBoundary, len(r.Problems)})
		for _, p := range r.Problems {
			problems = append(problems, r.Principal.ARN+": "+p.Message)
		}
		for _, a := range r.Actions {
			if show[a.Class] {
				actions++
			}
		}
	}
	if err := writeRows(out, format, width, cols, rows); err != nil {
		return err
	}
	pw := out
	if format == "csv" {
		pw = errOut
	}
	for _, p := range problems {
		fmt.Fprintln(pw, "problem: "+p)
	}
	fmt.Fprintf(errOut, "unknown means granted, but CloudTrail cannot show a use. --actions lists the %d actions of the chosen classes (--classes), --by-service counts them per service, --format json holds everything\n", actions)
	return nil
}

// writeByService counts each principal's actions by service and class.
func writeByService(out io.Writer, format string, width int, reports []*authz.Report) error {
	cols := []string{"principal", "service", "granted", "used", "unused", "not_granted", "unknown"}
	var rows [][]any
	for _, r := range reports {
		for _, c := range r.ByService() {
			rows = append(rows, []any{r.Principal.ARN, c.Service, c.Granted, c.Used, c.Unused, c.NotGranted, c.Unknown})
		}
	}
	return writeRows(out, format, width, cols, rows)
}
