package lake

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// countingObserver records which event ids each commit was shown.
type countingObserver struct {
	mu        sync.Mutex
	pending   map[string][]string // commit id → event ids shown
	committed map[int64][]string
	abandoned int
}

func (o *countingObserver) Rows(commit string, p Partition, rows []*cloudtrail.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rows {
		o.pending[commit] = append(o.pending[commit], p.Day+"/"+*r.EventID)
	}
}

func (o *countingObserver) Committed(commit string, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.committed[seq] = o.pending[commit]
	delete(o.pending, commit)
}

// TestObserverSeesEachAddedRowOnce: the observer is shown every row a commit adds, once, under
// the commit that holds it — rows cut into several row groups and spilled files included,
// duplicates and a compaction's copies not; rows of an abandoned commit are never reported
// committed.
func TestObserverSeesEachAddedRowOnce(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	obs := &countingObserver{pending: map[string][]string{}, committed: map[int64][]string{}}
	open := func() *Writer {
		// Small row groups and buffers: the rows go out in many background batches.
		w, err := OpenWriter(ctx, root, WriterOptions{Observer: obs, RowGroupRows: 37, BufferedRows: 100, MaxOpenFiles: 2})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	add := func(w *Writer, from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			r := rec(i)
			p := part
			p.Day = fmt.Sprintf("%02d", 1+i%3) // three partitions, written in turn
			ok, err := w.Add(p, r, cloudtrail.Hash(r))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				n++
			}
		}
		return n
	}
	w := open()
	if n := add(w, 0, 500); n != 500 {
		t.Fatalf("added %d", n)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := add(w, 400, 900); n != 400 { // 100 duplicates
		t.Fatalf("added %d", n)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	add(w, 900, 950) // never committed
	w.Close()

	w = open()
	if n := add(w, 900, 1000); n != 100 {
		t.Fatalf("after the abandoned commit: added %d, want 100", n)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := w.Compact(ctx, 2, 0); err != nil || st.Rows == 0 {
		t.Fatalf("compaction: %+v, %v", st, err)
	}
	w.Close()

	want := map[int64]int{1: 500, 2: 400, 3: 100, 4: 0}
	seen := map[string]int64{}
	for seq, ids := range obs.committed {
		if len(ids) != want[seq] {
			t.Errorf("commit %d: shown %d rows, want %d", seq, len(ids), want[seq])
		}
		for _, id := range ids {
			if prev, dup := seen[id]; dup {
				t.Errorf("row %s shown in commits %d and %d", id, prev, seq)
			}
			seen[id] = seq
		}
	}
	if len(obs.committed) != len(want) {
		t.Errorf("commits reported: %d, want %d (the compaction's included, with no rows)", len(obs.committed), len(want))
	}
	snap, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(seen)) != snap.Rows() {
		t.Errorf("shown %d distinct committed rows, the lake holds %d", len(seen), snap.Rows())
	}
}
