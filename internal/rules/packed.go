package rules

import "math"

// A backtest of a busy trail gives millions of alerts, and an Alert is 256 bytes: most of them
// strings its rule and event share with others (the rule, its severity, the event's source and
// name, its partition). So the rules evaluated in Go (a backtest over a local lake, and Live as an
// ingest writes) hold each of their alerts (but those of threshold rules) packed in 80 bytes, its
// own strings in a block of its worker's: the alert is made only when it is asked for
// (Alerts.At), into memory the caller reuses, or when a detection stores it. On the 1M-event
// benchmark, 848k alerts took 237 MB as matches, 68 MB packed. The packer packs the alert from
// the row's columns, its title and key: the match is never made.

// packed is an alert of a rule without a threshold, as the backtest holds it.
type packed struct {
	ev *packedEvent // what the alert shares with the others of its rule on alike events
	// text is the dedup key (its first dedupLen bytes), then the event id and time (idLen and
	// timeLen bytes) unless the key holds them, as the default one does: then they are its
	// first bytes, joined by "|" (dedupHolds), and text is only the key.
	text                string
	title               string
	principal, sourceIP string
	dedupLen            uint32
	idLen, timeLen      uint16
}

// packedEvent is what the alerts of one rule on events of one source, name and partition share.
type packedEvent struct {
	rule                 string
	severity             Severity
	source, name         string
	account, region, day string
}

// alert makes the alert p holds in a.
func (p *packed) alert(a *Alert) {
	e := p.ev
	id, t := p.eventID(), p.eventTime()
	*a = Alert{Rule: e.rule, Severity: e.severity, Title: p.title, EventID: id, EventTime: t,
		EventSource: e.source, EventName: e.name, Principal: p.principal, SourceIP: p.sourceIP,
		Account: e.account, Region: e.region, Day: e.day, Dedup: p.text[:p.dedupLen], Count: 1, FirstTime: t}
}

// key is the alert's (Alert.key).
func (p *packed) key() alertKey { return alertKey{p.ev.rule, p.text[:p.dedupLen]} }

// idAt is where the event id starts in text.
func (p *packed) idAt() int {
	if len(p.text) == int(p.dedupLen) {
		return 0 // in the key
	}
	return int(p.dedupLen)
}

func (p *packed) eventID() string { at := p.idAt(); return p.text[at : at+int(p.idLen)] }

func (p *packed) eventTime() string {
	at := p.idAt() + int(p.idLen)
	if len(p.text) == int(p.dedupLen) {
		at++ // past the "|"
	}
	return p.text[at : at+int(p.timeLen)]
}

// packer packs the matches of one worker's evaluator: its keeper copies the strings an alert
// holds out of the records' memory (into the keeper's block, which holds the alerts' own
// strings), and shares those of its packedEvent.
type packer struct {
	k      *keeper
	events map[packedEvent]*packedEvent
	last   []*packedEvent // by rule index: the one of its last alert
	// row counts the rows evaluated; rowKey is the default dedup key of row keyRow, made for
	// one rule and shared with the others that match the row.
	row, keyRow uint64
	rowKey      string
}

// maxPackedEvents bounds the packedEvents a packer shares (and the strings of theirs its keeper
// does): past it, it starts sharing anew.
const maxPackedEvents = 1 << 14

func newPacker(k *keeper, rules int) *packer {
	return &packer{k: k, events: map[packedEvent]*packedEvent{}, last: make([]*packedEvent, rules),
		keyRow: math.MaxUint64} // no key made yet
}

// packs says whether a rule's matches are packed: not those of a threshold rule, which counts
// them in groups.
func packs(c *compiled) bool { return c.r.Threshold == nil }

// pack adds to ms the packed alert of a (the match of rule i, the rule's c, filled by fillMatch
// with its dedup key left out when it is the default one: defaultDedup). It returns false, and
// packs nothing, for an alert whose event id or time is too long to be packed.
func (pk *packer) pack(ms *matches, i int, c *compiled, a *Alert, defaultDedup bool) bool {
	if len(a.EventID) > math.MaxUint16 || len(a.EventTime) > math.MaxUint16 || len(a.Dedup) > math.MaxUint32/2 {
		return false
	}
	e := pk.last[i]
	if e == nil || e.source != a.EventSource || e.name != a.EventName || e.account != a.Account || e.region != a.Region || e.day != a.Day {
		key := packedEvent{rule: c.r.ID, severity: c.r.Severity, source: a.EventSource, name: a.EventName, account: a.Account, region: a.Region, day: a.Day}
		if e = pk.events[key]; e == nil {
			if len(pk.events) >= maxPackedEvents {
				// A Live's packer lives as long as its ingest, which may watch a trail for months.
				pk.events, pk.k.d.shared = map[packedEvent]*packedEvent{}, map[string]string{}
			}
			d := &pk.k.d
			e = &packedEvent{rule: c.r.ID, severity: c.r.Severity, source: d.share(a.EventSource), name: d.share(a.EventName),
				account: d.share(a.Account), region: d.share(a.Region), day: d.share(a.Day)}
			pk.events[*e] = e
		}
		pk.last[i] = e
	}
	p := ms.nextPacked()
	p.ev = e
	p.idLen, p.timeLen = uint16(len(a.EventID)), uint16(len(a.EventTime))
	switch {
	case defaultDedup:
		// The key, id|time|source, made where it is kept, once per row.
		if pk.keyRow != pk.row {
			pk.rowKey, pk.keyRow = pk.k.d.concat("|", a.EventID, a.EventTime, e.source), pk.row
		}
		p.text, p.dedupLen = pk.rowKey, uint32(len(pk.rowKey))
	case dedupHolds(a):
		p.text, p.dedupLen = pk.k.own(a.Dedup), uint32(len(a.Dedup))
	default:
		p.text, p.dedupLen = pk.k.d.concat("", a.Dedup, a.EventID, a.EventTime), uint32(len(a.Dedup))
	}
	// The title is the rule's or made for the alert (titleAndDedup), never the row's memory.
	p.title, p.principal, p.sourceIP = a.Title, pk.k.own(a.Principal), pk.k.own(a.SourceIP)
	return true
}

// nextPacked adds a packed alert, to be filled in place, and returns it.
func (ms *matches) nextPacked() *packed {
	ms.n++
	return nextIn(&ms.packed, 4096)
}
