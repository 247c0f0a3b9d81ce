package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
)

// Detection runs the rules on each ingest pass's new commits (ingest.Options.AfterPass), once
// each: the rules.Detector over the local engine, opened as the ingest starts (Observer) or at
// the first pass. Close it.
type Detection struct {
	Lake   string
	Rules  []*rules.Rule
	Logger *slog.Logger
	// Invalid, when set, is told each rule that cannot be evaluated on the lake (once, from
	// another goroutine as the ingest starts); those rules are left out.
	Invalid func(error)
	// HoldAlerts is how many alerts found on the rows written make Due say so (0: 1<<18, some
	// 150 MB of them).
	HoldAlerts int

	e    *engine.Engine
	det  *rules.Detector
	live *rules.Live

	// The engine's opening and the rules' validation, started by Observer (or the first Run) in
	// the background: they overlap the ingest's first pass instead of following it.
	prepare sync.Once
	ready   chan struct{} // closed when done
	prepErr error
	took    time.Duration
	// prepared: Run saw them done.
	prepared bool
}

// Observer returns what evaluates the rules on the rows an ingest writes, as it writes them
// (ingest.Options.Observer): Run then scans only for the rules it does not evaluate.
func (d *Detection) Observer() lake.RowObserver {
	if d.live == nil {
		d.live = rules.NewLive(d.Rules)
	}
	d.start()
	return d.live
}

// Due reports whether the alerts found on the rows written (rules.Live.Held) are many enough that
// the ingest should evaluate its commits now, mid-pass (ingest.Options.AfterPassDue): a trail
// whose events most fire a rule would otherwise hold an alert per event until the pass ends.
func (d *Detection) Due() bool {
	hold := d.HoldAlerts
	if hold <= 0 {
		hold = 1 << 18
	}
	return d.live != nil && d.live.Held() >= hold
}

// start opens the engine and validates the rules in the background, once (again after a failure,
// at the next Run).
func (d *Detection) start() {
	d.prepare.Do(func() {
		d.ready = make(chan struct{})
		go func() {
			defer close(d.ready)
			t := time.Now()
			d.prepErr = d.setup(context.Background())
			d.took = time.Since(t)
		}()
	})
}

// setup opens the engine over the lake (which the ingest may not have made yet), validates the
// rules on it and makes the Detector.
func (d *Detection) setup(ctx context.Context) error {
	e, err := local.Open(ctx, engine.Options{Lake: d.Lake, Logger: d.Logger})
	if err != nil {
		return err
	}
	ok, problems := rules.Validate(ctx, local.Engine(e), d.Rules)
	for _, p := range problems {
		if d.Invalid != nil {
			d.Invalid(p)
		}
	}
	d.e, d.det = e, &rules.Detector{Store: rules.OpenStore(d.Lake), Rules: ok, PathOf: e.PathOf, Live: d.live}
	return nil
}

// Run evaluates the rules on the commits not evaluated yet and stores their alerts; then, when
// set, is called with a query pinned to the snapshot evaluated (to read the alerts' events) and
// what was found.
func (d *Detection) Run(ctx context.Context, then func(ctx context.Context, query answer.QueryFunc, det *rules.Detection) error) error {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !d.prepared {
		d.start()
		select {
		case <-d.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := d.prepErr; err != nil {
			d.prepare, d.prepErr = sync.Once{}, nil // tried again at the next Run
			return fmt.Errorf("detection: %w", err)
		}
		d.prepared = true
		if d.live != nil {
			for _, r := range d.live.Rest {
				log.Debug("rule scanned for after each commit, not evaluated as rows are written", "component", "rules", "rule", r.ID, "why", d.live.Why[r.ID])
			}
		}
		log.Debug("detection ready", "component", "rules", "rules", len(d.det.Rules), "took", d.took)
	}
	start := time.Now()
	p, release, err := d.e.Pin(ctx)
	if err != nil {
		return fmt.Errorf("detection: %w", err)
	}
	defer release()
	query := local.Engine(p)
	det, err := d.det.Run(ctx, query, p.Snapshot())
	if err != nil {
		return fmt.Errorf("detection: %w (the commits not evaluated are evaluated on the next pass or run)", err)
	}
	log.Debug("detected", "component", "rules", "what", det.String(), "took", time.Since(start))
	if then == nil {
		return nil
	}
	return then(ctx, query, det)
}

// Close closes the engine.
func (d *Detection) Close() error {
	if d.ready != nil {
		<-d.ready // an engine being opened is closed too
	}
	if d.e == nil {
		return nil
	}
	return d.e.Close()
}
