package main

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/lookup/lookuptest"
	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// awsEnv: see vgwtest.AWSEnv.
func awsEnv(t *testing.T, access, secret string) { vgwtest.AWSEnv(t, access, secret) }

// s3Trail generates a trail straight into a bucket folder of the server (objects placed there
// are served with its default ETag) and returns the generation's truth.
func s3Trail(t *testing.T, srv *versitygw.Server, bucket string, opt generate.Options) *generate.Truth {
	t.Helper()
	if opt.End.IsZero() {
		opt.End = time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)
	}
	truth, err := generate.Generate(context.Background(), filepath.Join(srv.Root(), bucket), opt)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

// trailsql ingest s3://… end to end: credentials from the environment, --endpoint-url, a window,
// the summary, the exit status, a second run that reads nothing, a progress bar on a terminal.
func TestIngestS3Command(t *testing.T) {
	srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: "00000000000000000000000000000001"})
	awsEnv(t, srv.AccessKey(), srv.SecretKey())
	truth := s3Trail(t, srv, "trail", generate.Options{Seed: 5, Events: 8000, EventsPerFile: 20, Days: 10, Accounts: 2})
	l := t.TempDir()
	out := mustRun(t, 0, "ingest", "--lake", l, "--endpoint-url", srv.URL, "s3://trail")
	for _, want := range []string{"events: 8000 read, 8000 added", "0 failed", "s3: "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if got := scalar(t, l, "SELECT count(*) FROM cloudtrail_logs"); got != "8000" {
		t.Fatalf("lake holds %s events", got)
	}
	out = mustRun(t, 0, "ingest", "--lake", l, "--endpoint-url", srv.URL, "s3://trail")
	if !strings.Contains(out, "files: 0 read") || !strings.Contains(out, "and 0 GET requests") {
		t.Errorf("second run:\n%s", out)
	}

	// A window and an account, into another lake, with the progress bar of a terminal.
	l2 := t.TempDir()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, IsTerminal: true}
	acct := truth.Accounts[1]
	code := m.Run(context.Background(), []string{"ingest", "--lake", l2, "--endpoint-url", srv.URL, "--accounts", acct, "--from", "2024-03-18", "--to", "2024-03-19", "s3://trail"})
	if code != 0 {
		t.Fatalf("windowed ingest: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "objects") {
		t.Errorf("no progress bar on the terminal: %q", stderr.String())
	}
	// Objects are read whole: those delivered in the window (or within an hour after it) may
	// hold events from a few minutes before it.
	if got := scalar(t, l2, "SELECT CAST(count(DISTINCT account) AS varchar) || ' ' || CAST(min(eventtime) >= '2024-03-17T23:00:00Z' AS varchar) || ' ' || CAST(max(eventtime) < '2024-03-20T01:00:00Z' AS varchar) FROM cloudtrail_logs"); got != "1 true true" {
		t.Errorf("windowed ingest: %q", got)
	}

	// Mistakes are explained.
	for args, want := range map[string]string{
		"s3://":                                        "names no bucket",
		"--from yesterday s3://trail":                  "not a time",
		"--lookup-events s3://trail":                   "reads the API only",
		"--regions us-east-1 " + l:                     "local files are read whole",
		"--from 2024-03-10 --to 2024-03-01 s3://trail": "before --from",
	} {
		code, _, errOut := run(t, "", append([]string{"ingest", "--lake", t.TempDir(), "--endpoint-url", srv.URL}, strings.Fields(args)...)...)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("ingest %s: exit %d, %q; want an error saying %q", args, code, errOut, want)
		}
	}
}

// --watch in a real process: new objects delivered between passes are collected; SIGTERM stops
// it with exit status 0, the ledger consistent and nothing read twice.
func TestIngestS3WatchSIGTERM(t *testing.T) {
	bin := trailsqlBinary(t)
	srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: "00000000000000000000000000000002"})
	awsEnv(t, srv.AccessKey(), srv.SecretKey())
	// A live trail: deliveries up to now (a watch lists the recent days only after its first pass).
	now := time.Now().UTC().Truncate(time.Second)
	first := s3Trail(t, srv, "trail", generate.Options{Seed: 6, Events: 3000, EventsPerFile: 20, Days: 3, Accounts: 1, End: now.Add(-time.Hour)})
	l := t.TempDir()
	cmd := exec.Command(bin, "ingest", "--lake", l, "--endpoint-url", srv.URL, "--watch", "--interval", "200ms", "s3://trail")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 4096) // buffered: a line is not lost while the test looks at the one before
	var mu sync.Mutex
	var all strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			all.WriteString(sc.Text() + "\n")
			mu.Unlock()
			select {
			case lines <- sc.Text():
			default: // nobody waiting: the line is in all
			}
		}
		close(lines)
	}()
	waitFor := func(prefix string) string {
		t.Helper()
		deadline := time.After(5 * time.Minute)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("the watching ingest ended before %q:\n%s", prefix, stderr.String())
				}
				if strings.Contains(line, prefix) {
					return line
				}
			case <-deadline:
				cmd.Process.Kill()
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("no %q within 5 minutes:\n%s", prefix, all.String())
			}
		}
	}
	line := waitFor("pass 1:")
	if !strings.Contains(line, "events added") || !strings.Contains(line, "(total 3000 events added)") {
		t.Errorf("pass 1: %s", line)
	}
	// New deliveries, each object appearing whole (renamed into the bucket), as S3
	// shows an object only once written: the next pass reads them.
	staging := t.TempDir()
	if _, err := generate.Generate(context.Background(), staging, generate.Options{Seed: 7, Events: 500, EventsPerFile: 20, Days: 1, Accounts: 1, OrgID: first.OrgID, End: now}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(staging, p)
		dst := filepath.Join(srv.Root(), "trail", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.Rename(p, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		line = waitFor(" pass ")
		if strings.Contains(line, "(total 3500 events added)") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	err = cmd.Wait()
	wg.Wait()
	if err != nil {
		t.Fatalf("SIGTERM: %v (want exit status 0)\n%s\n%s", err, all.String(), stderr.String())
	}
	if out := all.String(); !strings.Contains(out, "interrupted") || !strings.Contains(out, "events: ") {
		t.Errorf("no summary after SIGTERM:\n%s", out)
	}
	if problems, err := lake.Check(l); err != nil || len(problems) > 0 {
		t.Fatalf("lake check: %v %v", err, problems)
	}
	if got := scalar(t, l, "SELECT count(*) FROM cloudtrail_logs"); got != "3500" {
		t.Fatalf("lake holds %s events, want 3500", got)
	}
	out := mustRun(t, 0, "ingest", "--lake", l, "--endpoint-url", srv.URL, "s3://trail")
	if want := "files: 0 read"; !strings.Contains(out, want) {
		t.Errorf("a run after the watch read objects again:\n%s", out)
	}
}

// trailsql ingest --lookup-events against the fake CloudTrail endpoint (lookuptest: no real
// CloudTrail API can run here), after the same trail was ingested from files: the API's copies
// are recognised, only the events the files lack are added.
func TestIngestLookupEventsCommand(t *testing.T) {
	awsEnv(t, "AKIDFAKE", "fake")
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := generate.Generate(context.Background(), dir, generate.Options{Seed: 8, Events: 1500, EventsPerFile: 20, Days: 2, Accounts: 1, End: now.Add(-time.Hour), Regions: []string{"us-east-1", "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := lookuptest.ReadTrail(dir)
	if err != nil {
		t.Fatal(err)
	}
	mgmt := lookuptest.Management(recs)
	fake := lookuptest.New()
	defer fake.Close()
	for region, evs := range lookuptest.FromRecords(mgmt) {
		fake.Add(region, evs...)
	}
	// An event only the API knows yet: a copy of one with a new id, a minute ago.
	extra := lookuptest.FromRecords(mgmt[:1])
	for region, evs := range extra {
		e := evs[0]
		e.ID, e.Time = "api-only-0001", now.Add(-time.Minute)
		e.Record = strings.Replace(strings.Replace(e.Record, mgmt[0]["eventID"].(string), e.ID, 1), mgmt[0]["eventTime"].(string), e.Time.Format(time.RFC3339), 1)
		fake.Add(region, e)
	}
	l := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", l, dir)
	out := mustRun(t, 0, "ingest", "--lake", l, "--lookup-events", "--endpoint-url", fake.URL, "--regions", "us-east-1,eu-west-1", "--from", "3d")
	if want := "1 added, " + strconv.Itoa(len(mgmt)) + " already present"; !strings.Contains(out, want) {
		t.Errorf("lookup summary lacks %q:\n%s", want, out)
	}
	if got := scalar(t, l, "SELECT count(*) FROM cloudtrail_logs"); got != "1501" {
		t.Errorf("lake holds %s events, want 1501", got)
	}
}
