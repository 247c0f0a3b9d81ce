package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// TableDef is a user's own Athena table (CREATE EXTERNAL TABLE … PARTITIONED BY …) over the
// lake: a view of cloudtrail_logs whose partition columns are computed from the lake's own. It
// is remembered in the lake (lake.SaveTable), signed; when read back every field is checked
// again, and the view's SQL is built from checked names and fixed expressions only.
type TableDef struct {
	Name       string           `json:"name"`
	Partitions []TablePartition `json:"partitions"`
}

// TablePartition is a partition column of a TableDef and how it is derived.
type TablePartition struct {
	Name string `json:"name"`
	// From is the lake column it comes from: account, region, year, month or day; or date,
	// the event's day written in Format.
	From string `json:"from"`
	// Format, for date: yyyy, MM and dd with separators among - / _ . (e.g. yyyy/MM/dd).
	Format string `json:"format,omitempty"`
	// Integer makes it an INTEGER (year, month, day).
	Integer bool `json:"integer,omitempty"`
}

// ParseDDLFunc reads a table definition statement: CREATE EXTERNAL TABLE (def) or DROP TABLE
// (drop, the name). Both are zero for any other statement.
type ParseDDLFunc func(sql string) (def *TableDef, drop string, err error)

var (
	tableNameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,127}$`)
	dateFormatRE = regexp.MustCompile(`^(yyyy|MM|dd|[-/_.])+$`)
)

// check validates a definition, so that the view built from it is what it says.
func (d *TableDef) check() error {
	if !tableNameRE.MatchString(d.Name) {
		return fmt.Errorf("table name %q: use lower-case letters, digits and _", d.Name)
	}
	if d.Name == "cloudtrail_logs" {
		return fmt.Errorf("table name %s is trailsql's own table", d.Name)
	}
	seen := map[string]bool{}
	for _, p := range d.Partitions {
		if !tableNameRE.MatchString(p.Name) || seen[p.Name] {
			return fmt.Errorf("table %s: partition column %q: not a plain lower-case name, or twice", d.Name, p.Name)
		}
		seen[p.Name] = true
		switch p.From {
		case "account", "region", "year", "month", "day":
		case "date":
			if !dateFormatRE.MatchString(p.Format) {
				return fmt.Errorf("table %s: partition column %s: format %q (trailsql derives yyyy, MM and dd with - / _ . between)", d.Name, p.Name, p.Format)
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
	var parts []string
	for f := p.Format; f != ""; {
		switch {
		case strings.HasPrefix(f, "yyyy"):
			parts, f = append(parts, `"year"`), f[4:]
		case strings.HasPrefix(f, "MM"):
			parts, f = append(parts, `"month"`), f[2:]
		case strings.HasPrefix(f, "dd"):
			parts, f = append(parts, `"day"`), f[2:]
		default:
			parts, f = append(parts, quote(f[:1])), f[1:]
		}
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// viewSQL defines the table as a view of cloudtrail_logs: Athena's columns, its own partition
// columns, then what stays readable by name (the hidden columns).
func (d *TableDef) viewSQL() (string, []string) {
	var cols, hidden []string
	own := map[string]bool{}
	for _, p := range d.Partitions {
		own[p.Name] = true
	}
	for _, c := range cloudtrail.Columns() {
		if slices.Contains(cloudtrail.PartitionColumns, c.Name) || own[c.Name] {
			continue
		}
		cols = append(cols, quoteIdent(c.Name))
		if !c.Athena {
			hidden = append(hidden, c.Name)
		}
	}
	for _, p := range d.Partitions {
		cols = append(cols, p.expr()+" AS "+quoteIdent(p.Name))
	}
	for _, c := range append(slices.Clone(cloudtrail.PartitionColumns), PathColumn) {
		if !own[c] {
			cols = append(cols, quoteIdent(c))
			hidden = append(hidden, c)
		}
	}
	return "CREATE OR REPLACE VIEW " + quoteIdent(d.Name) + " AS SELECT " + strings.Join(cols, ", ") + " FROM cloudtrail_logs", hidden
}

// loadTables reads the lake's table definitions; those that cannot be used are logged and left
// out (a query naming one then fails as for any unknown table).
func (e *Engine) loadTables() []*TableDef {
	defs, bad, err := lake.Tables(e.opt.Lake)
	if err != nil {
		e.log.Warn("table definitions not read", "err", err)
		return nil
	}
	for path, why := range bad {
		e.log.Warn("table definition left out", "file", path, "reason", why)
	}
	var out []*TableDef
	for name, body := range defs {
		var d TableDef
		if err := json.Unmarshal(body, &d); err != nil || d.Name != name {
			e.log.Warn("table definition left out", "table", name, "reason", "not a definition trailsql wrote")
			continue
		}
		if err := d.check(); err != nil {
			e.log.Warn("table definition left out", "table", name, "reason", err)
			continue
		}
		out = append(out, &d)
	}
	slices.SortFunc(out, func(a, b *TableDef) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// defineTable registers def: stored in the lake, and a view in this engine.
func (e *Engine) defineTable(ctx context.Context, def *TableDef) (string, error) {
	if err := def.check(); err != nil {
		return "", err
	}
	body, err := json.Marshal(def)
	if err != nil {
		return "", err
	}
	if err := lake.SaveTable(e.opt.Lake, def.Name, body); err != nil {
		return "", err
	}
	e.tables = slices.DeleteFunc(e.tables, func(d *TableDef) bool { return d.Name == def.Name })
	e.tables = append(e.tables, def)
	view, _ := def.viewSQL()
	if _, err := e.conn.ExecContext(ctx, view); err != nil {
		return "", fmt.Errorf("define table %s: %w", def.Name, err)
	}
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
	return fmt.Sprintf("Table %s registered as a view of cloudtrail_logs, remembered in the lake: Athena's CloudTrail columns, and partition columns derived from the lake's (%s). Nothing was read from its LOCATION; DROP TABLE %s removes it.", def.Name, strings.Join(parts, "; "), def.Name), nil
}

// dropTable forgets a table defined by the user.
func (e *Engine) dropTable(ctx context.Context, name string) (string, error) {
	if name == "cloudtrail_logs" {
		return "", fmt.Errorf("%w: cloudtrail_logs is the lake itself; DROP TABLE removes only tables defined with CREATE EXTERNAL TABLE", ErrNotReadOnly)
	}
	found, err := lake.DropTable(e.opt.Lake, name)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("table %s is not defined (tables defined with CREATE EXTERNAL TABLE: %s)", name, e.tableNames())
	}
	e.tables = slices.DeleteFunc(e.tables, func(d *TableDef) bool { return d.Name == name })
	if _, err := e.conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+quoteIdent(name)); err != nil {
		return "", fmt.Errorf("drop table %s: %w", name, err)
	}
	return fmt.Sprintf("Table %s removed (the lake's data is unchanged).", name), nil
}

func (e *Engine) tableNames() string {
	var names []string
	for _, d := range e.tables {
		names = append(names, d.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ownTable reports whether name is cloudtrail_logs or one of its aliases.
func (e *Engine) ownTable(name string) bool {
	if strings.EqualFold(name, "cloudtrail_logs") {
		return true
	}
	for _, a := range e.opt.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
