package roweval_test

import (
	"testing"

	"github.com/trailsql/trailsql/internal/rules/roweval"
	"github.com/trailsql/trailsql/internal/testshared"
)

// BenchmarkHolds evaluates every compiled condition of the built-in and Sigma rules on every row
// of the dataset lake, as the lake writer's observer would for each row it writes; rows/s is
// rows with all conditions evaluated per second.
func BenchmarkHolds(b *testing.B) {
	datasets := testshared.Dir(b, "datasets")
	_, rows, _ := datasetLake(b)
	var conds []*roweval.Expr
	for _, in := range ruleInputs(b, datasets) {
		if !in.cond {
			continue
		}
		if e, err := roweval.Compile(in.expr); err == nil {
			conds = append(conds, e)
		}
	}
	b.ResetTimer()
	matched := 0
	for i := 0; i < b.N; i++ {
		for j := range rows {
			for _, e := range conds {
				h, err := e.Holds(&rows[j].row)
				if err != nil {
					b.Fatal(err)
				}
				if h {
					matched++
				}
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(len(conds)), "conditions")
	if matched == 0 {
		b.Fatal("no condition held on any row")
	}
}
