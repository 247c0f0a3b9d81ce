package lake

import (
	"slices"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// maxFacetValues is the most distinct values a file records for one facet column: past it the
// column is left unknown (File.Values has no entry), which costs a reader only the pruning of that
// file by that column, while the snapshot every query loads stays small.
const maxFacetValues = 256

// facetSet collects, as a file is written, the distinct values of FacetColumns in its rows.
type facetSet struct {
	seen     [4]map[string]struct{}
	overflow [4]bool
}

// FacetsOf returns a record's values in the order of FacetColumns (nil for NULL).
func FacetsOf(r *cloudtrail.Record) [4]*string {
	var typ *string
	if r.UserIdentity != nil {
		typ = r.UserIdentity.Type
	}
	return [4]*string{typ, r.EventSource, r.EventName, r.ErrorCode}
}

// add records the facet values of one row.
func (s *facetSet) add(r *cloudtrail.Record) {
	for i, v := range FacetsOf(r) {
		if v == nil || s.overflow[i] {
			continue
		}
		if s.seen[i] == nil {
			s.seen[i] = make(map[string]struct{}, 8)
		}
		if _, ok := s.seen[i][*v]; ok {
			continue
		}
		if len(s.seen[i]) == maxFacetValues {
			s.overflow[i], s.seen[i] = true, nil
			continue
		}
		s.seen[i][*v] = struct{}{}
	}
}

// values returns what File.Values records: for each facet column not overflowed, its distinct
// values sorted (an empty list when the file held only NULLs there).
func (s *facetSet) values() map[string][]string {
	out := make(map[string][]string, len(FacetColumns))
	for i, col := range FacetColumns {
		if s.overflow[i] {
			continue
		}
		vs := make([]string, 0, len(s.seen[i]))
		for v := range s.seen[i] {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		out[col] = vs
	}
	return out
}

// FacetHolds reports whether the value v of a facet column satisfies the comparison op with
// values, as SQL would (v is never NULL here: NULL satisfies no comparison). op is =, <>, in,
// not in, like, not like, like escape (a LIKE with ESCAPE '\'), or is not null, each maybe
// prefixed with "lower " (the comparison of lower(column)). An op it does not know holds, so
// that a reader never skips what it cannot judge.
func FacetHolds(op string, values []string, v string) bool {
	if rest, ok := strings.CutPrefix(op, "lower "); ok {
		op, v = rest, strings.ToLower(v)
	}
	switch op {
	case "=", "in":
		return slices.Contains(values, v)
	case "<>", "not in":
		return !slices.Contains(values, v)
	case "like", "not like", "like escape":
		if len(values) != 1 {
			return true
		}
		return likeMatch(values[0], v, op == "like escape") == (op != "not like")
	}
	return true
}

// likeMatch reports whether s matches the SQL LIKE pattern p (% any run, _ one character; with
// escape, \ makes the next character literal).
func likeMatch(p, s string, escape bool) bool {
	// Iterative wildcard matching, backtracking to the last %.
	pr, sr := []rune(p), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			c, lit := pr[pi], false
			if escape && c == '\\' && pi+1 < len(pr) {
				c, lit = pr[pi+1], true
			}
			switch {
			case !lit && c == '%':
				star, mark = pi, si
				pi++
				continue
			case !lit && c == '_' || c == sr[si]:
				si++
				if lit {
					pi += 2
				} else {
					pi++
				}
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		si = mark
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}
