package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// End to end: SELECT * has Athena's columns; --original still rebuilds whole records (the
// hidden residual included); a user's table definition is remembered by the lake between runs.
func TestQueryTableAsAthena(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	src := filepath.Join(dir, "events.json")
	os.WriteFile(src, []byte(`{"Records":[{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e1","managementEvent":false,"someNewField":{"x":1}}]}`), 0o644)
	mustRun(t, 0, "ingest", "--lake", lake, src)
	out := mustRun(t, 0, "query", "--lake", lake, "--format", "csv", "SELECT * FROM cloudtrail_logs")
	header, _, _ := strings.Cut(out, "\n")
	if strings.Contains(header, "residual") || strings.Contains(header, "$path") || !strings.HasSuffix(header, "account,region,year,month,day") {
		t.Errorf("SELECT * header: %s", header)
	}
	out = mustRun(t, 0, "query", "--lake", lake, "--original", "SELECT * FROM cloudtrail_logs")
	if !strings.Contains(out, `"someNewField"`) || !strings.Contains(out, `"managementEvent":false`) {
		t.Errorf("--original lost fields: %s", out)
	}
	out = mustRun(t, 0, "query", "--lake", lake, "CREATE EXTERNAL TABLE trail (eventname string) PARTITIONED BY (dt string) LOCATION 's3://b/' TBLPROPERTIES ('projection.dt.type'='date', 'projection.dt.format'='yyyy/MM/dd')")
	if !strings.Contains(out, "Table trail registered") {
		t.Errorf("notice: %s", out)
	}
	if got := scalar(t, lake, "SELECT dt FROM trail WHERE dt = '2024/03/01'"); got != "2024/03/01" {
		t.Errorf("dt = %q", got)
	}
	if got := scalar(t, lake, `SELECT DATE '2026-12-01'`); got != "2026-12-01" {
		t.Errorf("DATE printed %q", got)
	}
}

// End to end: a user's table prunes through its partition column (--stats says how many files
// were read) and has the columns its DDL declares.
func TestUserTablePrunes(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	src := filepath.Join(dir, "events.json")
	os.WriteFile(src, []byte(`{"Records":[
{"eventTime":"2024-03-01T10:00:00Z","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e1"},
{"eventTime":"2024-03-02T10:00:00Z","eventName":"PutObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e2"}]}`), 0o644)
	mustRun(t, 0, "ingest", "--lake", lake, src)
	mustRun(t, 0, "query", "--lake", lake, "CREATE EXTERNAL TABLE trail (EventName string) PARTITIONED BY (dt string) LOCATION 's3://b/' TBLPROPERTIES ('projection.dt.type'='date', 'projection.dt.format'='yyyy/MM/dd')")
	_, out, errOut := run(t, "", "query", "--lake", lake, "--stats", "--format", "csv", "SELECT * FROM trail WHERE dt >= '2024/03/02'")
	if out != "eventname,dt\nPutObject,2024/03/02\n" || !strings.Contains(errOut, "read 1 of 2 files") {
		t.Errorf("SELECT * FROM trail WHERE dt >= '2024/03/02' --stats:\n%s\n%s", out, errOut)
	}
	code, _, errOut := run(t, "", "query", "--lake", lake, "CREATE EXTERNAL TABLE t2 (eventname string, bucket string) LOCATION 's3://b/'")
	if code == 0 || !strings.Contains(errOut, `"bucket"`) {
		t.Errorf("a column the lake does not have: exit %d, %s", code, errOut)
	}
}
