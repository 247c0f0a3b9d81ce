package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/trailsql/trailsql/internal/answer"
)

// EventRef names one stored event: its id and the partition it is in (Day as yyyy-mm-dd), as an
// alert gives them. An empty Account or Region is the partition of unknown ones (NULL).
type EventRef struct {
	EventID, Account, Region, Day string
}

// fetchBatch bounds the events one statement reads, so that a statement stays far below the
// engines' statement size limits.
const fetchBatch = 500

// Fetch reads the rows of events (SELECT *, as Summarize takes them), reading only their
// partitions: one statement per fetchBatch events. Events not found (compacted away, another
// lake) are absent from the map.
func Fetch(ctx context.Context, query answer.QueryFunc, refs []EventRef) (map[EventRef]map[string]any, error) {
	out := map[EventRef]map[string]any{}
	for start := 0; start < len(refs); start += fetchBatch {
		batch := refs[start:min(start+fetchBatch, len(refs))]
		// Group the ids by partition: one condition per partition.
		type part struct{ account, region, day string }
		var order []part
		ids := map[part][]string{}
		wanted := map[EventRef]bool{}
		for _, r := range batch {
			p := part{r.Account, r.Region, r.Day}
			if _, ok := ids[p]; !ok {
				order = append(order, p)
			}
			ids[p] = append(ids[p], r.EventID)
			wanted[r] = true
		}
		var conds []string
		var args []any
		for _, p := range order {
			var c []string
			for _, kv := range [][2]string{{"account", p.account}, {"region", p.region}} {
				if kv[1] == "" {
					c = append(c, kv[0]+" IS NULL")
				} else {
					c = append(c, kv[0]+" = ?")
					args = append(args, kv[1])
				}
			}
			if y, m, d, ok := splitDay(p.day); ok {
				c = append(c, "year = ?", "month = ?", "day = ?")
				args = append(args, y, m, d)
			}
			c = append(c, "eventid IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(ids[p])), ", ")+")")
			for _, id := range ids[p] {
				args = append(args, id)
			}
			conds = append(conds, "("+strings.Join(c, " AND ")+")")
		}
		sql := "SELECT *, concat(year, '-', month, '-', day) AS trailsql_day FROM cloudtrail_logs\nWHERE " + strings.Join(conds, "\n   OR ")
		res, err := query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("read the alerts' events: %w", err)
		}
		for _, row := range res.Rows {
			m := RowMap(res.Columns, row)
			ref := EventRef{answer.String(m["eventid"]), answer.String(m["account"]), answer.String(m["region"]), answer.String(m["trailsql_day"])}
			delete(m, "trailsql_day")
			if wanted[ref] && out[ref] == nil {
				out[ref] = m
			}
		}
	}
	return out, nil
}

// splitDay splits yyyy-mm-dd.
func splitDay(day string) (y, m, d string, ok bool) {
	parts := strings.Split(day, "-")
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) != 2 || len(parts[2]) != 2 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
