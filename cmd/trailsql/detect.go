package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/rules"
)

// ruleFlags choose the rules of detect, ingest and rules.
type ruleFlags struct {
	files, sigma, only []string
	noBuiltin          bool
	minSeverity        string
}

// sources are the rule sources the flags choose.
func (r *ruleFlags) sources() rules.Sources {
	return rules.Sources{NoBuiltin: r.noBuiltin, Files: r.files, Sigma: r.sigma, Only: r.only, MinSeverity: rules.Severity(r.minSeverity)}
}

func (r *ruleFlags) register(cmd *cobra.Command, only bool) {
	cmd.Flags().StringSliceVar(&r.files, "rules", nil, "rule files or folders of them (trailsql's YAML: see 'trailsql rules --help'), besides the built-in rules")
	cmd.Flags().StringSliceVar(&r.sigma, "sigma", nil, "Sigma rule files or folders (e.g. a clone of SigmaHQ's rules/cloud/aws); rules for other log sources are skipped")
	cmd.Flags().BoolVar(&r.noBuiltin, "no-builtin", false, "leave out the built-in rules")
	cmd.Flags().StringVar(&r.minSeverity, "min-severity", "", "only the rules of this severity or higher: info, low, medium, high or critical (SigmaHQ's low rules are hunting leads, some firing on most events)")
	if only {
		cmd.Flags().StringSliceVar(&r.only, "rule", nil, "only these rules (ids, as 'trailsql rules list' shows them)")
	}
}

// load loads the rules and says on w what could not be used.
func (r *ruleFlags) load(w io.Writer) (*rules.Loaded, error) {
	loaded, err := rules.Load(r.sources())
	if err != nil {
		if r.minSeverity != "" && rules.Severity(r.minSeverity).Rank() < 0 {
			return nil, fmt.Errorf("--min-severity: %w", err)
		}
		return nil, fmt.Errorf("--rule: %w", err)
	}
	for _, e := range loaded.Errors {
		fmt.Fprintln(w, "rule not loaded: "+e.Error())
	}
	switch n := loaded.BelowSeverity; {
	case n == 1:
		fmt.Fprintf(w, "1 rule below --min-severity %s left out\n", r.minSeverity)
	case n > 1:
		fmt.Fprintf(w, "%d rules below --min-severity %s left out\n", n, r.minSeverity)
	}
	if len(loaded.Rules) == 0 {
		return nil, fmt.Errorf("no rule to evaluate")
	}
	return loaded, nil
}

func (m *Main) detectCommand() *cobra.Command {
	var q queryFlags
	var rf ruleFlags
	var tf textFlags
	w := windowFlags{now: m.now}
	var format string
	cmd := &cobra.Command{
		Use:   "detect [--days N | --from T --to T] [--rule ID] [--rules DIR] [--sigma DIR]",
		Short: "Run the detection rules over a window of the lake (a backtest) and list what they find",
		Long: `Run the detection rules over the events of a window, all in one scan, and list the alerts by
time: the built-in rules (the CIS AWS Foundations monitoring controls as CloudWatch filter
patterns, and trailsql's own: root use, console sign-ins without MFA, failed sign-in bursts,
privilege escalation, CloudTrail tampering, resources made public, …), your rule files (--rules)
and Sigma rules (--sigma). 'trailsql rules list' shows them.

'trailsql ingest' runs the same rules on every new commit's events, once each, and stores the
alerts in the lake's alerts folder; detect is the what-if over any window, and stores nothing.`,
		Example: `  trailsql detect --days 30
  trailsql detect --days 7 --rule root-activity --rule console-signin-without-mfa
  trailsql detect --from 2026-01-01 --sigma ~/sigma/rules/cloud/aws --format json
  trailsql detect --days 7 --format text --tz Europe/Paris`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = chooseFormat(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			textOpt, err := tf.options()
			if err != nil {
				return err
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			loaded, err := rf.load(m.Stderr)
			if err != nil {
				return err
			}
			query, snap, done, err := m.windowQuery(cmd, &q, &w, from, to, "")
			if err != nil {
				return err
			}
			defer done()
			ok, problems := rules.Validate(cmd.Context(), query, loaded.Rules)
			for _, p := range problems {
				fmt.Fprintln(m.Stderr, "rule not evaluated: "+p.Error())
			}
			scope := rules.Scope{From: from, To: to, Account: w.account, Region: w.region}
			if snap != nil { // on Athena without a local lake the values are not known
				scope.Values = rules.FacetValues(snap.Files)
			}
			if onAthena, _ := q.engine.isAthena(); !onAthena && snap != nil {
				// The rules evaluated in Go are evaluated over the files the engine reads.
				scope.Lake = &rules.Local{Snap: snap}
			}
			alerts, err := rules.Backtest(cmd.Context(), query, ok, scope)
			if err != nil {
				return err
			}
			how := ""
			if lk := scope.Lake; lk != nil && lk.InGo > 0 {
				inGo := lk.InGo - lk.Retried
				how = fmt.Sprintf(" (%d in Go over %d lake files, %d in SQL)", inGo, lk.Files, len(ok)-inGo)
			}
			fmt.Fprintf(m.Stderr, "%d rules evaluated%s, %d alerts\n", len(ok), how, alerts.Len())
			if format == textFormat {
				return writeAlertSentences(cmd.Context(), m.Stdout, query, alerts.All(), textOpt)
			}
			var buf rules.Alert // each alert, made as it is written
			return m.writeAlerts(cmd, format, alerts.Len(), func(i int) *rules.Alert { return alerts.At(i, &buf) })
		},
	}
	w.register(cmd)
	rf.register(cmd, true)
	tf.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown, or text (each alert's event as a sentence) (default: table on a terminal, else csv)")
	q.register(cmd)
	q.engine.register(cmd)
	return cmd
}

var alertColumns = []string{"event_time", "severity", "rule", "title", "principal", "source_ip", "event_source", "event_name", "account", "region", "event_id", "count"}

// writeAlerts writes n alerts in format, row by row (a backtest may give a million), each as at
// gives it when its row is written.
func (m *Main) writeAlerts(cmd *cobra.Command, format string, n int, at func(i int) *rules.Alert) error {
	// The Stream keeps none of the row, nor what its *string values point to (the alert, which
	// at may make again in the same memory): a string put in an any is a copy of its header
	// made on the heap, 0.65 s of writing a backtest's 839k alerts.
	row := make([]any, len(alertColumns))
	severity := map[rules.Severity]any{}
	return streamRows(m.Stdout, format, m.tableWidth(cmd, format), alertColumns, n, func(i int) []any {
		a := at(i)
		sev, ok := severity[a.Severity]
		if !ok {
			sev = string(a.Severity)
			severity[a.Severity] = sev
		}
		row = append(row[:0], &a.EventTime, sev, &a.Rule, &a.Title, &a.Principal, &a.SourceIP, &a.EventSource, &a.EventName, &a.Account, &a.Region, &a.EventID, a.Count)
		return row
	})
}

func (m *Main) rulesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules (list | lint | test FILE…)",
		Short: "List, check and test the detection rules",
		Long: `Detection rules are conditions over one event: trailsql evaluates all of them in one scan of
each new commit (ingest) or of a window (detect).

A rule file is YAML; unknown keys are errors:

  rules:
    - id: root-activity                       # letters, digits, . _ : -
      title: "Root user {{ eventname }} from {{ sourceipaddress }}"   # {{ SQL expression }}
      severity: high                          # info, low, medium, high, critical
      description: …
      runbook: what to do
      tags: [attack.t1078.004]                # MITRE ATT&CK
      condition: useridentity.type = 'Root' AND useridentity.invokedby IS NULL
      # or, instead of condition, a CloudWatch Logs filter pattern:
      # pattern: '{ $.userIdentity.type = "Root" }'
      threshold:                              # optional: fire on COUNT events in WINDOW
        count: 5
        window: 10m
        group_by: [sourceipaddress]           # SQL expressions
      dedup: [eventid]                        # optional: SQL expressions naming one alert

A condition is Athena SQL over one row of cloudtrail_logs (the columns of 'trailsql schema').
Sigma rules (--sigma) are read unchanged.

  list   the rules: id, kind, severity, title, where they come from
  lint   load every rule and check each can be evaluated over the lake (or an empty one)
  test   run rule test files: events, and the alerts they must give (see below)

A rule test file:

  rule_files: [my-rules.yml]                  # relative to the test file
  tests:
    - name: a root sign-in fires
      rules: [root-activity]                  # the rules under test (default: all)
      events:                                 # CloudTrail records
        - {eventTime: "2024-05-01T10:00:00Z", eventSource: signin.amazonaws.com, eventName: ConsoleLogin, userIdentity: {type: Root}, eventID: e1}
      alerts:                                 # every alert the rules under test give
        - {rule: root-activity, event_id: e1}`,
	}
	var rf ruleFlags
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			loaded, err := rf.load(m.Stderr)
			if err != nil {
				return err
			}
			var rows [][]any
			for _, r := range loaded.Rules {
				from := r.Where()
				if r.Author != "" {
					from += " (by " + r.Author + ")"
				}
				rows = append(rows, []any{r.ID, string(r.Kind), string(r.Severity), r.Title, strings.Join(r.Tags, " "), from})
			}
			if loaded.OtherLogSources > 0 {
				fmt.Fprintf(m.Stderr, "%d Sigma rules are for other log sources than AWS CloudTrail: skipped\n", loaded.OtherLogSources)
			}
			return m.writeTable(cmd, format, []string{"id", "kind", "severity", "title", "tags", "from"}, rows)
		},
	}
	list.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown")
	rf.register(list, false)

	var lrf ruleFlags
	lint := &cobra.Command{
		Use:   "lint",
		Short: "Check that every rule loads and can be evaluated",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			loaded, err := rules.Load(lrf.sources())
			if err != nil {
				return err
			}
			bad := len(loaded.Errors)
			for _, e := range loaded.Errors {
				fmt.Fprintln(m.Stdout, "error: "+e.Error())
			}
			query, closeLake, err := m.lintLake(cmd)
			if err != nil {
				return err
			}
			defer closeLake()
			ok, problems := rules.Validate(cmd.Context(), query, loaded.Rules)
			for _, p := range problems {
				fmt.Fprintln(m.Stdout, "error: "+p.Error())
			}
			bad += len(problems)
			fmt.Fprintf(m.Stdout, "%d rules can be evaluated, %d cannot\n", len(ok), bad)
			if bad > 0 {
				return &exitError{1, fmt.Errorf("%d rules cannot be evaluated", bad)}
			}
			return nil
		},
	}
	lrf.register(lint, false)

	test := &cobra.Command{
		Use:   "test FILE…",
		Short: "Run rule test files",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			builtin, errs := rules.Builtin()
			if len(errs) > 0 {
				return fmt.Errorf("built-in rules: %v", errs)
			}
			failed := 0
			for _, f := range args {
				results, err := rules.RunTests(cmd.Context(), f, builtin, loadAnyRules, m.testLake)
				if err != nil {
					return err
				}
				for _, r := range results {
					if len(r.Failures) == 0 {
						fmt.Fprintf(m.Stdout, "ok    %s:%d %s\n", r.File, r.Line, r.Name)
						continue
					}
					failed++
					fmt.Fprintf(m.Stdout, "FAIL  %s:%d %s\n", r.File, r.Line, r.Name)
					for _, msg := range r.Failures {
						fmt.Fprintf(m.Stdout, "        %s\n", msg)
					}
				}
			}
			if failed > 0 {
				return &exitError{1, fmt.Errorf("%d rule tests failed", failed)}
			}
			return nil
		},
	}
	cmd.AddCommand(list, lint, test)
	return cmd
}

// loadAnyRules loads a test file's rule files: Sigma rules for files that look like Sigma (a
// detection section), trailsql's format for the others.
func loadAnyRules(paths ...string) ([]*rules.Rule, []error) {
	var native []string
	var out []*rules.Rule
	var errs []error
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), "\ndetection:") {
			rs, es, _ := rules.LoadSigma(p)
			out, errs = append(out, rs...), append(errs, es...)
			continue
		}
		native = append(native, p)
	}
	rs, es := rules.LoadFiles(native...)
	return append(out, rs...), append(errs, es...)
}

// testLake ingests a rule test's events into a lake of their own and opens it.
func (m *Main) testLake(ctx context.Context, logFile string) (answer.QueryFunc, func(), error) {
	dir, err := os.MkdirTemp("", "trailsql-ruletest-lake-")
	if err != nil {
		return nil, nil, err
	}
	root := filepath.Join(dir, "lake")
	cleanup := func() { os.RemoveAll(dir) }
	st, err := ingest.Run(ctx, ingest.Options{Lake: root, CompactFiles: -1}, []string{logFile})
	if err == nil && st.Failed() {
		err = fmt.Errorf("%v", st.Problems)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	e, err := local.Open(ctx, engine.Options{Lake: root})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return local.Engine(e), func() { e.Close(); cleanup() }, nil
}

// lintLake is the lake rules are checked against: the chosen lake if it exists, else an empty
// one.
func (m *Main) lintLake(cmd *cobra.Command) (answer.QueryFunc, func(), error) {
	root, cleanup := "", func() {}
	if lk, err := m.existingLake(cmd); err == nil {
		root = lk.Dir
	} else {
		dir, err := os.MkdirTemp("", "trailsql-lint-")
		if err != nil {
			return nil, nil, err
		}
		root, cleanup = filepath.Join(dir, "lake"), func() { os.RemoveAll(dir) }
	}
	e, err := local.Open(cmd.Context(), engine.Options{Lake: root})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return local.Engine(e), func() { e.Close(); cleanup() }, nil
}

// ingestDetection runs the rules on each pass's new commits during an ingest, and prints what
// they found.
type ingestDetection struct {
	m *Main
	d *daemon.Detection
}

func (d *ingestDetection) run(ctx context.Context) error {
	return d.d.Run(ctx, func(_ context.Context, _ answer.QueryFunc, det *rules.Detection) error {
		if det.From > det.To {
			return nil
		}
		// The alerts are made one at a time: a busy trail's are many, most held packed.
		var buf rules.Alert
		n := map[rules.Severity]int{}
		for i := range det.Alerts.Len() {
			n[det.Alerts.At(i, &buf).Severity]++
		}
		fmt.Fprintf(d.m.Stdout, "detection: %s%s\n", det, severityCounts(n))
		for i := range det.Alerts.Len() {
			a := det.Alerts.At(i, &buf)
			if i == 10 {
				fmt.Fprintf(d.m.Stdout, "  … %d more: trailsql detect --from %s\n", det.Alerts.Len()-10, a.EventTime[:10])
				break
			}
			fmt.Fprintf(d.m.Stdout, "  %s %-8s %s: %s\n", a.EventTime, a.Severity, a.Rule, a.Title)
		}
		return nil
	})
}

func (d *ingestDetection) close() { d.d.Close() }

// severityCounts is " (2 high, 1 low)" for the alerts counted by severity, "" for none.
func severityCounts(n map[rules.Severity]int) string {
	var parts []string
	for _, s := range []rules.Severity{rules.Critical, rules.High, rules.Medium, rules.Low, rules.Info} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (m *Main) alertsCommand() *cobra.Command {
	w := windowFlags{now: m.now}
	var format string
	var only []string
	cmd := &cobra.Command{
		Use:   "alerts [--days N | --from T --to T] [--rule ID]",
		Short: "List the alerts the ingests stored (what fired), by event time",
		Long: `List the alerts 'trailsql ingest' stored: every rule's matches on the events of each commit,
evaluated once. They are Parquet files in the lake's alerts folder, one per evaluation, which
Athena can read as a table too. The window and --account/--region filter by the events' time
and partition.`,
		Example: `  trailsql alerts --days 7
  trailsql alerts --rule root-activity --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			st := rules.OpenStore(lk.Dir)
			cursor, err := st.Cursor()
			if err != nil {
				return err
			}
			stored, err := st.Alerts()
			if err != nil {
				return err
			}
			kept := rules.Select(stored, rules.Filter{From: from, To: to, Account: w.account, Region: w.region, Rules: only})
			if cursor == 0 {
				fmt.Fprintln(m.Stderr, "no commit has been evaluated yet: the rules run at the end of each 'trailsql ingest' (unless --no-detect)")
			} else {
				fmt.Fprintf(m.Stderr, "%d alerts in the window; the rules evaluated the lake's commits up to %d (the lake is at %d)\n", len(kept), cursor, lk.Snap.Seq)
			}
			return m.writeAlerts(cmd, format, len(kept), func(i int) *rules.Alert { return &kept[i] })
		},
	}
	w.register(cmd)
	cmd.Flags().StringSliceVar(&only, "rule", nil, "only these rules' alerts")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	return cmd
}
