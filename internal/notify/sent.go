package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	stdmaps "maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// This file reads the outboxes for 'trailsql notify status' and 'trailsql notify sent': what
// each destination holds, delivered and failed, from the files alone. It reads without a lock and
// writes nothing, so it works while 'trailsql run' sends: a last line being written is left out,
// and a compaction replaces the file by a rename (a read sees the old file or the new one).

// referencer is a destination that names a delivered message in its own terms (a webhook-id, a
// PagerDuty dedup_key, a Jira key, an email Message-ID); the outbox records it with the delivery.
type referencer interface {
	Reference(m *Message) string
}

// Reference is the webhook-id receivers dedup on.
func (w *Webhook) Reference(m *Message) string { return "webhook-id " + m.ID }

// Reference is the dedup_key of the incident.
func (p *PagerDuty) Reference(m *Message) string {
	return "dedup_key " + pdEventOf("", m).DedupKey
}

// Reference is the Message-ID header.
func (e *Email) Reference(m *Message) string { return "Message-ID <" + m.ID + "@trailsql>" }

// Reference is the key of the ticket opened or commented for m (empty when not recorded).
func (j *Jira) Reference(m *Message) string {
	if j.Tickets == nil {
		return ""
	}
	if k, ok := j.Tickets.Ticket(JiraLabel(m)); ok {
		return k
	}
	return ""
}

// Kind is the type of a destination as the config names it (slack, teams, webhook, pagerduty,
// jira, email), or its Go type for another one.
func Kind(d Destination) string {
	switch d.(type) {
	case *Slack:
		return "slack"
	case *Teams:
		return "teams"
	case *Webhook:
		return "webhook"
	case *PagerDuty:
		return "pagerduty"
	case *Jira:
		return "jira"
	case *Email:
		return "email"
	}
	return fmt.Sprintf("%T", d)
}

// IsIdempotent reports whether d takes a re-sent message without showing it twice (see
// Idempotent).
func IsIdempotent(d Destination) bool { return isIdempotent(d) }

// DestStatus is the state of one destination's outbox.
type DestStatus struct {
	Destination string `json:"destination"`
	// Kind and Idempotent come from the config (empty and nil without one).
	Kind       string `json:"kind,omitempty"`
	Idempotent *bool  `json:"idempotent,omitempty"`
	// Pending is the alerts (and reports) queued or in flight, not yet delivered.
	Pending int `json:"pending"`
	// OldestPending is when the oldest of them was queued.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	// Delivered, Failed (refused for good), Silenced and Repeats count messages over the
	// records the outbox keeps (Since on; finished records are kept seven days).
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Silenced  int `json:"silenced"`
	Repeats   int `json:"repeats"`
	// FailedAttempts is the sends that failed and were retried.
	FailedAttempts int       `json:"failed_attempts"`
	LastError      string    `json:"last_error,omitempty"`
	LastErrorAt    time.Time `json:"last_error_at,omitzero"`
	LastDelivered  time.Time `json:"last_delivered,omitzero"`
	Since          time.Time `json:"since,omitzero"`
	// NoOutbox says that the config names the destination but it has no outbox yet.
	NoOutbox bool `json:"no_outbox,omitempty"`
}

// SentEntry is one message in the record of what was sent.
type SentEntry struct {
	// At is when it was delivered (refused, silenced, held back as a repeat); for a pending
	// one, when it was queued.
	At          time.Time `json:"at"`
	Destination string    `json:"destination"`
	// Status is delivered, failed, silenced, repeat or pending.
	Status string `json:"status"`
	// Rules are the rules of its alerts (a grouped message may carry several); a report is
	// "report:<name>".
	Rules []string `json:"rules,omitempty"`
	// ID is the message's ID (the alert's, or the group's); Alerts how many alerts it carried.
	ID       string   `json:"id"`
	Alerts   int      `json:"alerts"`
	EventIDs []string `json:"event_ids,omitempty"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	// Ref is the destination's reference (Jira key, PagerDuty dedup_key, webhook-id, email
	// Message-ID) when the outbox recorded it.
	Ref string `json:"ref,omitempty"`
	// Error is why it failed, or for a pending one the destination's last error since it was
	// queued.
	Error string `json:"error,omitempty"`
}

// SentFilter selects entries: the finished ones in [From, To) (zero: no bound), of Destination
// and with Rule among their rules when set. Pending entries are listed whatever the time.
type SentFilter struct {
	From, To    time.Time
	Destination string
	Rule        string
}

// OutboxError is a line of an outbox that could not be read.
type OutboxError struct {
	Path string
	Line int
	Err  error
}

func (e *OutboxError) Error() string {
	return fmt.Sprintf("%s:%d: not an outbox record (left out): %v", e.Path, e.Line, e.Err)
}

// readLenient reads an outbox file like readRecords without repair, but a bad line is left out
// and returned as an *OutboxError, with the rest read.
func readLenient(path string) ([]record, []error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("read the outbox: %w", err)}
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1] // being written (or torn by a crash, which the notifier cuts off)
	}
	recs := make([]record, 0, bytes.Count(data, []byte{'\n'}))
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		err := json.Unmarshal(sc.Bytes(), &r)
		if err == nil && r.Op == "" {
			err = errors.New(`no "op"`)
		}
		if err != nil {
			errs = append(errs, &OutboxError{Path: path, Line: n, Err: err})
			continue
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read the outbox %s: %w", path, err))
	}
	return recs, errs
}

// outboxFiles returns the outboxes in dir (<lake>/notify) by destination name.
func outboxFiles(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, OutboxDir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		out[strings.TrimSuffix(filepath.Base(f), ".jsonl")] = f
	}
	return out, nil
}

// history is what one outbox's records say.
type history struct {
	status  DestStatus
	entries []SentEntry
}

// replay reads the records of destination dest.
func replay(dest string, recs []record) history {
	h := history{status: DestStatus{Destination: dest}}
	st := &h.status
	items := map[string]*Message{}
	queuedAt := map[string]time.Time{}
	var order []string
	finished := map[string]bool{}
	type attempt struct {
		msg     *Message
		members []string
	}
	sends := map[string]*attempt{}
	var sendOrder []string
	tickets := map[string]string{} // message ID -> Jira key
	type failure struct {
		at  time.Time
		err string
	}
	var retries []failure
	for _, r := range recs {
		if st.Since.IsZero() || r.At.Before(st.Since) {
			st.Since = r.At
		}
		switch r.Op {
		case "queued":
			if r.Msg == nil || items[r.ID] != nil {
				continue
			}
			items[r.ID], queuedAt[r.ID] = r.Msg, r.At
			order = append(order, r.ID)
		case "attempt":
			if r.Msg == nil {
				continue
			}
			if sends[r.ID] == nil {
				sendOrder = append(sendOrder, r.ID)
			}
			sends[r.ID] = &attempt{msg: r.Msg, members: r.Members}
		case "retry":
			st.FailedAttempts++
			retries = append(retries, failure{r.At, r.Error})
			if !r.At.Before(st.LastErrorAt) {
				st.LastError, st.LastErrorAt = r.Error, r.At
			}
		case "ticket":
			if r.ID != "" {
				tickets[r.ID] = r.Key
			}
		case "delivered", "failed", "silenced", "repeat":
			e := SentEntry{At: r.At, Destination: dest, Status: r.Op, ID: r.ID, Ref: r.Ref, Error: r.Error}
			msg, members := r.Msg, r.Members
			if a := sends[r.ID]; a != nil && (r.Op == "delivered" || r.Op == "failed") {
				msg = a.msg
				if len(members) == 0 {
					members = a.members
				}
				delete(sends, r.ID)
			} else if m := items[r.ID]; m != nil {
				msg = m
			}
			if len(members) == 0 {
				members = []string{r.ID}
			}
			if e.Ref == "" {
				e.Ref = tickets[r.ID]
			}
			fill(&e, msg, members, items)
			for _, id := range members {
				finished[id] = true
			}
			finished[r.ID] = true
			switch r.Op {
			case "delivered":
				st.Delivered++
				if r.At.After(st.LastDelivered) {
					st.LastDelivered = r.At
				}
			case "failed":
				st.Failed++
				if !r.At.Before(st.LastErrorAt) {
					st.LastError, st.LastErrorAt = r.Error, r.At
				}
			case "silenced":
				st.Silenced++
			case "repeat":
				st.Repeats++
			}
			h.entries = append(h.entries, e)
		}
	}
	lastErrorSince := func(t time.Time) string {
		for i := len(retries) - 1; i >= 0; i-- {
			if !retries[i].at.Before(t) {
				return retries[i].err
			}
		}
		return ""
	}
	inSend := map[string]bool{}
	for _, id := range sendOrder {
		a := sends[id]
		if a == nil {
			continue
		}
		members := a.members
		if len(members) == 0 {
			members = []string{id}
		}
		e := SentEntry{Destination: dest, Status: "pending", ID: id}
		for _, m := range members {
			inSend[m] = true
			if t, ok := queuedAt[m]; ok && (e.At.IsZero() || t.Before(e.At)) {
				e.At = t
			}
		}
		fill(&e, a.msg, members, items)
		e.Error = lastErrorSince(e.At)
		h.entries = append(h.entries, e)
		st.Pending += len(members)
	}
	for _, id := range order {
		if finished[id] || inSend[id] {
			continue
		}
		e := SentEntry{At: queuedAt[id], Destination: dest, Status: "pending", ID: id}
		fill(&e, items[id], []string{id}, items)
		e.Error = lastErrorSince(e.At)
		h.entries = append(h.entries, e)
		st.Pending++
	}
	for _, e := range h.entries {
		if e.Status == "pending" && (st.OldestPending.IsZero() || e.At.Before(st.OldestPending)) {
			st.OldestPending = e.At
		}
	}
	return h
}

// fill sets an entry's title, summary, rules and event IDs from its message and the items it
// carried.
func fill(e *SentEntry, msg *Message, members []string, items map[string]*Message) {
	e.Alerts = len(members)
	if msg != nil {
		e.Title, e.Summary = msg.Title, msg.Summary
	}
	addRule := func(m *Message) {
		r := m.Rule
		if m.Report != nil {
			r = "report:" + m.Report.Name
		}
		if r != "" && !slices.Contains(e.Rules, r) {
			e.Rules = append(e.Rules, r)
		}
	}
	for _, id := range members {
		m := items[id]
		if m == nil {
			continue
		}
		addRule(m)
		for _, ev := range m.EventIDs {
			if !slices.Contains(e.EventIDs, ev) {
				e.EventIDs = append(e.EventIDs, ev)
			}
		}
		if e.Summary == "" && len(members) == 1 {
			e.Summary = m.Summary
		}
		if e.Title == "" {
			e.Title = m.Title
		}
	}
	if msg != nil {
		if len(e.Rules) == 0 {
			addRule(msg)
		}
		if len(e.EventIDs) == 0 {
			e.EventIDs = msg.EventIDs
		}
	}
}

// Status returns the state of each destination's outbox in dir (<lake>/notify), by name; with
// dests (the config's destinations), each of them is listed, with its kind and whether it is
// idempotent, and an outbox no longer in the config too. The errors name the outbox lines that
// could not be read (the rest is counted).
func Status(dir string, dests map[string]Destination) ([]DestStatus, []error) {
	files, err := outboxFiles(dir)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	var out []DestStatus
	names := map[string]bool{}
	for n := range files {
		names[n] = true
	}
	for n := range dests {
		names[n] = true
	}
	for _, name := range slices.Sorted(stdmaps.Keys(names)) {
		var st DestStatus
		if f, ok := files[name]; ok {
			recs, rerrs := readLenient(f)
			errs = append(errs, rerrs...)
			st = replay(name, recs).status
		} else {
			st = DestStatus{Destination: name, NoOutbox: true}
		}
		if d := dests[name]; d != nil {
			idem := isIdempotent(d)
			st.Kind, st.Idempotent = Kind(d), &idem
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, errs
}

// SentLog returns the record of what the notifier of dir (<lake>/notify) sent, refused,
// silenced and still holds, selected by f, oldest first; the errors name the outbox lines that
// could not be read (the rest is listed).
func SentLog(dir string, f SentFilter) ([]SentEntry, []error) {
	files, err := outboxFiles(dir)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	var out []SentEntry
	for _, name := range slices.Sorted(stdmaps.Keys(files)) {
		path := files[name]
		if f.Destination != "" && name != f.Destination {
			continue
		}
		recs, rerrs := readLenient(path)
		errs = append(errs, rerrs...)
		for _, e := range replay(name, recs).entries {
			if f.Rule != "" && !slices.Contains(e.Rules, f.Rule) {
				continue
			}
			if e.Status != "pending" && (!f.From.IsZero() && e.At.Before(f.From) || !f.To.IsZero() && !e.At.Before(f.To)) {
				continue
			}
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Destination < out[j].Destination
	})
	return out, errs
}
