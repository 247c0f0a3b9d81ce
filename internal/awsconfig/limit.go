package awsconfig

import (
	"context"
	"sync"
	"time"

	"github.com/aws/smithy-go/middleware"
)

// Limiter spaces events at least Every apart: the requests of a client kept within an API's
// quota (requests per second per account and region).
type Limiter struct {
	Every time.Duration
	mu    sync.Mutex
	next  time.Time
}

// Wait waits for the next free slot.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.Every)
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Limited returns an API option (for a client's Options.APIOptions) that makes every attempt of
// a request wait for its turn at lim: it sits at the end of the finalize step, after the retry
// loop, so that retries of throttled requests count against the quota too.
func Limited(lim *Limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("trailsqlQuota", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := lim.Wait(ctx); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}
