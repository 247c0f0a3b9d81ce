package rules

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// Live evaluates rules on the rows an ingest adds while the lake writer writes them
// (lake.RowObserver), in Go (roweval), so that detection need not read the new files back:
// reading them was as long as the ingest itself. The Detector takes what Live found for the
// commits it evaluates, and scans only for the rules Live does not evaluate (Rest) — or for
// every rule when Live did not see every one of those commits (rows added by an earlier process,
// before a crash or a restart), or failed on one.
//
// Live evaluates a rule only when roweval evaluates each of its expressions. For a threshold rule
// it finds the new rows' matches; the Detector counts them with the earlier rows' in the window.
type Live struct {
	rules []*liveRule
	base  []*roweval.Expr // baseColumns
	// Rest are the rules Live does not evaluate, with why in Why (by rule id).
	Rest []*Rule
	Why  map[string]error

	evs sync.Pool // of *evaluator

	mu      sync.Mutex
	pending map[string]*liveCommit // by commit id, until committed
	done    map[int64]*liveCommit  // by lake commit
	// history holds the threshold rules' matches of the commits taken, by commit (an entry,
	// maybe empty, for each): a later detection counts them with its new rows' matches without
	// reading their files again (an ingest evaluated mid-pass would read most of what it wrote
	// before). histN is their number, at most historyMatches: the oldest commits go first.
	history map[int64]map[string][][]match
	histN   int
}

// historyMatches bounds the threshold rules' matches Live keeps for later detections.
const historyMatches = 1 << 18

type liveRule struct {
	c    *compiled
	cond *roweval.Expr
	vals []*roweval.Expr // c.values()
	// facet is the index in lake.FacetColumns of the column of c.facet (-1: none): a row whose
	// value there satisfies none of c.facet's conditions cannot match, and is not evaluated.
	facet int
}

type liveCommit struct {
	alerts  [][]match            // the chunks of the matches of the rules without a threshold
	packed  [][]packed           // and of their packed alerts (most of them)
	matches map[string][][]match // the chunks of threshold rules' matches, by rule id
	n       int                  // the matches in alerts, packed and matches
	err     error
}

// NewLive compiles the rules for evaluation as rows arrive.
func NewLive(rs []*Rule) *Live {
	l := &Live{Why: map[string]error{}, pending: map[string]*liveCommit{}, done: map[int64]*liveCommit{}, history: map[int64]map[string][][]match{}}
	base, err := compileBase()
	if err != nil {
		// Without the columns every alert takes, Live evaluates nothing.
		l.Rest = rs
		for _, r := range rs {
			l.Why[r.ID] = err
		}
		return l
	}
	l.base = base
	for _, c := range newPlan(rs).rules {
		lr, err := compileLive(c)
		if err != nil {
			l.Rest = append(l.Rest, c.r)
			l.Why[c.r.ID] = err
			continue
		}
		l.rules = append(l.rules, lr)
	}
	return l
}

// live compiles the plan's rules for roweval: those it evaluates, and the others.
func (p *plan) live() (inGo []*liveRule, rest []*Rule) {
	for _, c := range p.rules {
		if lr, err := compileLive(c); err == nil {
			inGo = append(inGo, lr)
		} else {
			rest = append(rest, c.r)
		}
	}
	return inGo, rest
}

// compileBase compiles the columns every alert takes (baseColumns).
func compileBase() ([]*roweval.Expr, error) {
	var out []*roweval.Expr
	for _, col := range baseColumns {
		e, err := roweval.Compile(col)
		if err != nil {
			return nil, fmt.Errorf("alert column %s: %w", col, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func compileLive(c *compiled) (*liveRule, error) {
	cond, err := roweval.Compile(c.r.Condition)
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	lr := &liveRule{c: c, cond: cond, facet: -1}
	if c.facet != nil {
		lr.facet = slices.Index(lake.FacetColumns, c.facet[0].Column)
	}
	for _, v := range c.values() {
		e, err := roweval.Compile(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v, err)
		}
		lr.vals = append(lr.vals, e)
	}
	return lr, nil
}

// Covers returns the ids of the rules Live evaluates.
func (l *Live) Covers() []string {
	var out []string
	for _, lr := range l.rules {
		out = append(out, lr.c.r.ID)
	}
	return out
}

// Rows evaluates the live rules on rows of partition p, which commit will hold.
func (l *Live) Rows(commit string, p lake.Partition, rows []*cloudtrail.Record) {
	if len(l.rules) == 0 {
		return
	}
	// An evaluator of an earlier call keeps what it learnt of the facet values.
	ev, _ := l.evs.Get().(*evaluator)
	if ev == nil {
		ev = newEvaluator(l.rules, l.base)
		// The alerts of the rules without a threshold are packed, their strings copied out of
		// the rows' memory as they are.
		k := newKeeper(nil, len(l.rules))
		k.all = true
		ev.pk = newPacker(k, len(l.rules))
	}
	defer func() {
		ev.found = make([]matches, len(l.rules)) // what it found is the commit's now
		ev.failed = nil
		l.evs.Put(ev)
	}()
	ev.part(p, nil)
	var failed error
	for _, rec := range rows {
		if lr, err := ev.eval(rec); err != nil {
			failed = fmt.Errorf("rule %s: %w", lr.c.r.ID, err)
			break
		}
	}
	if failed == nil {
		// Kept until the pass ends: not in the rows' memory (the packed alerts are not).
		var chunks [][]match
		for _, found := range ev.found {
			chunks = append(chunks, found.chunks...)
		}
		detach(chunks)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lc := l.pending[commit]
	if lc == nil {
		lc = &liveCommit{}
		l.pending[commit] = lc
	}
	if failed != nil {
		lc.err = failed
		lc.alerts, lc.packed, lc.matches, lc.n = nil, nil, nil, 0
		return
	}
	if lc.err == nil {
		for i, found := range ev.found {
			if found.n == 0 {
				continue
			}
			// Kept as found, not copied: the sort refers to each alert where it is. But for the
			// room left in the last chunk (up to 511 matches, 4095 packed), which a busy trail
			// would hold for each batch of each rule until the pass ends.
			cs, ps := trimmed(found.chunks), trimmed(found.packed)
			lc.n += found.n
			if id := l.rules[i].c.r.ID; l.rules[i].c.r.Threshold != nil {
				if lc.matches == nil {
					lc.matches = map[string][][]match{}
				}
				lc.matches[id] = append(lc.matches[id], cs...)
				continue
			}
			lc.alerts, lc.packed = append(lc.alerts, cs...), append(lc.packed, ps...)
		}
	}
}

// trimmed is chunks with the last one copied when it has room left.
func trimmed[T any](chunks [][]T) [][]T {
	if k := len(chunks); k > 0 && cap(chunks[k-1]) > len(chunks[k-1]) {
		chunks[k-1] = slices.Clone(chunks[k-1])
	}
	return chunks
}

// evaluator evaluates compiled rules on rows, in one goroutine: what each rule matched is in
// found, by the rule's index.
type evaluator struct {
	rules []*liveRule
	base  []*roweval.Expr
	row   roweval.Row
	day   string // of row.Part, "" for a partition without one
	vals  []any  // the row's base values, when its alert is not read directly
	// scratch holds a match's title, dedup and group_by values while its alert is made.
	scratch []any
	alert   Alert // the row's event columns, once a rule matched it
	// pk, when set, packs the alerts of the rules without a threshold.
	pk *packer
	// on, when set, says which rules to evaluate on the partition's rows (nil: all); a rule
	// whose evaluation failed is turned off.
	on    []bool
	found []matches
	marks []int // by rule: its packed matches in the runs made already (run)
	// keyBuf and minutes are run's, reused.
	keyBuf  []sortKey
	minutes []int32
	// facets are facetRules' answers, by facet column and value.
	facets [4]map[string][]bool
	nulls  [4][]bool // facetNull's, by facet column
	// failed, when set, marks the rules whose evaluation failed on a row (the others go on);
	// when nil, eval stops at the first failure and returns it.
	failed []bool
}

func newEvaluator(rules []*liveRule, base []*roweval.Expr) *evaluator {
	return &evaluator{rules: rules, base: base, vals: make([]any, len(base)), found: make([]matches, len(rules))}
}

// facetRules says, by rule index, whether a row whose facet column k (of lake.FacetColumns) holds
// v may satisfy the rule's condition: false when the rule's facet condition is on that column and
// v satisfies none of it (lake.FacetHolds judges, as for the lake's files). A facet column has few
// values: the answer is kept per value.
func (ev *evaluator) facetRules(k int, v string) []bool {
	if may, ok := ev.facets[k][v]; ok {
		return may
	}
	if ev.facets[k] == nil || len(ev.facets[k]) > 4096 {
		ev.facets[k] = map[string][]bool{}
	}
	may := make([]bool, len(ev.rules))
	low := strings.ToLower(v)
	for i, lr := range ev.rules {
		may[i] = lr.facet != k || lr.holdsOn(v, low)
	}
	ev.facets[k][v] = may
	return may
}

// facetNull says, by rule index, whether a row whose facet column k is NULL may satisfy the rule's
// condition: not when its facet condition is on that column, which NULL satisfies none of (an
// equality, IN, LIKE, IS NOT NULL, or their negations, of the column or its lower()).
func (ev *evaluator) facetNull(k int) []bool {
	if may := ev.nulls[k]; may != nil {
		return may
	}
	may := make([]bool, len(ev.rules))
	for i, lr := range ev.rules {
		may[i] = lr.facet != k
	}
	ev.nulls[k] = may
	return may
}

// part sets the partition of the rows that follow, and the rules to evaluate on them (nil: all).
func (ev *evaluator) part(p lake.Partition, on []bool) {
	ev.row.Part, ev.day = p, partitionDay(p)
	ev.on = on
}

// partitionDay is the partition's day as yyyy-mm-dd ("" when it has none).
func partitionDay(p lake.Partition) string {
	if p.Year == "" || p.Month == "" || p.Day == "" {
		return ""
	}
	return p.Year + "-" + p.Month + "-" + p.Day
}

// eval evaluates the rules on one row. An error is the rule's whose evaluation failed.
func (ev *evaluator) eval(rec *cloudtrail.Record) (*liveRule, error) {
	ev.row.Rec = rec
	if ev.pk != nil {
		ev.pk.row++
	}
	baseDone := false
	// Which rules the row's facet values let hold (NULL satisfies no facet condition).
	var may [4][]bool
	for k, v := range lake.FacetsOf(rec) {
		if v != nil {
			may[k] = ev.facetRules(k, *v)
		} else {
			may[k] = ev.facetNull(k)
		}
	}
	for i, lr := range ev.rules {
		if ev.on != nil && !ev.on[i] || lr.facet >= 0 && !may[lr.facet][i] {
			continue
		}
		if err := ev.match(i, lr, &ev.found[i], &baseDone); err != nil {
			if ev.failed == nil {
				return lr, err
			}
			ev.failed[i] = true
			ev.on[i] = false
			continue
		}
	}
	return nil, nil
}

// matches are a rule's matches, kept in chunks so that adding one never copies the others (a
// rule of the Sigma set fires on most rows, and a match is a few hundred bytes).
type matches struct {
	chunks [][]match
	packed [][]packed // the backtest's (see packed)
	n      int        // in chunks and packed
	full   int        // in chunks
}

// next adds a match, to be filled in place, and returns it.
func (ms *matches) next() *match {
	ms.n++
	ms.full++
	return nextIn(&ms.chunks, 512)
}

// nextIn adds an element to the last of chunks, to be filled in place, and returns it. A full
// chunk is followed by one twice its size, from 16 (a rule that rarely fires) up to most (one
// that often does).
func nextIn[T any](chunks *[][]T, most int) *T {
	if k := len(*chunks); k == 0 || len((*chunks)[k-1]) == cap((*chunks)[k-1]) {
		size := 16
		if k > 0 {
			size = min(most, 2*cap((*chunks)[k-1]))
		}
		*chunks = append(*chunks, make([]T, 0, size))
	}
	last := &(*chunks)[len(*chunks)-1]
	*last = (*last)[:len(*last)+1]
	return &(*last)[len(*last)-1]
}

// eachLast calls f on the last n elements of chunks (those added since a mark), in order within
// each chunk.
func eachLast[T any](chunks [][]T, n int, f func(*T)) {
	for c := len(chunks) - 1; n > 0 && c >= 0; c-- {
		chunk := chunks[c]
		from := max(0, len(chunk)-n)
		for j := from; j < len(chunk); j++ {
			f(&chunk[j])
		}
		n -= len(chunk) - from
	}
}

// len is the number of matches; nil holds none.
func (ms *matches) len() int {
	if ms == nil {
		return 0
	}
	return ms.n
}

// chunkList is the chunks of the matches; nil holds none.
func (ms *matches) chunkList() [][]match {
	if ms == nil {
		return nil
	}
	return ms.chunks
}

// match evaluates one rule on the row, and adds its match to found when it holds; baseDone says
// whether ev.alert holds the row's event columns already.
func (ev *evaluator) match(i int, lr *liveRule, found *matches, baseDone *bool) error {
	ok, err := lr.cond.Holds(&ev.row)
	if err != nil || !ok {
		return err
	}
	if !*baseDone {
		if !baseColumnsOf(&ev.row, ev.day, &ev.alert) {
			if err := texts(ev.base, &ev.row, ev.vals, ""); err != nil {
				return err
			}
			ev.alert = baseAlert(ev.vals)
		}
		*baseDone = true
	}
	// The values go into the match's strings: one slice serves every match.
	vals := ev.scratch[:0]
	if len(lr.vals) > 0 {
		vals = slices.Grow(vals, len(lr.vals))[:len(lr.vals)]
		ev.scratch = vals
		if err := texts(lr.vals, &ev.row, vals, nil); err != nil {
			return err
		}
	}
	packed := false
	if ev.pk != nil && packs(lr.c) {
		// Packed from the row's columns, its title and key: the match is not made.
		a := &ev.alert
		a.Title, a.Dedup = lr.c.titleAndDedup(lr.c.padded(vals))
		packed = ev.pk.pack(found, i, lr.c, a, lr.c.nd == 0)
	}
	if !packed {
		lr.c.fillMatch(found.next(), &ev.alert, vals)
	}
	clear(vals) // holding no row's strings
	return nil
}

// holdsOn reports whether a facet value v (lower: v in lower case, when a condition asks for it)
// satisfies one of the rule's conditions on its facet column.
func (lr *liveRule) holdsOn(v, lower string) bool {
	for _, c := range lr.c.facet {
		op, x := c.Op, v
		if rest, ok := strings.CutPrefix(op, "lower "); ok {
			op, x = rest, lower
		}
		if lake.FacetHolds(op, c.Values, x) {
			return true
		}
	}
	return false
}

// baseColumnsOf puts a row's event columns (baseColumns) in out as baseAlert of their compiled
// expressions' texts gives them, reading the record directly: they are plain columns, a coalesce
// of them, and the partition's day (day, partitionDay of the row's). It returns false, and leaves
// the row to the expressions, for a partition without a day (NULL in the concatenation).
func baseColumnsOf(r *roweval.Row, day string, out *Alert) bool {
	if day == "" {
		return false
	}
	s := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	rec := r.Rec
	var principal string
	if u := rec.UserIdentity; u != nil {
		var issuer *string
		if sc := u.SessionContext; sc != nil && sc.SessionIssuer != nil {
			issuer = sc.SessionIssuer.ARN
		}
		for _, v := range [...]*string{issuer, u.ARN, u.PrincipalID, u.InvokedBy} {
			if v != nil {
				principal = *v
				break
			}
		}
	}
	*out = Alert{EventID: s(rec.EventID), EventTime: s(rec.EventTime), EventSource: s(rec.EventSource), EventName: s(rec.EventName),
		Principal: principal, SourceIP: s(rec.SourceIPAddress), Account: r.Part.Account, Region: r.Part.Region, Day: day}
	return true
}

// texts puts the values of es over row in out, each as CAST(… AS VARCHAR) gives it; null for a
// NULL value.
func texts(es []*roweval.Expr, row *roweval.Row, out []any, null any) error {
	for i, e := range es {
		s, ok, err := e.Text(row)
		if err != nil {
			return err
		}
		if ok {
			out[i] = s
		} else {
			out[i] = null
		}
	}
	return nil
}

// Held is the number of matches Live holds for the Detector: found on rows written and not taken
// yet. They are the memory of a detection; an ingest runs the Detector when they are many
// (ingest.Options.AfterPassDue), so that it holds few whatever the trail's size.
func (l *Live) Held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, lc := range l.pending {
		n += lc.n
	}
	for _, lc := range l.done {
		n += lc.n
	}
	return n
}

// Committed files what was found for commit under the lake commit seq. Whatever is pending for
// another commit belongs to a commit that never landed.
func (l *Live) Committed(commit string, seq int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lc := l.pending[commit]
	if lc == nil {
		lc = &liveCommit{}
	}
	clear(l.pending)
	l.done[seq] = lc
}

// take returns the matches found on the commits from…to, as one liveCommit (the chunks of the
// rules without a threshold, packed or not, and the threshold rules' matches by rule), when Live
// saw every one of them and failed on none, and forgets those commits and any before (but for
// the threshold rules' matches, kept in history for the next detections).
func (l *Live) take(from, to int64) (*liveCommit, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := &liveCommit{} // the chunks, not copied: a busy trail's are large
	matches := map[string][][]match{}
	taken := map[int64]map[string][][]match{}
	ok := true
	for seq := from; seq <= to; seq++ {
		lc := l.done[seq]
		if lc == nil || lc.err != nil {
			ok = false
			break
		}
		out.alerts, out.packed, out.n = append(out.alerts, lc.alerts...), append(out.packed, lc.packed...), out.n+lc.n
		taken[seq] = lc.matches
		for id, ms := range lc.matches {
			matches[id] = append(matches[id], ms...)
		}
	}
	for seq := range l.done {
		if seq <= to {
			delete(l.done, seq)
		}
	}
	if !ok {
		return nil, false
	}
	for seq, byRule := range taken {
		l.histN += rulesMatchCount(byRule) - rulesMatchCount(l.history[seq])
		l.history[seq] = byRule
	}
	for _, seq := range slices.Sorted(maps.Keys(l.history)) {
		if l.histN <= historyMatches {
			break
		}
		l.histN -= rulesMatchCount(l.history[seq])
		delete(l.history, seq)
	}
	out.matches = matches
	return out, true
}

// earlierMatches returns the threshold matches of rules rs that Live kept of the commits it took
// before from, with event times within spans (see matchSpans), when it kept those of every commit
// of files; ok is false when it did not.
func (l *Live) earlierMatches(rs []*Rule, files []lake.File, from int64, spans timeSpans) (map[string][][]match, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range files {
		for _, o := range f.Origins {
			if _, ok := l.history[o]; !ok || o >= from {
				return nil, false
			}
		}
	}
	out := map[string][][]match{}
	for seq, byRule := range l.history {
		if seq >= from {
			continue
		}
		for _, r := range rs {
			for _, c := range byRule[r.ID] {
				var in []match
				for _, m := range c {
					if spans.meet(m.alert.EventTime, m.alert.EventTime) {
						in = append(in, m)
					}
				}
				if len(in) > 0 {
					out[r.ID] = append(out[r.ID], in)
				}
			}
		}
	}
	return out, true
}

// sorted returns the alerts of chunks of matches, of packed ones and found, by reference, in the
// order a detection stores them (alertRefs.sort).
func sorted(chunks [][]match, packed [][]packed, found []*Alert) *Alerts {
	refs := refsOf(chunks, packed, found)
	refs.sort()
	return &Alerts{items: refs.inOrder()}
}

// inOrder is the items in the order of the keys.
func (r *alertRefs) inOrder() []alertItem {
	out := make([]alertItem, len(r.keys))
	for j, k := range r.keys {
		out[j] = r.items[k.i]
	}
	return out
}

// alertRefs are alerts to sort, by reference: the sort moves their keys, which hold no pointer
// (the garbage collector neither scans them nor is told of each move), and each names its alert
// in items.
type alertRefs struct {
	keys   []sortKey
	items  []alertItem
	ranked bool // the keys hold their rules' ranks
}

// sortKey is an alert's place in items, with the first 24 bytes of its event time (a time's
// text is 20) as big-endian numbers, zeros past its end: when they differ, so do the times, in
// the same order. When two keys' times are equal and of the same length (up to 24 bytes), so are
// the alerts' times, and what comes next is their rules' order, then their event ids': tie is
// the rule's rank among those of the alerts sorted (when alertRefs.ranked) in its first 16 bits,
// and the first 6 bytes of the event id, zeros past its end. Most ties are told apart without
// reading the alerts.
type sortKey struct {
	time    [3]uint64
	tie     uint64
	i       uint32
	timeLen uint8 // up to 255
}

// alertItem is an alert: a, or p when it is packed.
type alertItem struct {
	a *Alert
	p *packed
}

// alert is the alert: made in buf when it is packed.
func (it *alertItem) alert(buf *Alert) *Alert {
	if it.p != nil {
		it.p.alert(buf)
		return buf
	}
	return it.a
}

// refsOf refers to the alerts of chunks of matches, of packed alerts and of found.
func refsOf(chunks [][]match, packed [][]packed, found []*Alert) alertRefs {
	// The rules' ranks. Alike alerts are side by side (a chunk holds one rule's, mostly): the
	// map is asked only when the rule changes.
	ranks := map[string]uint16{}
	var last string
	seen := func(rule string) {
		if rule != last || len(ranks) == 0 {
			ranks[rule], last = 0, rule
		}
	}
	for _, c := range chunks {
		for i := range c {
			seen(c[i].alert.Rule)
		}
	}
	for _, c := range packed {
		for i := range c {
			seen(c[i].ev.rule)
		}
	}
	for _, a := range found {
		seen(a.Rule)
	}
	ranks, ranked := rankRules(slices.Collect(maps.Keys(ranks)))
	return refsRanked(chunks, packed, found, ranks, ranked)
}

// rankRules returns each rule id's rank among ids, in the order of the ids, and whether they fit
// in a sort key's 16 bits.
func rankRules(ids []string) (map[string]uint16, bool) {
	ranks := make(map[string]uint16, len(ids))
	if len(ids) > math.MaxUint16+1 {
		return ranks, false
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	for i, id := range ids {
		ranks[id] = uint16(i)
	}
	return ranks, true
}

// keyOf is the sort key of an alert of event time t and id, of a rule of rank rank, at i in
// its items.
func keyOf(t string, rank uint64, id string, i int) sortKey {
	var b [8]byte
	copy(b[2:], id)
	return sortKey{time: timeKey(t), tie: rank<<48 | binary.BigEndian.Uint64(b[:]), i: uint32(i), timeLen: uint8(min(len(t), math.MaxUint8))}
}

// refsRanked is refsOf, the rules ranked by ranks (rankRules of theirs, or of more).
func refsRanked(chunks [][]match, packed [][]packed, found []*Alert, ranks map[string]uint16, ranked bool) alertRefs {
	n := len(found) + matchCount(chunks) + matchCount(packed)
	r := alertRefs{keys: make([]sortKey, 0, n), items: make([]alertItem, 0, n), ranked: ranked}
	var lastRank uint64
	last := ""
	add := func(t, rule, id string, it alertItem) {
		if rule != last || len(r.keys) == 0 {
			lastRank, last = uint64(ranks[rule]), rule
		}
		r.keys = append(r.keys, keyOf(t, lastRank, id, len(r.items)))
		r.items = append(r.items, it)
	}
	for _, c := range chunks {
		for i := range c {
			a := &c[i].alert
			add(a.EventTime, a.Rule, a.EventID, alertItem{a: a})
		}
	}
	for _, c := range packed {
		for i := range c {
			add(c[i].eventTime(), c[i].ev.rule, c[i].eventID(), alertItem{p: &c[i]})
		}
	}
	for _, a := range found {
		add(a.EventTime, a.Rule, a.EventID, alertItem{a: a})
	}
	return r
}

// sort puts the keys in the order a detection stores their alerts: by event time, rule and event
// (then by what tells apart two alerts on events of one id, so that the order never depends on
// the order they were found in). The alerts are large, and are not moved: their keys are, each
// with the first bytes of its event time (what tells most apart, compared without reading the
// alert).
//
// Many alerts (a busy trail's) are first put in buckets by the first 16 bytes of their time (its
// minute: a prefix, so the buckets' order is that of their alerts), then each bucket is sorted
// on its own: small sorts, in the processor's cache, shared by two goroutines. On the 1M-event
// benchmark this sorted 848k alerts in 100–150 ms, where one sort of two halves, merged, took
// 140–210 ms (the two alternating).
func (r *alertRefs) sort() {
	n := len(r.keys)
	if n < 1<<12 {
		slices.SortFunc(r.keys, r.compare)
		return
	}
	type minute [2]uint64
	ids := map[minute]int32{}
	var minutes []minute
	bucket := make([]int32, n)
	last, lastID := minute{}, int32(-1)
	for i, k := range r.keys {
		// Alike alerts are found side by side: their minute is often the last one's.
		if m := (minute{k.time[0], k.time[1]}); lastID < 0 || m != last {
			id, ok := ids[m]
			if !ok {
				id = int32(len(minutes))
				ids[m] = id
				minutes = append(minutes, m)
			}
			last, lastID = m, id
		}
		bucket[i] = lastID
	}
	byMinute := make([]int32, len(minutes))
	for i := range byMinute {
		byMinute[i] = int32(i)
	}
	slices.SortFunc(byMinute, func(a, b int32) int {
		if c := cmp.Compare(minutes[a][0], minutes[b][0]); c != 0 {
			return c
		}
		return cmp.Compare(minutes[a][1], minutes[b][1])
	})
	rank := make([]int32, len(minutes))
	for i, id := range byMinute {
		rank[id] = int32(i)
	}
	// start[b] is where bucket b (by rank) starts in sorted.
	start := make([]int, len(minutes)+1)
	for _, id := range bucket {
		start[rank[id]+1]++
	}
	for b := range minutes {
		start[b+1] += start[b]
	}
	sorted := make([]sortKey, n)
	at := slices.Clone(start[:len(minutes)])
	for i, k := range r.keys {
		b := rank[bucket[i]]
		sorted[at[b]] = k
		at[b]++
	}
	// The buckets from half of the alerts on are sorted by a second goroutine.
	half := sort.SearchInts(start, n/2)
	sortBuckets := func(from, to int) {
		for b := from; b < to; b++ {
			if s := sorted[start[b]:start[b+1]]; len(s) > 1 {
				slices.SortFunc(s, r.compare)
			}
		}
	}
	if runtime.GOMAXPROCS(0) < 2 {
		sortBuckets(0, len(minutes))
	} else {
		done := make(chan struct{})
		go func() {
			sortBuckets(half, len(minutes))
			close(done)
		}()
		sortBuckets(0, min(half, len(minutes)))
		<-done
	}
	r.keys = sorted
}

// rulesMatchCount is the number of matches in the chunks of byRule.
func rulesMatchCount(byRule map[string][][]match) int {
	n := 0
	for _, cs := range byRule {
		n += matchCount(cs)
	}
	return n
}

// matchCount is the number of matches (or packed alerts) in chunks.
func matchCount[T any](chunks [][]T) int {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	return n
}

func timeKey(s string) [3]uint64 {
	var b [24]byte
	copy(b[:], s)
	return [3]uint64{binary.BigEndian.Uint64(b[0:]), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])}
}

func (r *alertRefs) compare(x, y sortKey) int {
	return compareKeys(x, y, &r.items[x.i], &r.items[y.i], r.ranked)
}

// compareKeys compares the alerts of keys x and y, xi and yi, in the order of alertRefs.sort;
// ranked says whether the keys' ties hold the rules' ranks (of one ranking).
func compareKeys(x, y sortKey, xi, yi *alertItem, ranked bool) int {
	for i := range x.time {
		if c := cmp.Compare(x.time[i], y.time[i]); c != 0 {
			return c
		}
	}
	if ranked && x.timeLen == y.timeLen && x.timeLen <= 24 {
		// The same time: the rules' order, then the event ids', without reading the alerts.
		if c := cmp.Compare(x.tie, y.tie); c != 0 {
			return c
		}
	}
	if xi.p != nil && yi.p != nil {
		// Two packed alerts: the fields compareAlerts compares first, without making them.
		if c := strings.Compare(xi.p.eventTime(), yi.p.eventTime()); c != 0 {
			return c
		}
		if c := strings.Compare(xi.p.ev.rule, yi.p.ev.rule); c != 0 {
			return c
		}
		if c := strings.Compare(xi.p.eventID(), yi.p.eventID()); c != 0 {
			return c
		}
	}
	var xa, ya Alert
	return compareAlerts(xi.alert(&xa), yi.alert(&ya))
}

func compareAlerts(a, b *Alert) int {
	if c := strings.Compare(a.EventTime, b.EventTime); c != 0 {
		return c
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	if c := strings.Compare(a.EventID, b.EventID); c != 0 {
		return c
	}
	for _, f := range [...][2]string{{a.Dedup, b.Dedup}, {a.EventSource, b.EventSource}, {a.EventName, b.EventName},
		{a.Title, b.Title}, {a.Principal, b.Principal}, {a.SourceIP, b.SourceIP}, {a.Account, b.Account},
		{a.Region, b.Region}, {a.Day, b.Day}, {a.FirstTime, b.FirstTime}} {
		if c := strings.Compare(f[0], f[1]); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Count, b.Count)
}

// split splits rs into the rules l evaluates (by id) and the others.
func (l *Live) split(rs []*Rule) (covered map[string]bool, rest []*Rule) {
	covered = map[string]bool{}
	ids := map[string]bool{}
	for _, lr := range l.rules {
		ids[lr.c.r.ID] = true
	}
	for _, r := range rs {
		if ids[r.ID] {
			covered[r.ID] = true
		} else {
			rest = append(rest, r)
		}
	}
	return covered, rest
}
