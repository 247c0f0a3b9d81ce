// Package ddl writes the table definition that lets Amazon Athena, Trino or Spark read the lake
// once it is copied to S3: the CREATE statement with the lake's exact nested types and string
// partition columns, and either the partitions the ledger wrote or Athena's partition projection.
//
// Partition columns are declared STRING: an engine that infers them from the folder names reads
// account=012345678901 as a number and drops the leading zero. Field names are lower case, as
// the lake's Parquet schema writes them, so every engine matches them by name.
package ddl

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// Engines are the engines a definition is written for.
var Engines = []string{"athena", "trino", "spark"}

// Partition modes: how the engine learns the lake's partitions.
const (
	PartitionsLedger     = "ledger"     // the partitions the lake's ledger lists, added explicitly
	PartitionsProjection = "projection" // Athena's partition projection (athena only)
	PartitionsNone       = "none"       // the CREATE statement alone
)

// DefaultLocation stands for the S3 folder the lake is copied to when none is given.
const DefaultLocation = "s3://your-bucket/trailsql-lake"

// AddPartitionBatch is how many partitions one ALTER TABLE ADD PARTITION adds, within what
// Athena and Glue's BatchCreatePartition take in one call (100).
const AddPartitionBatch = 100

// SparseProjection is the share of projected account×region×day combinations holding data
// below which partition projection is the worse choice: Athena lists every combination's
// folder, empty or not.
const SparseProjection = 0.5

// Options say what to write.
type Options struct {
	Engine string // athena, trino or spark
	// Table is the table's name (default cloudtrail_logs); Schema is Trino's schema for
	// system.register_partition (default "default").
	Table, Schema string
	// Location is the S3 folder holding the copy of the lake (its cloudtrail_logs folder is the
	// table's); DefaultLocation when empty.
	Location string
	// Partitions is PartitionsLedger (the default), PartitionsProjection or PartitionsNone.
	Partitions string
	// AllColumns adds the columns beyond Athena's CloudTrail DDL (residual, managementevent,
	// insightdetails); without them SELECT * has the same columns as Athena's own table.
	AllColumns bool
}

func (o *Options) check() error {
	if o.Table == "" {
		o.Table = lake.Table
	}
	if o.Schema == "" {
		o.Schema = "default"
	}
	if o.Location == "" {
		o.Location = DefaultLocation
	}
	if o.Partitions == "" {
		o.Partitions = PartitionsLedger
	}
	if !slices.Contains(Engines, o.Engine) {
		return fmt.Errorf("engine %q: give one of %s", o.Engine, strings.Join(Engines, ", "))
	}
	if !validName(o.Table) || !validName(o.Schema) {
		return fmt.Errorf("table %q, schema %q: names are letters, digits and underscores", o.Table, o.Schema)
	}
	u, err := url.Parse(o.Location)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "s3a") || u.Host == "" || strings.ContainsAny(o.Location, "'\n") {
		return fmt.Errorf("location %q: give the S3 folder the lake is copied to, such as s3://bucket/trailsql-lake", o.Location)
	}
	o.Location = strings.TrimRight(o.Location, "/")
	switch o.Partitions {
	case PartitionsLedger, PartitionsNone:
	case PartitionsProjection:
		if o.Engine != "athena" {
			return fmt.Errorf("partition projection is Athena's: for %s give partitions ledger or none", o.Engine)
		}
	default:
		return fmt.Errorf("partitions %q: give ledger, projection or none", o.Partitions)
	}
	return nil
}

func validName(s string) bool {
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// Column is a top-level column of the table.
type Column struct {
	Name string
	Type *Type
	// Athena is false for the columns Athena's CloudTrail DDL does not have.
	Athena bool
}

// Columns returns the lake's columns (partition columns left out) with their types as trees.
func Columns() ([]Column, error) {
	var out []Column
	for _, c := range cloudtrail.Columns() {
		if slices.Contains(cloudtrail.PartitionColumns, c.Name) {
			continue
		}
		t, err := ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		out = append(out, Column{Name: c.Name, Type: t, Athena: c.Athena})
	}
	return out, nil
}

// Partitions returns the distinct partitions of the files, sorted.
func Partitions(files []lake.File) []lake.Partition {
	seen := map[lake.Partition]bool{}
	var out []lake.Partition
	for _, f := range files {
		if !seen[f.Partition] {
			seen[f.Partition] = true
			out = append(out, f.Partition)
		}
	}
	slices.SortFunc(out, func(a, b lake.Partition) int { return strings.Compare(a.Dir(), b.Dir()) })
	return out
}

// Write writes the definition of the table for opt.Engine, and the partitions parts (the lake
// snapshot's, see Partitions) as opt.Partitions says.
func Write(w io.Writer, opt Options, parts []lake.Partition) error {
	if err := opt.check(); err != nil {
		return err
	}
	cols, err := Columns()
	if err != nil {
		return err
	}
	if !opt.AllColumns {
		cols = slices.DeleteFunc(cols, func(c Column) bool { return !c.Athena })
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "-- %s table over the trailsql lake copied to %s (written by trailsql ddl).\n", opt.Engine, opt.Location)
	fmt.Fprintf(b, "-- Copy only the files of the lake's ledger (compaction removes superseded files, and a stale copy would count events twice).\n")
	switch opt.Engine {
	case "athena":
		writeHiveCreate(b, opt, cols, "CREATE EXTERNAL TABLE IF NOT EXISTS", "STORED AS PARQUET")
		if opt.Partitions == PartitionsProjection {
			writeProjection(b, opt, parts)
		} else {
			b.WriteString(";\n")
		}
	case "spark":
		writeHiveCreate(b, opt, cols, "CREATE TABLE IF NOT EXISTS", "USING PARQUET")
		b.WriteString(";\n")
	case "trino":
		writeTrinoCreate(b, opt, cols)
	}
	if opt.Partitions == PartitionsLedger {
		writePartitions(b, opt, parts)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// tableLocation is the S3 folder of the table: the lake's cloudtrail_logs folder.
func (o *Options) tableLocation() string { return o.Location + "/" + lake.Table + "/" }

func writeHiveCreate(b *strings.Builder, opt Options, cols []Column, create, storage string) {
	fmt.Fprintf(b, "%s %s (\n", create, opt.Table)
	for i, c := range cols {
		fmt.Fprintf(b, "  %s %s", c.Name, c.Type.Hive())
		if !c.Athena {
			b.WriteString(" COMMENT 'not in Athena''s CloudTrail DDL'")
		}
		if i < len(cols)-1 || opt.Engine == "spark" {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	if opt.Engine == "spark" {
		// Spark's data source tables list partition columns with the others, typed, and name them
		// in PARTITIONED BY; typed STRING here, Spark does not infer numbers from the folders.
		for i, p := range cloudtrail.PartitionColumns {
			fmt.Fprintf(b, "  %s STRING%s\n", p, map[bool]string{true: ",", false: ""}[i < len(cloudtrail.PartitionColumns)-1])
		}
		fmt.Fprintf(b, ")\n%s\nPARTITIONED BY (%s)\nLOCATION '%s'", storage, strings.Join(cloudtrail.PartitionColumns, ", "), opt.tableLocation())
		return
	}
	parts := make([]string, len(cloudtrail.PartitionColumns))
	for i, p := range cloudtrail.PartitionColumns {
		parts[i] = p + " STRING"
	}
	fmt.Fprintf(b, ")\nPARTITIONED BY (%s)\n%s\nLOCATION '%s'", strings.Join(parts, ", "), storage, opt.tableLocation())
}

func writeTrinoCreate(b *strings.Builder, opt Options, cols []Column) {
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s.%s (\n", opt.Schema, opt.Table)
	for _, c := range cols {
		comment := ""
		if !c.Athena {
			comment = " COMMENT 'not in Athena''s CloudTrail DDL'"
		}
		fmt.Fprintf(b, "  %s %s%s,\n", c.Name, c.Type.Trino(), comment)
	}
	quoted := make([]string, len(cloudtrail.PartitionColumns))
	for i, p := range cloudtrail.PartitionColumns {
		end := ","
		if i == len(cloudtrail.PartitionColumns)-1 {
			end = ""
		}
		fmt.Fprintf(b, "  %s VARCHAR%s\n", p, end)
		quoted[i] = "'" + p + "'"
	}
	fmt.Fprintf(b, ")\nWITH (\n  format = 'PARQUET',\n  external_location = '%s',\n  partitioned_by = ARRAY[%s]\n);\n",
		opt.tableLocation(), strings.Join(quoted, ", "))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// hiveValue is a partition's value as the engines name it: Hive's default partition for NULL.
func hiveValue(s string) string {
	if s == "" {
		return "__HIVE_DEFAULT_PARTITION__"
	}
	return s
}

func values(p lake.Partition) []string {
	return []string{hiveValue(p.Account), hiveValue(p.Region), hiveValue(p.Year), hiveValue(p.Month), hiveValue(p.Day)}
}

func writePartitions(b *strings.Builder, opt Options, parts []lake.Partition) {
	fmt.Fprintf(b, "\n-- The %d partition%s the lake's ledger lists.\n", len(parts), plural(len(parts)))
	if len(parts) == 0 {
		return
	}
	if opt.Engine == "trino" {
		fmt.Fprintf(b, "-- system.register_partition needs hive.allow-register-partition-procedure=true; or run instead:\n--   CALL system.sync_partition_metadata('%s', '%s', 'ADD');\n", opt.Schema, opt.Table)
		cols := make([]string, len(cloudtrail.PartitionColumns))
		for i, c := range cloudtrail.PartitionColumns {
			cols[i] = quote(c)
		}
		for _, p := range parts {
			vals := values(p)
			for i, v := range vals {
				vals[i] = quote(v)
			}
			fmt.Fprintf(b, "CALL system.register_partition(%s, %s, ARRAY[%s], ARRAY[%s], %s);\n",
				quote(opt.Schema), quote(opt.Table), strings.Join(cols, ", "), strings.Join(vals, ", "), quote(opt.Location+"/"+p.Dir()+"/"))
		}
		return
	}
	if opt.Engine == "spark" {
		fmt.Fprintf(b, "-- (MSCK REPAIR TABLE %s finds the same partitions by listing the folders.)\n", opt.Table)
	}
	for start := 0; start < len(parts); start += AddPartitionBatch {
		fmt.Fprintf(b, "ALTER TABLE %s ADD IF NOT EXISTS", opt.Table)
		for _, p := range parts[start:min(start+AddPartitionBatch, len(parts))] {
			vals := values(p)
			kv := make([]string, len(vals))
			for i, v := range vals {
				kv[i] = cloudtrail.PartitionColumns[i] + "=" + quote(v)
			}
			fmt.Fprintf(b, "\n  PARTITION (%s) LOCATION %s", strings.Join(kv, ", "), quote(opt.Location+"/"+p.Dir()+"/"))
		}
		b.WriteString(";\n")
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ProjectionFit is how well Athena's partition projection fits the lake's partitions: it
// projects every account × region × day of the range, and lists each one's folder.
type ProjectionFit struct {
	Accounts, Regions   []string
	FirstYear, LastYear string
	// Days is the number of calendar days from the first partition's to the last's.
	Days int
	// Present is the number of partitions holding data, Projected the combinations projected.
	Present, Projected int
	// Unprojectable counts partitions with an unknown (NULL) value, which projection cannot name.
	Unprojectable int
}

// Density is the share of projected combinations that hold data.
func (f ProjectionFit) Density() float64 {
	if f.Projected == 0 {
		return 0
	}
	return float64(f.Present) / float64(f.Projected)
}

// FitProjection measures how projection fits parts.
func FitProjection(parts []lake.Partition) ProjectionFit {
	var f ProjectionFit
	accounts, regions := map[string]bool{}, map[string]bool{}
	var first, last time.Time
	for _, p := range parts {
		day, err := time.Parse("2006-01-02", p.Year+"-"+p.Month+"-"+p.Day)
		if p.Account == "" || p.Region == "" || err != nil {
			f.Unprojectable++
			continue
		}
		f.Present++
		accounts[p.Account], regions[p.Region] = true, true
		if first.IsZero() || day.Before(first) {
			first = day
		}
		if day.After(last) {
			last = day
		}
	}
	f.Accounts, f.Regions = slices.Sorted(maps.Keys(accounts)), slices.Sorted(maps.Keys(regions))
	if f.Present > 0 {
		f.FirstYear, f.LastYear = first.Format("2006"), last.Format("2006")
		f.Days = int(last.Sub(first).Hours()/24) + 1
		f.Projected = len(f.Accounts) * len(f.Regions) * f.Days
	}
	return f
}

func writeProjection(b *strings.Builder, opt Options, parts []lake.Partition) {
	f := FitProjection(parts)
	if f.Present == 0 {
		// Nothing to enumerate yet: the accounts and regions are placeholders to fill in.
		f.Accounts, f.Regions, f.FirstYear, f.LastYear = []string{"111122223333"}, []string{"us-east-1"}, "2020", "2030"
	}
	props := [][2]string{
		{"projection.enabled", "true"},
		{"projection.account.type", "enum"},
		{"projection.account.values", strings.Join(f.Accounts, ",")},
		{"projection.region.type", "enum"},
		{"projection.region.values", strings.Join(f.Regions, ",")},
		{"projection.year.type", "integer"},
		{"projection.year.range", f.FirstYear + "," + f.LastYear},
		{"projection.month.type", "integer"},
		{"projection.month.range", "1,12"},
		{"projection.month.digits", "2"},
		{"projection.day.type", "integer"},
		{"projection.day.range", "1,31"},
		{"projection.day.digits", "2"},
		{"storage.location.template", opt.tableLocation() + "account=${account}/region=${region}/year=${year}/month=${month}/day=${day}/"},
	}
	b.WriteString("\nTBLPROPERTIES (\n")
	for i, p := range props {
		end := ","
		if i == len(props)-1 {
			end = ""
		}
		fmt.Fprintf(b, "  %s = %s%s\n", quote(p[0]), quote(p[1]), end)
	}
	b.WriteString(");\n")
	switch {
	case f.Present == 0:
		b.WriteString("\n-- The lake has no partitions yet: fill in the accounts, regions and years to project.\n")
	case f.Density() < SparseProjection:
		fmt.Fprintf(b, "\n-- Projection is the worse choice for this lake: only %d of the %d account×region×day combinations it projects\n"+
			"-- (%d accounts × %d regions × %d days) hold data (%.0f%%), and Athena lists every one's folder.\n"+
			"-- Prefer the partitions the ledger lists: trailsql ddl --engine athena --partitions ledger.\n",
			f.Present, f.Projected, len(f.Accounts), len(f.Regions), f.Days, 100*f.Density())
	default:
		fmt.Fprintf(b, "\n-- Projection fits: %d of the %d account×region×day combinations it projects hold data (%.0f%%).\n"+
			"-- Add accounts and regions to the enums, and widen the year range, as the lake grows.\n",
			f.Present, f.Projected, 100*f.Density())
	}
	if f.Unprojectable > 0 {
		fmt.Fprintf(b, "-- %d partition%s with an unknown account, region or date cannot be projected: Athena will not read %s.\n", f.Unprojectable, plural(f.Unprojectable), map[bool]string{true: "it", false: "them"}[f.Unprojectable == 1])
	}
}
