package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/report"
)

func (m *Main) reportCommand() *cobra.Command {
	var q queryFlags
	w := windowFlags{now: m.now}
	var format, authzFile string
	cmd := &cobra.Command{
		Use:   "report identity|activity|alerts [--days N | --from T --to T] [--format markdown|html|json]",
		Short: "Write a report an auditor reads: identities and access, activity, or alerts",
		Long: `Write a report over a window, as Markdown, one self-contained HTML page (charts drawn as
inline SVG: readable offline and in an e-mail client) or JSON:

  identity   inactive IAM users, roles and access keys (seen before the window, not in it; with
             --authz also the inventory's identities never seen), root use, console sign-ins
             without MFA, new privileged grants; charts of sign-ins by MFA and events per day
  activity   events per day, active IAM users and roles, changes made from the console, calls
             denied, throttled calls
  alerts     the alerts the ingests stored for the window, by rule and most severe first

Every section is one of the catalogue's questions ('trailsql ask') or a statement over the
alerts table, all read from one snapshot of the lake.`,
		Example: `  trailsql report identity --days 90 --format html > identity.html
  trailsql report activity --days 7 --format markdown
  trailsql report alerts --days 30 --format json`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: report.Kinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(report.Kinds, args[0]) {
				return fmt.Errorf("no report %q: give %s", args[0], strings.Join(report.Kinds, ", "))
			}
			if !slices.Contains(report.Formats, format) {
				return fmt.Errorf("--format %q: give %s", format, strings.Join(report.Formats, ", "))
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			opt := report.BuildOptions{From: from, To: to, Account: w.account, Region: w.region, Now: m.now()}
			if authzFile != "" {
				if args[0] != report.Identity {
					return fmt.Errorf("--authz is for the identity report")
				}
				if opt.Inventory, err = authz.Load(authzFile); err != nil {
					return err
				}
			}
			query, _, done, err := m.windowQuery(cmd, &q, &w, from, to, "")
			if err != nil {
				return err
			}
			defer done()
			doc, err := report.Build(cmd.Context(), query, args[0], opt)
			if err != nil {
				return err
			}
			return doc.Write(m.Stdout, format)
		},
	}
	w.register(cmd)
	q.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "o", "markdown", "markdown, html or json")
	cmd.Flags().StringVar(&authzFile, "authz", "", "identity: the IAM inventory (aws iam get-account-authorization-details), to list its users and roles with no call too")
	return cmd
}
