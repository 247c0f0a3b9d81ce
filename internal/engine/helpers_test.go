package engine

import (
	"context"
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
