package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
)

// The engine's typed errors read as they did when the engine named the flags itself: the CLI's
// messages are unchanged, whatever context a command wrapped around them.
func TestFlagHint(t *testing.T) {
	damaged := &engine.DamagedFileError{File: lake.File{Path: "cloudtrail_logs/x.parquet", Rows: 3, Partition: lake.Partition{Account: "1", Region: "r", Year: "2024", Month: "03", Day: "01"}}, Reason: "bad"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{&engine.LimitError{Err: engine.ErrTimeout, Limit: engine.LimitTimeout, Value: "5m0s"},
			"query timed out after 5m0s (raise it with --timeout)"},
		{&engine.LimitError{Err: engine.ErrResultTooLarge, Limit: engine.LimitRows, Value: "5"},
			"result too large: more than 5 rows, the limit (raise it with --max-rows, or narrow the query with WHERE, LIMIT or an aggregate)"},
		{&engine.LimitError{Err: engine.ErrResultTooLarge, Limit: engine.LimitResultBytes, Value: "1 MiB"},
			"result too large: more than 1 MiB of values, the limit (raise it with --max-result-bytes, or select fewer rows or columns)"},
		{&engine.LimitError{Err: engine.ErrResultTooLarge, Limit: engine.LimitResultBytes, Value: "1 MiB", Row: true},
			"result too large: a row is larger than 1 MiB, the limit (raise it with --max-result-bytes, or select less of it: substr, fewer columns)"},
		{&engine.LimitError{Err: engine.ErrStatementTooLarge, Limit: engine.LimitStatementBytes, Value: "1 MiB", Size: "2 MiB"},
			"statement too large: 2 MiB, the limit is 1 MiB (raise it with --max-statement-bytes)"},
		{&engine.LimitError{Err: engine.ErrOutOfMemory, Limit: engine.LimitMemory, Value: "256MiB", Ceiling: "900 MiB"},
			"out of memory: the statement needed more memory than this process may use (900 MiB: what it held at the start, --memory-limit 256MiB, twice --max-result-bytes and 256 MiB). DuckDB spills joins, sorts and aggregates to disk but not a value a function builds (repeat, lpad, replace, range …): build smaller values, or raise --memory-limit"},
		{fmt.Errorf("question x: %w", damaged),
			"question x: lake file cloudtrail_logs/x.parquet (partition cloudtrail_logs/account=1/region=r/year=2024/month=03/day=01, 3 rows per the ledger) cannot be read: bad; run 'trailsql check' to find the damaged files, or add --skip-damaged to answer from the other files"},
		{&engine.ReadOnlyError{Reason: "COPY"},
			"only read-only statements run (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of a query): COPY; the lake is read-only from SQL. To export results use --format csv|json and redirect the output"},
		{&engine.UnknownColumnError{Table: "t", Column: "bucket"},
			"table t: column \"bucket\": cloudtrail_logs has no such column, so the table cannot show it (remove it from the column list; `trailsql schema` lists the columns there are)"},
		{errors.New("plain"), "plain"},
	} {
		got := flagHint(c.err)
		if got.Error() != c.want {
			t.Errorf("%v:\n got %s\nwant %s", c.err, got, c.want)
		}
		if !errors.Is(got, c.err) {
			t.Errorf("%v: the hinted error no longer wraps it", c.err)
		}
	}
	res := &engine.Result{Notice: "…", External: &engine.ExternalTable{Name: "`cloudtrail`", Location: "s3://b/AWSLogs/"}}
	if got, want := noticeHint(res), "CREATE EXTERNAL TABLE is not needed: the table cloudtrail_logs already has Athena's CloudTrail columns. To load the logs at that location, run:\n  trailsql ingest s3://b/AWSLogs/\n(table `cloudtrail`: query it as cloudtrail_logs, or declare the name as an alias with --alias cloudtrail)"; got != want {
		t.Errorf("notice:\n got %s\nwant %s", got, want)
	}
}

// End to end: a limit's refusal names the flag that raises it.
func TestLimitNamesFlag(t *testing.T) {
	dir := t.TempDir()
	lk := filepath.Join(dir, "lake")
	src := filepath.Join(dir, "events.json")
	os.WriteFile(src, []byte(`{"Records":[{"eventTime":"2024-03-01T10:00:00Z","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e1"}]}`), 0o644)
	mustRun(t, 0, "ingest", "--lake", lk, src)
	code, _, errOut := run(t, "", "query", "--lake", lk, "--max-rows", "2", "SELECT * FROM range(3)")
	if want := "trailsql: result too large: more than 2 rows, the limit (raise it with --max-rows, or narrow the query with WHERE, LIMIT or an aggregate)\n"; code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q, want %q", code, errOut, want)
	}
	_, out, _ := run(t, "", "query", "--lake", lk, "CREATE EXTERNAL TABLE cloudtrail_logs (eventname string) LOCATION 's3://b/AWSLogs/'")
	if !strings.Contains(out, "trailsql ingest s3://b/AWSLogs/") || !strings.Contains(out, "--alias cloudtrail_logs") {
		t.Errorf("notice: %s", out)
	}
}
