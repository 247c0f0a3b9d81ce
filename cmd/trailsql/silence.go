package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/render"
)

// silenceCommand is 'trailsql silence add|list|expire': the silences kept beside the lake, which
// running notifiers read again when they change.
func (m *Main) silenceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "silence add|list|expire",
		Short: "Hold back notifications for a while: add, list and expire silences",
		Long: `A silence holds back the notifications whose labels match all its matchers, until it ends. The
labels are rule, severity, account, region, principal, source_ip and event_name; a matcher is
label=value, label!=value, label=~regexp or label!~regexp. Silences are kept in the lake's notify
folder; the alerts are still stored, only their notifications are held back (and recorded as
silenced).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(m.silenceAddCommand(), m.silenceListCommand(), m.silenceExpireCommand())
	return cmd
}

// silences opens the silences of the lake.
func (m *Main) silences(cmd *cobra.Command) (*notify.Silences, error) {
	dir, err := m.lakeDir(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("lake %s: %w (give --lake, or ingest first)", dir, err)
	}
	return notify.OpenSilences(notify.DirOf(dir)), nil
}

func (m *Main) silenceAddCommand() *cobra.Command {
	var duration time.Duration
	var endsAt, comment, createdBy string
	cmd := &cobra.Command{
		Use:   "add MATCHER... --comment TEXT [--duration 2h | --ends-at TIME]",
		Short: "Add a silence",
		Example: `  trailsql silence add rule=root-activity account=111122223333 --duration 4h --comment "break-glass drill"
  trailsql silence add 'rule=~cis-.*' --ends-at 2026-07-01T00:00:00Z --comment "CIS rules reviewed in July"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sil notify.Silence
			for _, a := range args {
				mt, err := notify.ParseMatcher(a)
				if err != nil {
					return err
				}
				sil.Matchers = append(sil.Matchers, mt)
			}
			if comment == "" {
				return fmt.Errorf("--comment: say why (it is shown with the silence)")
			}
			now := m.now()
			sil.EndsAt = now.Add(duration)
			if endsAt != "" {
				if cmd.Flags().Changed("duration") {
					return fmt.Errorf("give --duration or --ends-at, not both")
				}
				t, err := time.Parse(time.RFC3339, endsAt)
				if err != nil {
					return fmt.Errorf("--ends-at %q: write a time like 2026-07-01T00:00:00Z", endsAt)
				}
				sil.EndsAt = t
			}
			sil.Comment, sil.CreatedBy = comment, createdBy
			if sil.CreatedBy == "" {
				sil.CreatedBy = m.Getenv("USER")
			}
			s, err := m.silences(cmd)
			if err != nil {
				return err
			}
			added, err := s.Add(sil, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "silence %s added, until %s\n", added.ID, added.EndsAt.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 2*time.Hour, "how long the silence lasts")
	cmd.Flags().StringVar(&endsAt, "ends-at", "", "when the silence ends (RFC 3339), instead of --duration")
	cmd.Flags().StringVar(&comment, "comment", "", "why (required)")
	cmd.Flags().StringVar(&createdBy, "created-by", "", "who (default $USER)")
	return cmd
}

func (m *Main) silenceListCommand() *cobra.Command {
	var all bool
	var format string
	cmd := &cobra.Command{
		Use:   "list [--all]",
		Short: "List the active silences (--all: the expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			s, err := m.silences(cmd)
			if err != nil {
				return err
			}
			list, err := s.List()
			if err != nil {
				return err
			}
			now := m.now()
			var rows [][]any
			for _, sil := range list {
				state := "active"
				switch {
				case !now.Before(sil.EndsAt):
					state = "expired"
				case now.Before(sil.StartsAt):
					state = "pending"
				}
				if state == "expired" && !all {
					continue
				}
				matchers := ""
				for i, mt := range sil.Matchers {
					if i > 0 {
						matchers += " "
					}
					matchers += mt.String()
				}
				rows = append(rows, []any{sil.ID, state, matchers, sil.StartsAt.Format(time.RFC3339), sil.EndsAt.Format(time.RFC3339), sil.CreatedBy, sil.Comment})
			}
			return m.writeTable(cmd, format, []string{"id", "state", "matchers", "starts_at", "ends_at", "created_by", "comment"}, rows)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list expired silences too")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	return cmd
}

func (m *Main) silenceExpireCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "expire ID",
		Short: "End a silence now (ID whole or a unique prefix, as 'trailsql silence list' shows it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := m.silences(cmd)
			if err != nil {
				return err
			}
			sil, err := s.Expire(args[0], m.now())
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "silence %s expired at %s\n", sil.ID, sil.EndsAt.Format(time.RFC3339))
			return nil
		},
	}
}
