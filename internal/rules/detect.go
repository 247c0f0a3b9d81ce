package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
)

// Detector evaluates the rules on the rows of each new lake commit, once: after a crash or a
// restart it goes on from the last commit whose alerts were stored.
type Detector struct {
	Store *Store
	Rules []*Rule // validated (see Validate)
	// PathOf is a lake file's "$path" value as Query's runner reads it.
	PathOf func(lake.File) string
	// Live, when set, evaluated the rows of the commits the ingest just made as it wrote them:
	// the rules it covers are not scanned for those commits when it saw them all.
	Live *Live

	// thresholds are the stored alerts of the threshold rules as of the store's cursor
	// thresholdsAt, read once and then kept as the Detector stores more (read again when
	// another process stored some): each detection reads them back, and reading every alert
	// file through the engine to find them was most of a detection's time on a busy trail.
	thresholds   []storedAlert // nil: not read
	thresholdsAt int64
}

// keepThresholds adds the threshold rules' alerts of a detection stored at cursor to to to those
// the Detector holds, when it held them all as of cursor.
func (d *Detector) keepThresholds(cursor, to int64, alerts *Alerts) {
	if d.thresholds == nil || d.thresholdsAt != cursor {
		d.thresholds = nil
		return
	}
	threshold := map[string]bool{}
	for _, r := range d.Rules {
		threshold[r.ID] = r.Threshold != nil
	}
	for _, it := range alerts.items {
		// A threshold rule's alerts are not packed (see packs).
		if a := it.a; a != nil && threshold[a.Rule] {
			// Copies: the alert's strings share a block with many others'.
			d.thresholds = append(d.thresholds, storedAlert{strings.Clone(a.Rule), strings.Clone(a.Dedup), strings.Clone(a.EventTime), strings.Clone(a.EventID)})
		}
	}
	d.thresholdsAt = to
}

// storedThresholds returns the stored alerts of the rules' threshold rules, the store's cursor
// being cursor.
func (d *Detector) storedThresholds(ctx context.Context, query answer.QueryFunc, cursor int64) ([]storedAlert, error) {
	if d.thresholds != nil && d.thresholdsAt == cursor {
		return d.thresholds, nil
	}
	var ids []string
	var args []any
	for _, r := range d.Rules {
		if r.Threshold != nil {
			ids, args = append(ids, "?"), append(args, r.ID)
		}
	}
	d.thresholds, d.thresholdsAt = []storedAlert{}, cursor
	if len(ids) == 0 {
		return d.thresholds, nil
	}
	res, err := query(ctx, "SELECT rule, dedup, event_time, event_id FROM "+AlertsTable+" WHERE rule IN ("+strings.Join(ids, ", ")+")", args...)
	if err != nil {
		d.thresholds = nil
		return nil, fmt.Errorf("read the threshold rules' stored alerts: %w", err)
	}
	for _, row := range res.Rows {
		d.thresholds = append(d.thresholds, storedAlert{answer.String(row[0]), answer.String(row[1]), answer.String(row[2]), answer.String(row[3])})
	}
	return d.thresholds, nil
}

// Detection is what one Run evaluated and found.
type Detection struct {
	From, To int64   // the commits evaluated (From > To: none)
	Files    int     // the lake files read
	Alerts   *Alerts // by event time (see alertRefs.sort); nil: none
	// Repeated counts the alerts found again and not stored twice (rows of a compacted file
	// whose other rows were evaluated before).
	Repeated int
	// Live counts the rules whose alerts Live found as the rows were written; the others were
	// scanned for.
	Live int
}

// Run evaluates the rules on the rows that the commits after the store's cursor, up to snap's,
// added, with query reading snap (an engine pinned to it), and stores their alerts with the new
// cursor in one step. Rows of a file compacted from evaluated and new commits are evaluated
// again; their alerts already stored are not stored twice.
func (d *Detector) Run(ctx context.Context, query answer.QueryFunc, snap *lake.Snapshot) (*Detection, error) {
	unlock, err := d.Store.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cursor, err := d.Store.Cursor()
	if err != nil {
		return nil, err
	}
	det := &Detection{From: cursor + 1, To: snap.Seq}
	if snap.Seq <= cursor {
		return det, nil
	}
	if cursor == 0 {
		d.thresholds, d.thresholdsAt = []storedAlert{}, 0 // none stored yet
	}
	var files []string
	var fresh []lake.File
	var minTime, maxTime string
	mixed := false
	for _, f := range snap.Files {
		newRows, old := false, false
		for _, o := range f.Origins {
			if o > cursor {
				newRows = true
			} else {
				old = true
			}
		}
		if !newRows {
			continue
		}
		mixed = mixed || old
		files, fresh = append(files, d.PathOf(f)), append(fresh, f)
		if f.MinTime != "" && (minTime == "" || f.MinTime < minTime) {
			minTime = f.MinTime
		}
		if f.MaxTime > maxTime {
			maxTime = f.MaxTime
		}
	}
	det.Files = len(files)
	lk := &Local{Snap: snap, PathOf: d.PathOf}
	// The alerts, in the chunks of matches they are found in and the others (found), sorted by
	// reference and copied once, as they are stored.
	var found []*Alert
	var chunks [][]match
	var packs [][]packed
	scanned := d.Rules
	// counted are the threshold rules whose new matches Live found: they are counted with the
	// matches of the older rows in their window, which Live kept (rows it saw written) or a scan
	// of the older files finds.
	var counted []*Rule
	var liveMatches map[string][][]match
	if d.Live != nil {
		if lc, ok := d.Live.take(det.From, det.To); ok {
			var covered map[string]bool
			covered, scanned = d.Live.split(d.Rules)
			det.Live = len(covered)
			// A chunk holds one rule's matches.
			for _, c := range lc.alerts {
				if len(c) > 0 && covered[c[0].alert.Rule] {
					chunks = append(chunks, c)
				}
			}
			for _, c := range lc.packed {
				if len(c) > 0 && covered[c[0].ev.rule] {
					packs = append(packs, c)
				}
			}
			for _, r := range d.Rules {
				if covered[r.ID] && r.Threshold != nil {
					if mixed {
						// A file of new and older rows: the older ones cannot be scanned alone.
						scanned = append(scanned, r)
						det.Live--
						continue
					}
					counted = append(counted, r)
				}
			}
			liveMatches = lc.matches
		}
	}
	var plain, recount []*Rule
	for _, r := range scanned {
		if r.Threshold == nil {
			plain = append(plain, r)
		} else {
			recount = append(recount, r)
		}
	}
	if len(files) > 0 && len(plain) > 0 {
		as, err := Evaluate(ctx, query, plain, Scope{Files: files, Values: FacetValues(fresh), Lake: lk})
		if err != nil {
			return nil, err
		}
		found = append(found, as...)
	}
	// A threshold counts the events before the new ones too: over the rules' longest window
	// before the new rows' first event; what fired before is stored already.
	counting := false // threshold rules counted new rows with older ones
	first, ok1 := eventTime(minTime)
	last, ok2 := eventTime(maxTime)
	if len(files) > 0 && ok1 && ok2 && len(recount)+len(counted) > 0 {
		window := func(rs []*Rule) Scope {
			var w time.Duration
			for _, r := range rs {
				w = max(w, r.Threshold.Window)
			}
			return Scope{From: first.Add(-w), To: last.Add(time.Second), Lake: lk}
		}
		// The alerts the threshold rules raised before, in the window: counting starts after them.
		stored, err := d.storedThresholds(ctx, query, cursor)
		if err != nil {
			return nil, err
		}
		all := slices.Concat(recount, counted)
		fired := firedSince(stored, all, questions.TimeText(window(all).From))
		if len(recount) > 0 {
			more, err := evaluate(ctx, query, recount, window(recount), fired)
			if err != nil {
				return nil, err
			}
			found = append(found, since(more, minTime)...)
		}
		if len(counted) > 0 {
			// The older rows that may count with the new rows' matches are in the files with no
			// new row whose times meet a window around one of those matches: none when the new
			// rows matched nothing (then nothing new can fire), few when they matched a little
			// (an ingest evaluated mid-pass spans the trail's days, its threshold rules' matches
			// seldom do).
			scope := window(counted)
			spans := matchSpans(counted, liveMatches)
			isFresh := map[string]bool{}
			for _, f := range fresh {
				isFresh[f.Path] = true
			}
			var older []lake.File
			for _, f := range snap.Files {
				if !isFresh[f.Path] && spans.meet(f.MinTime, f.MaxTime) {
					older = append(older, f)
				}
			}
			p := newPlan(counted)
			byRule := map[string]*matches{}
			// Rows Live saw written by this process: their matches were kept, not read again.
			earlier, kept := d.Live.earlierMatches(counted, older, det.From, spans)
			if kept {
				for id, cs := range earlier {
					byRule[id] = &matches{chunks: cs, n: matchCount(cs)}
				}
			} else if len(older) > 0 {
				scope.Files = make([]string, len(older))
				for i, f := range older {
					scope.Files[i] = d.PathOf(f)
				}
				scope.Values = FacetValues(older)
				var err error
				// (Threshold rules: none of their matches is packed, the runs are empty.)
				if byRule, _, err = p.matches(ctx, query, scope, nil, false); err != nil {
					return nil, err
				}
			}
			for _, c := range p.rules {
				found = append(found, since(thresholdAlerts(c.r.Threshold, slices.Concat(byRule[c.r.ID].chunkList(), liveMatches[c.r.ID]), fired[c.r.ID]), minTime)...)
			}
		}
		counting = true
	}
	if n := len(found) + matchCount(chunks) + matchCount(packs); (mixed || counting) && n > 0 && cursor > 0 {
		// What may be stored already: alerts on events from the new rows' first on (the
		// merged files' older rows, a threshold's count reaching back), read through the
		// alerts table rather than every alert file. (None when no evaluation was stored yet:
		// the cursor is the last stored evaluation's.) When no file mixes new rows with older
		// ones, only a threshold rule's alerts may be found again: only theirs are read.
		seen := make(map[alertKey]bool, n)
		if mixed {
			res, err := query(ctx, "SELECT rule, dedup FROM "+AlertsTable+" WHERE event_time >= ?", minTime)
			if err != nil {
				return nil, fmt.Errorf("read the stored alerts: %w", err)
			}
			for _, row := range res.Rows {
				seen[alertKey{answer.String(row[0]), answer.String(row[1])}] = true
			}
		} else {
			stored, err := d.storedThresholds(ctx, query, cursor)
			if err != nil {
				return nil, err
			}
			for _, a := range stored {
				if a.time >= minTime {
					seen[alertKey{a.rule, a.dedup}] = true
				}
			}
		}
		isNew := func(k alertKey) bool {
			if seen[k] {
				det.Repeated++
				return false
			}
			seen[k] = true
			return true
		}
		// Unless files mix them with older rows, the chunks' alerts are of rows no detection saw.
		if mixed {
			for i, c := range chunks {
				chunks[i] = slices.DeleteFunc(c, func(m match) bool { return !isNew(m.alert.key()) })
			}
			for i, c := range packs {
				packs[i] = slices.DeleteFunc(c, func(p packed) bool { return !isNew(p.key()) })
			}
		}
		found = slices.DeleteFunc(found, func(a *Alert) bool { return !isNew(a.key()) })
	}
	alerts := sorted(chunks, packs, found)
	alerts.setCommit(snap.Seq)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.Store.write(det.From, det.To, alerts); err != nil {
		d.thresholds = nil // what was stored is read again
		return nil, err
	}
	d.keepThresholds(cursor, det.To, alerts)
	det.Alerts = alerts
	return det, nil
}

// timeSpans are spans of event time, as text, each from its first to before its second.
type timeSpans [][2]string

// meet reports whether some span meets the times from lo to hi (both included). The spans are
// in order and apart (matchSpans), so their ends are in order too: the first that ends after lo
// is the only one to look at.
func (ss timeSpans) meet(lo, hi string) bool {
	i, _ := slices.BinarySearchFunc(ss, lo, func(s [2]string, lo string) int {
		if s[1] <= lo {
			return -1
		}
		return 1
	})
	return i < len(ss) && hi >= ss[i][0]
}

// matchSpans are the spans of event time, merged, within the longest window of the rules before
// or after one of their matches.
func matchSpans(rs []*Rule, byRule map[string][][]match) timeSpans {
	var w time.Duration
	var ts []time.Time
	for _, r := range rs {
		w = max(w, r.Threshold.Window)
		for _, c := range byRule[r.ID] {
			for i := range c {
				if t, ok := eventTime(c[i].alert.EventTime); ok {
					ts = append(ts, t)
				}
			}
		}
	}
	slices.SortFunc(ts, time.Time.Compare)
	var spans timeSpans
	for _, t := range ts {
		lo, hi := questions.TimeText(t.Add(-w)), questions.TimeText(t.Add(w+time.Second))
		if n := len(spans); n > 0 && lo <= spans[n-1][1] {
			spans[n-1][1] = hi
		} else {
			spans = append(spans, [2]string{lo, hi})
		}
	}
	return spans
}

// since keeps the alerts on events from t on.
func since(as []*Alert, t string) []*Alert {
	return slices.DeleteFunc(as, func(a *Alert) bool { return a.EventTime < t })
}

// String says what a detection did, for a log line.
func (d *Detection) String() string {
	if d.From > d.To {
		return "no new commit to evaluate"
	}
	live := ""
	if d.Live > 0 {
		live = fmt.Sprintf(" (%d rules evaluated as the rows were written)", d.Live)
	}
	return fmt.Sprintf("commits %d–%d: %d files evaluated, %d alerts%s", d.From, d.To, d.Files, d.Alerts.Len(), live)
}
