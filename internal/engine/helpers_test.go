package engine

import (
	"context"
	"sync"
	"testing"
)

// withSession runs fn with a statement's hold on e: the newest generation and one of its
// connections, the one the next statement gets when none runs (connections are reused last in,
// first out), so that fn sees what statements left there.
func withSession(t testing.TB, e *Engine, fn func(s *session)) {
	t.Helper()
	ctx := context.Background()
	g, err := e.current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.leave(g)
	cn, err := e.take(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	defer g.give(cn)
	fn(&session{core: e.core, g: g, cn: cn, q: e.limits()})
}

// untilStopped starts n goroutines, counted by wg; goroutine g calls fn(g), fn(g+1), … until stop
// is closed or fn returns false.
func untilStopped(wg *sync.WaitGroup, n int, stop <-chan struct{}, fn func(i int) bool) {
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !fn(i) {
					return
				}
			}
		}()
	}
}
