package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/generate"
)

func (m *Main) generateCommand() *cobra.Command {
	var opt generate.Options
	var end, authzFile string
	cmd := &cobra.Command{
		Use:   "generate --out DIR [--events N] [--seed S]",
		Short: "Write a realistic, deterministic CloudTrail trail in the S3 layout (for demos, tests and benchmarks)",
		Long: `Write a generated trail under --out, as CloudTrail delivers it to S3:
AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz,
plus digest files. The same seed and options give the same bytes. --authz also writes the IAM
inventory of the first account, as 'aws iam get-account-authorization-details' prints it, with
policies that fit the trail (for 'trailsql unused' and 'ask inactive-identities').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				return fmt.Errorf("give the output folder with --out")
			}
			opt.End = m.now().UTC()
			if end != "" {
				t, err := time.Parse(time.RFC3339, end)
				if err != nil {
					return fmt.Errorf("--end %q: want an RFC 3339 time such as 2024-03-01T00:00:00Z", end)
				}
				opt.End = t
			}
			start := time.Now()
			truth, err := generate.Generate(cmd.Context(), out, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "wrote %d events in %d log files and %d digest files under %s in %.1fs\n", truth.Events, truth.LogFiles, truth.DigestFiles, out, time.Since(start).Seconds())
			if authzFile == "" {
				return nil
			}
			f, err := os.Create(authzFile)
			if err != nil {
				return err
			}
			if _, err := generate.WriteAuthz(f, opt, truth); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "wrote the IAM inventory of account %s to %s\n", truth.Accounts[0], authzFile)
			return nil
		},
	}
	cmd.Flags().String("out", "", "output folder")
	cmd.Flags().IntVar(&opt.Events, "events", 100000, "number of events")
	cmd.Flags().Int64Var(&opt.Seed, "seed", 1, "random seed")
	cmd.Flags().IntVar(&opt.Days, "days", 0, "days the events spread over, ending at --end (default 45)")
	cmd.Flags().StringVar(&end, "end", "", "newest event time, RFC 3339 (default: now)")
	cmd.Flags().IntVar(&opt.Accounts, "accounts", 3, "number of AWS accounts")
	cmd.Flags().StringSliceVar(&opt.Regions, "regions", nil, "regions (default us-east-1,eu-west-1,ap-southeast-2)")
	cmd.Flags().StringVar(&authzFile, "authz", "", "also write the first account's IAM inventory (authorization details JSON) to this file")
	cmd.Flags().BoolVar(&opt.NoOrg, "no-org", false, "write the layout of a trail without an organization id")
	return cmd
}
