package lake

import (
	"slices"

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

// facetOf returns a record's values in the order of FacetColumns (nil for NULL).
func facetOf(r *cloudtrail.Record) [4]*string {
	var typ *string
	if r.UserIdentity != nil {
		typ = r.UserIdentity.Type
	}
	return [4]*string{typ, r.EventSource, r.EventName, r.ErrorCode}
}

// add records the facet values of one row.
func (s *facetSet) add(r *cloudtrail.Record) {
	for i, v := range facetOf(r) {
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
