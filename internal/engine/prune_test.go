package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

func openTestEngine(t testing.TB, root string, prune bool) *Engine {
	t.Helper()
	return openWith(t, testOptions(root, prune))
}

// testOptions are the options of openTestEngine: Athena's dialect without its table
// definitions, pruning if prune, and the alias cloudtrail.
func testOptions(root string, prune bool) Options {
	d := athena.Dialect()
	d.ParseDDL = nil
	if !prune {
		d.Bounds = nil
	}
	return Options{Lake: root, Dialect: d, Aliases: []string{"cloudtrail"}}
}

// Pruning reads only the files that can hold matching rows, and never changes an answer.
func TestPruning(t *testing.T) {
	root := t.TempDir()
	var lines []string
	for day := 1; day <= 3; day++ {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for h := 0; h < 24; h += 6 {
				lines = append(lines, fmt.Sprintf(`{"eventTime":"2024-03-%02dT%02d:00:00Z","eventName":"E%d","awsRegion":"%s","recipientAccountId":"111122223333","eventID":"%d-%s-%d"}`, day, h, h, region, day, region, h))
			}
		}
	}
	lines = append(lines, `{"eventTime":"garbage","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"bad"}`)
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloudtrail.ReadEvents(strings.NewReader(strings.Join(lines, "\n")), false, func(ev cloudtrail.Event) error {
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
	pruned, full := openTestEngine(t, root, true), openTestEngine(t, root, false)
	cases := []struct {
		sql   string
		files int
	}{
		{"SELECT count(*) FROM cloudtrail_logs WHERE day = '02'", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE region = 'us-east-1' AND day IN ('01', '03')", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventtime BETWEEN '2024-03-02T00:00:00Z' AND '2024-03-02T23:59:59Z'", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= '2024-03-03T00:00:00Z'", 3},
		{"SELECT eventid FROM cloudtrail_logs t WHERE from_iso8601_timestamp(t.eventtime) > from_iso8601_timestamp('2024-03-03T06:00:00Z') ORDER BY 1", 2},
		{"SELECT count(*) FROM cloudtrail WHERE from_iso8601_timestamp(eventtime) < date_add('day', -1, from_iso8601_timestamp('2024-03-03T00:00:00Z'))", 4},
		{"SELECT count(*) FROM cloudtrail_logs WHERE day = '02' OR region = 'eu-west-1'", 7},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventname = 'X'", 1}, // by the values the writer records: none (one file read for the columns)
		{"SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE a.day = '01'", 7},
		{"WITH x AS (SELECT * FROM cloudtrail_logs WHERE account = '111122223333' AND day = '01') SELECT count(*) FROM x", 2},
	}
	for _, c := range cases {
		got, err := pruned.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		want, err := full.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Rows, want.Rows) {
			t.Errorf("%s: pruned answer %v differs from %v", c.sql, got.Rows, want.Rows)
		}
		if got.Stats.FilesRead != c.files || got.Stats.FilesTotal != 7 {
			t.Errorf("%s: read %d of %d files, want %d", c.sql, got.Stats.FilesRead, got.Stats.FilesTotal, c.files)
		}
	}
}

// Bounds given as parameters prune too.
func TestPruningParameters(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 4; day++ {
		r := &cloudtrail.Record{}
		et, id := fmt.Sprintf("2024-03-%02dT10:00:00Z", day), fmt.Sprint(day)
		r.EventTime, r.EventID = &et, &id
		if _, err := w.Add(lake.Partition(cloudtrail.PartitionOf(r, "111122223333")), r, cloudtrail.Hash(r)); err != nil {
			t.Fatal(err)
		}
	}
	w.Commit(context.Background())
	w.Close()
	e := openTestEngine(t, root, true)
	res, err := e.Query(context.Background(), "SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= ? AND eventtime < ?", "2024-03-02T00:00:00Z", "2024-03-04T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(2) || res.Stats.FilesRead != 2 {
		t.Fatalf("count %v from %d files, want 2 from 2", res.Rows[0][0], res.Stats.FilesRead)
	}
}

// A partition column compared with a parameter prunes like one compared with a literal.
func TestPruningPartitionParameter(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, acct := range []string{"111122223333", "444455556666", "777788889999"} {
		r := &cloudtrail.Record{}
		et, id := "2024-03-01T10:00:00Z", fmt.Sprint(i)
		r.EventTime, r.EventID = &et, &id
		if _, err := w.Add(lake.Partition(cloudtrail.PartitionOf(r, acct)), r, cloudtrail.Hash(r)); err != nil {
			t.Fatal(err)
		}
	}
	w.Commit(context.Background())
	w.Close()
	e := openTestEngine(t, root, true)
	res, err := e.Query(context.Background(), "SELECT count(*) FROM cloudtrail_logs WHERE account = ? AND eventtime >= ?", "444455556666", "2024-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(1) || res.Stats.FilesRead != 1 {
		t.Fatalf("count %v from %d files, want 1 from 1", res.Rows[0][0], res.Stats.FilesRead)
	}
}

// A user's table prunes through its derived partition columns: equality, IN, ranges, LIKE and
// ORs of them on a date in its format (padded or not, in any field order), an account id, an
// integer year, month or day. Files whose partition is NULL hold no row that a comparison
// selects (trino.io/docs/current/functions/comparison.html: a comparison with NULL is NULL;
// BETWEEN is >= AND <=). A projected date's format is Java's (M and d without a leading zero;
// docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html), compared as
// text. Every answer is the one read from all files.
func TestUserTablePruning(t *testing.T) {
	var events []string
	add := func(id, account, region, eventTime string) {
		ev := fmt.Sprintf(`{"eventTime":%q,"eventName":"E","awsRegion":%q,"eventID":%q`, eventTime, region, id)
		if account != "" {
			ev += fmt.Sprintf(`,"recipientAccountId":%q`, account)
		}
		events = append(events, ev+"}")
	}
	const a, b = "111122223333", "444455556666"
	add("p1", a, "us-east-1", "2024-02-28T23:00:00Z")
	add("p2", a, "us-east-1", "2024-02-29T01:00:00Z")
	add("p3", a, "us-east-1", "2024-03-01T00:00:00Z")
	add("p4", b, "us-east-1", "2024-03-01T12:00:00Z")
	add("p5", a, "eu-west-1", "2024-03-10T05:00:00Z")
	add("p6", a, "us-east-1", "2024-12-31T23:59:59Z")
	add("p7", a, "us-east-1", "2025-01-01T00:00:00Z")
	add("p8", a, "us-east-1", "garbage") // NULL date
	add("p9", "", "us-east-1", "2024-03-01T08:00:00Z")
	root := writeLake(t, strings.Join(events, "\n"))
	ctx := context.Background()
	pruned := openDDLEngine(t, root)
	for _, ddl := range []string{
		`CREATE EXTERNAL TABLE t_dt (eventid string, eventtime string) PARTITIONED BY (account_id string, dt string)
		 LOCATION 's3://b/AWSLogs/' TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date', 'projection.dt.format'='yyyy/MM/dd')`,
		`CREATE EXTERNAL TABLE t_loose (eventid string) PARTITIONED BY (` + "`timestamp`" + ` string)
		 TBLPROPERTIES ('projection.timestamp.type'='date', 'projection.timestamp.format'='yyyy-M-d')`,
		`CREATE EXTERNAL TABLE t_ints (eventid string) PARTITIONED BY (region string, year int, month int, day int)`,
		`CREATE EXTERNAL TABLE t_eu (eventid string) PARTITIONED BY (dt string) TBLPROPERTIES ('projection.dt.format'='dd.MM.yyyy')`,
	} {
		if _, err := pruned.Query(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	full := openTestEngine(t, root, false)
	cases := []struct {
		where string
		files int
		ids   string
	}{
		{"t_dt WHERE dt = '2024/03/01'", 3, "p3 p4 p9"},
		{"t_dt WHERE dt BETWEEN '2024/02/29' AND '2024/03/01'", 4, "p2 p3 p4 p9"},
		{"t_dt WHERE dt >= '2024/12/31'", 2, "p6 p7"},
		{"t_dt WHERE dt < '2024/03/01'", 2, "p1 p2"},
		{"t_dt WHERE dt IN ('2024/02/28', '2025/01/01')", 2, "p1 p7"},
		{"t_dt WHERE dt <> '2024/03/01'", 5, "p1 p2 p5 p6 p7"},
		{"t_dt WHERE dt LIKE '2024/03/%'", 4, "p3 p4 p5 p9"},
		{"t_dt WHERE dt = '2024/3/1'", 0, ""},
		{"t_dt WHERE account_id = '444455556666'", 1, "p4"},
		{"t_dt t WHERE t.account_id = '111122223333' AND t.dt = '2024/03/01'", 1, "p3"},
		{"t_dt WHERE dt = '2024/03/01' OR dt = '2024/03/10'", 4, "p3 p4 p5 p9"},
		{"t_dt WHERE (dt = '2024/03/01' OR dt LIKE '2025/%') AND account_id = '111122223333'", 2, "p3 p7"},
		{"t_dt WHERE eventtime >= '2024-12-31T00:00:00Z' AND (dt = '2025/01/01')", 1, "p7"},
		// What cannot be evaluated per file prunes nothing.
		{"t_dt WHERE dt = '2024/03/01' OR eventid = 'p1'", 9, "p1 p3 p4 p9"},
		{"t_dt WHERE dt IS NULL", 9, "p8"},
		{"t_dt WHERE NOT dt = '2024/03/01'", 9, "p1 p2 p5 p6 p7"},
		{"t_dt WHERE dt = concat('2024/03', '/01')", 9, "p3 p4 p9"},
		{"t_loose WHERE \"timestamp\" = '2024-3-1'", 3, "p3 p4 p9"},
		{"t_loose WHERE \"timestamp\" = '2024-03-01'", 0, ""},
		{"t_loose WHERE \"timestamp\" >= '2024-3-10'", 2, "p5 p7"}, // text order: 2024-12-31 < 2024-3-10
		{"t_ints WHERE year = 2024 AND month = 3", 4, "p3 p4 p5 p9"},
		{"t_ints WHERE month = '03'", 4, "p3 p4 p5 p9"},
		{"t_ints WHERE day = 31 OR day = 1", 5, "p3 p4 p6 p7 p9"},
		{"t_ints WHERE year > 2024", 1, "p7"},
		{"t_ints WHERE month BETWEEN 2 AND 2", 2, "p1 p2"},
		{"t_ints WHERE region = 'eu-west-1' AND day IN (10, 11)", 1, "p5"},
		{"t_ints WHERE month = 3.0", 8, "p3 p4 p5 p9"}, // only a NULL month is sure not to match
		{"t_eu WHERE dt = '01.03.2024'", 3, "p3 p4 p9"},
		{"t_eu WHERE dt >= '31.12.2024'", 1, "p6"},
	}
	for _, c := range cases {
		sql := "SELECT eventid FROM " + c.where + " ORDER BY 1"
		got, err := pruned.Query(ctx, sql)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		want, err := full.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got.Rows {
			ids = append(ids, fmt.Sprint(r[0]))
		}
		if !reflect.DeepEqual(got.Rows, want.Rows) || strings.Join(ids, " ") != c.ids {
			t.Errorf("%s: pruned answer %v, from all files %v, want %s", sql, got.Rows, want.Rows, c.ids)
		}
		if got.Stats.FilesRead != c.files || got.Stats.FilesTotal != 9 {
			t.Errorf("%s: read %d of %d files, want %d", sql, got.Stats.FilesRead, got.Stats.FilesTotal, c.files)
		}
	}
	// A statement that reads the lake through two names is bounded by neither.
	for _, sql := range []string{
		"SELECT count(*) FROM t_dt t JOIN cloudtrail_logs c ON t.eventid = c.eventid WHERE t.dt = '2024/03/01'",
		"SELECT count(*) FROM t_dt, t_ints WHERE t_dt.eventid = t_ints.eventid AND day = 1",
		"SELECT count(*) FROM (SELECT eventid FROM t_dt WHERE dt = '2024/03/01' UNION ALL SELECT eventid FROM cloudtrail_logs)",
	} {
		got, err := pruned.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		want, _ := full.Query(ctx, sql)
		if !reflect.DeepEqual(got.Rows, want.Rows) || got.Stats.FilesRead != 9 {
			t.Errorf("%s: %v from %d files, want %v from 9", sql, got.Rows, got.Stats.FilesRead, want.Rows)
		}
	}
}

// With the distinct values of its files recorded (lake.File.Values), a statement reads only the
// files that hold values its conditions accept, and answers as it does reading them all.
func TestFacetPruning(t *testing.T) {
	var lines []string
	for day := 1; day <= 4; day++ {
		for i, who := range []string{"IAMUser", "AssumedRole", "Root"} {
			if who == "Root" && day != 2 {
				continue
			}
			code := ""
			if day == 3 && i == 0 {
				code = `,"errorCode":"AccessDenied"`
			}
			lines = append(lines, fmt.Sprintf(`{"eventTime":"2024-03-%02dT1%d:00:00Z","eventSource":"%s","eventName":"E%d","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"%d-%d","userIdentity":{"type":"%s"}%s}`,
				day, i, map[bool]string{true: "signin.amazonaws.com", false: "iam.amazonaws.com"}[day == 4], day, day, i, who, code))
		}
	}
	root := writeLake(t, strings.Join(lines, "\n"))
	ctx := context.Background()
	faceted, full := openTestEngine(t, root, true), openTestEngine(t, root, true)
	// Without values (as files written before they were recorded): every file is read.
	withSession(t, full, func(s *session) {
		for i := range s.g.snap.Files {
			s.g.snap.Files[i].Values = nil
		}
	})
	// The values of each file, as the writer records them; one file's errorcode unknown.
	withSession(t, faceted, func(s *session) {
		for i := range s.g.snap.Files {
			f := &s.g.snap.Files[i]
			f.Values = map[string][]string{}
			for _, col := range lake.FacetColumns {
				var vals []any
				err := s.cn.c.QueryRowContext(ctx, "SELECT coalesce(list(DISTINCT "+col+") FILTER (WHERE "+col+" IS NOT NULL), []) FROM read_parquet(["+quote(s.absPath(*f))+"])").Scan(&vals)
				if err != nil {
					t.Fatal(err)
				}
				f.Values[col] = []string{}
				for _, v := range vals {
					f.Values[col] = append(f.Values[col], v.(string))
				}
			}
			if f.Partition.Day == "01" {
				delete(f.Values, "errorcode")
			}
		}
	})
	cases := []struct {
		sql   string
		files int
	}{
		{"SELECT eventid FROM cloudtrail_logs WHERE useridentity.type = 'Root' ORDER BY 1", 1},
		{"SELECT count(*) FROM cloudtrail_logs WHERE errorcode = 'AccessDenied'", 2}, // day 1: not known
		{"SELECT count(*) FROM cloudtrail_logs WHERE errorcode IS NOT NULL", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE errorcode LIKE '%Denied' OR eventsource = 'signin.amazonaws.com'", 3},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventsource <> 'iam.amazonaws.com'", 1},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventname NOT IN ('E1', 'E2', 'E3')", 1},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventname NOT LIKE 'E%'", 0},
		{"SELECT count(*) FROM cloudtrail_logs WHERE useridentity.type = 'Nobody'", 0},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventname = 'E2' OR useridentity.arn IS NULL", 4},
	}
	for _, c := range cases {
		got, err := faceted.Query(ctx, c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		want, err := full.Query(ctx, c.sql)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) {
			t.Errorf("%s: %v, reading every file %v", c.sql, got.Rows, want.Rows)
		}
		if got.Stats.FilesRead != c.files || want.Stats.FilesRead != 4 {
			t.Errorf("%s: read %d files, want %d (without values: %d)", c.sql, got.Stats.FilesRead, c.files, want.Stats.FilesRead)
		}
	}
}
