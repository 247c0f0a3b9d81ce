package rules

import (
	"runtime"
	"slices"
	"sync"
)

// A backtest's alerts are sorted in runs: each worker of the Go scan sorts the alerts it packed
// from a file as soon as it is done with the file (a few thousand, in the processor's cache, on
// every core), and the runs are merged at the end, with the few others' (the threshold rules',
// those the engine found). Runs are cut by day, and a lake file holds one partition-day: the
// runs of different days do not overlap and are put one after the other, only those of one day
// (one per account and region) are merged. On the 1M-event benchmark, building the keys of 839k
// alerts and sorting them after the scan (refsOf, alertRefs.sort) took 170–360 ms of a ~1.1 s
// backtest, on one core mostly; the merge takes 40–80 ms.

// run returns the alerts ev packed since the last call, sorted (alertRefs.sort), their rules
// ranked by ranks (rankRules of every rule's id).
func (ev *evaluator) run(ranks map[string]uint16, ranked bool) alertRefs {
	if ev.marks == nil {
		ev.marks = make([]int, len(ev.found))
	}
	n := 0
	for i := range ev.found {
		n += ev.found[i].n - ev.found[i].full - ev.marks[i]
	}
	r := alertRefs{keys: ev.keyBuf[:0], items: make([]alertItem, 0, n), ranked: ranked}
	for i := range ev.found {
		ms := &ev.found[i]
		packedN := ms.n - ms.full
		if packedN == ev.marks[i] {
			continue
		}
		rank := uint64(ranks[ev.rules[i].c.r.ID])
		eachLast(ms.packed, packedN-ev.marks[i], func(p *packed) { // the new ones
			r.keys = append(r.keys, keyOf(p.eventTime(), rank, p.eventID(), len(r.items)))
			r.items = append(r.items, alertItem{p: p})
		})
		ev.marks[i] = packedN
	}
	ev.keyBuf = r.keys
	r.keys = sortDay(r.keys, &r, &ev.minutes)
	return r
}

// sortDay returns keys (of r's alerts) sorted, in a new slice. When every key's time is of one
// day, "yyyy-mm-ddThh:mm…" (a lake file's), they are put in buckets by hour and minute first,
// each then sorted on its own; counts is the buckets' counts, reused.
func sortDay(keys []sortKey, r *alertRefs, counts *[]int32) []sortKey {
	out := make([]sortKey, len(keys))
	minute := func(k sortKey) int {
		b := k.time[1] // bytes 8 to 15 of the time: "ddThh:mm"
		digit := func(shift uint) int { return int(b>>shift&0xff) - '0' }
		h1, h2, m1, m2 := digit(32), digit(24), digit(8), digit(0)
		if h1 < 0 || h1 > 9 || h2 < 0 || h2 > 9 || m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || b>>16&0xff != ':' {
			return -1
		}
		return (h1*10+h2)*100 + m1*10 + m2
	}
	oneDay := len(keys) >= 64
	for i := 0; oneDay && i < len(keys); i++ {
		oneDay = keyDay(keys[i]) == keyDay(keys[0]) && minute(keys[i]) >= 0
	}
	if !oneDay {
		copy(out, keys)
		slices.SortFunc(out, r.compare)
		return out
	}
	if *counts == nil {
		*counts = make([]int32, 10000+1)
	}
	at := *counts
	clear(at)
	for _, k := range keys {
		at[minute(k)+1]++
	}
	for m := 1; m < len(at); m++ {
		at[m] += at[m-1]
	}
	// at[m] is where minute m's bucket starts.
	for _, k := range keys {
		m := minute(k)
		out[at[m]] = k
		at[m]++
	}
	// Now at[m] is where minute m's bucket ends, and the one before it starts.
	from := 0
	for m := 0; m < len(at)-1 && from < len(out); m++ {
		to := int(at[m])
		if to-from > 1 {
			slices.SortFunc(out[from:to], r.compare)
		}
		from = to
	}
	return out
}

// without is the run without the alerts of the rules in drop (by id), still sorted.
func (r alertRefs) without(drop map[string]bool) alertRefs {
	r.keys = slices.DeleteFunc(r.keys, func(k sortKey) bool {
		it := &r.items[k.i]
		if it.p != nil {
			return drop[it.p.ev.rule]
		}
		return drop[it.a.Rule]
	})
	return r
}

// merge returns the alerts of sorted runs (of one ranking of their rules) in one order, that of
// alertRefs.sort. Runs whose keys overlap are merged, in groups shared by two goroutines; the
// groups, in order, are put one after the other.
func merge(runs []alertRefs) []alertItem {
	// Each run cut where the day of its times changes: a run over many days (the threshold
	// rules', one of a file without a day) would make one group of them all.
	var cut []alertRefs
	for _, r := range runs {
		for from := 0; from < len(r.keys); {
			to := from + 1
			for to < len(r.keys) && keyDay(r.keys[to]) == keyDay(r.keys[from]) {
				to++
			}
			cut = append(cut, alertRefs{keys: r.keys[from:to], items: r.items, ranked: r.ranked})
			from = to
		}
	}
	runs = cut
	first := func(r *alertRefs) (sortKey, *alertItem) { k := r.keys[0]; return k, &r.items[k.i] }
	last := func(r *alertRefs) (sortKey, *alertItem) { k := r.keys[len(r.keys)-1]; return k, &r.items[k.i] }
	ranked := !slices.ContainsFunc(runs, func(r alertRefs) bool { return !r.ranked })
	before := func(a, b *alertRefs, ka, kb func(*alertRefs) (sortKey, *alertItem)) int {
		x, xi := ka(a)
		y, yi := kb(b)
		return compareKeys(x, y, xi, yi, ranked)
	}
	slices.SortFunc(runs, func(a, b alertRefs) int { return before(&a, &b, first, first) })
	// groups are the runs' indices where a group starts, then len(runs); at, where its alerts
	// start in out. A run that starts after the last alert of every run of the group so far
	// (that of run top's) starts a new one.
	var groups, at []int
	n, top := 0, 0
	for i := range runs {
		switch {
		case i == 0 || before(&runs[i], &runs[top], first, last) > 0:
			groups, at, top = append(groups, i), append(at, n), i
		case before(&runs[i], &runs[top], last, last) > 0:
			top = i
		}
		n += len(runs[i].keys)
	}
	groups, at = append(groups, len(runs)), append(at, n)
	out := make([]alertItem, n)
	mergeGroups := func(from, to int) {
		for g := from; g < to; g++ {
			mergeInto(out[at[g]:at[g+1]], runs[groups[g]:groups[g+1]], ranked)
		}
	}
	ng := len(groups) - 1
	if runtime.GOMAXPROCS(0) < 2 || ng < 2 {
		mergeGroups(0, ng)
		return out
	}
	// The groups from half of the alerts on go to a second goroutine.
	half := max(1, min(ng-1, sortSearch(at, n/2)))
	var wg sync.WaitGroup
	wg.Go(func() { mergeGroups(half, ng) })
	mergeGroups(0, half)
	wg.Wait()
	return out
}

// sortSearch is the index of the first of the sorted at that is n or more.
func sortSearch(at []int, n int) int {
	i, _ := slices.BinarySearch(at, n)
	return i
}

// mergeInto merges sorted runs into out, which holds as many alerts as they do.
func mergeInto(out []alertItem, runs []alertRefs, ranked bool) {
	if len(runs) == 1 {
		r := &runs[0]
		for j, k := range r.keys {
			out[j] = r.items[k.i]
		}
		return
	}
	// A heap of the runs by their next alert: next[r] is run r's.
	next := make([]int, len(runs))
	less := func(a, b int) bool {
		x, y := runs[a].keys[next[a]], runs[b].keys[next[b]]
		c := compareKeys(x, y, &runs[a].items[x.i], &runs[b].items[y.i], ranked)
		return c < 0 || c == 0 && a < b
	}
	heap := make([]int, len(runs))
	for i := range heap {
		heap[i] = i
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && less(heap[r], heap[l]) {
				m = r
			}
			if !less(heap[m], heap[i]) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for j := range out {
		top := heap[0]
		r := &runs[top]
		out[j] = r.items[r.keys[next[top]].i]
		next[top]++
		if next[top] == len(r.keys) {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		if len(heap) > 0 {
			down(0)
		}
	}
}

// keyDay is the first 11 bytes of a key's time: "yyyy-mm-ddT", the day of a canonical time.
func keyDay(k sortKey) [2]uint64 { return [2]uint64{k.time[0], k.time[1] >> 40} }
