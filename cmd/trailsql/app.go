package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/suggest"
)

// Main is the program with its environment passed in, so that tests run the same code path
// in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal reports whether stdout is a terminal (tables and progress bars) or not (CSV,
	// one summary line).
	IsTerminal bool
	// Columns is the terminal's width, which tables are cut to fit unless --wide (0: unknown,
	// then $COLUMNS says, else tables are not cut).
	Columns int
	// Now is the clock (nil: time.Now): windows ending now, the demo's trail, ages in info.
	Now func() time.Time
	// Self is the trailsql executable that bench runs its child processes with (empty: this
	// process's executable; tests, whose executable is the test binary, set it).
	Self string
}

// now is the time by Main's clock.
func (m *Main) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	m := &Main{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		IsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	}
	if m.IsTerminal {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			m.Columns = w
		}
	}
	return m
}

// tableWidth is the width a table in format is cut to: the terminal's, when the table goes to
// one and --wide is not given; else 0 (never cut). Below 40 columns a table could show nothing
// useful: it is then not cut either.
func (m *Main) tableWidth(cmd *cobra.Command, format string) int {
	if wide, _ := cmd.Flags().GetBool("wide"); wide || format != "table" || !m.IsTerminal {
		return 0
	}
	w := m.Columns
	if w == 0 {
		w, _ = strconv.Atoi(m.Getenv("COLUMNS"))
	}
	if w < 40 {
		return 0
	}
	return w
}

// writeTable writes rows in format, a table cut to the terminal's width (see tableWidth).
func (m *Main) writeTable(cmd *cobra.Command, format string, columns []string, rows [][]any) error {
	return writeRows(m.Stdout, format, m.tableWidth(cmd, format), columns, rows)
}

// writeRows writes rows in format, a table cut to width (0: not cut).
func writeRows(w io.Writer, format string, width int, columns []string, rows [][]any) error {
	return streamRows(w, format, width, columns, len(rows), func(i int) []any { return rows[i] })
}

// streamRows is writeRows of n rows made one at a time by row (not all held at once).
func streamRows(w io.Writer, format string, width int, columns []string, n int, row func(i int) []any) error {
	s, err := render.NewStream(w, format)
	if err != nil {
		return err
	}
	s.SetWidth(width)
	if err := s.Begin(columns, nil); err != nil {
		return err
	}
	for i := range n {
		if err := s.Row(row(i)); err != nil {
			return err
		}
	}
	return s.Close()
}

// exitError carries an exit status other than 1 for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// Run runs the command line args and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(m.Stderr, "trailsql:", flagHint(ee.err))
		}
		return ee.code
	}
	fmt.Fprintln(m.Stderr, "trailsql:", flagHint(err))
	return 1
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "trailsql",
		Short: "Answer security questions about AWS accounts from their CloudTrail logs, with Athena SQL, on one machine",
		Long: `trailsql ingests CloudTrail logs (S3 trail folders, log files, LookupEvents output, Event history
downloads) into a local Parquet lake and answers Athena SQL over it: the same table, columns and
functions as Amazon Athena's cloudtrail_logs, without an AWS query service. The lake is
Hive-partitioned Parquet, so Athena, Trino and Spark can read it too.

Start with:
  trailsql demo                      generate a realistic trail, ingest it, answer the classic questions
  trailsql ingest ./AWSLogs          read your logs into the lake
  trailsql query "SELECT …"          ask Athena SQL
  trailsql ask                       the catalogue of security questions (ask NAME answers one)
  trailsql policy --principal X      the least-privilege IAM policy for what X called
  trailsql unused --authz FILE       granted vs used permissions of every user and role

The lake is --lake, else $TRAILSQL_LAKE, else ` + defaultLakeHelp + `.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().String("lake", "", "lake folder (default $TRAILSQL_LAKE, else "+defaultLakeHelp+")")
	root.PersistentFlags().BoolP("verbose", "v", false, "log what happens to stderr")
	root.PersistentFlags().Bool("wide", false, "print tables whole on a terminal (by default, long values such as ARNs and user agents are cut with … to fit it)")
	root.AddCommand(
		m.ingestCommand(),
		m.requireLake(m.queryCommand()),
		m.infoCommand(),
		m.schemaCommand(),
		m.compactCommand(),
		m.checkCommand(),
		m.demoCommand(),
		m.generateCommand(),
		m.benchCommand(),
		m.askCommand(),
		m.policyCommand(),
		m.unusedCommand(),
		m.detectCommand(),
		m.alertsCommand(),
		m.rulesCommand(),
		m.serveCommand(),
		m.tokenCommand(),
		m.silenceCommand(),
		m.notifyCommand(),
		m.reportCommand(),
		m.runCommand(),
		m.pushCommand(),
		m.ddlCommand(),
	)
	return root
}

const defaultLakeHelp = "$XDG_DATA_HOME/trailsql/lake (~/.local/share/trailsql/lake)"

// lakeDir resolves the lake folder: --lake, $TRAILSQL_LAKE, then the per-user default (see
// chooseLake; commands that read a lake check it with existingLake).
func (m *Main) lakeDir(cmd *cobra.Command) (string, error) {
	c, err := m.chooseLake(cmd)
	return c.Dir, err
}

func (m *Main) logger(cmd *cobra.Command) *slog.Logger {
	if v, _ := cmd.Flags().GetBool("verbose"); v {
		return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// versionOf says the module version and the commit the binary was built from, with its time and
// whether the work tree had uncommitted changes (go build stamps these from git; go run and
// -buildvcs=false do not, and the version says so).
func versionOf(bi *debug.BuildInfo) string {
	v := "dev"
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, at string
	var modified bool
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		return v + " (no commit recorded: built with go run, with -buildvcs=false, or in a git worktree, which go build does not stamp)"
	}
	v += " (commit " + rev
	if at != "" {
		v += ", " + at
	}
	if modified {
		v += ", with uncommitted changes"
	}
	return v + ")"
}

// flagError adds to an unknown flag's error the flag that was probably meant.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var name string
	if n, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		name = n
	} else {
		return err
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if s := suggest.Closest(name, names); s != "" {
		return fmt.Errorf("%w: did you mean --%s? ('trailsql %s --help' lists the flags)", err, s, cmd.Name())
	}
	return fmt.Errorf("%w ('trailsql %s --help' lists the flags)", err, cmd.Name())
}
