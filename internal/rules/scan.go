package rules

import (
	"slices"
	"strings"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/lake"
)

// Reading every column a rule set looks at, for every row, is what a scan of all the rules
// costs: the JSON payloads, the user agent, the identity's struct. Most rules name the event
// (eventname, eventsource, errorcode or useridentity.type) first, so the rules are scanned in
// groups, one statement per facet column, each filtering that column alone with the union of
// its rules' conditions on it: a filter the engine pushes into its Parquet reader, and prunes
// whole files by (lake.File.Values), so that the wide columns are read for the rows some rule
// may match only. The rules with no such condition share one scan of every row. The statements of one Evaluate read the same snapshot when the query
// function is pinned (local.Pinned), as the callers' are.

// facetOf returns a condition of cond's on one facet column, the most selective one: its
// conditions joined by OR, every row cond holds for satisfying one of them; nil when none is
// certain.
func facetOf(cond string) []athena.Cond {
	b := athena.FindBounds("SELECT 1 FROM cloudtrail_logs WHERE "+cond, map[string][]string{"cloudtrail_logs": nil})
	if b == nil {
		return nil
	}
	var best []athena.Cond
	for _, clause := range b.Facets {
		col := clause[0].Column
		if slices.ContainsFunc(clause, func(c athena.Cond) bool { return c.Column != col || c.Number }) {
			continue
		}
		if best == nil || athena.FacetRank(clause) < athena.FacetRank(best) {
			best = clause
		}
	}
	return best
}

// scan is one statement of a plan: the rules it evaluates and the condition on a facet column
// it reads the rows of ("" for the rules that have none: every row).
type scan struct {
	rules []int
	cond  string
}

// scans groups the plan's rules by the facet column of their condition, values being the
// distinct values the scope holds in those columns (nil: unknown).
func (p *plan) scans(values map[string][]string) []scan {
	byCol := map[string][]int{}
	var rest []int
	for i, c := range p.rules {
		if c.facet == nil {
			rest = append(rest, i)
			continue
		}
		byCol[c.facet[0].Column] = append(byCol[c.facet[0].Column], i)
	}
	// A scan of every row reads its rules' columns in full anyway: the rules on the other
	// columns cost it only their predicates there, where their own scan would read the
	// narrow columns again and the wide ones in every file that has a candidate. Event names
	// stay on their own: their rules read the JSON payloads, which a rule of every row seldom
	// needs.
	if rest != nil {
		for col, rs := range byCol {
			if col != "eventname" {
				rest = append(rest, rs...)
				delete(byCol, col)
			}
		}
		slices.Sort(rest)
	}
	var out []scan
	cols := make([]string, 0, len(byCol))
	for col := range byCol {
		cols = append(cols, col)
	}
	slices.SortFunc(cols, func(a, b string) int {
		return athena.FacetRank(p.rules[byCol[a][0]].facet) - athena.FacetRank(p.rules[byCol[b][0]].facet)
	})
	for _, col := range cols {
		var conds []athena.Cond
		for _, i := range byCol[col] {
			conds = append(conds, p.rules[i].facet...)
		}
		out = append(out, scan{rules: byCol[col], cond: facetSQL(col, conds, values)})
	}
	if rest != nil {
		out = append(out, scan{rules: rest})
	}
	return out
}

// facetSQL is SQL for "col satisfies one of conds". When the distinct values of col are known,
// the conditions become the list of the values that satisfy them: an exact comparison the
// engine pushes into its reader and prunes files by, where lower(col) or LIKE would be
// evaluated row by row.
func facetSQL(col string, conds []athena.Cond, values map[string][]string) string {
	known, ok := values[col]
	if !ok {
		var written []string
		for _, c := range conds {
			written = append(written, condSQL(c))
		}
		slices.Sort(written)
		return strings.Join(slices.Compact(written), "\n  OR ")
	}
	var match []string
	for _, v := range known {
		if slices.ContainsFunc(conds, func(c athena.Cond) bool { return lake.FacetHolds(c.Op, c.Values, v) }) {
			match = append(match, v)
		}
	}
	if len(match) == 0 {
		return "false"
	}
	return col + " IN (" + literals(match) + ")"
}

// condSQL writes a facet condition as SQL.
func condSQL(c athena.Cond) string {
	col := c.Column
	op := c.Op
	if rest, ok := strings.CutPrefix(op, "lower "); ok {
		col, op = "lower("+col+")", rest
	}
	switch op {
	case "=", "<>":
		return col + " " + op + " " + literal(c.Values[0])
	case "in", "not in":
		return col + " " + strings.ToUpper(op) + " (" + literals(c.Values) + ")"
	case "like", "not like":
		return col + " " + strings.ToUpper(op) + " " + literal(c.Values[0])
	case "like escape":
		return col + " LIKE " + literal(c.Values[0]) + ` ESCAPE '\'`
	case "is not null":
		return col + " IS NOT NULL"
	}
	return "true" // not known: every row (athena.FindBounds makes only the ops above)
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func literals(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = literal(v)
	}
	return strings.Join(out, ", ")
}

// FacetValues returns the distinct values files hold in the facet columns, the union of their
// File.Values; a column is left out when some file's values there are not known.
func FacetValues(files []lake.File) map[string][]string {
	out := map[string][]string{}
	for _, col := range lake.FacetColumns {
		seen := map[string]bool{}
		known := true
		for _, f := range files {
			vs, ok := f.Values[col]
			if !ok {
				known = false
				break
			}
			for _, v := range vs {
				seen[v] = true
			}
		}
		if known {
			vals := make([]string, 0, len(seen))
			for v := range seen {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			out[col] = vals
		}
	}
	return out
}
