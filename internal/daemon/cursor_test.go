package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/rules"
)

// ingestStored ingests the files of dir into lake and stores their alerts, without any
// notifier: what a run leaves when it is killed after the alerts are stored and before they
// are queued (or what 'trailsql ingest' does to a lake before its first run).
func ingestStored(t *testing.T, lake, dir string) int {
	t.Helper()
	loaded, err := rules.Load(rules.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	det := &daemon.Detection{Lake: lake, Rules: loaded.Rules}
	defer det.Close()
	stored := 0
	opt := ingest.Options{Lake: lake, Workers: 1, AfterPass: func(ctx context.Context) error {
		return det.Run(ctx, func(_ context.Context, _ answer.QueryFunc, d *rules.Detection) error {
			stored += d.Alerts.Len()
			return nil
		})
	}}
	if _, err := ingest.RunObjects(context.Background(), opt, ingest.PathLister([]string{dir})); err != nil {
		t.Fatal(err)
	}
	if stored == 0 {
		t.Fatal("the trail raised no alert: the test proves nothing")
	}
	return stored
}

// runUntil runs daemon.Run over lake until it has delivered want messages to r (or fails
// after a minute), stops it, and returns the IDs received.
func runFor(t *testing.T, lake string, cfg *daemon.Config, r *receiver, want int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health, done, _ := start(ctx, lake, cfg)
	got := map[string]int{}
	for range want {
		got[wait(t, r.got, "a message").Data.ID]++
	}
	// two idle cycles: nothing more comes
	wait(t, health, "a cycle")
	wait(t, health, "a cycle")
	cancel()
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	for len(r.got) > 0 {
		got[(<-r.got).Data.ID]++
	}
	return got
}

// TestCursorQueuesWhatACrashLeft: alerts stored and never queued (a run killed between the
// two) are queued at the next start, each delivered once; a cursor moved back (a crash after
// the queue, before the cursor's write) queues them again and the outbox takes each once.
func TestCursorQueuesWhatACrashLeft(t *testing.T) {
	trail, later, lake := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeTrail(t, trail, "one.json", rootLogin)
	r := newReceiver(t, false)
	cfg := r.config(t, trail)
	ctx, cancel := context.WithCancel(context.Background())
	health, done, _ := start(ctx, lake, cfg)
	first := wait(t, health, "first cycle").Alerts
	got := map[string]int{}
	for range first {
		got[wait(t, r.got, "message of the first cycle").Data.ID]++
	}
	cancel()
	if err := wait(t, done, "end of the run"); err != nil {
		t.Fatal(err)
	}
	cur, err := daemon.OpenCursor(lake, daemon.StartNow, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before := cur.Commit

	// The "crash": alerts stored, not queued.
	writeTrail(t, later, "two.json", keyForBob)
	stored := ingestStored(t, lake, later)
	again := runFor(t, lake, cfg, r, stored)
	for id, n := range again {
		if n > 1 || got[id] > 0 {
			t.Fatalf("message %s delivered %d times (and %d before)", id, n, got[id])
		}
		got[id] += n
	}
	if len(again) != stored {
		t.Fatalf("%d messages after the restart; %d alerts were stored and not queued", len(again), stored)
	}
	cur, _ = daemon.OpenCursor(lake, daemon.StartNow, time.Now())
	if cur.Commit <= before {
		t.Fatalf("cursor at %d, was %d: it did not move", cur.Commit, before)
	}

	// A crash after the queue, before the cursor moved: the cursor is back, the alerts are
	// queued again; the outboxes know their IDs and nothing is sent twice.
	if err := cur.Save(before, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := len(runFor(t, lake, cfg, r, 0)); n != 0 {
		t.Fatalf("%d messages sent again after the cursor moved back", n)
	}
}

// TestStartNowAndAll: on a lake with history, the first start with start: now sends none of
// its alerts (they stay stored) and sends those of new events; with start: all it sends the
// history's too.
func TestStartNowAndAll(t *testing.T) {
	for _, mode := range []string{daemon.StartNow, daemon.StartAll} {
		t.Run(mode, func(t *testing.T) {
			history, trail, lake := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "lake")
			writeTrail(t, history, "old.json", rootLogin)
			old := ingestStored(t, lake, history)
			r := newReceiver(t, false)
			cfg := r.config(t, trail)
			cfg.Start = mode
			writeTrail(t, trail, "new.json", keyForBob)
			// The new file's alerts alone: from a lake of its own.
			fresh := ingestStored(t, filepath.Join(t.TempDir(), "lake"), trail)
			want := fresh
			if mode == daemon.StartAll {
				want += old
			}
			got := runFor(t, lake, cfg, r, want)
			if len(got) != want {
				t.Fatalf("start %s: %d messages, want %d (history %d, new %d)", mode, len(got), want, old, fresh)
			}
			all, err := rules.OpenStore(lake).Alerts()
			if err != nil || len(all) != old+fresh {
				t.Fatalf("%d alerts stored (%v), want %d: the history's are kept", len(all), err, old+fresh)
			}
			data, err := os.ReadFile(filepath.Join(lake, "notify", daemon.CursorFile))
			if err != nil || !strings.Contains(string(data), `"start": "`+mode+`"`) {
				t.Fatalf("cursor file: %s %v", data, err)
			}
		})
	}
}
