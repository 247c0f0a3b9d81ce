package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/report"
)

func (m *Main) runCommand() *cobra.Command {
	var config string
	var tf textFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE [--lake DIR]",
		Short: "Collect CloudTrail, detect and notify, continuously (the long-running mode)",
		Long: `Run trailsql as a service: every interval, collect what is new from the config's sources (local
folders, S3 trails, the LookupEvents API: the pipeline of 'trailsql ingest --watch'), evaluate the
detection rules on each commit (once: a restart goes on from the last commit evaluated), and send
the new alerts, each written as the plain-language sentence of its event, to the notification
destinations (Slack, Teams, a signed webhook, email, Jira, PagerDuty) through the lake's outbox.

The config file (YAML; an unknown setting is an error naming its line):

  sources:
    interval: 5m
    paths: [/var/log/cloudtrail]
    s3:
      - url: s3://my-trail-bucket/prefix
        from: 7d          # also: profile, region, endpoint_url, accounts, regions
    lookup_events: {regions: [us-east-1], from: 24h}
    cloudwatch_logs:      # as 'ingest cwl://'
      - group: aws-cloudtrail-logs-111122223333
        region: eu-west-1 # also: profile, endpoint_url, from, lateness (default 15m)
    sqs:                  # as 'ingest --watch sqs://': messages deleted after their commit
      - queue_url: https://sqs.eu-west-1.amazonaws.com/111122223333/trail-notifications
        visibility_timeout: 2m  # also: region, profile, endpoint_url, s3_endpoint_url
  rules:
    files: [./rules]      # trailsql rule files; sigma: [...]; no_builtin: true leaves the built-in ones out
    min_severity: low     # only the rules of this severity or higher (info, low, medium, high, critical)
  notify:
    destinations:
      ops: {type: webhook, url: https://hooks.example.com/trailsql, secret_env: TRAILSQL_HOOK_SECRET}
    routes:
      - destinations: [ops]
    queue: {drain_timeout: 10s}
  start: now              # the first start on a lake with history: now (its alerts are stored,
                          # not sent) or all
  reports:                # scheduled reports (cron, UTC) to email, slack, teams or webhook
    - {name: weekly-identity, kind: identity, days: 30, format: html, schedule: "0 8 * * 1", to: [ops]}

The alerts are stored in the lake, then queued to the outboxes; notify/run.json, the delivery
cursor, records the last commit whose alerts are queued, so a crash in between loses nothing.
A schedule missed while stopped is sent once at the next start (notify/reports.json).

Each cycle prints one health line: objects read, events ingested, alerts raised and queued, and
per destination what was queued, delivered, failed and is pending. SIGTERM or Ctrl-C stops the collection after
committing what was read whole, then lets the notifier send for its drain_timeout; what is left
is sent at the next start. 'trailsql demo' writes a sample config.`,
		Example: `  trailsql run --config /etc/trailsql/trailsql.yml --lake /var/lib/trailsql/lake`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if config == "" {
				return errors.New("give --config FILE: its sources, rules and notification destinations ('trailsql run --help' shows one)")
			}
			textOpt, err := tf.options()
			if err != nil {
				return err
			}
			cfg, err := daemon.LoadConfig(config, m.Getenv, m.now())
			if err != nil {
				return err
			}
			dir, err := m.lakeDir(cmd)
			if err != nil {
				return err
			}
			return m.runDaemon(cmd, cfg, dir, textOpt, nil)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the run config file (YAML: sources, rules, notify)")
	tf.register(cmd)
	return cmd
}

// runDaemon runs what 'trailsql run' runs over the lake dir with cfg, printing a health line
// per cycle and the totals at the end; serve, when set, runs in the same group (serve --config).
func (m *Main) runDaemon(cmd *cobra.Command, cfg *daemon.Config, dir string, textOpt report.Options, serve func(context.Context) error) error {
	m.tuneGCForIngest()
	log := m.logger(cmd)
	if v, _ := cmd.Flags().GetBool("verbose"); !v {
		log = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	fmt.Fprintf(m.Stdout, "trailsql run: lake %s, collecting every %s, %d scheduled reports; stop with Ctrl-C or SIGTERM\n", dir, cfg.Interval, len(cfg.Reports))
	totals, err := daemon.Run(cmd.Context(), daemon.Options{Lake: dir, Config: cfg, Logger: log, Report: textOpt, Serve: serve,
		Health: func(h daemon.Health) { fmt.Fprintln(m.Stdout, h) }})
	if totals != nil {
		fmt.Fprintf(m.Stdout, "stopped: %d alerts raised", totals.Alerts)
		for name, s := range totals.Destinations {
			fmt.Fprintf(m.Stdout, "; %s: %d delivered, %d failed, %d left in the outbox for the next start", name, s.Delivered, s.Failed, s.Pending)
		}
		fmt.Fprintln(m.Stdout)
	}
	return err
}
