package main

// These tests run the commands with --engine athena against athenafake, a FAKE Amazon Athena
// endpoint (no real Athena can run here) that speaks Athena's JSON 1.1 wire format and checks
// the requests' SigV4 signatures.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athenaapi/athenafake"
	"github.com/trailsql/trailsql/internal/ddl"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/questions"
)

// fakeAthena starts the fake with the credentials of the standard chain set to the fake's.
func fakeAthena(t *testing.T, answer func(string) athenafake.Answer) (*athenafake.Server, []string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": athenafake.AccessKey, "AWS_SECRET_ACCESS_KEY": athenafake.SecretKey, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_REGION": "",
		"HOME": dir} { // no default lake: on Athena a local lake is optional
		t.Setenv(k, v)
	}
	fake := athenafake.New(answer)
	t.Cleanup(fake.Close)
	return fake, []string{"--engine", "athena", "--athena-endpoint", fake.URL, "--athena-region", athenafake.Region, "--database", "trail", "--workgroup", "security"}
}

func TestAskOnAthena(t *testing.T) {
	const n = 2500
	fake, flags := fakeAthena(t, func(string) athenafake.Answer {
		a := athenafake.Answer{Scanned: 3 << 30, Running: 2, Columns: []athenafake.Column{
			{Name: "role_arn", Type: "varchar"}, {Name: "calls", Type: "bigint"}, {Name: "sessions", Type: "bigint"},
			{Name: "errors", Type: "bigint"}, {Name: "last_seen", Type: "varchar"}, {Name: "source_ips", Type: "varchar"}}}
		for i := range n {
			a.Rows = append(a.Rows, []*string{aws.String(fmt.Sprintf("arn:aws:iam::012345678901:role/r%04d", i)), aws.String(fmt.Sprint(n - i)),
				aws.String("1"), aws.String("0"), aws.String("2026-01-31T23:59:59Z"), aws.String("192.0.2.1, 198.51.100.7")})
		}
		return a
	})
	window := []string{"ask", "active-roles", "--from", "2026-01-01", "--to", "2026-02-01", "--account", "012345678901", "--region", "eu-west-1"}
	var stmt []string
	for _, l := range strings.Split(strings.TrimSpace(mustRun(t, 0, append(window, "--sql")...)), "\n") {
		if !strings.HasPrefix(l, "-- ") {
			stmt = append(stmt, l)
		}
	}
	code, out, errOut := run(t, "", append(append(window, flags...), "-o", "csv", "--stats")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	got := fake.Received()
	if len(got) != 1 || got[0].Statement != strings.Join(stmt, "\n") {
		t.Fatalf("Athena received %+v\nwant the statement --sql prints:\n%s", got, strings.Join(stmt, "\n"))
	}
	if got[0].WorkGroup != "security" || got[0].Database != "trail" {
		t.Errorf("workgroup %q, database %q", got[0].WorkGroup, got[0].Database)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n+1 || lines[0] != "role_arn,calls,sessions,errors,last_seen,source_ips" ||
		lines[1] != `arn:aws:iam::012345678901:role/r0000,2500,1,0,2026-01-31T23:59:59Z,"192.0.2.1, 198.51.100.7"` ||
		!strings.HasPrefix(lines[n], "arn:aws:iam::012345678901:role/r2499,1,") {
		t.Errorf("%d lines: %q … %q", len(lines), lines[:2], lines[len(lines)-1])
	}
	if pages := fake.Calls("GetQueryResults"); pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if !strings.Contains(errOut, "Athena scanned 3.0 GiB") || !strings.Contains(errOut, "about $0.016106") {
		t.Errorf("stderr does not report the scan and its cost:\n%s", errOut)
	}
}

func TestAthenaErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   athenafake.Answer
		throttle int
		args     []string
		want     string // on stderr; "" when the answer succeeds
	}{
		{name: "failed", answer: athenafake.Answer{Fail: "TABLE_NOT_FOUND: line 3:6: Table 'awsdatacatalog.trail.cloudtrail_logs' does not exist", Running: 1},
			want: "FAILED: TABLE_NOT_FOUND: line 3:6: Table 'awsdatacatalog.trail.cloudtrail_logs' does not exist"},
		{name: "throttled, then answered", throttle: 2},
		{name: "no such workgroup", args: []string{"--workgroup", "nope"}, want: "athena StartQueryExecution: InvalidRequestException: WorkGroup nope is not found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, flags := fakeAthena(t, func(string) athenafake.Answer {
				a := tc.answer
				a.Columns = []athenafake.Column{{Name: "n", Type: "bigint"}}
				a.Rows = [][]*string{{aws.String("42")}}
				return a
			})
			fake.Throttle, fake.WorkGroups = tc.throttle, []string{"security"}
			code, out, errOut := run(t, "", append(append([]string{"query", "-o", "csv"}, flags...), append(tc.args, "SELECT count(*) AS n FROM cloudtrail_logs")...)...)
			if tc.want == "" {
				if code != 0 || out != "n\n42\n" {
					t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
				}
				return
			}
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want an error with %q", code, errOut, tc.want)
			}
		})
	}
}

// TestQueryOnAthenaAsWritten: the statement goes to Athena as the user wrote it, Athena's own
// functions and all, and the local lake's flags that cannot apply are refused.
func TestQueryOnAthenaAsWritten(t *testing.T) {
	fake, flags := fakeAthena(t, func(string) athenafake.Answer {
		return athenafake.Answer{Columns: []athenafake.Column{{Name: "r", Type: "array"}}, Rows: [][]*string{{aws.String("[a, b]")}}}
	})
	sql := "SELECT array_agg(DISTINCT json_extract_scalar(requestparameters, '$.bucketName')) AS r FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS u (res) WHERE from_iso8601_timestamp(eventtime) > date_add('day', -7, now())"
	mustRun(t, 0, append(append([]string{"query", "-o", "json"}, flags...), sql)...)
	if got := fake.Received(); len(got) != 1 || got[0].QueryString != sql || len(got[0].Parameters) != 0 {
		t.Fatalf("received %+v", got)
	}
	code, _, errOut := run(t, "", append(append([]string{"query", "--original"}, flags...), "SELECT * FROM cloudtrail_logs")...)
	if code == 0 || !strings.Contains(errOut, "--engine local") {
		t.Errorf("--original on Athena: exit %d, %s", code, errOut)
	}
}

// lakeAnswers answers the fake's statements from the local engine over a lake, each value
// written as Athena's text of it: the fake then stands for Athena over that lake's copy on S3.
func lakeAnswers(t *testing.T, lakeDir string) func(string) athenafake.Answer {
	e, err := local.Open(context.Background(), engine.Options{Lake: lakeDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return func(stmt string) athenafake.Answer {
		res, err := e.Query(context.Background(), stmt)
		if err != nil {
			return athenafake.Answer{Fail: err.Error()}
		}
		a := athenafake.Answer{Scanned: res.Stats.BytesRead}
		for i, c := range res.Columns {
			a.Columns = append(a.Columns, athenafake.Column{Name: c, Type: athenaType(res.Types[i])})
		}
		types := make([]*ddl.Type, len(res.Types))
		for i, s := range res.Types {
			types[i], _ = ddl.ParseType(s) // nested types: their fields' order; nil for the others
		}
		for _, r := range res.Rows {
			row := make([]*string, len(r))
			for i, v := range r {
				if v != nil {
					row[i] = aws.String(athenaText(v, types[i]))
				}
			}
			a.Rows = append(a.Rows, row)
		}
		return a
	}
}

// athenaType is the name Athena's ColumnInfo gives a DuckDB type.
func athenaType(duck string) string {
	switch {
	case strings.HasSuffix(duck, "[]"):
		return "array"
	case strings.HasPrefix(duck, "STRUCT"):
		return "row"
	case strings.HasPrefix(duck, "MAP"):
		return "map"
	case strings.HasPrefix(duck, "DECIMAL"):
		return "decimal"
	}
	switch duck {
	case "BIGINT", "HUGEINT", "UBIGINT", "INTEGER", "UINTEGER", "SMALLINT", "TINYINT":
		return "bigint"
	case "DOUBLE", "FLOAT":
		return "double"
	case "TIMESTAMP WITH TIME ZONE":
		return "timestamp with time zone"
	}
	return strings.ToLower(duck)
}

// athenaText writes a value of type t (nil: unknown) as GetQueryResults does: arrays [a, b],
// rows {field=v, …} in their declared order, maps {k=v, …}.
func athenaText(v any, t *ddl.Type) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case time.Time:
		if x.Location() != time.UTC || x.Hour()+x.Minute()+x.Second()+x.Nanosecond() != 0 {
			return x.UTC().Format("2006-01-02 15:04:05.000") + " UTC"
		}
		return x.Format("2006-01-02 15:04:05.000")
	case []any:
		var elem *ddl.Type
		if t != nil {
			elem = t.Elem
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = athenaText(e, elem)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		fieldType := func(string) *ddl.Type { return nil }
		if t != nil && t.Kind == "struct" {
			keys = keys[:0]
			for _, f := range t.Fields {
				keys = append(keys, f.Name)
			}
			fieldType = func(k string) *ddl.Type {
				for _, f := range t.Fields {
					if f.Name == k {
						return f.Type
					}
				}
				return nil
			}
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + athenaText(x[k], fieldType(k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// TestSameAnswersOnAthena: ask, policy and detect give the same output on the local engine and
// on Athena (the fake answering from the same lake): the statements go to Athena unchanged, and
// Athena's text values come back as the local engine's Go values.
func TestSameAnswersOnAthena(t *testing.T) {
	g := generatedLake(t, 11, 6000)
	_, flags := fakeAthena(t, lakeAnswers(t, g.lake))
	from, to := questions.TimeText(g.truth.Oldest), questions.TimeText(g.truth.Newest.Add(time.Second))
	window := []string{"--lake", g.lake, "--from", from, "--to", to}
	for _, args := range [][]string{
		{"ask", "active-roles", "-o", "json"},
		{"ask", "root-activity", "-o", "json"},
		{"ask", "identity-activity", "--principal", "carol", "-o", "json"},
		{"ask", "failed-console-logins", "-o", "csv"},
		{"policy", "--principal", "carol"},
		{"detect", "--format", "json"},
		{"query", "-o", "json", "--lake", g.lake, "SELECT eventname, useridentity, resources, eventtime FROM cloudtrail_logs ORDER BY eventid LIMIT 20"},
	} {
		window := window
		if args[0] == "query" {
			window = nil
		}
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			want := mustRun(t, 0, append(append([]string{}, args...), window...)...)
			got := mustRun(t, 0, append(append(append([]string{}, args...), window...), flags...)...)
			if got != want {
				os.WriteFile(filepath.Join(os.TempDir(), "athena-got.txt"), []byte(got), 0o644)
				os.WriteFile(filepath.Join(os.TempDir(), "athena-want.txt"), []byte(want), 0o644)
				t.Errorf("on Athena:\n%s\nlocally:\n%s", got, want)
			}
			if len(want) < 50 {
				t.Errorf("a short answer proves little:\n%s", want)
			}
		})
	}
}
