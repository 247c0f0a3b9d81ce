package rules_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/testshared"
)

// liveLake is a lake filled run by run, each run's rows shown to a rules.Live as they are
// written (unless a run says otherwise), and detected after it as `trailsql ingest` does.
type liveLake struct {
	detectLake // its detect evaluates the new commits
	live       *rules.Live
}

func (l *liveLake) ingest(observe bool, paths ...string) {
	l.t.Helper()
	opt := ingest.Options{Lake: l.root, Workers: 2, CompactFiles: -1}
	if observe {
		opt.Observer = l.live
	}
	if _, err := ingest.Run(context.Background(), opt, paths); err != nil {
		l.t.Fatal(err)
	}
}

// everyField prints alerts whole (but for the commit that stored them), sorted.
func everyField(as []rules.Alert) []string {
	var out []string
	for _, a := range as {
		a.Commit = 0
		out = append(out, fmt.Sprintf("%+v", a))
	}
	sort.Strings(out)
	return out
}

// values is the alerts as values.
func values(as []*rules.Alert) []rules.Alert {
	out := make([]rules.Alert, len(as))
	for i, a := range as {
		out[i] = *a
	}
	return out
}

func trailFiles(t *testing.T, dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "Digest") {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	return files
}

// Rules evaluated in Go as the rows are written store exactly the alerts the SQL scan finds:
// every field of every alert, over the built-in and Sigma rules and two with dedup keys, a
// generated trail ingested in runs and every folder of real events in ../shared/datasets; the
// rules Live does not evaluate are scanned for, and Live says why for each.
func TestLiveEqualsScan(t *testing.T) {
	ctx := context.Background()
	ruleFile := filepath.Join(t.TempDir(), "live.yml")
	writeFile(t, ruleFile, "rules:\n"+dedupRules)
	loaded, err := rules.Load(rules.Sources{Files: []string{ruleFile}, Sigma: []string{testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		t.Fatal(err, loaded.Errors)
	}
	trail := t.TempDir()
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 11, Events: 6000, EventsPerFile: 50, Days: 3, Accounts: 2,
		End: time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	files := trailFiles(t, trail)
	runs := [][]string{files[:len(files)/3], files[len(files)/3 : 2*len(files)/3], files[2*len(files)/3:]}
	shared := testshared.Dir(t, "datasets")
	for _, d := range []string{"aws-cloudtrail-processing-library", "awsdocs-cloudtrail-user-guide", "opensearch-observability-samples",
		"otrf-security-datasets", "panther-analysis", "plaso-lookup-events", "stratus-red-team"} {
		runs = append(runs, []string{filepath.Join(shared, d)})
	}

	l := &liveLake{detectLake: detectLake{t: t, root: filepath.Join(t.TempDir(), "lake")}}
	// The first run before the engine opens (it needs a lake): not observed, scanned.
	l.ingest(false, runs[0]...)
	if l.e, err = local.Open(ctx, engine.Options{Lake: l.root}); err != nil {
		t.Fatal(err)
	}
	defer l.e.Close()
	var perEvent []*rules.Rule
	for _, r := range loaded.Rules {
		if r.Threshold == nil { // thresholds count across runs: tested on their own
			perEvent = append(perEvent, r)
		}
	}
	ok, problems := rules.Validate(ctx, local.Engine(l.e), perEvent)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	l.live = rules.NewLive(ok)
	l.det = &rules.Detector{Store: rules.OpenStore(l.root), Rules: ok, PathOf: l.e.PathOf, Live: l.live}
	covered := len(l.live.Covers())
	for _, r := range l.live.Rest {
		t.Logf("scanned, not evaluated as rows arrive: %s: %v", r.ID, l.live.Why[r.ID])
	}
	t.Logf("%d of %d rules evaluated as rows arrive", covered, len(ok))
	if covered < len(ok)*3/4 {
		t.Errorf("only %d of %d rules are evaluated as rows arrive", covered, len(ok))
	}
	// The alerts each detection stored, by the commit it evaluated (each run makes one).
	byCommit := map[int64]int{}
	d := l.detect()
	if d.Live != 0 || d.Alerts.Len() == 0 {
		t.Fatalf("a run Live did not see: %s (want it scanned)", d)
	}
	byCommit[d.To] = d.Alerts.Len()
	for i, run := range runs[1:] {
		l.ingest(true, run...)
		d := l.detect()
		if d.Live != covered {
			t.Fatalf("run %d: %s; want %d rules evaluated as the rows arrived", i+1, d, covered)
		}
		t.Logf("run %d: %s", i+1, d)
		if d.Alerts.Len() > 0 {
			byCommit[d.To] = d.Alerts.Len()
		}
	}
	stored, backtest := l.storedAndWhole(ok)
	storedBy := map[int64]int{}
	for _, a := range stored {
		storedBy[a.Commit]++
	}
	if !maps.Equal(storedBy, byCommit) {
		t.Errorf("alerts stored by commit: %v; the detections found %v", storedBy, byCommit)
	}
	got, want := everyField(stored), everyField(backtest)
	if len(want) < 100 {
		t.Fatalf("the events fire %d alerts: the test proves little", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored %d alerts, the scan finds %d:\n%s", len(got), len(want), diff(got, want))
	}
	t.Logf("%d alerts, every field equal", len(got))
	for _, id := range []string{"dedup-by-caller", "dedup-as-default"} {
		if !slices.ContainsFunc(stored, func(a rules.Alert) bool { return a.Rule == id }) {
			t.Errorf("rule %s fired on nothing: the test proves little for it", id)
		}
	}
}

// A commit Live did not see (rows an earlier process added, before a crash) is scanned for
// every rule, the commits after it too when detected together: nothing is lost.
func TestLiveFallsBackToTheScan(t *testing.T) {
	ctx := context.Background()
	trail := t.TempDir()
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 3, Events: 3000, EventsPerFile: 40, Days: 2, Accounts: 1,
		End: time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	files := trailFiles(t, trail)
	n := len(files) / 4
	l := &liveLake{detectLake: detectLake{t: t, root: filepath.Join(t.TempDir(), "lake")}}
	l.ingest(false, files[:n]...)
	var err error
	if l.e, err = local.Open(ctx, engine.Options{Lake: l.root}); err != nil {
		t.Fatal(err)
	}
	defer l.e.Close()
	rs := perEvent(t)
	l.live = rules.NewLive(rs)
	l.det = &rules.Detector{Store: rules.OpenStore(l.root), Rules: rs, PathOf: l.e.PathOf, Live: l.live}
	l.detect()
	l.ingest(false, files[n:2*n]...) // an earlier process's commit, never shown to this Live
	l.ingest(true, files[2*n:3*n]...)
	if d := l.detect(); d.Live != 0 || d.From+1 != d.To {
		t.Errorf("two commits, one unseen: %s; want both scanned", d)
	}
	l.ingest(true, files[3*n:]...)
	if d := l.detect(); d.Live == 0 || d.Live != len(l.live.Covers()) {
		t.Errorf("a commit Live saw: %s; want its %d rules taken from Live", d, len(l.live.Covers()))
	}
	stored, err := l.det.Store.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	backtest, err := rules.Evaluate(ctx, local.Engine(l.e), rs, rules.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := everyField(stored), everyField(values(backtest)); !slices.Equal(got, want) {
		t.Errorf("stored %d alerts, the scan finds %d:\n%s", len(got), len(want), diff(got, want))
	}
}

// failedSignIns writes a trail file of failed console sign-ins from ip, one per minute offset.
func failedSignIns(t *testing.T, dir, name, ip string, minutes ...int) string {
	t.Helper()
	var recs []string
	for _, m := range minutes {
		at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute).Format(time.RFC3339)
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","accountId":"111122223333","userName":"alice"},`+
			`"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":%q,`+
			`"userAgent":"Mozilla/5.0","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},`+
			`"additionalEventData":{"MFAUsed":"No"},"eventID":"%s-%d","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,`+
			`"recipientAccountId":"111122223333","eventCategory":"Management"}`, at, ip, name, m))
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storedAndWhole returns the alerts stored, and those of a backtest of rs over the whole lake.
func (l *detectLake) storedAndWhole(rs []*rules.Rule) (stored, whole []rules.Alert) {
	l.t.Helper()
	stored, err := l.det.Store.Alerts()
	if err != nil {
		l.t.Fatal(err)
	}
	refs, err := rules.Evaluate(context.Background(), local.Engine(l.e), rs, rules.Scope{})
	if err != nil {
		l.t.Fatal(err)
	}
	return stored, values(refs)
}

// signInLake is a lake of one failed sign-in (an engine opens on a lake that exists), with an
// engine over it, for tests to ingest runs into.
func signInLake(t *testing.T, dir string) *liveLake {
	t.Helper()
	l := &liveLake{detectLake: detectLake{t: t, root: filepath.Join(t.TempDir(), "lake")}}
	l.ingest(false, failedSignIns(t, dir, "z", "192.0.2.1", 100))
	var err error
	if l.e, err = local.Open(context.Background(), engine.Options{Lake: l.root}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.e.Close() })
	return l
}

// A threshold rule evaluated as rows arrive counts the new rows' matches with those of the older
// rows in its window (found by a scan of the older files alone): the alerts stored equal those of
// the scan of the whole window, run after run — bursts that span runs, and late events older than
// the previous run's last, included.
func TestLiveThresholdsEqualScan(t *testing.T) {
	dir := t.TempDir()
	runs := [][]string{
		{failedSignIns(t, dir, "a1", "203.0.113.5", 0, 2, 4), failedSignIns(t, dir, "b1", "198.51.100.7", 0, 1)},
		{failedSignIns(t, dir, "a2", "203.0.113.5", 1, 3, 6, 30, 31), failedSignIns(t, dir, "b2", "198.51.100.7", 2, 3)},
		{failedSignIns(t, dir, "a3", "203.0.113.5", 5, 7, 8, 9, 32, 33), failedSignIns(t, dir, "b3", "198.51.100.7", 4, 40)},
		{failedSignIns(t, dir, "a4", "203.0.113.5", 10, 34, 35, 36)},
	}
	rs := builtin(t)
	stored := map[bool][]string{}
	for _, observe := range []bool{true, false} {
		l := signInLake(t, dir)
		l.live = rules.NewLive(rs)
		if !observe {
			l.live = nil
		}
		l.det = &rules.Detector{Store: rules.OpenStore(l.root), Rules: rs, PathOf: l.e.PathOf}
		if observe {
			l.det.Live = l.live
		}
		l.detect()
		for i, run := range runs {
			l.ingest(observe, run...)
			d := l.detect()
			if observe && d.Live != len(l.live.Covers()) {
				t.Fatalf("run %d: %s; want every rule from Live", i, d)
			}
		}
		as, err := l.det.Store.Alerts()
		if err != nil {
			t.Fatal(err)
		}
		stored[observe] = everyField(as)
	}
	bursts := 0
	for _, a := range stored[true] {
		if strings.Contains(a, "failed-signin-burst") {
			bursts++
		}
	}
	if bursts < 3 {
		t.Fatalf("%d bursts found: the test proves little\n%s", bursts, strings.Join(stored[true], "\n"))
	}
	if !slices.Equal(stored[true], stored[false]) {
		t.Errorf("with Live %d alerts, with the scan %d:\n%s", len(stored[true]), len(stored[false]), diff(stored[true], stored[false]))
	}
}

// A threshold rule's counting starts again after each alert it raised, in an earlier detection
// too: a burst that fired in one run does not fire again with the next run's event, which the
// burst's last events and it make the count with (the window read by the next detection starts
// after the burst's first event). Run by run, the alerts stored equal a backtest of the whole,
// with the rows evaluated as they arrive, by the scan, and by two detectors taking turns (two
// processes: each reads again what the other stored).
func TestThresholdCountsAfterEarlierAlerts(t *testing.T) {
	dir := t.TempDir()
	runs := [][]string{
		{failedSignIns(t, dir, "c1", "203.0.113.9", 0, 6, 7, 8, 9)},  // a burst, 09:00–09:09
		{failedSignIns(t, dir, "c2", "203.0.113.9", 11)},             // with 09:06–09:09, five in ten minutes
		{failedSignIns(t, dir, "c3", "203.0.113.9", 12, 13, 14, 15)}, // with 09:11, a second burst
	}
	rs := builtin(t)
	for _, mode := range []string{"observe", "scan", "take turns"} {
		observe := mode == "observe"
		l := signInLake(t, dir)
		l.det = &rules.Detector{Store: rules.OpenStore(l.root), Rules: rs, PathOf: l.e.PathOf}
		if observe {
			l.live = rules.NewLive(rs)
			l.det.Live = l.live
		}
		l.detect()
		other := &rules.Detector{Store: rules.OpenStore(l.root), Rules: rs, PathOf: l.e.PathOf}
		for _, run := range runs {
			l.ingest(observe, run...)
			if mode == "take turns" {
				l.det, other = other, l.det
			}
			l.detect()
		}
		as, whole := l.storedAndWhole(rs)
		var bursts []string
		for _, a := range as {
			if a.Rule == "failed-signin-burst" {
				bursts = append(bursts, a.FirstTime+"–"+a.EventTime)
			}
		}
		if want := []string{"2024-05-01T09:00:00Z–2024-05-01T09:09:00Z", "2024-05-01T09:11:00Z–2024-05-01T09:15:00Z"}; !slices.Equal(bursts, want) {
			t.Errorf("%s: bursts %v, want %v", mode, bursts, want)
		}
		if got, want := everyField(as), everyField(whole); !slices.Equal(got, want) {
			t.Errorf("%s: stored run by run %d alerts, a backtest of the whole %d:\n%s", mode, len(got), len(want), diff(got, want))
		}
	}
}
