package notify

import (
	"context"
	"fmt"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

// Readable is FromAlerts with the words people read: each message's Summary is its event's
// plain-language sentence (report.Summarize of the event read back from the lake with
// report.Fetch) and its Fields the report's fields (who, action, account, source IP, when, how,
// outcome, event id). An alert whose event cannot be read (compacted away, another lake, a
// query that failed) keeps its title as the summary and FromAlert's fields. The messages are
// always returned, one per alert; the error says why events could not be read.
func Readable(ctx context.Context, query answer.QueryFunc, alerts []rules.Alert, rs []*rules.Rule, opt report.Options) ([]Message, error) {
	msgs := FromAlerts(alerts, rs)
	refs := make([]report.EventRef, len(alerts))
	for i, a := range alerts {
		refs[i] = report.EventRef{EventID: a.EventID, Account: a.Account, Region: a.Region, Day: a.Day}
	}
	rows, err := report.Fetch(ctx, query, refs)
	for i, a := range alerts {
		m := &msgs[i]
		row, ok := rows[refs[i]]
		if !ok {
			m.Summary = m.Title
			if a.EventID != "" {
				m.Summary += fmt.Sprintf(" (event %s of %s could not be read from the lake)", a.EventID, orUnknown(a.EventTime))
			}
			continue
		}
		sum := report.Summarize(row, opt)
		m.Summary = sum.Sentence
		m.Fields = m.Fields[:0]
		for _, f := range sum.Fields() {
			m.Fields = append(m.Fields, Field{Name: f.Name, Value: f.Value})
		}
		if a.Count > 1 {
			m.Summary += fmt.Sprintf(" %d events in all since %s.", a.Count, a.FirstTime)
			m.Fields = append(m.Fields, Field{Name: "Events", Value: fmt.Sprint(a.Count)})
		}
	}
	return msgs, err
}
