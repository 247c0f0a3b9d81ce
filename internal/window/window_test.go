package window

import (
	"errors"
	"testing"
	"time"
)

// One rule for every front end: [from, to), a day as the end of a window is in it, ages count
// back from the next whole second.
func TestResolve(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 400e6, time.UTC)
	end := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		spec     Spec
		from, to time.Time
	}{
		{Spec{Days: 7}, end.Add(-7 * 24 * time.Hour), end},
		{Spec{From: "7d"}, end.Add(-7 * 24 * time.Hour), end},
		{Spec{From: "12h", To: "1h"}, end.Add(-12 * time.Hour), end.Add(-time.Hour)},
		{Spec{From: "2026-02-01", To: "2026-02-03"}, day(1), day(4)},
		{Spec{From: "2026-02-01T06:00", To: "2026-02-02T00:00:00Z"}, day(1).Add(6 * time.Hour), day(2)},
		{Spec{Days: 2, To: "2026-02-03"}, day(2), day(4)},
	} {
		from, to, err := c.spec.Resolve(now)
		if err != nil || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%+v: %s to %s (%v), want %s to %s", c.spec, from, to, err, c.from, c.to)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		spec  Spec
		field string // "" for an empty window
	}{
		{Spec{From: "yesterday"}, "from"},
		{Spec{From: "-3d"}, "from"},
		{Spec{Days: 1, To: "7x"}, "to"},
		{Spec{Days: 0}, "days"},
		{Spec{Days: MaxDays + 1}, "days"},
		{Spec{Days: 3, DaysGiven: true, From: "7d"}, "days"},
		{Spec{From: "2026-02-03", To: "2026-02-01"}, ""},
	} {
		_, _, err := c.spec.Resolve(now)
		var we *Error
		var empty *EmptyError
		switch {
		case c.field == "" && !errors.As(err, &empty):
			t.Errorf("%+v: %v, want an empty window", c.spec, err)
		case c.field != "" && (!errors.As(err, &we) || we.Field != c.field):
			t.Errorf("%+v: %v, want an error about %s", c.spec, err, c.field)
		}
	}
}
