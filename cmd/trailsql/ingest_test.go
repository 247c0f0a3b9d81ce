package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
)

// Every file of the shared datasets: CloudTrail files ingest, the rest is skipped, the invalid
// fixture is reported with its file and line, and nothing else is stopped by it.
func TestIngestSharedDatasets(t *testing.T) {
	dir := sharedDir(t, "datasets")
	lake := t.TempDir()
	out := mustRun(t, 1, "ingest", "--lake", lake, dir)
	for _, want := range []string{
		"SerializerTestFileBadJsonFormat.json: line 37",
		"1 failed",
		"events: 1054 read",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// Two of the copies are Panther's test events 48 and 49, AWS's documentation events with
	// their keys in another order: equal as JSON values, stored once.
	if got := scalar(t, lake, "SELECT count(*) FROM cloudtrail_logs"); got != "976" {
		t.Errorf("lake holds %s events, want 976 (1054 read less 78 identical copies)", got)
	}
	// Panther's 438 test events share 126 eventIDs: none may be lost.
	if got := scalar(t, lake, "SELECT count(*) FROM cloudtrail_logs WHERE eventid IN (SELECT eventid FROM cloudtrail_logs WHERE json_extract_scalar(residual, '$.p_log_type') IS NOT NULL)"); got == "0" {
		t.Error("panther events missing")
	}
	counts := map[string]string{
		// stratus: 310 events, each technique in its own account
		"SELECT count(*) FROM cloudtrail_logs WHERE useragent LIKE '%stratus-red-team%' OR eventid IN (SELECT eventid FROM cloudtrail_logs WHERE awsregion LIKE '%r' AND awsregion LIKE '%-_r')": "",
		// OTRF lines have @timestamp in place of eventTime: 103 events on 2020-09-14
		"SELECT count(*) FROM cloudtrail_logs WHERE year = '2020' AND month = '09' AND day = '14'": "103",
		// the two Insights events of the docs keep their insightDetails
		"SELECT count(*) FROM cloudtrail_logs WHERE eventtype = 'AwsCloudTrailInsight' AND insightdetails IS NOT NULL": "2",
		// plaso's LookupEvents items: the record came from the CloudTrailEvent string
		"SELECT count(*) FROM cloudtrail_logs WHERE awsregion = 'ap-southeast-2' AND recipientaccountid = '012345678901'": "6",
	}
	for q, want := range counts {
		if want == "" {
			continue
		}
		if got := scalar(t, lake, q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	// Re-ingesting adds nothing; only the failed file is read again.
	out = mustRun(t, 1, "ingest", "--lake", lake, dir)
	if !strings.Contains(out, "events: 0 read, 0 added") || !strings.Contains(out, "1 failed") {
		t.Errorf("re-ingest summary:\n%s", out)
	}
	if got := scalar(t, lake, "SELECT count(*) FROM cloudtrail_logs"); got != "976" {
		t.Errorf("after re-ingest: %s events, want 976", got)
	}
}

// The panther file alone: 438 different records, 126 distinct eventIDs, all stored.
func TestDistinctRecordsSharingEventID(t *testing.T) {
	dir := sharedDir(t, "datasets")
	lake := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", lake, filepath.Join(dir, "panther-analysis", "panther_cloudtrail_test_events.json"))
	if got := scalar(t, lake, "SELECT count(*) FROM cloudtrail_logs"); got != "438" {
		t.Fatalf("stored %s events, want 438", got)
	}
	// A copy of the same file elsewhere (pretty vs compact is the same record) adds nothing.
	copyDir := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(dir, "panther-analysis", "panther_cloudtrail_test_events.json"))
	os.WriteFile(filepath.Join(copyDir, "copy.json"), data, 0o644)
	out := mustRun(t, 0, "ingest", "--lake", lake, copyDir)
	if !strings.Contains(out, "0 added, 438 already present") {
		t.Fatalf("copy ingest:\n%s", out)
	}
}

func TestRefusedStatements(t *testing.T) {
	lake := t.TempDir()
	writeTrail(t, filepath.Join(lake, "in"), 1, 10)
	mustRun(t, 0, "ingest", "--lake", filepath.Join(lake, "lake"), filepath.Join(lake, "in"))
	l := filepath.Join(lake, "lake")
	refused := []string{
		"COPY cloudtrail_logs TO '" + l + "/x.csv'",
		"COPY (SELECT 1) TO '" + l + "/cloudtrail_logs/x.parquet' (FORMAT parquet)",
		"EXPLAIN ANALYZE COPY (SELECT 1) TO '" + l + "/y.csv'",
		"ATTACH '" + l + "/db.duckdb' AS x",
		"INSTALL httpfs", "LOAD httpfs", "SET threads = 1", "PRAGMA version", "RESET threads",
		"CREATE TABLE t AS SELECT 1", "CREATE VIEW v AS SELECT 1", "INSERT INTO cloudtrail_logs SELECT * FROM cloudtrail_logs",
		"DELETE FROM cloudtrail_logs", "DROP VIEW cloudtrail_logs", "EXPORT DATABASE '" + l + "/exp'", "CHECKPOINT",
		"SELECT 1; SELECT 2", "CALL enable_logging()",
	}
	for _, q := range refused {
		code, _, errOut := run(t, "", "query", "--lake", l, q)
		if code == 0 || !(strings.Contains(errOut, "read-only") || strings.Contains(errOut, "one statement")) {
			t.Errorf("%q: exit %d, stderr %q: want a clear refusal", q, code, errOut)
		}
	}
	// File-reading functions cannot reach outside the lake.
	for _, q := range []string{"SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM glob('/etc/*')", "SELECT * FROM read_text('/etc/hostname')"} {
		code, _, errOut := run(t, "", "query", "--lake", l, q)
		if code == 0 || !strings.Contains(errOut, "Permission Error") {
			t.Errorf("%q: exit %d, stderr %q: want a permission error", q, code, errOut)
		}
	}
	entries, _ := os.ReadDir(l)
	for _, e := range entries {
		if e.Name() != "cloudtrail_logs" && e.Name() != "_trailsql" && e.Name() != rules.AlertsDir {
			t.Errorf("a refused statement wrote %s into the lake", e.Name())
		}
	}
	// Read-only statements run.
	for _, q := range []string{"DESCRIBE cloudtrail_logs", "SHOW TABLES", "EXPLAIN SELECT count(*) FROM cloudtrail_logs", "VALUES (1)", "WITH x AS (SELECT 1) SELECT * FROM x"} {
		mustRun(t, 0, "query", "--lake", l, q)
	}
}

// buildBinary builds trailsql once for the tests that need a real process.
var buildOnce sync.Once
var binPath string
var buildErr error

func trailsqlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trailsql-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "trailsql")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build trailsql: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// fingerprint is a query whose answer tells two lakes' rows apart: count, distinct event ids, and
// a digest of every row's identity and content.
const fingerprint = "SELECT CAST(count(*) AS varchar) || '/' || CAST(count(DISTINCT eventid) AS varchar) || '/' || to_hex(md5(to_utf8(array_join(array_sort(array_agg(concat_ws('|', eventid, eventtime, coalesce(requestparameters, ''), account, day))), ',')))) FROM cloudtrail_logs"

// A real ingest process killed with SIGKILL at random moments, then re-run, leaves the same lake
// as one clean run: same count, no duplicate, no missing event, no stray file; and detection
// alerted every event a rule matches exactly once.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	bin := trailsqlBinary(t)
	in := writeTrail(t, t.TempDir(), 150, 600) // 90,000 events
	// A rule that fires on about a tenth of the events: each must be alerted once, killed or not.
	ruleFile := filepath.Join(t.TempDir(), "rules.yml")
	os.WriteFile(ruleFile, []byte("rules:\n  - id: tenth\n    title: \"{{ eventid }}\"\n    severity: low\n    condition: eventid LIKE '%7'\n"), 0o644)
	args := func(lake string) []string {
		return []string{"ingest", "--lake", lake, "--commit-rows", "4000", "--no-builtin", "--rules", ruleFile, in}
	}
	alerts := func(lake string) string {
		as, err := rules.OpenStore(lake).Alerts()
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		for _, a := range as {
			if keys[a.EventID+a.EventTime] {
				t.Fatalf("lake %s: event %s alerted twice", lake, a.EventID)
			}
			keys[a.EventID+a.EventTime] = true
		}
		return fmt.Sprint(len(as), digest(fmt.Sprint(slices.Sorted(maps.Keys(keys)))))
	}

	clean := t.TempDir()
	began := time.Now()
	if out, err := exec.Command(bin, args(clean)...).CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	window := time.Since(began)
	want := scalar(t, clean, fingerprint)
	if !strings.HasPrefix(want, "90000/90000/") {
		t.Fatalf("clean run fingerprint %s", want)
	}
	wantAlerts := alerts(clean)
	if strings.HasPrefix(wantAlerts, "0") {
		t.Fatal("the rule fired on nothing: the test proves nothing about detection")
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("clean run took %v; kill moments drawn with seed %d", window, seed)
	// Rounds go on until at least 10 runs were killed mid-ingest (a run that finishes before its
	// kill moment does not count), bounded so that a machine too fast to catch still ends.
	kills := 0
	for round := 0; kills < 10 && round < 40; round++ {
		dir := t.TempDir()
		for k := 0; k < 2; k++ {
			cmd := exec.Command(bin, args(dir)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			d := time.Duration(rng.Int63n(int64(window) * 3 / 4))
			timer := time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGKILL) })
			err := cmd.Wait()
			timer.Stop()
			if err != nil {
				kills++
			}
		}
		if out, err := exec.Command(bin, args(dir)...).CombinedOutput(); err != nil {
			t.Fatalf("round %d: final run: %v\n%s", round, err, out)
		}
		if got := scalar(t, dir, fingerprint); got != want {
			t.Fatalf("round %d: lake %s differs from the clean run's %s", round, got, want)
		}
		if problems, err := lake.Check(dir); err != nil || len(problems) > 0 {
			t.Fatalf("round %d: lake check: %v %v", round, err, problems)
		}
		if got := alerts(dir); got != wantAlerts {
			t.Fatalf("round %d: alerts %s, the clean run stored %s", round, got, wantAlerts)
		}
	}
	if kills < 10 {
		t.Fatalf("only %d runs were killed before they finished", kills)
	}
	t.Logf("%d runs killed mid-ingest", kills)
}

// Queries running while an ingest commits see whole commits only.
func TestQueriesSeeWholeCommits(t *testing.T) {
	bin := trailsqlBinary(t)
	const perFile = 500
	in := writeTrail(t, t.TempDir(), 40, perFile)
	lake := t.TempDir()
	// The lake exists (empty) before the first query: querying a folder that is not yet a lake
	// is an error (exit 2), not 0 events.
	mustRun(t, 0, "ingest", "--lake", lake, t.TempDir())
	cmd := exec.Command(bin, "ingest", "--lake", lake, "--commit-rows", "1", "--workers", "1", in)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	seen := map[string]bool{}
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		n, err := strconv.Atoi(scalar(t, lake, "SELECT count(*) FROM cloudtrail_logs"))
		if err != nil {
			t.Fatal(err)
		}
		if n%perFile != 0 {
			t.Fatalf("a query saw %d events: not a whole number of commits of %d", n, perFile)
		}
		seen[strconv.Itoa(n)] = true
	}
	t.Logf("queries saw %d distinct states of the lake", len(seen))
}

// The poison records of issue 9 and a named pipe in the input folder, through the real binary:
// the run ends (a deadline turns a hang into a failure), the good events are stored, the bad
// ones are in the quarantine partitions where queries find them, and a re-run adds nothing.
func TestIngestQuarantineAndNamedPipe(t *testing.T) {
	bin := trailsqlBinary(t)
	in := t.TempDir()
	ev := func(i int, account, region, when string) string {
		return fmt.Sprintf(`{"eventVersion":"1.09","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":%q,"eventID":"id-%d","recipientAccountId":%q}`, when, region, i, account)
	}
	var recs []string
	for i := range 30 {
		recs = append(recs, ev(i, "111122223333", "us-east-1", "2024-03-01T10:00:00Z"))
	}
	recs = append(recs, ev(100, strings.Repeat("1", 5000), "us-east-1", "2024-03-01T11:00:00Z"),
		ev(101, "111122223333", strings.Repeat("r", 300), "2024-03-01T11:00:00Z"),
		ev(102, "111122223333", "us-east-1", "2024-13-45T99:99:99Z"))
	if err := os.WriteFile(filepath.Join(in, "poison.json"), []byte(`{"Records":[`+strings.Join(recs, ",\n")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(in, "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := t.TempDir()
	ingest := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "ingest", "--lake", lakeDir, in).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("ingest: %v (want exit status 1)\n%s", err, out)
		}
		return string(out)
	}
	out := ingest()
	for _, want := range []string{"events: 33 read, 33 added", "pipe.json: a named pipe (FIFO), not a regular file", "record 30 (line 31): recipientAccountId", "account=__invalid__", "region=__invalid__", "record 32 (line 33): eventTime"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for q, want := range map[string]string{
		"SELECT count(*) FROM cloudtrail_logs":                                                 "33",
		"SELECT length(recipientaccountid) FROM cloudtrail_logs WHERE account = '__invalid__'": "5000",
		"SELECT length(awsregion) FROM cloudtrail_logs WHERE region = '__invalid__'":           "300",
		// The NULL date partition: Athena reads it as NULL; DuckDB, given VARCHAR partition
		// types, as the folder's text.
		"SELECT coalesce(year, '__HIVE_DEFAULT_PARTITION__') || '/' || eventtime FROM cloudtrail_logs WHERE year IS NULL OR year = '__HIVE_DEFAULT_PARTITION__'": "__HIVE_DEFAULT_PARTITION__/2024-13-45T99:99:99Z",
		"SELECT count(*) FROM cloudtrail_logs WHERE year = '2024'":                                     "32",
		"SELECT count(*) FROM cloudtrail_logs WHERE account = '111122223333' AND region = 'us-east-1'": "31",
	} {
		if got := scalar(t, lakeDir, q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	if out := ingest(); !strings.Contains(out, "events: 0 read") {
		t.Errorf("re-run read events again:\n%s", out)
	}
}
