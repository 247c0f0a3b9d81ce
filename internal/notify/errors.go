package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Destination delivers messages somewhere. Send sends msgs in order and returns nil when every
// one was delivered. Otherwise it returns an error that says which were (*PartialError wraps the
// cause when the first Delivered were), and whether trying again may work (*SendError:
// Retryable, with the receiver's Retry-After); any other error is taken as retryable (a network
// failure).
type Destination interface {
	Send(ctx context.Context, msgs []Message) error
}

// Idempotent is a destination that takes a message it was sent already without showing it
// twice (a webhook's id, PagerDuty's dedup key, Jira's label): the notifier sends it batches.
// Any other destination is sent one message at a time, each recorded as delivered before the
// next is sent, so that a crash shows at most one message twice there.
type Idempotent interface {
	Idempotent() bool
}

func isIdempotent(d Destination) bool {
	i, ok := d.(Idempotent)
	return ok && i.Idempotent()
}

// Idempotent: receivers de-duplicate on webhook-id (Standard Webhooks).
func (w *Webhook) Idempotent() bool { return true }

// Idempotent: a trigger with the dedup key of an open incident joins it.
func (p *PagerDuty) Idempotent() bool { return true }

// Idempotent: a message whose label has an open ticket is a comment on it, not a new ticket.
func (j *Jira) Idempotent() bool { return true }

// SendError is a destination's refusal of a message.
type SendError struct {
	// Status is the HTTP status or the SMTP reply code (0: none).
	Status int
	// Retryable says that sending again later may work (429, 5xx, SMTP 4xx); otherwise the
	// message is refused for good (a 400 with an invalid payload, a revoked webhook).
	Retryable bool
	// RetryAfter is how long the receiver asked to wait (0: not said).
	RetryAfter time.Duration
	// Detail is the receiver's explanation (Slack's "invalid_blocks", Jira's errorMessages).
	Detail string
}

func (e *SendError) Error() string {
	kind := "refused"
	if e.Retryable {
		kind = "failed (will retry)"
	}
	s := kind
	if e.Status != 0 {
		s += fmt.Sprintf(" with status %d", e.Status)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// PartialError says that the first Delivered messages of a Send were delivered before Err.
type PartialError struct {
	Delivered int
	Err       error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d messages delivered, then: %v", e.Delivered, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// Retryable reports whether sending again may work, and how long the receiver asked to wait.
// Cancellation is not retryable.
func Retryable(err error) (bool, time.Duration) {
	if err == nil || errors.Is(err, context.Canceled) {
		return false, 0
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable, se.RetryAfter
	}
	return true, 0
}

// delivered is how many messages of a Send were delivered before err.
func delivered(err error, n int) int {
	if err == nil {
		return n
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		return min(pe.Delivered, n)
	}
	return 0
}

// sendEach sends msgs one at a time with one, stopping at the first error.
func sendEach(ctx context.Context, msgs []Message, one func(context.Context, *Message) error) error {
	for i := range msgs {
		if err := one(ctx, &msgs[i]); err != nil {
			if i > 0 {
				return &PartialError{Delivered: i, Err: err}
			}
			return err
		}
	}
	return nil
}

// poster sends JSON over HTTP to a URL that may hold a secret (Slack's, Teams' webhook): its
// errors never show the URL.
type poster struct {
	client *http.Client
	name   string // the destination's kind, which errors name instead of the URL
}

func (p poster) httpClient() *http.Client {
	if p.client != nil {
		return p.client
	}
	return http.DefaultClient
}

// do sends the request and returns the status, headers and (up to 64 KiB of) body of the
// response; a network failure is returned with the URL removed.
func (p poster) do(req *http.Request) (int, http.Header, []byte, error) {
	resp, err := p.httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, nil, fmt.Errorf("%s %s: %w", req.Method, p.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, body, nil
}

// postJSON posts body to u with headers.
func (p poster) postJSON(ctx context.Context, u string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: the URL is not valid (check the destination's url setting)", p.name)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	return p.do(req)
}

// statusError turns a non-success response into a *SendError: 408, 425, 429 and 5xx are
// retryable, other 4xx are not; Retry-After (seconds or an HTTP date) is kept.
func statusError(status int, h http.Header, detail string) *SendError {
	e := &SendError{Status: status, Detail: strings.TrimSpace(detail)}
	e.Retryable = status == http.StatusRequestTimeout || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500
	if h != nil {
		e.RetryAfter = retryAfter(h.Get("Retry-After"), time.Now())
	}
	if len(e.Detail) > 500 {
		e.Detail = truncate(e.Detail, 500)
	}
	return e
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func asSend(err error, se **SendError) bool { return errors.As(err, se) }

// postEach posts one JSON document per message to u (render makes it, with extra headers);
// accepted says which statuses deliver, others are turned into a *SendError.
func (p poster) postEach(ctx context.Context, msgs []Message, u string, accepted func(status int) bool, render func(m *Message) ([]byte, http.Header, error)) error {
	return sendEach(ctx, msgs, func(ctx context.Context, m *Message) error {
		body, h, err := render(m)
		if err != nil {
			return &SendError{Detail: p.name + ": encode: " + err.Error()}
		}
		status, rh, resp, err := p.postJSON(ctx, u, body, h)
		if err != nil {
			return err
		}
		if accepted(status) {
			return nil
		}
		return statusError(status, rh, p.name+": "+string(resp))
	})
}

// success2xx accepts any 2xx status.
func success2xx(status int) bool { return status >= 200 && status < 300 }

// jsonOf marshals v, for postEach's render functions.
func jsonOf(v any) ([]byte, http.Header, error) {
	b, err := json.Marshal(v)
	return b, nil, err
}
