package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/publish"
	"github.com/trailsql/trailsql/internal/s3src"
)

// pushFlags are the options of trailsql push.
type pushFlags struct {
	profile     string
	region      string
	endpointURL string
	deleteDelay time.Duration
}

func (m *Main) pushCommand() *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push [--lake DIR] s3://BUCKET[/PREFIX]",
		Short: "Publish the lake to S3, where Athena, Trino or Spark read it as it is",
		Long: `Copy the lake to s3://BUCKET/PREFIX (cloudtrail_logs/account=…/region=…/year=…/month=…/day=…
and the ledger), sending only the commits the bucket lacks. Run it after each ingest, or from cron.

Each commit's data files go first, then its manifest, written only if absent (If-None-Match), so a
reader of the bucket never finds a commit whose files are missing, and two lakes cannot both
publish the same commit number to one prefix. A push that is interrupted is completed by the next
one: files already there (same size and SHA-256) are not sent again. Files a compaction superseded
are deleted from the bucket --delete-after the compaction reached it, so that queries that started
before (Athena's run up to 30 minutes) can still read them. The lake's key and its alerts stay
local.

Credentials are the standard AWS ones (environment, ~/.aws files, --profile, SSO, instance and
container roles); --endpoint-url reaches an S3-compatible server, addressed path-style.`,
		Example: `  trailsql push --lake ./lake s3://my-lake-bucket/cloudtrail
  trailsql push s3://lake --endpoint-url http://localhost:9000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.push(cmd, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "AWS profile of the shared configuration files (default $AWS_PROFILE)")
	fl.StringVar(&f.region, "region", "", "region of the bucket (default: asked of S3; with --endpoint-url, the configured region)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "S3 endpoint of a compatible server, e.g. http://localhost:9000")
	fl.DurationVar(&f.deleteDelay, "delete-after", publish.DefaultDeleteDelay, "keep superseded files in the bucket this long after the compaction that superseded them reached it (longer than the longest query on the bucket)")
	return cmd
}

func (m *Main) push(cmd *cobra.Command, url string, f *pushFlags) error {
	ctx := cmd.Context()
	t, err := publish.ParseTarget(url)
	if err != nil {
		return err
	}
	// Publishing a mistyped folder must not create a lake there.
	lk, err := m.existingLake(cmd)
	if err != nil {
		return err
	}
	log := m.logger(cmd)
	client, err := s3src.NewClient(ctx, s3src.ClientOptions{Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, Logger: log}, t.Bucket)
	if err != nil {
		return err
	}
	st, err := publish.Push(ctx, client, lk.Dir, t, publish.Options{DeleteDelay: f.deleteDelay, Logger: log})
	if st != nil {
		fmt.Fprintf(m.Stdout, "%s: %s\n", t, st)
	}
	return err
}
