package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
)

func openDDLEngine(t *testing.T, root string) *Engine {
	t.Helper()
	opt := testOptions(root, true)
	opt.Dialect.ParseDDL = athena.Dialect().ParseDDL
	return openWith(t, opt)
}

// Modelled on AWS's partition projection DDL for CloudTrail
// (docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html).
const projectedDDL = "CREATE EXTERNAL TABLE `my_db`.`trail_projected` (\n" +
	"  eventversion STRING,\n  useridentity STRUCT<type: STRING, principalid: STRING>,\n  eventtime STRING,\n  eventname STRING COMMENT 'the (API) call',\n  requestparameters STRING,\n  EventID STRING\n)\n" +
	"COMMENT 'CloudTrail table'\nPARTITIONED BY (`timestamp` string, account_id string)\n" +
	"ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\nSTORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n" +
	"OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\nLOCATION 's3://bucket/AWSLogs/111122223333/CloudTrail/'\n" +
	"TBLPROPERTIES (\n  'projection.enabled'='true',\n  'projection.timestamp.format'='yyyy/MM/dd',\n  'projection.timestamp.interval'='1',\n" +
	"  'projection.timestamp.interval.unit'='DAYS',\n  'projection.timestamp.range'='2020/01/01,NOW',\n  'projection.timestamp.type'='date',\n" +
	"  'projection.account_id.type'='injected',\n" +
	"  'storage.location.template'='s3://bucket/AWSLogs/${account_id}/CloudTrail/us-east-1/${timestamp}')"

const integerDDL = `CREATE EXTERNAL TABLE IF NOT EXISTS trail_ints (eventname string, eventid string)
PARTITIONED BY (region string, year int, month int, day int)
LOCATION 's3://bucket/AWSLogs/'
TBLPROPERTIES ('projection.enabled'='true', 'projection.year.type'='integer', 'projection.year.range'='2020,2030')`

// A user's CREATE EXTERNAL TABLE becomes a view of the lake whose partition columns are derived
// from the lake's, remembered by the lake; DROP TABLE removes it.
func TestUserTables(t *testing.T) {
	root := writeLake(t, twoDays+"\n"+badTimeEvent)
	ctx := context.Background()
	e := openDDLEngine(t, root)
	res, err := e.Query(ctx, projectedDDL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Notice, "trail_projected") || !strings.Contains(res.Notice, "timestamp = year, month and day as yyyy/MM/dd") {
		t.Errorf("notice: %s", res.Notice)
	}
	if _, err := e.Query(ctx, integerDDL); err != nil {
		t.Fatal(err)
	}
	check := func(e *Engine, sql, want string) {
		t.Helper()
		res, err := e.Query(ctx, sql)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			return
		}
		var got []string
		for _, r := range res.Rows {
			vals := make([]string, len(r))
			for i, v := range r {
				vals[i] = fmt.Sprint(v)
			}
			got = append(got, strings.Join(vals, "|"))
		}
		if strings.Join(got, ";") != want {
			t.Errorf("%s: %q, want %q", sql, strings.Join(got, ";"), want)
		}
	}
	for _, eng := range []*Engine{e, openDDLEngine(t, root)} { // a later engine reads them from the lake
		check(eng, `SELECT eventid, "timestamp", account_id FROM trail_projected WHERE "timestamp" = '2024/03/02'`, "2|2024/03/02|111122223333")
		check(eng, `SELECT count(*) FROM trail_projected WHERE "timestamp" >= '2024/03/01'`, "2")
		check(eng, `SELECT eventid, year + 1, month FROM trail_ints WHERE year = 2024 AND day = 1`, "1|2025|3")
		check(eng, `SELECT count(*) FROM trail_ints WHERE year IS NULL`, "1")
		check(eng, `SELECT count("$path") FROM trail_projected`, "3")
	}
	// As in Athena, a table has the columns its DDL declares (in its order, matched whatever
	// their case, with the lake's types), then its partition columns; "$path" is readable by name.
	res, err = e.Query(ctx, "SELECT * FROM trail_projected LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eventversion", "useridentity", "eventtime", "eventname", "requestparameters", "eventid", "timestamp", "account_id"}
	if !slices.Equal(res.Columns, want) {
		t.Errorf("SELECT * columns: %v, want %v", res.Columns, want)
	}
	check(e, `SELECT useridentity.arn FROM trail_projected WHERE eventid = '1'`, "arn:aws:iam::111122223333:user/a")
	for _, undeclared := range []string{"awsregion", "managementevent", "region", "year"} {
		if _, err := e.Query(ctx, "SELECT "+undeclared+" FROM trail_projected"); err == nil {
			t.Errorf("%s, not declared, is readable", undeclared)
		}
	}
	// A column the lake does not have is refused when the table is created, by name.
	if _, err := e.Query(ctx, strings.Replace(projectedDDL, "EventID STRING", "eventid STRING, bucket_name STRING", 1)); err == nil || !strings.Contains(err.Error(), `"bucket_name"`) {
		t.Errorf("a column the lake does not have: %v", err)
	}
	// Redefining replaces.
	if _, err := e.Query(ctx, strings.Replace(projectedDDL, "yyyy/MM/dd", "yyyy-MM-dd", 1)); err != nil {
		t.Fatal(err)
	}
	check(e, `SELECT count(*) FROM trail_projected WHERE "timestamp" = '2024-03-02'`, "1")
	// A definition not signed with the lake's key is left out.
	path := filepath.Join(root, "_trailsql", "tables", "trail_ints.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(data), `"from":"region"`, `"from":"account"`, 1)
	if forged == string(data) {
		t.Fatalf("definition: %s", data)
	}
	os.WriteFile(path, []byte(forged), 0o644)
	os.WriteFile(filepath.Join(root, "_trailsql", "tables", "evil.json"), []byte(`0000`+"\n"+`{"name":"evil","partitions":[]}`), 0o644)
	later := openDDLEngine(t, root)
	for _, name := range []string{"trail_ints", "evil"} {
		if _, err := later.Query(ctx, "SELECT count(*) FROM "+name); err == nil {
			t.Errorf("a forged definition of %s was used", name)
		}
	}
	// DROP TABLE removes.
	res, err = e.Query(ctx, "DROP TABLE my_db.trail_projected")
	if err != nil || !strings.Contains(res.Notice, "removed") {
		t.Fatalf("drop: %v %v", res, err)
	}
	if _, err := openDDLEngine(t, root).Query(ctx, "SELECT count(*) FROM trail_projected"); err == nil {
		t.Error("a dropped table is still there")
	}
	// Athena's own CloudTrail DDL names the table that is already there: explained, not stored.
	res, err = e.Query(ctx, strings.Replace(integerDDL, "trail_ints", "cloudtrail", 1))
	if err != nil || !strings.Contains(res.Notice, "not needed") {
		t.Errorf("CREATE EXTERNAL TABLE cloudtrail: %v %v", res, err)
	}
	for _, bad := range []string{"DROP TABLE cloudtrail_logs", "DROP TABLE nosuch", "CREATE EXTERNAL TABLE x (a string) PARTITIONED BY (shard string) LOCATION 's3://b/'"} {
		if _, err := e.Query(ctx, bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// A definition stored before tables kept their columns shows Athena's CloudTrail columns; a
// date format is read field by field, so MMM (a month's name in Java) is not MM then M.
func TestTableDefShape(t *testing.T) {
	old := &TableDef{Name: "old", Partitions: []TablePartition{{Name: "dt", From: "date", Format: "yyyy/MM/dd"}}}
	if err := old.check(); err != nil {
		t.Fatal(err)
	}
	view, hidden := old.viewSQL()
	if !strings.Contains(view, `SELECT "eventversion", "useridentity"`) || !strings.Contains(view, `"tlsdetails", ("year" || '/' || "month" || '/' || "day") AS "dt", "$path" FROM`) || strings.Contains(view, "residual") || !slices.Equal(hidden, []string{PathColumn}) {
		t.Errorf("view %s, hidden %v", view, hidden)
	}
	for _, f := range []string{"yyyy/MMM/dd", "yyyy-MM-ddd", "yy/MM/dd", "yyyy/MM/dd/HH", ""} {
		d := &TableDef{Name: "t", Partitions: []TablePartition{{Name: "dt", From: "date", Format: f}}}
		if err := d.check(); err == nil {
			t.Errorf("format %q accepted", f)
		}
	}
	d := &TableDef{Name: "t", Columns: []string{"eventname", "eventname"}}
	if err := d.check(); err == nil {
		t.Error("a column declared twice accepted")
	}
}
