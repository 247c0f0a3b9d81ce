package sigma

import (
	"context"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/testshared"
)

// BenchmarkSharedRules compares, on a generated trail of 100k events, a scan that counts rows,
// one scan computing every shared rule's predicate, and one query per rule.
func BenchmarkSharedRules(b *testing.B) {
	dir := testshared.Dir(b, "datasets/sigma-aws-cloudtrail/rules")
	rules, errs := Load(dir)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	var sqls []string
	for _, r := range rules {
		if s, err := r.SQL(); err == nil {
			sqls = append(sqls, s)
		}
	}
	l := answertest.Generated(b, 1, 100000)
	var sums []string
	for _, s := range sqls {
		sums = append(sums, "sum(CASE WHEN "+s+" THEN 1 ELSE 0 END)")
	}
	ctx := context.Background()
	run := func(b *testing.B, sql string) {
		for b.Loop() {
			if _, err := l.Query(ctx, sql); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("scan", func(b *testing.B) {
		run(b, "SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= '2000'")
	})
	b.Run("one-scan-all-rules", func(b *testing.B) {
		run(b, "SELECT "+strings.Join(sums, ", ")+" FROM cloudtrail_logs WHERE eventtime >= '2000'")
	})
	b.Run("query-per-rule", func(b *testing.B) {
		for b.Loop() {
			for _, s := range sqls {
				if _, err := l.Query(ctx, "SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= '2000' AND "+s); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
