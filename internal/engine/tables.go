package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// TableDef is a user's own Athena table (CREATE EXTERNAL TABLE … PARTITIONED BY …) over the
// lake: a view of cloudtrail_logs with the columns its DDL declares, and partition columns
// computed from the lake's own. It is remembered in the lake (lake.SaveTable), signed; when
// read back every field is checked again, and the view's SQL is built from checked names and
// fixed expressions only.
type TableDef struct {
	Name string `json:"name"`
	// Columns are the declared columns, lower case, in the DDL's order: each one of
	// cloudtrail_logs's, which the view shows with its type (nested types whole). Definitions
	// stored before columns were kept have none, and show Athena's CloudTrail columns.
	Columns    []string         `json:"columns,omitempty"`
	Partitions []TablePartition `json:"partitions"`
}

// TablePartition is a partition column of a TableDef and how it is derived.
type TablePartition struct {
	Name string `json:"name"`
	// From is the lake column it comes from: account, region, year, month or day; or date,
	// the event's day written in Format.
	From string `json:"from"`
	// Format, for date: yyyy, MM or M, dd or d (M and d without a leading zero), with
	// separators among - / _ . (e.g. yyyy/MM/dd).
	Format string `json:"format,omitempty"`
	// Integer makes it an INTEGER (year, month, day).
	Integer bool `json:"integer,omitempty"`
}

// tableDef is the definition of the table a Dialect read.
func tableDef(spec *TableSpec) *TableDef {
	d := &TableDef{Name: spec.Name, Columns: spec.Columns}
	for _, p := range spec.Partitions {
		d.Partitions = append(d.Partitions, TablePartition(p))
	}
	return d
}

// UnknownColumnError is a column a table definition declares that cloudtrail_logs does not have.
type UnknownColumnError struct {
	Table, Column string
}

// Error says what to do; a front end may add where the columns there are are listed.
func (e *UnknownColumnError) Error() string {
	return fmt.Sprintf("table %s: column %q: cloudtrail_logs has no such column, so the table cannot show it (remove it from the column list)", e.Table, e.Column)
}

var (
	tableNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_]{0,127}$`) })
	// dateFieldRE splits a date format into its fields (runs of one letter) and separators.
	dateFieldRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`y+|M+|d+|[-/_.]|.`) })
)

// dateFields splits a date format into yyyy, MM, M, dd, d and separators, or reports false.
func dateFields(format string) ([]string, bool) {
	fields := dateFieldRE().FindAllString(format, -1)
	for _, f := range fields {
		switch f {
		case "yyyy", "MM", "M", "dd", "d", "-", "/", "_", ".":
		default:
			return nil, false
		}
	}
	return fields, len(fields) > 0
}

// check validates a definition, so that the view built from it is what it says.
func (d *TableDef) check() error {
	if !tableNameRE().MatchString(d.Name) {
		return fmt.Errorf("table name %q: use lower-case letters, digits and _", d.Name)
	}
	if d.Name == "cloudtrail_logs" {
		return fmt.Errorf("table name %s is trailsql's own table", d.Name)
	}
	seen := map[string]bool{}
	ours := map[string]bool{}
	for _, c := range cloudtrail.Columns() {
		ours[c.Name] = true
	}
	for _, c := range d.Columns {
		if seen[c] {
			return fmt.Errorf("table %s: column %s is declared twice", d.Name, c)
		}
		if !ours[c] {
			return &UnknownColumnError{Table: d.Name, Column: c}
		}
		seen[c] = true
	}
	for _, p := range d.Partitions {
		if !tableNameRE().MatchString(p.Name) || seen[p.Name] {
			return fmt.Errorf("table %s: partition column %q: not a plain lower-case name, or declared twice (a partition column cannot also be a column)", d.Name, p.Name)
		}
		seen[p.Name] = true
		switch p.From {
		case "account", "region", "year", "month", "day":
		case "date":
			if _, ok := dateFields(p.Format); !ok {
				return fmt.Errorf("table %s: partition column %s: format %q (trailsql derives yyyy, MM or M, dd or d, with - / _ . between)", d.Name, p.Name, p.Format)
			}
		default:
			return fmt.Errorf("table %s: partition column %s: derived from %q, not a lake partition", d.Name, p.Name, p.From)
		}
	}
	return nil
}

// expr is the SQL expression of a partition column over cloudtrail_logs.
func (p TablePartition) expr() string {
	if p.From != "date" {
		if p.Integer {
			return "TRY_CAST(" + quoteIdent(p.From) + " AS INTEGER)"
		}
		return quoteIdent(p.From)
	}
	fields, _ := dateFields(p.Format)
	var parts []string
	for _, f := range fields {
		switch f {
		case "yyyy":
			parts = append(parts, `"year"`)
		case "MM":
			parts = append(parts, `"month"`)
		case "dd":
			parts = append(parts, `"day"`)
		case "M", "d":
			// Without its leading zero: the lake's 03 as 3.
			parts = append(parts, `CAST(TRY_CAST("`+map[string]string{"M": "month", "d": "day"}[f]+`" AS INTEGER) AS VARCHAR)`)
		default:
			parts = append(parts, quote(f))
		}
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// value returns the value of the partition column for the rows of a lake partition, as the
// view computes it (expr): null for NULL, ok false when it cannot tell.
func (p TablePartition) value(lp lake.Partition) (v string, null, ok bool) {
	get := func(from string) (string, bool, bool) {
		v, _ := lp.Value(from)
		// The lake writes an unknown value (empty) as Hive's default partition, which the
		// view reads as NULL.
		if v == "" || v == defaultPartition {
			return "", true, true
		}
		return v, false, true
	}
	integer := func(s string) (string, bool) {
		n, err := strconv.ParseInt(s, 10, 32)
		return strconv.FormatInt(n, 10), err == nil && s[0] != '+' && s[0] != '-'
	}
	if p.From != "date" {
		v, null, ok := get(p.From)
		if ok && !null && p.Integer {
			v, ok = integer(v)
		}
		return v, null, ok
	}
	fields, _ := dateFields(p.Format)
	var b strings.Builder
	for _, f := range fields {
		from := map[string]string{"yyyy": "year", "MM": "month", "M": "month", "dd": "day", "d": "day"}[f]
		if from == "" {
			b.WriteString(f)
			continue
		}
		v, null, ok := get(from)
		if null || !ok {
			return "", null, ok
		}
		if f == "M" || f == "d" {
			if v, ok = integer(v); !ok {
				return "", false, false
			}
		}
		b.WriteString(v)
	}
	return b.String(), false, true
}

// viewSQL defines the table as a view of cloudtrail_logs: its declared columns, its partition
// columns, then "$path" (readable by name, hidden from the star as in Athena). The view is a
// TEMP one, as cloudtrail_logs is (see pool.go). It returns the hidden columns too.
func (d *TableDef) viewSQL() (string, []string) {
	var cols []string
	declared := d.Columns
	if len(declared) == 0 {
		for _, c := range cloudtrail.Columns() {
			if c.Athena && !slices.Contains(cloudtrail.PartitionColumns, c.Name) {
				declared = append(declared, c.Name)
			}
		}
	}
	for _, c := range declared {
		cols = append(cols, quoteIdent(c))
	}
	for _, p := range d.Partitions {
		cols = append(cols, p.expr()+" AS "+quoteIdent(p.Name))
	}
	cols = append(cols, quoteIdent(PathColumn))
	return "CREATE OR REPLACE TEMP VIEW " + quoteIdent(d.Name) + " AS SELECT " + strings.Join(cols, ", ") + " FROM cloudtrail_logs", []string{PathColumn}
}

// loadTables reads the lake's table definitions; those that cannot be used are logged and left
// out (a query naming one then fails as for any unknown table).
func (c *core) loadTables() []*TableDef {
	defs, bad, err := lake.Tables(c.opt.Lake)
	if err != nil {
		c.log.Warn("table definitions not read", "err", err)
		return nil
	}
	for path, why := range bad {
		c.log.Warn("table definition left out", "file", path, "reason", why)
	}
	var out []*TableDef
	for name, body := range defs {
		var d TableDef
		if err := json.Unmarshal(body, &d); err != nil || d.Name != name {
			c.log.Warn("table definition left out", "table", name, "reason", "not a definition trailsql wrote")
			continue
		}
		if err := d.check(); err != nil {
			c.log.Warn("table definition left out", "table", name, "reason", err)
			continue
		}
		out = append(out, &d)
	}
	slices.SortFunc(out, func(a, b *TableDef) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// defineTable registers def: stored in the lake, where every statement that starts after this one
// reads it (the lake's version changed: the engine reads its snapshot and tables anew).
func (s *session) defineTable(def *TableDef) (string, error) {
	if err := def.check(); err != nil {
		return "", err
	}
	body, err := json.Marshal(def)
	if err != nil {
		return "", err
	}
	if err := lake.SaveTable(s.opt.Lake, def.Name, body); err != nil {
		return "", err
	}
	s.invalidate()
	var parts []string
	for _, p := range def.Partitions {
		from := p.From
		if p.From == "date" {
			from = "year, month and day as " + p.Format
		}
		if p.Integer {
			from += " (integer)"
		}
		parts = append(parts, p.Name+" = "+from)
	}
	return fmt.Sprintf("Table %s registered as a view of cloudtrail_logs, remembered in the lake: its %d columns, and partition columns derived from the lake's (%s). Nothing was read from its LOCATION; DROP TABLE %s removes it.", def.Name, len(def.Columns), strings.Join(parts, "; "), def.Name), nil
}

// dropTable forgets a table defined by the user.
func (s *session) dropTable(name string) (string, error) {
	if name == "cloudtrail_logs" {
		return "", fmt.Errorf("%w: cloudtrail_logs is the lake itself; DROP TABLE removes only tables defined with CREATE EXTERNAL TABLE", ErrNotReadOnly)
	}
	found, err := lake.DropTable(s.opt.Lake, name)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("table %s is not defined (tables defined with CREATE EXTERNAL TABLE: %s)", name, s.tableNames())
	}
	s.invalidate()
	return fmt.Sprintf("Table %s removed (the lake's data is unchanged).", name), nil
}

func (s *session) tableNames() string {
	var names []string
	for _, d := range s.g.tables {
		names = append(names, d.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ownTable reports whether name is cloudtrail_logs or one of its aliases.
func (c *core) ownTable(name string) bool {
	if strings.EqualFold(name, "cloudtrail_logs") {
		return true
	}
	for _, a := range c.opt.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
