package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/lake"
)

// exitNoLake is the exit status of a command that reads a lake which is not there: not 1 (the
// answer may be partial) nor 0 (an empty answer), so that cron jobs and scripts see it.
const exitNoLake = 2

// lakeChoice is the lake folder and what chose it, for messages.
type lakeChoice struct {
	Dir string
	How string // "--lake", "$TRAILSQL_LAKE" or "the default lake folder"
}

// chooseLake resolves the lake folder: --lake, $TRAILSQL_LAKE, then the per-user default.
func (m *Main) chooseLake(cmd *cobra.Command) (lakeChoice, error) {
	if dir, _ := cmd.Flags().GetString("lake"); dir != "" {
		return lakeChoice{dir, "--lake"}, nil
	}
	if dir := m.Getenv("TRAILSQL_LAKE"); dir != "" {
		return lakeChoice{dir, "$TRAILSQL_LAKE"}, nil
	}
	const how = "the default lake folder (no --lake, $TRAILSQL_LAKE unset)"
	if x := m.Getenv("XDG_DATA_HOME"); x != "" {
		return lakeChoice{filepath.Join(x, "trailsql", "lake"), how}, nil
	}
	home := m.Getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return lakeChoice{}, fmt.Errorf("no lake folder: give --lake or set TRAILSQL_LAKE")
		}
	}
	return lakeChoice{filepath.Join(home, ".local", "share", "trailsql", "lake"), how}, nil
}

// openedLake is a lake that exists, with its snapshot at the time it was checked.
type openedLake struct {
	lakeChoice
	Snap *lake.Snapshot
}

// Empty reports whether the lake holds no events.
func (l *openedLake) Empty() bool { return l.Snap.Rows() == 0 }

// existingLake resolves the lake folder and checks that it is a trailsql lake, without creating
// anything: a mistyped --lake or an unset $TRAILSQL_LAKE must not answer "nothing happened". The
// error says which folder, what chose it and what to do, with exit status 2. Every command that
// reads a lake calls it before opening the engine or a writer.
func (m *Main) existingLake(cmd *cobra.Command) (*openedLake, error) {
	c, err := m.checkedLake(cmd)
	if err != nil {
		return nil, err
	}
	snap, err := lake.OpenSnapshot(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("lake %s: %w", c.Dir, err)
	}
	return &openedLake{lakeChoice: c, Snap: snap}, nil
}

// checkedLake is existingLake without the snapshot: the chosen folder, checked to be a lake.
func (m *Main) checkedLake(cmd *cobra.Command) (lakeChoice, error) {
	c, err := m.chooseLake(cmd)
	if err != nil {
		return c, &exitError{exitNoLake, err}
	}
	if err := checkLake(c); err != nil {
		return c, &exitError{exitNoLake, err}
	}
	return c, nil
}

// checkLake says why the chosen folder is not a lake, or nil when it is one (maybe empty).
func checkLake(c lakeChoice) error {
	todo := fmt.Sprintf("ingest logs into it first ('trailsql ingest --lake %s ./AWSLogs'), or give the lake's folder with --lake or $TRAILSQL_LAKE", c.Dir)
	st, err := os.Stat(c.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no lake at %s (chosen by %s): the folder does not exist; %s", c.Dir, c.How, todo)
	case err != nil:
		return fmt.Errorf("lake %s (chosen by %s): %w", c.Dir, c.How, err)
	case !st.IsDir():
		return fmt.Errorf("no lake at %s (chosen by %s): it is a file, not a folder; give the lake's folder with --lake or $TRAILSQL_LAKE", c.Dir, c.How)
	}
	st, err = os.Stat(filepath.Join(c.Dir, "_trailsql"))
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && !st.IsDir():
		return fmt.Errorf("no lake at %s (chosen by %s): the folder has no trailsql ledger (_trailsql); %s", c.Dir, c.How, todo)
	case err != nil:
		return fmt.Errorf("lake %s (chosen by %s): %w", c.Dir, c.How, err)
	}
	return nil
}

// emptyNote says on stderr that the lake a command requireLake made check is empty, when it is.
func (m *Main) emptyNote(cmd *cobra.Command, snap *lake.Snapshot) {
	if snap == nil || snap.Rows() > 0 {
		return
	}
	if c, err := m.chooseLake(cmd); err == nil {
		fmt.Fprintln(m.Stderr, "trailsql: note: "+emptyLakeNote(&openedLake{lakeChoice: c, Snap: snap}))
	}
}

// emptyLakeNote says that a lake holds no events, with what to do.
func emptyLakeNote(l *openedLake) string {
	return fmt.Sprintf("the lake %s (chosen by %s) is empty: no events were ingested yet ('trailsql ingest --lake %s ./AWSLogs')", l.Dir, l.How, l.Dir)
}

// requireLake makes a command that always reads the lake check it before it runs (query), so
// that a missing lake is an error instead of an empty answer; an empty lake is said on stderr.
func (m *Main) requireLake(cmd *cobra.Command) *cobra.Command {
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		// What the command was asked to print is checked before anything else.
		if f := cmd.Flags().Lookup("format"); f != nil {
			if _, err := chooseFormat(f.Value.String(), m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
		}
		if f := cmd.Flags().Lookup("engine"); f != nil && f.Value.String() == engineAthena {
			// On Athena the statements read the lake's copy on S3: a local lake is optional.
			if prev != nil {
				return prev(cmd, args)
			}
			return nil
		}
		// Whether the lake is empty, the command says once its engine read the snapshot
		// (emptyNote): read here, it would be read twice.
		if _, err := m.checkedLake(cmd); err != nil {
			return err
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
	return cmd
}
