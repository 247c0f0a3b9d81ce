package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/rules"
)

// TestDetectionMidPass: an ingest that evaluates its commits whenever the alerts held reach a
// bound (ingest.Options.AfterPassDue, daemon.Detection.Due) stores exactly the alerts of one that
// evaluates them once at the pass's end — the threshold rules' counts across those commits
// included — each once, over several detections.
func TestDetectionMidPass(t *testing.T) {
	loaded, err := rules.Load(rules.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	trail := t.TempDir()
	if _, err := generate.Generate(context.Background(), trail, generate.Options{Seed: 3, Events: 20000, Days: 10, Accounts: 1, Regions: []string{"us-east-1"},
		End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	ingestWith := func(hold int) ([]string, int) {
		lake := filepath.Join(t.TempDir(), "lake")
		det := &daemon.Detection{Lake: lake, Rules: loaded.Rules, HoldAlerts: hold}
		defer det.Close()
		runs, reported := 0, 0
		opt := ingest.Options{Lake: lake, Workers: 1, ChunkEvents: 64, CommitRows: 1000, Observer: det.Observer(), AfterPass: func(ctx context.Context) error {
			return det.Run(ctx, func(_ context.Context, _ answer.QueryFunc, d *rules.Detection) error {
				runs++
				reported += d.Alerts.Len()
				return nil
			})
		}}
		if hold > 0 {
			opt.AfterPassDue = det.Due
		}
		st, err := ingest.RunObjects(context.Background(), opt, ingest.PathLister([]string{trail}))
		if err != nil || st.Failed() {
			t.Fatal(err, st.Problems)
		}
		stored, err := rules.OpenStore(lake).Alerts()
		if err != nil {
			t.Fatal(err)
		}
		if reported != len(stored) {
			t.Errorf("hold %d: %d alerts reported by the detections, %d stored", hold, reported, len(stored))
		}
		var keys []string
		for _, a := range stored {
			keys = append(keys, fmt.Sprint(a.Rule, " ", a.Dedup, " ", a.EventID, " ", a.Count, " ", a.FirstTime))
		}
		slices.Sort(keys)
		return keys, runs
	}
	want, runs := ingestWith(0)
	if runs != 1 || len(want) < 100 {
		t.Fatalf("at the pass's end: %d detections, %d alerts; want 1 and enough alerts to prove something", runs, len(want))
	}
	got, runs := ingestWith(len(want) / 10)
	if runs < 5 {
		t.Errorf("%d detections for %d alerts held at most %d at a time", runs, len(want), len(want)/10)
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Error("an alert stored twice")
	}
	if !slices.Equal(got, want) {
		t.Errorf("mid-pass detections stored %d alerts, the pass's end %d; first differences:\n%v\n%v", len(got), len(want), head(got, want), head(want, got))
	}
}

// head is up to 5 of a's elements that b does not hold.
func head(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok && len(out) < 5 {
			out = append(out, x)
		}
	}
	return out
}
