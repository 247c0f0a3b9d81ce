package rules

import (
	"slices"

	"github.com/trailsql/trailsql/internal/lake"
)

// ColumnsRead is the columns the Go scan reads for rs (those roweval evaluates), as the engine
// names them: the benchmarks read the same in the engine, the floor of the scan's reading.
func ColumnsRead(rs []*Rule) []string {
	inGo, _ := newPlan(rs).live()
	base, err := compileBase()
	if err != nil {
		return nil
	}
	var cols []string
	for _, lr := range inGo {
		cols = append(append(cols, columnsOf(lr.cond)...), columnsOf(lr.vals...)...)
	}
	cols = slices.Concat(cols, columnsOf(base...), lake.FacetColumns, []string{"eventtime"})
	slices.Sort(cols)
	return slices.Compact(cols)
}
