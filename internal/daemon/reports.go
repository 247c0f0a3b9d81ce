package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
)

// ReportsFile records, per scheduled report, the last schedule time sent (<lake>/notify/reports.json).
const ReportsFile = "reports.json"

// Clock is the time of the reports' scheduler: the real one, or a test's.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Enqueuer is what the reports are handed to (notify.Notifier.EnqueueTo).
type Enqueuer interface {
	EnqueueTo(dests []string, route string, msgs ...notify.Message) error
}

// Reporter sends the scheduled reports when they are due, through the notifier's outboxes. A
// schedule missed while trailsql was not running is sent once at the next start (the last
// time due). What was sent is recorded beside the lake, after the report is queued: a crash
// in between queues it again under the same message ID, which the outboxes take once.
type Reporter struct {
	Lake    string
	Reports []ReportSchedule
	Notify  Enqueuer
	// Clock is the scheduler's time (nil: the real clock).
	Clock  Clock
	Logger *slog.Logger
	// Query, when set, is the lake's reader (tests); otherwise the local engine is opened for
	// each report.
	Query answer.QueryFunc
	// Retry is the wait before a report that could not be made is tried again (default 5m).
	Retry time.Duration
}

// reportState is the record of one report.
type reportState struct {
	// Due is the last schedule time dealt with (sent, or the first start's time).
	Due time.Time `json:"due"`
	// Sent is when it was last queued; Message its message ID.
	Sent    time.Time `json:"sent,omitzero"`
	Message string    `json:"message,omitempty"`
}

func (r *Reporter) statePath() string { return filepath.Join(notify.DirOf(r.Lake), ReportsFile) }

func (r *Reporter) load() (map[string]*reportState, error) {
	st := map[string]*reportState{}
	data, err := os.ReadFile(r.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the reports' record: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: not the reports' record (%v): move it away (each report is then sent from its next schedule on)", r.statePath(), err)
	}
	return st, nil
}

func (r *Reporter) save(st map[string]*reportState) error {
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := os.MkdirAll(filepath.Dir(r.statePath()), 0o755); err != nil {
		return fmt.Errorf("write the reports' record: %w", err)
	}
	if err := lake.WriteFileAtomic(r.statePath(), append(data, '\n')); err != nil {
		return fmt.Errorf("write the reports' record: %w", err)
	}
	return nil
}

// Run sends each report when due until ctx ends.
func (r *Reporter) Run(ctx context.Context) error {
	if len(r.Reports) == 0 {
		<-ctx.Done()
		return nil
	}
	if r.Clock == nil {
		r.Clock = realClock{}
	}
	if r.Retry <= 0 {
		r.Retry = 5 * time.Minute
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "reports")
	st, err := r.load()
	if err != nil {
		return err
	}
	now := r.Clock.Now().UTC()
	changed := false
	for _, rep := range r.Reports {
		if st[rep.Name] == nil { // a new report: from its next schedule on
			st[rep.Name] = &reportState{Due: now}
			changed = true
		}
	}
	if changed {
		if err := r.save(st); err != nil {
			return err
		}
	}
	retryAt := map[string]time.Time{}
	for {
		now := r.Clock.Now().UTC()
		var next time.Time
		for _, rep := range r.Reports {
			s := st[rep.Name]
			due := rep.Schedule.Next(s.Due)
			if !due.After(now) {
				// due (or missed while stopped): the last time due, sent once
				for i := 0; i < 1_000_000; i++ {
					n := rep.Schedule.Next(due)
					if n.After(now) || n.IsZero() {
						break
					}
					due = n
				}
				if t, ok := retryAt[rep.Name]; ok && now.Before(t) {
					next = earliest(next, t)
					continue
				}
				id, err := r.send(ctx, rep, due, now)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					log.Error("scheduled report not made: tried again later", "report", rep.Name, "err", err, "retry", r.Retry)
					retryAt[rep.Name] = now.Add(r.Retry)
					next = earliest(next, now.Add(r.Retry))
					continue
				}
				delete(retryAt, rep.Name)
				*s = reportState{Due: due, Sent: now, Message: id}
				if err := r.save(st); err != nil {
					return err
				}
				log.Info("scheduled report queued", "report", rep.Name, "due", due, "to", rep.To)
				due = rep.Schedule.Next(due)
			}
			next = earliest(next, due)
		}
		var wait <-chan time.Time
		if !next.IsZero() {
			wait = r.Clock.After(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wait:
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// send makes the report rep due at due and queues it for its destinations; it returns the
// message ID (the same for the same report and schedule time).
func (r *Reporter) send(ctx context.Context, rep ReportSchedule, due, now time.Time) (string, error) {
	query := r.Query
	if query == nil {
		e, err := local.Open(ctx, engine.Options{Lake: r.Lake, Logger: r.Logger})
		if err != nil {
			return "", err
		}
		defer e.Close()
		q, release, err := local.Pinned(ctx, e)
		if err != nil {
			return "", err
		}
		defer release()
		query = q
	}
	to := due.UTC()
	from := to.AddDate(0, 0, -rep.Days)
	doc, err := report.Build(ctx, query, rep.Kind, report.BuildOptions{From: from, To: to, Now: now})
	if err != nil {
		return "", err
	}
	msg, err := ReportMessage(rep, doc, due)
	if err != nil {
		return "", err
	}
	if err := r.Notify.EnqueueTo(rep.To, "report:"+rep.Name, msg); err != nil {
		return "", err
	}
	return msg.ID, nil
}

// ReportMessage is the message of the report rep made as doc for the schedule time due: its
// Markdown, HTML and JSON, and an ID of the report and time (a re-send is the same message).
func ReportMessage(rep ReportSchedule, doc *report.Document, due time.Time) (notify.Message, error) {
	var md, html, js bytes.Buffer
	for _, w := range []struct {
		buf    *bytes.Buffer
		format string
	}{{&md, "markdown"}, {&html, "html"}, {&js, "json"}} {
		if err := doc.Write(w.buf, w.format); err != nil {
			return notify.Message{}, fmt.Errorf("report %s: %w", rep.Name, err)
		}
	}
	due = due.UTC()
	id := "report-" + rep.Name + "-" + due.Format("20060102T1504Z")
	title := fmt.Sprintf("%s (%s, the last %d days to %s)", doc.Title, rep.Name, rep.Days, due.Format("2 Jan 2006 15:04 UTC"))
	return notify.Message{ID: id, Title: title, Time: due, DedupKey: id,
		Labels: map[string]string{"report": rep.Name},
		Report: &notify.Report{Name: rep.Name, Kind: rep.Kind, Format: rep.Format, Markdown: md.String(), HTML: html.String(), JSON: json.RawMessage(bytes.TrimSpace(js.Bytes())),
			Command: fmt.Sprintf("trailsql report %s --days %d --format %s", rep.Kind, rep.Days, rep.Format)}}, nil
}
