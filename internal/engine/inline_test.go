package engine

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// Statements read the table's files directly (so that DuckDB reads only the struct fields they
// use), and answer exactly as over the view.
func TestInlineTable(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events := `{"eventTime":"2024-03-01T10:00:00Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}}
{"eventTime":"2024-03-02T10:00:00Z","eventName":"B","awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventID":"2","userIdentity":{"type":"Root"}}`
	_, err = cloudtrail.ReadEvents(strings.NewReader(events), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	e := openTestEngine(t, root, true)
	view := openTestEngine(t, root, true)
	view.noInline = true
	ctx := context.Background()
	cases := []struct {
		sql    string
		inline int // table references replaced; -1: the statement runs over the view
	}{
		{"SELECT eventid, account, region, year, month, day FROM cloudtrail_logs ORDER BY eventid", 1},
		{"SELECT * FROM cloudtrail_logs ORDER BY eventid", -1},
		{"SELECT t.* FROM cloudtrail_logs t", -1},
		{"SELECT cloudtrail_logs FROM cloudtrail_logs", -1},
		{"SELECT cloudtrail_logs.eventid, day FROM cloudtrail_logs WHERE useridentity.type = 'Root'", 1},
		{`SELECT "CloudTrail_Logs".eventid FROM "CloudTrail_Logs"`, 1},
		{"SELECT t.eventid FROM cloudtrail_logs AS t WHERE t.account = '111122223333' ORDER BY 1", 1},
		{"SELECT t.eventid FROM cloudtrail_logs t /* alias */ ORDER BY 1", 1},
		{"SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail b ON a.eventid = b.eventid", 2},
		{"SELECT eventid FROM cloudtrail_logs WHERE eventid IN (SELECT max(eventid) FROM cloudtrail_logs) UNION ALL SELECT 'x'", 2},
		{"WITH x AS (SELECT eventid FROM cloudtrail_logs) SELECT count(*) FROM x", 1},
		{"SELECT 1", 0},
		{"WITH cloudtrail_logs AS (SELECT 1 AS eventid) SELECT eventid FROM cloudtrail_logs", -1},
		{"SELECT count(*) FROM main.cloudtrail_logs", -1},
		{"DESCRIBE cloudtrail_logs", -1},
		// A star over anything but the table (VALUES, a subquery that names its columns).
		{"WITH inv (kind, arn) AS (VALUES ('user', 'arn:aws:iam::111122223333:user/a')) SELECT i.kind, a.n FROM inv i LEFT JOIN (SELECT useridentity.arn AS arn, count(*) AS n FROM cloudtrail_logs GROUP BY 1) a ON a.arn = i.arn", 1},
		{"SELECT * FROM (SELECT eventid, day FROM cloudtrail_logs) ORDER BY 1", 1},
		{"SELECT * FROM (SELECT * FROM cloudtrail_logs) ORDER BY eventid", -1},
		{"SELECT x.* FROM (VALUES (1)) x, cloudtrail_logs ORDER BY 1", -1},
	}
	for _, c := range cases {
		sqlText := c.sql
		got, ok := "", false
		withSession(t, e, func(s *session) {
			p, err := s.parseRead(ctx, sqlText)
			if err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
			if !p.show {
				got, ok = s.inlineTable(p, s.g.snap.Files)
			}
		})
		n := strings.Count(got, "read_parquet(")
		if !ok {
			n = -1
		}
		if n != c.inline {
			t.Errorf("%s: %d references inlined, want %d:\n%s", c.sql, n, c.inline, got)
		}
		viaInline, err := e.Query(ctx, c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		viaView, err := view.Query(ctx, c.sql)
		if err != nil {
			t.Fatalf("%s over the view: %v", c.sql, err)
		}
		if !reflect.DeepEqual(viaInline.Rows, viaView.Rows) || !reflect.DeepEqual(viaInline.Columns, viaView.Columns) || !reflect.DeepEqual(viaInline.Types, viaView.Types) {
			t.Errorf("%s: %v %v %v, over the view %v %v %v", c.sql, viaInline.Columns, viaInline.Types, viaInline.Rows, viaView.Columns, viaView.Types, viaView.Rows)
		}
	}
	// An error still points at the user's SQL.
	_, err = e.Query(ctx, "SELECT eventid FROM cloudtrail_logs WHERE nosuchcolumn = 1")
	if err == nil || !strings.Contains(err.Error(), "nosuchcolumn") || strings.Contains(err.Error(), "read_parquet") {
		t.Errorf("error: %v", err)
	}
}
