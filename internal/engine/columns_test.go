package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// athenaColumns are the columns of Athena's CloudTrail table, in its DDL's order, partition
// columns last (docs.aws.amazon.com/athena/latest/ug/cloudtrail-logs.html).
func athenaColumns() []string {
	var out []string
	for _, c := range cloudtrail.Columns() {
		if c.Athena {
			out = append(out, c.Name)
		}
	}
	return out
}

const badTimeEvent = `{"eventTime":"garbage","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"bad"}`

// SELECT * returns exactly Athena's columns; the columns beyond its DDL and "$path" are read by
// name only, as Athena's "$path" is (docs.aws.amazon.com/athena/latest/ug/select.html, "Getting
// the file locations for source data").
func TestStarHidesExtraColumns(t *testing.T) {
	e := openTestEngine(t, writeLake(t, twoDays), true)
	ctx := context.Background()
	athena := athenaColumns()
	if slices.Contains(athena, "residual") || !slices.Contains(athena, "eventid") || athena[len(athena)-1] != "day" {
		t.Fatalf("Athena's columns: %v", athena)
	}
	twice := append(append([]string(nil), athena...), athena...)
	cases := []struct {
		sql  string
		want []string
	}{
		{"SELECT * FROM cloudtrail_logs", athena},
		{"select * from CloudTrail_Logs", athena},
		{"SELECT * FROM cloudtrail", athena},
		{"SELECT t.* FROM cloudtrail_logs t", athena},
		{"SELECT t . * FROM cloudtrail_logs AS t", athena},
		{"SELECT *, residual, managementevent, insightdetails FROM cloudtrail_logs", append(append([]string(nil), athena...), "residual", "managementevent", "insightdetails")},
		{"SELECT * FROM (SELECT * FROM cloudtrail_logs)", athena},
		{"WITH x AS (SELECT * FROM cloudtrail_logs) SELECT * FROM x", athena},
		{"SELECT * FROM cloudtrail_logs a JOIN cloudtrail b ON a.eventid = b.eventid", twice},
		{"SELECT a.*, b.eventname FROM cloudtrail_logs a, cloudtrail_logs b WHERE a.eventid = b.eventid", append(append([]string(nil), athena...), "eventname")},
		{"SELECT * FROM (SELECT eventid, residual FROM cloudtrail_logs)", []string{"eventid", "residual"}},
		{"SELECT * FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS u(r)", append(append([]string(nil), athena...), "r")},
		{`SELECT "$path" IS NOT NULL AS p FROM cloudtrail_logs`, []string{"p"}},
	}
	for _, c := range cases {
		res, err := e.Query(ctx, c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		if !slices.Equal(res.Columns, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.sql, res.Columns, c.want)
		}
	}
	// DESCRIBE lists what SELECT * returns.
	res, err := e.Query(ctx, "DESCRIBE cloudtrail_logs")
	if err != nil {
		t.Fatal(err)
	}
	var described []string
	for _, r := range res.Rows {
		described = append(described, r[0].(string))
	}
	if !slices.Equal(described, athena) {
		t.Errorf("DESCRIBE: %v", described)
	}
	// An error still points at the user's SQL, not at the EXCLUDE list.
	_, err = e.Query(ctx, "SELECT *, nosuchcolumn FROM cloudtrail_logs")
	if err == nil || !strings.Contains(err.Error(), "nosuchcolumn") || strings.Contains(err.Error(), "EXCLUDE") {
		t.Errorf("error: %v", err)
	}
}

// "$path" is the lake file a row was read from, and WHERE "$path" = '…' reads that file only.
func TestPathColumn(t *testing.T) {
	e := openTestEngine(t, writeLake(t, twoDays), true)
	ctx := context.Background()
	res, err := e.Query(ctx, `SELECT eventid, "$path" FROM cloudtrail_logs ORDER BY eventid`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("rows: %v", res.Rows)
	}
	path, _ := res.Rows[0][1].(string)
	var file string
	for _, f := range e.Snapshot().Files {
		if f.Partition.Day == "01" {
			file = e.absPath(f)
		}
	}
	if path == "" || path != file {
		t.Fatalf("$path of event 1 = %q, want %q", path, file)
	}
	res, err = e.Query(ctx, `SELECT eventid FROM cloudtrail_logs WHERE "$path" = '`+strings.ReplaceAll(path, "'", "''")+`'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "1" || res.Stats.FilesRead != 1 || res.Stats.FilesTotal != 2 {
		t.Errorf("WHERE \"$path\": rows %v, read %d of %d files", res.Rows, res.Stats.FilesRead, res.Stats.FilesTotal)
	}
}

// Hive's default partition is NULL, as in Athena: year >= '2024' does not select the events
// whose time is not a time (their year is NULL), whichever way the files are read.
func TestDefaultPartitionIsNull(t *testing.T) {
	root := writeLake(t, twoDays+"\n"+badTimeEvent)
	for _, inline := range []bool{true, false} {
		e := openTestEngine(t, root, true)
		e.noInline = !inline
		for sql, want := range map[string]string{
			"SELECT count(*) FROM cloudtrail_logs WHERE year >= '2024'":                     "2",
			"SELECT count(*) FROM cloudtrail_logs WHERE year IS NULL AND month IS NULL":     "1",
			"SELECT count(*) FROM cloudtrail_logs WHERE day = '__HIVE_DEFAULT_PARTITION__'": "0",
			"SELECT min(coalesce(year, 'null')) FROM cloudtrail_logs WHERE eventid = 'bad'": "null",
		} {
			res, err := e.Query(context.Background(), sql)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(res.Rows[0][0]); got != want {
				t.Errorf("inline %v: %s = %s, want %s", inline, sql, got, want)
			}
		}
	}
}
