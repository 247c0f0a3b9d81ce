package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The spans around threshold matches answer, for any times, as a look at every span would: the
// binary search finds the one span that may meet them.
func TestSpansMeetAsEverySpanWould(t *testing.T) {
	r := &Rule{ID: "burst", Threshold: &Threshold{Window: 10 * time.Minute}}
	rnd := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) string { return start.Add(time.Duration(s) * time.Second).Format(time.RFC3339) }
	for _, n := range []int{0, 1, 2, 5, 50, 400} {
		var c []match
		for range n {
			var m match
			m.alert.EventTime = at(rnd.IntN(86400 * 3))
			c = append(c, m)
		}
		spans := matchSpans([]*Rule{r}, map[string][][]match{"burst": {c}})
		for i := 1; i < len(spans); i++ {
			if spans[i][0] <= spans[i-1][1] || spans[i][0] >= spans[i][1] {
				t.Fatalf("%d matches: spans %d and %d are not in order and apart: %v", n, i-1, i, spans[i-1:i+1])
			}
		}
		every := func(lo, hi string) bool {
			return slices.ContainsFunc(spans, func(s [2]string) bool { return lo < s[1] && hi >= s[0] })
		}
		meets := 0
		for k := range 3000 {
			lo := rnd.IntN(86400*3+2000) - 1000
			hi := lo
			if k%2 == 1 {
				hi += rnd.IntN(3600)
			}
			l, h := at(lo), at(hi)
			if got, want := spans.meet(l, h), every(l, h); got != want {
				t.Fatalf("%d matches: meet(%s, %s) = %v, every span says %v", n, l, h, got, want)
			} else if got {
				meets++
			}
		}
		if n > 0 && meets == 0 {
			t.Fatalf("%d matches: no time met a span: the test looks at nothing", n)
		}
	}
}
