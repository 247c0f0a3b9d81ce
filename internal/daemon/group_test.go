package daemon_test

import (
	"errors"
	"testing"

	"github.com/trailsql/trailsql/internal/daemon"
)

// TestGroup: the first actor to return stops the others, and its error is the group's.
func TestGroup(t *testing.T) {
	boom := errors.New("boom")
	var g daemon.Group
	stops := make([]chan struct{}, 3)
	for i := range stops {
		stops[i] = make(chan struct{})
		g.Add(func() error {
			if i == 1 {
				return boom
			}
			<-stops[i]
			return nil
		}, func(err error) {
			close(stops[i])
		})
	}
	if err := g.Run(); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the first actor's error", err)
	}
	for i, c := range stops {
		select {
		case <-c:
		default:
			t.Errorf("actor %d was not interrupted", i)
		}
	}
	var empty daemon.Group
	if err := empty.Run(); err != nil {
		t.Fatalf("an empty group: %v", err)
	}
}
