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
	"github.com/trailsql/trailsql/internal/cwlsrc"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/lookup"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/sqs"
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
	// Clock is the scheduled reports' time (nil: the real clock).
	Clock Clock
	// Serve, when set, runs in the same Group as the collection, the reports and the notifier
	// (trailsql serve --config: the HTTP server): it is stopped, by the end of its context, with
	// them, and when it returns they stop too.
	Serve func(ctx context.Context) error
}

// Health is what one cycle did, and the notifier's counts so far.
type Health struct {
	Cycle int
	Time  time.Time
	// FilesRead, FilesFailed and EventsAdded are the cycle's.
	FilesRead, FilesFailed int
	EventsAdded            int64
	// Alerts are the alerts the cycle's commits raised; Queued those handed to the outboxes
	// (with any a crash left between the store and the outboxes).
	Alerts, Queued int
	// Destinations are each destination's counts since the start.
	Destinations map[string]notify.Stats
}

// String is the health line: "cycle 3: 2 objects read, 120 events ingested, 1 alert; ops: 4
// queued, 4 delivered, 0 failed, 0 pending".
func (h Health) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cycle %d: %d objects read, %d failed, %d events ingested, %d alerts, %d queued", h.Time.UTC().Format(time.RFC3339), h.Cycle, h.FilesRead, h.FilesFailed, h.EventsAdded, h.Alerts, h.Queued)
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
	list, closeSources, err := listers(ctx, cfg, &iopt)
	if err != nil {
		return nil, err
	}
	defer closeSources()
	n, err := notify.Open(opt.Lake, cfg.Notify, opt.Logger)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	// The delivery cursor, read (or made) once the notifier holds the folder.
	cursor, err := OpenCursor(opt.Lake, cfg.Start, time.Now())
	if err != nil {
		return nil, err
	}
	store := rules.OpenStore(opt.Lake)
	det := &Detection{Lake: opt.Lake, Rules: loaded.Rules, Logger: opt.Logger,
		Invalid: func(err error) { log.Warn("rule not evaluated", "err", err) }}
	defer det.Close()

	totals := &Totals{}
	cycleAlerts, cycleQueued := 0, 0
	// queue hands every stored alert after the cursor to the outboxes, then moves the cursor:
	// the alerts of this pass, and those a crash left between the store and the outboxes.
	queue := func(ctx context.Context, query answer.QueryFunc) error {
		alerts, last, err := store.AlertsAfter(cursor.Commit)
		if err != nil {
			return err
		}
		if last == cursor.Commit {
			return nil
		}
		if len(alerts) > 0 {
			msgs, err := notify.Readable(ctx, query, alerts, loaded.Rules, opt.Report)
			if err != nil {
				log.Warn("the alerts' events could not be read: their messages give their titles", "err", err)
			}
			if err := n.Enqueue(msgs...); err != nil {
				return fmt.Errorf("queue %d alerts for the notifier: %w", len(msgs), err)
			}
			cycleQueued += len(msgs)
		}
		return cursor.Save(last, time.Now())
	}
	iopt.Observer, iopt.AfterPassDue = det.Observer(), det.Due
	iopt.AfterPass = func(ctx context.Context) error {
		return det.Run(ctx, func(ctx context.Context, query answer.QueryFunc, d *rules.Detection) error {
			cycleAlerts += d.Alerts.Len()
			return queue(ctx, query)
		})
	}
	var prev ingest.Stats
	iopt.PassDone = func(s ingest.Stats) {
		h := Health{Cycle: s.Passes, Time: time.Now(), FilesRead: s.FilesRead - prev.FilesRead, FilesFailed: s.FilesFailed,
			EventsAdded: s.EventsAdded - prev.EventsAdded, Alerts: cycleAlerts, Queued: cycleQueued, Destinations: n.Stats()}
		prev, cycleAlerts, cycleQueued = s, 0, 0
		totals.Alerts += h.Alerts
		log.Info("cycle", "cycle", h.Cycle, "files", h.FilesRead, "events", h.EventsAdded, "alerts", h.Alerts, "queued", h.Queued)
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
		// On start, before collecting: the commits not evaluated yet and the alerts not queued
		// yet (a crash between the store and the outboxes).
		if cursor.Commit > 0 || hasCommits(opt.Lake) {
			if err := iopt.AfterPass(ictx); err != nil {
				if ictx.Err() != nil {
					return nil
				}
				return fmt.Errorf("on start: %w", err)
			}
		}
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
	// The scheduled reports.
	rctx, rcancel := context.WithCancel(ctx)
	reported := make(chan struct{})
	rep := &Reporter{Lake: opt.Lake, Reports: cfg.Reports, Notify: n, Clock: opt.Clock, Logger: opt.Logger}
	g.Add(func() error {
		defer close(reported)
		if err := rep.Run(rctx); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		if ctx.Err() == nil && rctx.Err() == nil {
			return errors.New("the reports stopped")
		}
		return nil
	}, func(error) { rcancel() })
	// The HTTP server of 'trailsql serve --config'.
	if opt.Serve != nil {
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		g.Add(func() error {
			err := opt.Serve(sctx)
			if err == nil && ctx.Err() == nil && sctx.Err() == nil {
				return errors.New("the server stopped")
			}
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		}, func(error) { scancel() })
	}
	// The notifier: stopped after the collection and the reports, so that what they queued
	// last is drained.
	nctx, ncancel := context.WithCancel(context.WithoutCancel(ctx))
	g.Add(func() error {
		return n.Run(nctx)
	}, func(error) {
		<-collected
		<-reported
		ncancel()
	})
	err = g.Run()
	icancel()
	rcancel()
	ncancel()
	totals.Destinations = n.Stats()
	return totals, err
}

// hasCommits reports whether the lake at root has a commit.
func hasCommits(root string) bool {
	snap, err := lake.OpenSnapshot(root)
	return err == nil && snap.Seq > 0
}

// listers are the config's sources, as one lister; S3 and SQS sources set iopt's prefetch, SQS
// sources its AfterCommit (their messages are deleted after the commit that holds their
// objects). closeSources stops the SQS sources' renewal of visibility: call it after the run.
func listers(ctx context.Context, cfg *Config, iopt *ingest.Options) (list ingest.Lister, closeSources func(), err error) {
	var ls []ingest.Lister
	var queues []*ingest.SQSQueue
	closeSources = func() {
		for _, q := range queues {
			q.Close()
		}
	}
	defer func() {
		if err != nil {
			closeSources()
		}
	}()
	if len(cfg.Paths) > 0 {
		ls = append(ls, ingest.PathLister(cfg.Paths))
	}
	if len(cfg.S3) > 0 || len(cfg.SQS) > 0 {
		// GETs wait on the network: many objects are fetched at a time, ahead of the decoders
		// (as trailsql ingest does).
		iopt.Prefetch = 64 * runtime.NumCPU()
	}
	for _, s := range cfg.S3 {
		l, err := ingest.OpenS3(ctx, ingest.S3Source{URL: s.URL, Filter: s3src.Filter{From: s.From, Accounts: s.Accounts, Regions: s.Regions},
			Client: s3src.ClientOptions{Profile: s.Profile, Region: s.Region, EndpointURL: s.EndpointURL, Connections: max(64, iopt.Prefetch), Logger: iopt.Logger}})
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: %w", s.URL, err)
		}
		ls = append(ls, l)
	}
	if l := cfg.Lookup; l != nil {
		clients, err := lookup.NewClients(ctx, lookup.ClientOptions{Profile: l.Profile, EndpointURL: l.EndpointURL})
		if err != nil {
			return nil, nil, fmt.Errorf("source lookup_events: %w", err)
		}
		ls = append(ls, ingest.LookupLister(ingest.LookupOptions{Regions: l.Regions, From: l.From, Client: clients, Logger: iopt.Logger}))
	}
	for _, s := range cfg.CloudWatchLogs {
		// One client a group: groups of a config may be in different regions and accounts.
		l, err := ingest.OpenCWL(ctx, ingest.CWLSource{Groups: []string{s.Group}, From: s.From, Lake: iopt.Lake, Lateness: s.Lateness,
			Client: cwlsrc.ClientOptions{Profile: s.Profile, Region: s.Region, EndpointURL: s.EndpointURL, Logger: iopt.Logger}})
		if err != nil {
			return nil, nil, fmt.Errorf("source cloudwatch_logs %s: %w", s.Group, err)
		}
		ls = append(ls, l...)
	}
	log := iopt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, s := range cfg.SQS {
		q, err := ingest.OpenSQS(ctx, ingest.SQSSource{Watch: true, Visibility: s.Visibility, Logger: iopt.Logger,
			Queue: sqs.Options{QueueURL: s.QueueURL, EndpointURL: s.EndpointURL, Region: s.Region, Profile: s.Profile},
			S3:    s3src.ClientOptions{Profile: s.Profile, EndpointURL: s.S3EndpointURL, Connections: max(64, iopt.Prefetch), Logger: iopt.Logger},
			Poison: func(p ingest.Poison) {
				log.Warn("poison message left in the queue for its redrive policy", "queue", s.QueueURL, "message", p.MessageID, "received", p.ReceiveCount, "reason", p.Reason)
			}})
		if err != nil {
			return nil, nil, fmt.Errorf("source sqs %s: %w", s.QueueURL, err)
		}
		queues = append(queues, q)
		ls = append(ls, q.Lister())
	}
	iopt.AfterCommit = ingest.AfterCommits(queues)
	return ingest.Chain(ls...), closeSources, nil
}
