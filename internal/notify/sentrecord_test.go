package notify

// The tests' own reader of the outboxes (SentRecord, Sent), independent of SentLog, which
// `trailsql notify sent` uses: the tests check what was delivered through it.

import (
	"path/filepath"
	"time"
)

// SentRecord is one line of the record of what was sent: a send delivered or refused, an alert
// silenced or held back as a repeat, or still waiting.
type SentRecord struct {
	Destination string    `json:"destination"`
	Status      string    `json:"status"` // delivered, failed, silenced, repeat, pending
	At          time.Time `json:"at"`
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Rule        string    `json:"rule,omitempty"`
	Alerts      int       `json:"alerts"` // how many alerts the message carried
	Error       string    `json:"error,omitempty"`
}

// Sent returns the record of what the notifier whose folder is dir (<lake>/notify) sent, refused,
// silenced and still holds, oldest first per destination (the last seven days are kept).
func Sent(dir string) ([]SentRecord, error) {
	files, err := filepath.Glob(filepath.Join(dir, OutboxDir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []SentRecord
	for _, f := range files {
		dest := filepath.Base(f[:len(f)-len(".jsonl")])
		recs, err := readRecords(f, false)
		if err != nil {
			return nil, err
		}
		msgs := map[string]*Message{}
		open := map[string]int{}
		for _, r := range recs {
			switch r.Op {
			case "queued", "attempt":
				msgs[r.ID] = r.Msg
				if r.Op == "queued" {
					open[r.ID] = len(out)
					out = append(out, SentRecord{Destination: dest, Status: "pending", At: r.At, ID: r.ID, Title: titleOf(r.Msg), Rule: ruleOf(r.Msg), Alerts: 1})
				}
			case "delivered", "failed", "silenced", "repeat":
				m := msgs[r.ID]
				if r.Msg != nil {
					m = r.Msg
				}
				n := max(len(r.Members), 1)
				out = append(out, SentRecord{Destination: dest, Status: r.Op, At: r.At, ID: r.ID, Title: titleOf(m), Rule: ruleOf(m), Alerts: n, Error: r.Error})
				for _, id := range append([]string{r.ID}, r.Members...) {
					if i, ok := open[id]; ok {
						out[i].Status = ""
						delete(open, id)
					}
				}
			}
		}
	}
	kept := out[:0]
	for _, r := range out {
		if r.Status != "" {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

func titleOf(m *Message) string {
	if m == nil {
		return ""
	}
	return m.Title
}

func ruleOf(m *Message) string {
	if m == nil {
		return ""
	}
	return m.Rule
}
