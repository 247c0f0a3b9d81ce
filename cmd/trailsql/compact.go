package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/lake"
)

func (m *Main) compactCommand() *cobra.Command {
	var minFiles int
	var keep time.Duration
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Merge each partition's small files into one, so queries stay fast after many ingests",
		Long: `Merge the files of every partition that has at least --min-files files into one file, in one
atomic commit. Ingest already does this for partitions with 8 files or more. Queries running
meanwhile keep reading the files they started with; superseded files are deleted by a later
compaction once older than --keep.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Compacting a mistyped folder must not create a lake there.
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			w, err := lake.OpenWriter(cmd.Context(), lk.Dir, lake.WriterOptions{Logger: m.logger(cmd)})
			if err != nil {
				return err
			}
			defer w.Close()
			st, err := w.Compact(cmd.Context(), minFiles, keep)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "compacted %d partitions: %d files into %d (%d rows); removed %d superseded files\n", st.Partitions, st.FilesBefore, st.FilesAfter, st.Rows, st.Removed)
			return nil
		},
	}
	cmd.Flags().IntVar(&minFiles, "min-files", 2, "compact partitions with at least this many files")
	cmd.Flags().DurationVar(&keep, "keep", 10*time.Minute, "keep superseded files this long for queries still reading them")
	return cmd
}
