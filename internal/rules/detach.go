package rules

import (
	"strings"
	"unsafe"

	"github.com/trailsql/trailsql/internal/lake"
)

// detacher copies the strings of alerts out of the memory of the records they were found on. A
// record's strings are carved out of chunks shared with the records decoded before and after it
// (cloudtrail.Normalizer): an alert kept until the ingest's end would keep its chunk, and an ingest
// whose rules fire on most events would keep every event it read. The alerts' own strings go into
// one block; the few distinct sources, names, accounts, regions and days are shared.
type detacher struct {
	block  []byte
	shared map[string]string
}

// detach makes the alerts of the chunks of matches (and their groups) hold no record's memory.
func detach(chunks [][]match) {
	n := 0
	for _, ms := range chunks {
		for i := range ms {
			a := &ms[i].alert
			n += len(a.Title) + len(a.Principal) + len(a.SourceIP) + len(a.Dedup) + len(ms[i].group)
			if !dedupHolds(a) {
				n += len(a.EventID) + len(a.EventTime)
			}
			if a.FirstTime != a.EventTime {
				n += len(a.FirstTime)
			}
		}
	}
	d := detacher{block: make([]byte, 0, n), shared: map[string]string{}}
	for _, ms := range chunks {
		for i := range ms {
			a := &ms[i].alert
			first := a.FirstTime == a.EventTime
			if dedupHolds(a) {
				a.Dedup = d.own(a.Dedup)
				intoDedup(a)
			} else {
				a.EventID, a.EventTime, a.Dedup = d.own(a.EventID), d.own(a.EventTime), d.own(a.Dedup)
			}
			a.Title, a.Principal, a.SourceIP = d.own(a.Title), d.own(a.Principal), d.own(a.SourceIP)
			if first {
				a.FirstTime = a.EventTime
			} else {
				a.FirstTime = d.own(a.FirstTime)
			}
			ms[i].group = d.own(ms[i].group)
			a.EventSource, a.EventName = d.share(a.EventSource), d.share(a.EventName)
			a.Account, a.Region, a.Day = d.share(a.Account), d.share(a.Region), d.share(a.Day)
		}
	}
}

// dedupHolds reports whether the alert's dedup key is the default one, its event's id, time and
// source joined by "|" (a rule without dedup keys): it holds the event's id and time.
func dedupHolds(a *Alert) bool {
	id, t, d := a.EventID, a.EventTime, a.Dedup
	return len(d) >= len(id)+len(t)+2 && d[:len(id)] == id && d[len(id)] == '|' &&
		d[len(id)+1:len(id)+1+len(t)] == t && d[len(id)+1+len(t)] == '|'
}

// intoDedup makes the event id and time of an alert whose dedup key holds them (dedupHolds)
// that key's substrings, not strings of their own.
func intoDedup(a *Alert) {
	first := a.FirstTime == a.EventTime
	a.EventID, a.EventTime = a.Dedup[:len(a.EventID)], a.Dedup[len(a.EventID)+1:len(a.EventID)+1+len(a.EventTime)]
	if first {
		a.FirstTime = a.EventTime
	}
}

// own copies s into the block (a new one when it has no room left).
func (d *detacher) own(s string) string {
	if s == "" {
		return ""
	}
	if len(d.block)+len(s) > cap(d.block) {
		d.block = make([]byte, 0, max(64<<10, len(s)))
	}
	off := len(d.block)
	d.block = append(d.block, s...)
	return unsafe.String(&d.block[off], len(s))
}

// concat copies parts, joined by sep, into the block as one string.
func (d *detacher) concat(sep string, parts ...string) string {
	n := len(sep) * (len(parts) - 1)
	for _, s := range parts {
		n += len(s)
	}
	if n == 0 {
		return ""
	}
	if len(d.block)+n > cap(d.block) {
		d.block = make([]byte, 0, max(64<<10, n))
	}
	off := len(d.block)
	for i, s := range parts {
		if i > 0 {
			d.block = append(d.block, sep...)
		}
		d.block = append(d.block, s...)
	}
	return unsafe.String(&d.block[off], n)
}

// share returns the one copy of s.
func (d *detacher) share(s string) string {
	if c, ok := d.shared[s]; ok {
		return c
	}
	c := strings.Clone(s)
	d.shared[c] = c
	return c
}

// keeper copies the strings of an evaluator's matches out of a transient lake.Reader's memory,
// before the Reader reuses it: only those in it (most of an alert's strings are its own, or a
// dictionary's, which the Reader does not reuse). A keeper of rows an ingest writes (all) copies
// every string of theirs: a record's memory is shared with its neighbours' (see detacher).
type keeper struct {
	rd    *lake.Reader
	all   bool
	marks []int // by rule: its matches kept already
	d     detacher
}

// newKeeper returns the keeper of an evaluator of rules whose records rd reads (nil: a Reader
// that reuses no memory).
func newKeeper(rd *lake.Reader, rules int) *keeper {
	return &keeper{rd: rd, marks: make([]int, rules), d: detacher{shared: map[string]string{}}}
}

// own is s, copied into the keeper's block when it is in the Reader's memory (any row's, for a
// keeper of all).
func (k *keeper) own(s string) string {
	if k.all && s != "" || k.rd != nil && k.rd.Transient(s) {
		return k.d.own(s)
	}
	return s
}

// keep makes the matches ev found since the last call hold none of the Reader's memory.
func (k *keeper) keep(ev *evaluator) {
	for i := range ev.found {
		ms := &ev.found[i]
		if ms.full == k.marks[i] {
			continue
		}
		eachLast(ms.chunks, ms.full-k.marks[i], k.match) // the new matches
		k.marks[i] = ms.full
	}
}

func (k *keeper) match(m *match) {
	a := &m.alert
	if !k.rd.Transient(a.Dedup) && dedupHolds(a) {
		intoDedup(a) // no copies of the id and time: the key is the alert's own
	}
	first := a.FirstTime == a.EventTime
	for _, s := range [...]*string{&a.Title, &a.EventID, &a.EventTime, &a.EventSource, &a.EventName, &a.Principal, &a.SourceIP, &a.Dedup, &m.group} {
		*s = k.own(*s)
	}
	if first {
		a.FirstTime = a.EventTime
	} else {
		a.FirstTime = k.own(a.FirstTime)
	}
}
