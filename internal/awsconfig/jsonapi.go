package awsconfig

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// JSONAPI calls an AWS API of the JSON 1.1 protocol (Athena, CloudWatch Logs) directly, as the
// SDK's clients do but without their packages, whose initialisation every start of the program
// paid: each call is a POST of its input as JSON to Endpoint, the operation named in
// X-Amz-Target, signed with SigV4. A call that is throttled, meets a server error or a broken
// connection is sent again, after a wait that doubles from MinBackoff up to MaxBackoff, until
// MaxAttempts; with a Limit, every attempt waits for its slot first.
type JSONAPI struct {
	Signed
	// Endpoint is the API's URL (https://athena.<region>.amazonaws.com); Target prefixes the
	// operation in X-Amz-Target (AmazonAthena, Logs_20140328); Name names the API in errors.
	Endpoint, Target, Name string
	MaxAttempts            int
	MinBackoff, MaxBackoff time.Duration
	Limit                  *Limiter
	// Hint says what to do about a call still throttled after MaxAttempts.
	Hint string
	Log  *slog.Logger
}

// APIError is an error answer of an AWS API: its type (ThrottlingException,
// ResourceNotFoundException, …) and message.
type APIError struct {
	API, Op, Type, Message string
	Status                 int
	// Attempts is how many times the request was sent; Hint, what to do when it was throttled
	// every time.
	Attempts int
	Hint     string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: %s: %s", e.API, e.Op, e.Type, e.Message)
	if e.Retryable() && e.Hint != "" {
		s += fmt.Sprintf(" (still refused after %d attempts: %s)", e.Attempts, e.Hint)
	}
	return s
}

// Retryable reports whether the request may pass if sent again: throttled, or a server error.
func (e *APIError) Retryable() bool {
	switch e.Type {
	case "ThrottlingException", "TooManyRequestsException", "LimitExceededException", "RequestLimitExceeded",
		"InternalServerException", "ServiceUnavailableException":
		return true
	}
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Call sends op with in, and decodes the answer into out.
func (c *JSONAPI) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Name, op, err)
	}
	b := Backoff{MaxAttempts: c.MaxAttempts, Min: c.MinBackoff, Max: c.MaxBackoff, Log: c.Log}
	var ae *APIError
	attempts, err := b.Retry(ctx, c.Name, op, func() error { return c.send(ctx, op, body, out) },
		func(err error) bool { return errors.As(err, &ae) && ae.Retryable() })
	if errors.As(err, &ae) {
		ae.Attempts, ae.Hint = attempts, c.Hint
	}
	return err
}

// Backoff is how an AWS client sends a request again: up to MaxAttempts times, waiting between
// two from Min, doubling, up to Max (each wait spread between its half and itself).
type Backoff struct {
	MaxAttempts int
	Min, Max    time.Duration
	Log         *slog.Logger
}

// Retry calls send until it succeeds, fails in a way retryable does not accept (a broken or timed
// out connection is always retried: the calls made are idempotent), or MaxAttempts calls failed.
// It returns the attempts made, and send's last error; api and op name the call in errors.
func (b Backoff) Retry(ctx context.Context, api, op string, send func() error, retryable func(error) bool) (int, error) {
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delay := b.Min
	for attempt := 1; ; attempt++ {
		err := send()
		retry := err != nil && retryable(err)
		var netErr interface{ Timeout() bool }
		if err != nil && !retry && errors.As(err, &netErr) && ctx.Err() == nil {
			retry = true
		}
		if !retry || attempt >= b.MaxAttempts {
			return attempt, err
		}
		log.Debug("retry", "op", op, "attempt", attempt, "err", err)
		if err := Sleep(ctx, jitter(delay)); err != nil {
			return attempt, fmt.Errorf("%s %s: %w", api, op, err)
		}
		delay = min(2*delay, b.Max)
	}
}

func (c *JSONAPI) send(ctx context.Context, op string, body []byte, out any) error {
	if c.Limit != nil {
		if err := c.Limit.Wait(ctx); err != nil {
			return fmt.Errorf("%s %s: %w", c.Name, op, err)
		}
	}
	resp, data, err := c.Post(ctx, c.Endpoint+"/", http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {c.Target + "." + op}}, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Name, op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(c.Name, op, resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the API's JSON: %w", c.Name, op, err)
	}
	return nil
}

// apiError reads an error answer: {"__type": "…#ThrottlingException", "message": "…"}.
func apiError(api, op string, resp *http.Response, data []byte) error {
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
		Lower   string `json:"message"`
	}
	_ = json.Unmarshal(data, &body) // a body that is not JSON still has its status
	e := &APIError{API: api, Op: op, Status: resp.StatusCode, Type: body.Type, Message: body.Message}
	if e.Message == "" {
		e.Message = body.Lower
	}
	if e.Type == "" {
		e.Type = resp.Header.Get("X-Amzn-Errortype")
	}
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	e.Type, _, _ = strings.Cut(e.Type, ":")
	if e.Type == "" {
		e.Type = resp.Status
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
	}
	return e
}

// Sleep waits d, or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jitter spreads retries of several clients: a wait between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d/2)))
	if err != nil {
		return d
	}
	return d/2 + time.Duration(n.Int64())
}
