package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/ddl"
	"github.com/trailsql/trailsql/internal/lake"
)

func (m *Main) ddlCommand() *cobra.Command {
	var opt ddl.Options
	cmd := &cobra.Command{
		Use:   "ddl --engine athena|trino|spark [--location s3://…] [--partitions ledger|projection|none]",
		Short: "Print the table definition that lets Athena, Trino or Spark query the lake copied to S3",
		Long: `Print the CREATE TABLE statement that reads the lake's Parquet files where you copied them on S3
(--location: the folder holding the lake's cloudtrail_logs folder), with the lake's exact nested
types and the partition columns account, region, year, month and day declared as strings (an
engine that infers them reads account=012345678901 as a number and drops the leading zero).

The partitions are those the lake's ledger lists (--partitions ledger: ALTER TABLE ADD PARTITION
in batches of 100; Trino: system.register_partition), or, on Athena, partition projection
(--partitions projection: the accounts and regions as enums, year/month/day as integers of two
digits), with a warning when the lake's account×region×day combinations are too sparse for it.`,
		Example: `  trailsql ddl --engine athena --location s3://my-bucket/trailsql-lake
  trailsql ddl --engine athena --location s3://my-bucket/trailsql-lake --partitions projection
  trailsql ddl --engine trino --schema security --location s3://my-bucket/trailsql-lake`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var parts []lake.Partition
			if opt.Partitions != ddl.PartitionsNone {
				lk, err := m.existingLake(cmd)
				if err != nil {
					return err
				}
				parts = ddl.Partitions(lk.Snap.Files)
			}
			return ddl.Write(m.Stdout, opt, parts)
		},
	}
	cmd.Flags().StringVar(&opt.Engine, "engine", "athena", "the engine: "+strings.Join(ddl.Engines, ", "))
	cmd.Flags().StringVar(&opt.Location, "location", ddl.DefaultLocation, "the S3 folder the lake is copied to")
	cmd.Flags().StringVar(&opt.Partitions, "partitions", ddl.PartitionsLedger, "ledger (the partitions the lake holds), projection (Athena's partition projection) or none")
	cmd.Flags().StringVar(&opt.Table, "table", lake.Table, "the table's name")
	cmd.Flags().StringVar(&opt.Schema, "schema", "default", "trino: the schema (database) of the table")
	cmd.Flags().BoolVar(&opt.AllColumns, "all-columns", false, "add the columns beyond Athena's CloudTrail DDL (residual, managementevent, insightdetails)")
	return cmd
}
