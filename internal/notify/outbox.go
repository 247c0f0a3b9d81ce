package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// The outbox of a destination is one append-only file of JSON lines, <dir>/outbox/<dest>.jsonl.
// Why this and not a file per message: an Enqueue of many alerts is one write and one fsync per
// destination, a crash can only tear the last line (which is cut off on open), and the same file
// is the record of what was sent. It is compacted on open (pending and recent records kept,
// through a temporary file and a rename).
//
// The records, by op:
//   - queued: an item (Msg) waits for the destination, under Route.
//   - attempt: a send (Msg, made of the items Members) is about to be made; after a crash it is
//     made again, the same message with the same ID, before anything new.
//   - delivered / failed: the send ID is done (failed: refused for good, Error says why); Ref is
//     the destination's reference for it when it has one (webhook-id, PagerDuty dedup_key, Jira
//     key, email Message-ID; absent in records written before it was recorded).
//   - retry: a send starting with the attempt ID failed and will be retried; Error says why. Older notifiers did not write it and readers ignore it.
//   - silenced / repeat: the item ID is done without a send (a silence; sent within the route's
//     repeat_interval).
//   - ticket: the Jira ticket Key was opened (or, with ID, opened or commented) for Label, for the
//     message ID.
type record struct {
	Op      string    `json:"op"`
	ID      string    `json:"id,omitempty"`
	At      time.Time `json:"at"`
	Route   string    `json:"route,omitempty"`
	Msg     *Message  `json:"msg,omitempty"`
	Members []string  `json:"members,omitempty"`
	Error   string    `json:"error,omitempty"`
	Label   string    `json:"label,omitempty"`
	Key     string    `json:"key,omitempty"`
	// Keys are the repeat keys of a send's items (see repeatKey), for repeat_interval.
	Keys []string `json:"keys,omitempty"`
	// Ref is the destination's reference for a delivered send (see the ops above).
	Ref string `json:"ref,omitempty"`
}

// item is a queued message.
type item struct {
	msg    Message
	route  string
	queued time.Time
}

// send is an attempt in flight: a message made of items.
type send struct {
	msg     Message
	members []string
	keys    []string
	route   string
}

// outbox is one destination's file and the state it records.
type outbox struct {
	mu   sync.Mutex
	path string
	f    *os.File
	cap  int // items held in memory at most; the rest wait in the file
	// state rebuilt from the file
	pending  []*item              // queued, in order, not yet in an attempt (up to cap)
	inflight []*send              // attempts not yet done
	known    map[string]bool      // every item ID seen (queued), done or not
	lastSent map[string]time.Time // route+rule+dedup -> last delivery
	tickets  map[string]string
	handled  map[string]bool // Jira: the message IDs its tickets were opened or commented for
	spilled  bool            // items are in the file that pending does not hold
	lines    int             // records in the file
	// compactAt is the size at which a running notifier compacts the file: twice what the last
	// compaction kept, so that a large outbox of recent records is not read again and again.
	compactAt int
}

// retention is how long finished records stay in the outbox (the record of what was sent).
const retention = 7 * 24 * time.Hour

// openOutbox opens (creating) the outbox at path, compacting it, with at most capacity items in
// memory.
func openOutbox(path string, capacity int, now time.Time) (*outbox, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open the outbox: %w", err)
	}
	o := &outbox{path: path, cap: capacity}
	recs, err := readRecords(path, true)
	if err != nil {
		return nil, err
	}
	if recs, err = o.rewrite(recs, now); err != nil {
		return nil, err
	}
	o.rebuild(recs)
	o.compactAt = max(compactLines, 2*len(recs))
	if o.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open the outbox: %w", err)
	}
	return o, nil
}

// rewrite compacts recs and, when that leaves some out, replaces the file with the rest
// (a temporary file, fsync, rename). The caller reopens o.f.
func (o *outbox) rewrite(recs []record, now time.Time) ([]record, error) {
	kept := compact(recs, now)
	if len(kept) == len(recs) {
		return recs, nil
	}
	var buf bytes.Buffer
	for _, r := range kept {
		line, _ := json.Marshal(r)
		buf.Write(append(line, '\n'))
	}
	if err := lake.WriteFileAtomic(o.path, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("compact the outbox %s: %w", o.path, err)
	}
	return kept, nil
}

// compactLines is the size of an outbox past which a running notifier compacts it.
const compactLines = 20000

// maybeCompact compacts a large outbox while the notifier runs (on open is not enough for a
// process that runs for months).
func (o *outbox) maybeCompact(now time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lines < o.compactAt || o.f == nil {
		return nil
	}
	recs, err := readRecords(o.path, true)
	if err != nil {
		return err
	}
	kept, err := o.rewrite(recs, now)
	if err != nil {
		return err
	}
	o.lines = len(kept)
	o.compactAt = max(compactLines, 2*len(kept))
	if len(kept) == len(recs) {
		return nil
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("reopen the outbox: %w", err)
	}
	o.f.Close()
	o.f = f
	return nil
}

// readRecords reads an outbox file; a torn last line (a crash in the middle of a write) is
// left out, and cut off the file when repair (only the notifier that owns the file repairs it:
// a reader in another process may see a write in progress), any other bad line is an error
// naming it.
func readRecords(path string, repair bool) ([]record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		if repair {
			if err := os.Truncate(path, int64(i+1)); err != nil {
				return nil, fmt.Errorf("cut the torn last line of %s: %w", path, err)
			}
		}
		data = data[:i+1]
	}
	var recs []record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Op == "" {
			return nil, fmt.Errorf("%s:%d: not an outbox record (move the file away to start with an empty outbox): %v", path, n, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// compact keeps the records that still matter: those of unfinished items and sends, tickets,
// and finished ones younger than retention.
func compact(recs []record, now time.Time) []record {
	if len(recs) < 1000 {
		return recs
	}
	done := map[string]bool{}
	for _, r := range recs {
		switch r.Op {
		case "delivered", "failed":
			done[r.ID] = true
			for _, m := range r.Members {
				done[m] = true
			}
		case "silenced", "repeat":
			done[r.ID] = true
		}
	}
	lastTicket := map[string]int{} // label -> index of its last ticket record
	for i, r := range recs {
		if r.Op == "ticket" {
			lastTicket[r.Label] = i
		}
	}
	var kept []record
	for i, r := range recs {
		if r.Op == "ticket" {
			if lastTicket[r.Label] == i || now.Sub(r.At) < retention {
				kept = append(kept, r)
			}
			continue
		}
		if r.Op == "retry" && now.Sub(r.At) >= retention {
			continue // a destination down for weeks: its old failed attempts go, not its sends
		}
		if !done[r.ID] || now.Sub(r.At) < retention {
			kept = append(kept, r)
		}
	}
	return kept
}

// rebuild sets the state from the records.
func (o *outbox) rebuild(recs []record) {
	o.pending, o.inflight, o.spilled = nil, nil, false
	o.known = map[string]bool{}
	o.lastSent = map[string]time.Time{}
	o.tickets = map[string]string{}
	o.handled = map[string]bool{}
	o.lines = len(recs)
	items := map[string]*item{}
	var order []string
	sends := map[string]*send{}
	var sendOrder []string
	finish := func(id string) { delete(items, id) }
	for _, r := range recs {
		switch r.Op {
		case "queued":
			if r.Msg == nil || o.known[r.ID] {
				continue
			}
			o.known[r.ID] = true
			items[r.ID] = &item{msg: *r.Msg, route: r.Route, queued: r.At}
			order = append(order, r.ID)
		case "attempt":
			if r.Msg == nil {
				continue
			}
			if _, ok := sends[r.ID]; !ok {
				sendOrder = append(sendOrder, r.ID)
			}
			sends[r.ID] = &send{msg: *r.Msg, members: r.Members, keys: r.Keys, route: r.Route}
			for _, m := range r.Members {
				finish(m)
			}
		case "delivered", "failed":
			delete(sends, r.ID)
			for _, m := range r.Members {
				finish(m)
			}
			if r.Op == "delivered" {
				for _, k := range r.Keys {
					o.lastSent[k] = r.At
				}
			}
		case "silenced", "repeat":
			finish(r.ID)
		case "ticket":
			o.tickets[r.Label] = r.Key
			if r.ID != "" {
				o.handled[r.ID] = true
			}
		}
	}
	for _, id := range sendOrder {
		if s, ok := sends[id]; ok {
			o.inflight = append(o.inflight, s)
		}
	}
	for _, id := range order {
		if it, ok := items[id]; ok {
			if len(o.pending) >= o.cap {
				o.spilled = true
				break
			}
			o.pending = append(o.pending, it)
		}
	}
}

// repeatKey identifies an alert's repeats within a route.
func repeatKey(route string, m *Message) string { return route + "\x00" + m.Rule + "\x00" + m.DedupKey }

// append writes records and syncs them to disk.
func (o *outbox) append(recs ...record) error {
	var buf bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode an outbox record: %w", err)
		}
		buf.Write(append(line, '\n'))
	}
	if _, err := o.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write the outbox %s: %w", o.path, err)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("sync the outbox %s: %w", o.path, err)
	}
	o.lines += len(recs)
	return nil
}

// enqueue records items not seen before, and returns how many were new.
func (o *outbox) enqueue(items []*item) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var recs []record
	var fresh []*item
	for _, it := range items {
		if o.known[it.msg.ID] {
			continue
		}
		o.known[it.msg.ID] = true
		m := it.msg
		recs = append(recs, record{Op: "queued", ID: m.ID, At: it.queued, Route: it.route, Msg: &m})
		fresh = append(fresh, it)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if err := o.append(recs...); err != nil {
		for _, it := range fresh {
			delete(o.known, it.msg.ID)
		}
		return 0, err
	}
	for _, it := range fresh {
		if len(o.pending) >= o.cap {
			o.spilled = true
			continue
		}
		o.pending = append(o.pending, it)
	}
	return len(fresh), nil
}

// reload reads the file again to take up items that did not fit in memory.
func (o *outbox) reload() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.spilled || len(o.pending) > 0 {
		return nil
	}
	recs, err := readRecords(o.path, true)
	if err != nil {
		return err
	}
	o.rebuild(recs)
	return nil
}

// Ticket returns the Jira ticket this destination opened for label.
func (o *outbox) Ticket(label string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k, ok := o.tickets[label]
	return k, ok
}

// SetTicket records the Jira ticket opened for label.
func (o *outbox) SetTicket(label, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.append(record{Op: "ticket", At: time.Now().UTC(), Label: label, Key: key}); err != nil {
		return err
	}
	o.tickets[label] = key
	return nil
}

// Handled reports whether the Jira ticket of message id was opened or commented already (a
// re-send after a crash: nothing to do).
func (o *outbox) Handled(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.handled[id]
}

// SetHandled records that the ticket key of label was opened or commented for message id.
func (o *outbox) SetHandled(label, key, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.append(record{Op: "ticket", ID: id, At: time.Now().UTC(), Label: label, Key: key}); err != nil {
		return err
	}
	o.tickets[label] = key
	o.handled[id] = true
	return nil
}

func (o *outbox) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}
