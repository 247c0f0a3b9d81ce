package engine

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// "The latest events" (of some partitions) reads only the files that can hold them, and answers
// as the whole table does; any other statement (a filter on other columns, an aggregate, a
// window, a subquery, an output column named eventtime) reads every file its partitions allow.
func TestTopFiles(t *testing.T) {
	var lines []string
	for day := 1; day <= 6; day++ {
		for r, region := range []string{"us-east-1", "eu-west-1"} {
			for h := 0; h < 24; h += 4 {
				lines = append(lines, fmt.Sprintf(`{"eventTime":"2024-03-%02dT%02d:%02d:00Z","eventName":"E%d","awsRegion":"%s","recipientAccountId":"111122223333","eventID":"%d-%s-%02d"}`,
					day, h, 30*r, h, region, day, region, h))
			}
		}
	}
	// Every time is another (no ties, so that one answer is right). An event without a valid time
	// goes to the partition without a day, whose file is always read ("garbage" sorts after every
	// time).
	lines = append(lines, `{"eventTime":"garbage","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"bad"}`)
	root := writeLake(t, strings.Join(lines, "\n"))
	e := openTestEngine(t, root, true)
	total := len(e.Snapshot().Files)
	cases := []struct {
		sql   string
		files int // read; 0: all
	}{
		{"SELECT eventid, eventtime FROM cloudtrail_logs ORDER BY eventtime DESC, eventid LIMIT 3", 3},
		{"SELECT * FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 2 OFFSET 7", 3},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventtime LIMIT 8", 3},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventtime ASC, eventid DESC LIMIT 13", 5},
		{"SELECT t.eventid, upper(t.eventname) || '!' AS n FROM cloudtrail t ORDER BY t.eventtime DESC LIMIT 1", 3},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventtime DESC NULLS FIRST LIMIT 4", 3},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 100", 0},
		{"SELECT eventid FROM cloudtrail_logs WHERE region = 'us-east-1' ORDER BY eventtime DESC LIMIT 3", 2},
		{"SELECT eventid FROM cloudtrail_logs c WHERE c.account = '111122223333' AND region IN ('eu-west-1') ORDER BY eventtime LIMIT 7", 2},
		{"SELECT eventid FROM cloudtrail_logs WHERE '6' > day ORDER BY eventtime DESC LIMIT 3", 0},
		{"SELECT eventid FROM cloudtrail_logs WHERE eventname <> 'E20' ORDER BY eventtime DESC LIMIT 3", 0},
		{"SELECT eventid, count(*) OVER () AS n FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 2", 0},
		{"SELECT eventid, (SELECT count(*) FROM cloudtrail_logs) AS n FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 2", 0},
		{"SELECT eventid, eventname AS eventtime FROM cloudtrail_logs ORDER BY eventtime DESC, eventid LIMIT 2", 0},
		{"SELECT DISTINCT eventtime FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 3", 0},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventname DESC, eventtime, eventid LIMIT 3", 0},
		{"WITH x AS (SELECT 1) SELECT eventid FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 3", 0},
		{"SELECT eventid FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT ?", 0},
	}
	for _, c := range cases {
		var args []any
		if strings.HasSuffix(c.sql, "?") {
			args = []any{3}
		}
		got, want := againstAll(t, e, c.sql, args...)
		if !reflect.DeepEqual(got.Rows, want.Rows) || len(got.Rows) == 0 {
			t.Errorf("%s: %v, the whole table gives %v", c.sql, got.Rows, want.Rows)
		}
		if files := cmp.Or(c.files, total); got.Stats.FilesRead != files || !strings.Contains(c.sql, "WHERE") && want.Stats.FilesRead != total {
			t.Errorf("%s: read %d files, want %d (of %d)", c.sql, got.Stats.FilesRead, files, total)
		}
	}
	// --original: the same rows, as records.
	records := e.With(QueryOptions{Records: true})
	sql0 := "SELECT * FROM cloudtrail_logs ORDER BY eventtime DESC, eventid LIMIT 3"
	recs, all := againstAll(t, records, sql0)
	if !reflect.DeepEqual(recs.Rows, all.Rows) || len(recs.Rows) != 3 || recs.Stats.FilesRead != 3 || all.Stats.FilesRead != total {
		t.Errorf("%s as records: %v (%d files), the whole table gives %v (%d files)", sql0, recs.Rows, recs.Stats.FilesRead, all.Rows, all.Stats.FilesRead)
	}

	// Without the partitions' pruning, only the rows of the partitions the WHERE holds for count.
	unpruned := openTestEngine(t, root, false)
	sql := "SELECT eventid FROM cloudtrail_logs WHERE region = 'us-east-1' ORDER BY eventtime DESC LIMIT 7"
	got, want := againstAll(t, unpruned, sql)
	if !reflect.DeepEqual(got.Rows, want.Rows) || len(got.Rows) != 7 || got.Stats.FilesRead != 5 || want.Stats.FilesRead != total {
		t.Errorf("%s without partition pruning: %v (%d files), the whole table gives %v (%d files)", sql, got.Rows, got.Stats.FilesRead, want.Rows, want.Stats.FilesRead)
	}
}

// againstAll runs a statement, and the same statement with a WHERE clause (or a term of it) that
// makes it read every file its partitions allow.
func againstAll(t *testing.T, e *Engine, sql string, args ...any) (got, all *Result) {
	t.Helper()
	got, err := e.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	every := strings.Replace(sql, " ORDER BY", " WHERE true ORDER BY", 1)
	if strings.Contains(sql, "WHERE") {
		every = strings.Replace(sql, " ORDER BY", " AND true ORDER BY", 1)
	}
	if all, err = e.Query(context.Background(), every, args...); err != nil {
		t.Fatalf("%s: %v", every, err)
	}
	return got, all
}
