package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// Against a real S3 server (versitygw): a generated organization trail under a custom prefix and
// a single-account trail, thousands of objects across accounts, regions and days. S3 ingest
// stores exactly what local ingest of the same files stores; a second run reads nothing; new
// objects are the only ones read by the next.
func TestS3IngestEqualsLocal(t *testing.T) {
	srv := vgwtest.Start(t)
	client := s3Client(t, srv)
	orgDir, orgTruth := genTrail(t, generate.Options{Seed: 11, Events: 36000, EventsPerFile: 14, Days: 12, Accounts: 3})
	soloDir, soloTruth := genTrail(t, generate.Options{Seed: 12, Events: 9000, EventsPerFile: 14, Days: 12, Accounts: 1, NoOrg: true, Regions: []string{"us-east-1", "eu-central-1"}})
	start := time.Now()
	n := upload(t, client, "org-trail", "cloudtrail/", orgDir) + upload(t, client, "solo-trail", "", soloDir)
	t.Logf("uploaded %d objects (%d log files) in %s", n, orgTruth.LogFiles+soloTruth.LogFiles, time.Since(start).Round(time.Millisecond))

	want := lakeRows(t, ingestLocal(t, orgDir, soloDir))
	if len(want) != 45000 {
		t.Fatalf("local ingest stored %d events, want 45000", len(want))
	}

	stats := counters()
	trails := []*s3src.Trail{
		{API: client, Bucket: "org-trail", Prefix: "cloudtrail", Stats: stats},
		{API: client, Bucket: "solo-trail", Stats: stats},
	}
	l := t.TempDir()
	st, err := runS3(t, l, Options{}, trails...)
	if err != nil {
		t.Fatal(err)
	}
	logFiles := orgTruth.LogFiles + soloTruth.LogFiles
	if st.Failed() || st.FilesRead != logFiles || st.EventsAdded != 45000 || st.FilesSkipped != 0 {
		t.Fatalf("S3 ingest: %d files read (want %d), %d skipped, %d events added, problems %v", st.FilesRead, logFiles, st.FilesSkipped, st.EventsAdded, st.Problems)
	}
	if got := stats.Gets.Load(); got != int64(logFiles) {
		t.Errorf("%d GET requests for %d log files (digest files must not be fetched)", got, logFiles)
	}
	sameRows(t, "S3 ingest against local ingest", lakeRows(t, l), want)
	t.Logf("S3 ingest: %d LIST, %d GET requests", stats.Lists.Load(), stats.Gets.Load())

	// Again: nothing is read.
	*stats = s3src.Counters{}
	st, err = runS3(t, l, Options{}, trails...)
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 0 || st.FilesUnchanged != logFiles || stats.Gets.Load() != 0 {
		t.Fatalf("second run: %d files read, %d unchanged (want %d), %d GETs", st.FilesRead, st.FilesUnchanged, logFiles, stats.Gets.Load())
	}

	// New deliveries to the organization trail: only they are read.
	newDir, newTruth := genTrail(t, generate.Options{Seed: 13, Events: 2000, EventsPerFile: 14, Days: 1, Accounts: 3, OrgID: orgTruth.OrgID, End: end.Add(36 * time.Hour)})
	upload(t, client, "org-trail", "cloudtrail/", newDir)
	*stats = s3src.Counters{}
	st, err = runS3(t, l, Options{}, trails...)
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != newTruth.LogFiles || st.FilesUnchanged != logFiles || st.EventsAdded != 2000 || stats.Gets.Load() != int64(newTruth.LogFiles) {
		t.Fatalf("run after new deliveries: %d files read (want %d), %d unchanged, %d added, %d GETs", st.FilesRead, newTruth.LogFiles, st.FilesUnchanged, st.EventsAdded, stats.Gets.Load())
	}
	sameRows(t, "S3 ingest after new deliveries", lakeRows(t, l), lakeRows(t, ingestLocal(t, orgDir, soloDir, newDir)))
	if problems, err := lake.Check(l); err != nil || len(problems) > 0 {
		t.Fatalf("lake check: %v %v", err, problems)
	}
}

// Fault injection: the S3 server is killed in the middle of an ingest. The run reports the objects
// it could not read (none is marked done), keeps what it read whole, and, with the server back,
// the next run reads the rest: the lake is the one a clean run makes, nothing lost or doubled.
func TestS3ServerKilledMidIngest(t *testing.T) {
	srv := vgwtest.Start(t)
	client := s3Client(t, srv, func(o *s3src.ClientOptions) { o.MaxAttempts = 2; o.MaxBackoff = 20 * time.Millisecond })
	dir, truth := genTrail(t, generate.Options{Seed: 21, Events: 24000, EventsPerFile: 12, Days: 10, Accounts: 2})
	upload(t, client, "trail", "", dir)
	want := lakeRows(t, ingestLocal(t, dir))

	l := t.TempDir()
	tr := &s3src.Trail{API: client, Bucket: "trail", Stats: counters(), ResumePause: time.Millisecond}
	killed := false
	// Small commits, so that some are made before the kill and the rerun must not redo them.
	opt := Options{CommitRows: 3000, Progress: func(s Stats) {
		if !killed && s.FilesRead >= truth.LogFiles/3 {
			killed = true
			srv.Kill()
		}
	}}
	st, err := runS3(t, l, opt, tr)
	if err != nil {
		t.Fatal(err)
	}
	if !killed || !st.Failed() {
		t.Fatalf("the server was killed: %v; the run failed: %v (%d of %d files read)", killed, st.Failed(), st.FilesRead, truth.LogFiles)
	}
	if st.FilesRead >= truth.LogFiles || st.Commits < 2 {
		t.Fatalf("killed run read %d of %d files in %d commits: the kill came too late", st.FilesRead, truth.LogFiles, st.Commits)
	}
	firstRead := st.FilesRead
	failures := 0
	for _, p := range st.Problems {
		if !p.Warning {
			failures++
			if !strings.Contains(p.Message, "s3://trail/") && p.File != "listing" {
				t.Errorf("problem does not name the object: %s", p)
			}
		}
	}
	t.Logf("killed run: %d files read, %d failed, %d list errors, %d commits, %d problems", st.FilesRead, st.FilesFailed, st.ListErrors, st.Commits, failures)

	// The ledger records the objects read whole and committed. An object being read when the
	// server died may be counted as read but not recorded (seen once on a loaded machine: 679
	// read, 678 recorded); the rerun reads exactly the objects not recorded.
	info, err := lake.ReadInfo(l)
	if err != nil {
		t.Fatal(err)
	}
	recorded := info.Sources.S3Objects
	if recorded > firstRead || recorded < firstRead-st.FilesFailed-1 {
		t.Fatalf("the killed run read %d objects but the ledger records %d", firstRead, recorded)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err = runS3(t, l, Options{}, tr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() || st.FilesUnchanged != recorded || st.FilesRead != truth.LogFiles-recorded {
		t.Fatalf("rerun: %d read, %d unchanged (want %d read, %d unchanged), problems %v", st.FilesRead, st.FilesUnchanged, truth.LogFiles-recorded, recorded, st.Problems)
	}
	sameRows(t, "lake after a kill and a rerun", lakeRows(t, l), want)
	if problems, err := lake.Check(l); err != nil || len(problems) > 0 {
		t.Fatalf("lake check: %v %v", err, problems)
	}
}

// An interrupted run (Ctrl-C) commits what it read whole and reports it; the next run goes on.
func TestS3Interrupted(t *testing.T) {
	srv := vgwtest.Start(t)
	client := s3Client(t, srv)
	dir, truth := genTrail(t, generate.Options{Seed: 31, Events: 12000, EventsPerFile: 12, Days: 5, Accounts: 1})
	upload(t, client, "trail", "", dir)
	l := t.TempDir()
	tr := &s3src.Trail{API: client, Bucket: "trail"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := RunObjects(ctx, Options{Lake: l, Workers: 8, Progress: func(s Stats) {
		if s.FilesRead == truth.LogFiles/2 {
			cancel()
		}
	}}, S3Lister(tr, s3src.Filter{}))
	if err != context.Canceled || !st.Interrupted || st.Failed() {
		t.Fatalf("interrupted run: err %v, interrupted %v, failed %v %v", err, st.Interrupted, st.Failed(), st.Problems)
	}
	read := st.FilesRead
	snap, err := lake.OpenSnapshot(l)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Rows() != st.EventsAdded || read < truth.LogFiles/2 || read == truth.LogFiles {
		t.Fatalf("interrupted run: %d files read, %d events added, %d rows committed", read, st.EventsAdded, snap.Rows())
	}
	st, err = RunObjects(context.Background(), Options{Lake: l, Workers: 8}, S3Lister(tr, s3src.Filter{}))
	if err != nil || st.Failed() || st.FilesUnchanged != read || st.FilesRead != truth.LogFiles-read {
		t.Fatalf("next run: err %v, %d read, %d unchanged, problems %v", err, st.FilesRead, st.FilesUnchanged, st.Problems)
	}
	sameRows(t, "lake after an interruption and a rerun", lakeRows(t, l), lakeRows(t, ingestLocal(t, dir)))
}
