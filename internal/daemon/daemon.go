package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lookup"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/s3src"
)

// Options are a run's settings.
type Options struct {
	// Lake is the lake's folder.
	Lake   string
	Config *Config
	Logger *slog.Logger
	// Health, when set, is told what each cycle did, after its detection.
	Health func(Health)
	// Report says how the messages' sentences are written (time zone, account aliases).
	Report report.Options
	// Workers decode objects in parallel (default: the number of CPUs).
	Workers int
}

// Health is what one cycle did, and the notifier's counts so far.
type Health struct {
	Cycle int
	Time  time.Time
	// FilesRead, FilesFailed and EventsAdded are the cycle's.
	FilesRead, FilesFailed int
	EventsAdded            int64
	// Alerts are the alerts the cycle's commits raised.
	Alerts int
	// Destinations are each destination's counts since the start.
	Destinations map[string]notify.Stats
}

// String is the health line: "cycle 3: 2 objects read, 120 events ingested, 1 alert; ops: 4
// queued, 4 delivered, 0 failed, 0 pending".
func (h Health) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cycle %d: %d objects read, %d failed, %d events ingested, %d alerts", h.Time.UTC().Format(time.RFC3339), h.Cycle, h.FilesRead, h.FilesFailed, h.EventsAdded, h.Alerts)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range h.Destinations {
			if !yield(k) {
				return
			}
		}
	})
	for _, n := range names {
		s := h.Destinations[n]
		fmt.Fprintf(&b, "; %s: %d queued, %d delivered, %d failed, %d pending", n, s.Queued, s.Delivered, s.Failed, s.Pending)
	}
	return b.String()
}

// Totals is what a run did, when it returns.
type Totals struct {
	Ingest *ingest.Stats
	Alerts int
	// Destinations are each destination's counts, after the drain.
	Destinations map[string]notify.Stats
}

// Run collects from the config's sources every Interval, evaluates the rules on each commit,
// and enqueues the new alerts, in plain language (notify.Readable), to the notifier, which
// delivers them. It returns when ctx ends: the collection commits what it read whole, then the
// notifier drains (its drain_timeout); what is left waits in the outbox for the next start.
// Nothing is started when the rules or the sources cannot be opened.
func Run(ctx context.Context, opt Options) (*Totals, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "run")
	cfg := opt.Config
	loaded, err := rules.Load(cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	for _, e := range loaded.Errors {
		log.Warn("rule not loaded", "err", e)
	}
	if len(loaded.Rules) == 0 {
		return nil, errors.New("rules: no rule to evaluate (the built-in rules are left out and no rule file gave one)")
	}
	iopt := ingest.Options{Lake: opt.Lake, Logger: opt.Logger, Workers: opt.Workers, Watch: cfg.Interval}
	list, err := listers(ctx, cfg, &iopt)
	if err != nil {
		return nil, err
	}
	n, err := notify.Open(opt.Lake, cfg.Notify, opt.Logger)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	det := &Detection{Lake: opt.Lake, Rules: loaded.Rules, Logger: opt.Logger,
		Invalid: func(err error) { log.Warn("rule not evaluated", "err", err) }}
	defer det.Close()

	totals := &Totals{}
	cycleAlerts := 0
	iopt.Observer = det.Observer()
	iopt.AfterPass = func(ctx context.Context) error {
		return det.Run(ctx, func(ctx context.Context, query answer.QueryFunc, d *rules.Detection) error {
			if len(d.Alerts) == 0 {
				return nil
			}
			cycleAlerts += len(d.Alerts)
			msgs, err := notify.Readable(ctx, query, d.Alerts, loaded.Rules, opt.Report)
			if err != nil {
				log.Warn("the alerts' events could not be read: their messages give their titles", "err", err)
			}
			if err := n.Enqueue(msgs...); err != nil {
				return fmt.Errorf("queue %d alerts for the notifier: %w", len(msgs), err)
			}
			return nil
		})
	}
	var prev ingest.Stats
	iopt.PassDone = func(s ingest.Stats) {
		h := Health{Cycle: s.Passes, Time: time.Now(), FilesRead: s.FilesRead - prev.FilesRead, FilesFailed: s.FilesFailed,
			EventsAdded: s.EventsAdded - prev.EventsAdded, Alerts: cycleAlerts, Destinations: n.Stats()}
		prev, cycleAlerts = s, 0
		totals.Alerts += h.Alerts
		log.Info("cycle", "cycle", h.Cycle, "files", h.FilesRead, "events", h.EventsAdded, "alerts", h.Alerts)
		if opt.Health != nil {
			opt.Health(h)
		}
	}

	var g Group
	// The signal handler's actor: ctx ends at SIGTERM or Ctrl-C.
	stop := make(chan struct{})
	g.Add(func() error {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		return nil
	}, func(error) { close(stop) })
	// Collection, with detection after each pass.
	ictx, icancel := context.WithCancel(ctx)
	collected := make(chan struct{})
	g.Add(func() error {
		defer close(collected)
		st, err := ingest.RunObjects(ictx, iopt, list)
		totals.Ingest = st
		if errors.Is(err, context.Canceled) && ictx.Err() != nil {
			return nil
		}
		if err == nil {
			return errors.New("the collection stopped")
		}
		return fmt.Errorf("collect: %w", err)
	}, func(error) { icancel() })
	// The notifier: stopped after the collection, so that what its last pass queued is drained.
	nctx, ncancel := context.WithCancel(context.WithoutCancel(ctx))
	g.Add(func() error {
		return n.Run(nctx)
	}, func(error) {
		<-collected
		ncancel()
	})
	err = g.Run()
	icancel()
	ncancel()
	totals.Destinations = n.Stats()
	return totals, err
}

// listers are the config's sources, as one lister; S3 sources set iopt's prefetch.
func listers(ctx context.Context, cfg *Config, iopt *ingest.Options) (ingest.Lister, error) {
	var ls []ingest.Lister
	if len(cfg.Paths) > 0 {
		ls = append(ls, ingest.PathLister(cfg.Paths))
	}
	if len(cfg.S3) > 0 {
		// GETs wait on the network: many objects are fetched at a time, ahead of the decoders
		// (as trailsql ingest does).
		iopt.Prefetch = 64 * runtime.NumCPU()
	}
	for _, s := range cfg.S3 {
		l, err := ingest.OpenS3(ctx, ingest.S3Source{URL: s.URL, Filter: s3src.Filter{From: s.From, Accounts: s.Accounts, Regions: s.Regions},
			Client: s3src.ClientOptions{Profile: s.Profile, Region: s.Region, EndpointURL: s.EndpointURL, Connections: max(64, iopt.Prefetch), Logger: iopt.Logger}})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.URL, err)
		}
		ls = append(ls, l)
	}
	if l := cfg.Lookup; l != nil {
		clients, err := lookup.NewClients(ctx, lookup.ClientOptions{Profile: l.Profile, EndpointURL: l.EndpointURL})
		if err != nil {
			return nil, fmt.Errorf("source lookup_events: %w", err)
		}
		ls = append(ls, ingest.LookupLister(ingest.LookupOptions{Regions: l.Regions, From: l.From, Client: clients, Logger: iopt.Logger}))
	}
	return ingest.Chain(ls...), nil
}
