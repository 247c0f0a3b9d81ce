package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"golang.org/x/sync/errgroup"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/lookup"
)

// LookupOptions select what LookupLister asks the API for.
type LookupOptions struct {
	// Regions to read (default: every commercial region; opt-in regions the account has not
	// enabled are skipped).
	Regions []string
	// From and To bound the event times (default: the 90 days Event history keeps, to now).
	From, To time.Time
	// Client returns the API client of a region.
	Client func(region string) lookup.API
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LookupLister lists the events of the CloudTrail LookupEvents API, region by region in
// parallel, as one object per page. Its events are FromAPI: an event already in the lake from an
// S3 log file is recognised by its identity. A region that fails after the client's retries ends
// its listing (the run reports it); the pages read before are kept. When a run watches, the
// passes after the first ask from an hour before the previous pass began.
func LookupLister(opt LookupOptions) Lister {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	log := opt.Logger.With("component", "lookup")
	var last time.Time
	return func(ctx context.Context, yield func(Object) error) error {
		now := opt.Now()
		from, to := opt.From, opt.To
		if to.IsZero() {
			to = now
		}
		if from.IsZero() {
			from = now.Add(-lookup.History)
		}
		if !last.IsZero() {
			if f := last.Add(-time.Hour); f.After(from) {
				from = f
			}
		}
		regions := opt.Regions
		explicit := len(regions) > 0
		if !explicit {
			regions = lookup.Regions()
		}
		var mu sync.Mutex
		yieldOne := func(o Object) error {
			mu.Lock()
			defer mu.Unlock()
			return yield(o)
		}
		g, gctx := errgroup.WithContext(ctx)
		var errs []error
		var errMu sync.Mutex
		for _, region := range regions {
			g.Go(func() error {
				err := lookup.Pages(gctx, opt.Client(region), region, from, to, func(p lookup.Page) error {
					for _, o := range pageObjects(p) {
						if err := yieldOne(o); err != nil {
							return err
						}
					}
					return nil
				})
				switch {
				case err == nil || ctx.Err() != nil:
					return err
				case !explicit && lookup.OptIn(region) && lookup.NotEnabled(err):
					log.Info("region not enabled for the account: skipped", "region", region)
					return nil
				}
				// One region failing does not stop the others.
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if len(errs) == 0 {
			last = now
		}
		return errors.Join(errs...)
	}
}

// pageObjects turns a page into an object holding its events as a log file would
// ({"Records":[{"CloudTrailEvent":"…"},…]}, one event a line), and an object that fails for each
// event whose CloudTrailEvent is missing or not JSON, naming its EventId.
func pageObjects(p lookup.Page) []Object {
	name := fmt.Sprintf("LookupEvents %s page %d", p.Region, p.Number)
	var b bytes.Buffer
	var out []Object
	b.WriteString(`{"Records":[`)
	n := 0
	for _, ev := range p.Events {
		s := aws.ToString(ev.CloudTrailEvent)
		if ev.CloudTrailEvent == nil || !json.Valid([]byte(s)) {
			out = append(out, brokenEvent(p, ev))
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n{\"CloudTrailEvent\":")
		b.Write(cloudtrail.AppendJSONString(nil, s))
		b.WriteByte('}')
		n++
	}
	b.WriteString("\n]}")
	data := b.Bytes()
	if n > 0 {
		out = append(out, Object{
			Source:  lake.Source{Name: name, Size: int64(len(data)), Events: n},
			FromAPI: true,
			Open:    func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		})
	}
	return out
}

func brokenEvent(p lookup.Page, ev types.Event) Object {
	what := "has no CloudTrailEvent"
	if ev.CloudTrailEvent != nil {
		what = "has a CloudTrailEvent that is not JSON"
	}
	err := fmt.Errorf("event %s (%s, %s) %s", aws.ToString(ev.EventId), aws.ToString(ev.EventName), aws.ToTime(ev.EventTime).UTC().Format(time.RFC3339), what)
	return Object{
		Source:  lake.Source{Name: fmt.Sprintf("LookupEvents %s page %d", p.Region, p.Number)},
		FromAPI: true,
		Open:    func(context.Context) (io.ReadCloser, error) { return nil, err },
	}
}
