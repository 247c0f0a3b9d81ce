package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/lake"
)

// check finds random bytes written inside a data file whose footer is intact, says what they
// affect and which sources rebuild it; --repair quarantines the file, and ingesting again
// restores the lake to what it was.
func TestCheckRepairsDamagedFile(t *testing.T) {
	dir := t.TempDir()
	in := writeTrail(t, filepath.Join(dir, "in"), 6, 50)
	l := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", l, in)
	const fingerprint = "SELECT CAST(count(*) AS varchar) || '/' || to_hex(md5(to_utf8(array_join(array_sort(array_agg(concat_ws('|', eventid, eventtime, coalesce(requestparameters, ''), account, day))), ',')))) FROM cloudtrail_logs"
	want := scalar(t, l, fingerprint)
	if out := mustRun(t, 0, "check", "--lake", l); !strings.Contains(out, "ok: no problem found") || !strings.Contains(out, "300 events") {
		t.Fatalf("check of a sound lake:\n%s", out)
	}
	snap, err := lake.OpenSnapshot(l)
	if err != nil {
		t.Fatal(err)
	}
	f := snap.Files[0]
	fh, err := os.OpenFile(filepath.Join(l, f.Path), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteAt([]byte("random bytes, footer intact"), f.Bytes/3)
	fh.Close()

	out := mustRun(t, 1, "check", "--lake", l)
	for _, s := range []string{"checksum", f.Path, "affects: ", "rebuilt from", "check --repair"} {
		if !strings.Contains(out, s) {
			t.Errorf("check output lacks %q:\n%s", s, out)
		}
	}
	var rep lake.Report
	if err := json.Unmarshal([]byte(mustRun(t, 1, "check", "--lake", l, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != lake.DamageChecksum || rep.Problems[0].Events != f.Rows || len(rep.Problems[0].Sources) == 0 {
		t.Fatalf("json report: %+v", rep)
	}
	out = mustRun(t, 0, "check", "--lake", l, "--repair")
	if !strings.Contains(out, "[repaired]") || !strings.Contains(out, "ingest these") {
		t.Fatalf("repair output:\n%s", out)
	}
	if got, left := scalar(t, l, "SELECT count(*) FROM cloudtrail_logs"), fmt.Sprint(300-f.Rows); got != left {
		t.Fatalf("after repair %s events, want %s (the damaged file's %d taken out)", got, left, f.Rows)
	}
	mustRun(t, 0, "ingest", "--lake", l, in)
	if got := scalar(t, l, fingerprint); got != want {
		t.Fatalf("after repair and ingest: %s, want %s", got, want)
	}
	mustRun(t, 0, "check", "--lake", l)
}

// The ledger forgery of issue 9: a manifest written into the ledger whose Replaces names the live
// files and a file beside the lake. Queries and ingest refuse the lake, saying what to do, nothing
// is deleted, and check --repair brings every event back.
func TestForgedLedgerEntryRefused(t *testing.T) {
	dir := t.TempDir()
	in := writeTrail(t, filepath.Join(dir, "in"), 4, 25)
	l := filepath.Join(dir, "lake")
	mustRun(t, 0, "ingest", "--lake", l, in)
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("x"), 0o644)
	snap, err := lake.OpenSnapshot(l)
	if err != nil {
		t.Fatal(err)
	}
	replaces := []string{"../victim.txt"}
	for _, f := range snap.Files {
		replaces = append(replaces, f.Path)
	}
	forged, _ := json.Marshal(map[string]any{"seq": 99, "id": "forged", "time": "2024-01-01T00:00:00Z", "files": []any{}, "replaces": replaces})
	os.WriteFile(filepath.Join(l, "_trailsql", "commits", "0000000000000099-forged.json"), forged, 0o644)

	code, _, errOut := run(t, "", "query", "--lake", l, "SELECT count(*) FROM cloudtrail_logs")
	if code == 0 || !strings.Contains(errOut, "0000000000000099-forged.json") || !strings.Contains(errOut, "check --repair") {
		t.Fatalf("query over a forged ledger: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "", "ingest", "--lake", l, in)
	if code == 0 || !strings.Contains(errOut, "check --repair") {
		t.Fatalf("ingest over a forged ledger: exit %d\n%s", code, errOut)
	}
	mustRun(t, 1, "compact", "--lake", l, "--keep", "0s")
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file beside the lake: %v", err)
	}
	for _, f := range snap.Files {
		if _, err := os.Stat(filepath.Join(l, f.Path)); err != nil {
			t.Fatalf("a live file: %v", err)
		}
	}
	if out := mustRun(t, 1, "check", "--lake", l); !strings.Contains(out, "manifest") || !strings.Contains(out, "forged") {
		t.Fatalf("check:\n%s", out)
	}
	mustRun(t, 0, "check", "--lake", l, "--repair")
	if got := scalar(t, l, "SELECT count(*) FROM cloudtrail_logs"); got != "100" {
		t.Fatalf("after repair: %s events, want 100", got)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file beside the lake: %v", err)
	}
}
