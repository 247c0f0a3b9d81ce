// Package daemon is trailsql's long-running mode: it collects CloudTrail from its sources cycle
// after cycle (the ingest pipeline of 'trailsql ingest --watch'), runs the detection rules on
// each commit, and hands the new alerts, written in plain language, to the notifier, which
// delivers them. Its parts run as start/stop pairs in a Group, as Prometheus composes its own.
package daemon

import "sync"

// Group runs actors, each a start function and the stop function that makes it return; when
// the first returns, every other is stopped, as with Prometheus' run.Group (oklog/run).
type Group struct {
	actors []actor
}

type actor struct {
	execute   func() error
	interrupt func(error)
}

// Add adds an actor: execute runs until it is done or interrupt is called (with the error of
// the actor that returned first).
func (g *Group) Add(execute func() error, interrupt func(error)) {
	g.actors = append(g.actors, actor{execute, interrupt})
}

// Run starts every actor, waits for the first to return, interrupts them all, and waits for
// the others; it returns the first one's error.
func (g *Group) Run() error {
	if len(g.actors) == 0 {
		return nil
	}
	errs := make(chan error, len(g.actors))
	for _, a := range g.actors {
		go func() { errs <- a.execute() }()
	}
	err := <-errs
	var once sync.WaitGroup
	for _, a := range g.actors {
		once.Go(func() { a.interrupt(err) })
	}
	once.Wait()
	for range len(g.actors) - 1 {
		<-errs
	}
	return err
}
