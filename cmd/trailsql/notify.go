package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/window"
)

// notifyCommand is 'trailsql notify status|sent': what the notifier of 'trailsql run' holds and
// sent, read from its outboxes beside the lake (read-only: it works while run is sending).
func (m *Main) notifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify status|sent",
		Short: "Did my alert go out, and where: the notification outboxes' state and what was sent",
		Long: `'trailsql run' keeps an outbox per destination in the lake's notify/outbox folder: what waits to
be sent, and the record of what was delivered (kept seven days). These commands read them, without
stopping or disturbing a running 'trailsql run':

  notify status   per destination: alerts pending, delivered, refused, failed attempts, the last
                  error and when, the last delivery, whether it is idempotent
  notify sent     each message: when it was delivered, where, its rule, alert and event ids, its
                  summary, and the destination's reference (Jira key, PagerDuty dedup_key,
                  webhook-id, email Message-ID); pending ones flagged with their last error

A line of an outbox that cannot be read is reported (file:line) and the rest is still shown; the
command then exits with status 1.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(m.notifyStatusCommand(), m.notifySentCommand())
	return cmd
}

// notifyDir returns the notify folder of the lake.
func (m *Main) notifyDir(cmd *cobra.Command) (string, error) {
	dir, err := m.lakeDir(cmd)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("lake %s: %w (give --lake, or ingest first)", dir, err)
	}
	return notify.DirOf(dir), nil
}

// outboxErrors reports the unreadable outbox lines on stderr and returns an error saying how
// many (nil: none).
func (m *Main) outboxErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs {
		fmt.Fprintln(m.Stderr, "trailsql:", err)
	}
	var oe *notify.OutboxError
	if len(errs) == 1 && !errors.As(errs[0], &oe) {
		return errs[0]
	}
	return &exitError{code: 1, err: fmt.Errorf("%d outbox line(s) or file(s) could not be read (above); the rest is shown", len(errs))}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (m *Main) notifyStatusCommand() *cobra.Command {
	var config, format string
	cmd := &cobra.Command{
		Use:   "status [--config FILE]",
		Short: "Per destination: pending, delivered, failed attempts, last error, last delivery",
		Long: `Per destination, from its outbox: the alerts pending (queued or being sent) and since when, the
messages delivered, refused for good, silenced and held back as repeats over the record kept (seven
days, since the first record), the failed attempts (each retried), the last error and when, the
last delivery. With --config (the run config), each destination of the config is listed with its
kind and whether it is idempotent (a re-send after a crash shows nothing twice there: webhook,
PagerDuty, Jira), even before its first alert.`,
		Example: `  trailsql notify status --lake /var/lib/trailsql/lake --config /etc/trailsql/trailsql.yml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			dir, err := m.notifyDir(cmd)
			if err != nil {
				return err
			}
			var dests map[string]notify.Destination
			if config != "" {
				cfg, err := daemon.LoadConfig(config, m.Getenv, m.now())
				if err != nil {
					return err
				}
				if cfg.Notify != nil {
					dests = cfg.Notify.Destinations
				}
			}
			st, errs := notify.Status(dir, dests)
			if len(st) == 0 && len(errs) == 0 {
				fmt.Fprintf(m.Stderr, "no outbox in %s: nothing was sent from this lake yet (trailsql run --config FILE sends)\n", dir)
			}
			if format == "json" {
				if st == nil {
					st = []notify.DestStatus{}
				}
				if err := writeJSON(m, st); err != nil {
					return err
				}
				return m.outboxErrors(errs)
			}
			var rows [][]any
			for _, s := range st {
				idem := ""
				if s.Idempotent != nil {
					idem = fmt.Sprint(*s.Idempotent)
				}
				rows = append(rows, []any{s.Destination, s.Kind, idem, s.Pending, fmtTime(s.OldestPending), s.Delivered, s.Failed, s.Silenced, s.Repeats,
					s.FailedAttempts, s.LastError, fmtTime(s.LastErrorAt), fmtTime(s.LastDelivered), fmtTime(s.Since)})
			}
			if err := m.writeTable(cmd, format, []string{"destination", "kind", "idempotent", "pending", "pending_since", "delivered", "failed",
				"silenced", "repeats", "failed_attempts", "last_error", "last_error_at", "last_delivered", "since"}, rows); err != nil {
				return err
			}
			return m.outboxErrors(errs)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the run config file: list its destinations with their kind and idempotency")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	return cmd
}

func writeJSON(m *Main, v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) notifySentCommand() *cobra.Command {
	var days int
	var from, to, dest, rule, format string
	cmd := &cobra.Command{
		Use:   "sent [--days N | --from T --to T] [--destination NAME] [--rule ID] [--format table|json|csv]",
		Short: "What was sent: when, where, which rule and alert, its summary, the destination's reference",
		Long: `Each message of the window, oldest first: when it was delivered (or refused, silenced, held
back as a repeat), the destination, the rules and alert (message) id, the events, the message's
summary, and the destination's reference when recorded (Jira key, PagerDuty dedup_key, webhook-id,
email Message-ID). Messages still waiting are listed whatever the window, as pending, with the
destination's last error. The outboxes keep seven days of what was sent.`,
		Example: `  trailsql notify sent --days 1
  trailsql notify sent --destination jira --rule root-activity --format json
  trailsql notify sent --from 2026-03-01 --to 2026-03-02 --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			spec := window.Spec{Days: days, DaysGiven: cmd.Flags().Changed("days"), From: from, To: to}
			f := notify.SentFilter{Destination: dest, Rule: rule}
			if f.From, f.To, err = spec.Resolve(m.now()); err != nil {
				return windowError(err)
			}
			dir, err := m.notifyDir(cmd)
			if err != nil {
				return err
			}
			entries, errs := notify.SentLog(dir, f)
			if format == "json" {
				if entries == nil {
					entries = []notify.SentEntry{}
				}
				if err := writeJSON(m, entries); err != nil {
					return err
				}
				return m.outboxErrors(errs)
			}
			var rows [][]any
			for _, e := range entries {
				summary := e.Summary
				if summary == "" {
					summary = e.Title
				}
				if format == "table" {
					summary, _, _ = strings.Cut(summary, "\n")
				}
				rows = append(rows, []any{fmtTime(e.At), e.Status, e.Destination, strings.Join(e.Rules, " "), e.ID, e.Alerts,
					strings.Join(e.EventIDs, " "), summary, e.Ref, e.Error})
			}
			if err := m.writeTable(cmd, format, []string{"at", "status", "destination", "rule", "alert", "alerts", "events", "summary", "ref", "error"}, rows); err != nil {
				return err
			}
			return m.outboxErrors(errs)
		},
	}
	cmd.Flags().IntVar(&days, "days", 7, "the last N days (the outboxes keep seven)")
	cmd.Flags().StringVar(&from, "from", "", "start: 2026-01-31, 2026-01-31T12:00:00Z, or an age such as 12h; replaces --days")
	cmd.Flags().StringVar(&to, "to", "", "end, excluded: a time or an age as for --from (default: now)")
	cmd.Flags().StringVar(&dest, "destination", "", "only this destination (its name in the config)")
	cmd.Flags().StringVar(&rule, "rule", "", "only messages of this rule id (a report: report:NAME)")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, json, csv, jsonl, markdown (default: table on a terminal, else csv)")
	return cmd
}
