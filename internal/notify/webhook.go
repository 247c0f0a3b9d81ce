package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook posts each message as JSON to a URL, signed per Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>). The
// webhook-id is the message's ID, the same on every retry and re-send, so that receivers dedup.
type Webhook struct {
	URL Secret
	// Secret is whsec_<base64 key> (the key of Standard Webhooks).
	Secret Secret
	Client *http.Client
	// Now is the clock of webhook-timestamp (nil: time.Now).
	Now func() time.Time
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	Type      string    `json:"type"` // "alert", or "report" (Data.Report set)
	Timestamp time.Time `json:"timestamp"`
	Data      Message   `json:"data"`
}

// webhookKey decodes a whsec_ secret.
func webhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, fmt.Errorf("the webhook secret must start with whsec_ (whsec_ then the base64 key)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("the webhook secret after whsec_ is not base64")
	}
	return key, nil
}

// SignWebhook returns the webhook-signature header of Standard Webhooks for id, timestamp and body.
func SignWebhook(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send posts each message; 2xx is delivered, 408/429/5xx retryable, other 4xx refused.
func (w *Webhook) Send(ctx context.Context, msgs []Message) error {
	key, err := webhookKey(w.Secret.Reveal())
	if err != nil {
		return &SendError{Detail: err.Error()}
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	return poster{client: w.Client, name: "webhook"}.postEach(ctx, msgs, w.URL.Reveal(), success2xx, func(m *Message) ([]byte, http.Header, error) {
		t := now().UTC()
		typ := "alert"
		if m.Report != nil {
			typ = "report"
		}
		body, err := json.Marshal(WebhookBody{Type: typ, Timestamp: t.Truncate(time.Second), Data: *m})
		if err != nil {
			return nil, nil, err
		}
		ts := t.Unix()
		h := http.Header{}
		h.Set("webhook-id", m.ID)
		h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		h.Set("webhook-signature", SignWebhook(key, m.ID, ts, body))
		return body, h, nil
	})
}

// WebhookTolerance is how far a webhook-timestamp may be from the receiver's clock.
const WebhookTolerance = 5 * time.Minute

// VerifyWebhook checks a delivery as a Standard Webhooks receiver does: the webhook-id and
// webhook-timestamp headers are present, the timestamp is within WebhookTolerance of now, one
// of the webhook-signature values is the HMAC of secret (whsec_…) over id, timestamp and body,
// and the body is an alert whose data has that id. It returns the body.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time) (*WebhookBody, error) {
	key, err := webhookKey(secret)
	if err != nil {
		return nil, err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return nil, fmt.Errorf("the webhook-id or webhook-timestamp header is missing or bad")
	}
	if now.Sub(time.Unix(sec, 0)).Abs() > WebhookTolerance {
		return nil, fmt.Errorf("webhook-timestamp %s is more than %s from now: a replay, or a clock to set right", ts, WebhookTolerance)
	}
	want := SignWebhook(key, id, sec, body)
	ok := false
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("no webhook-signature matches: the secret differs from the sender's")
	}
	var b WebhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("read the webhook body: %w", err)
	}
	if (b.Type != "alert" && b.Type != "report") || b.Data.ID != id || (b.Type == "report") != (b.Data.Report != nil) {
		return nil, fmt.Errorf("the webhook body is not an alert or a report with id %s", id)
	}
	return &b, nil
}

// WebhookReceiver is an http.Handler that receives the Webhook destination's deliveries: it
// verifies each (VerifyWebhook; 401 when it fails), hands each webhook-id once to Receive and
// acknowledges re-deliveries without handing them again.
type WebhookReceiver struct {
	Secret  string
	Receive func(WebhookBody)
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu           sync.Mutex
	seen         map[string]bool
	redeliveries int
}

// ServeHTTP receives one delivery.
func (r *WebhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	b, err := VerifyWebhook(r.Secret, req.Header, body, now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	dup := r.seen[b.Data.ID]
	r.seen[b.Data.ID] = true
	if dup {
		r.redeliveries++
	}
	r.mu.Unlock()
	if !dup && r.Receive != nil {
		r.Receive(*b)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Redeliveries is the deliveries of ids already received.
func (r *WebhookReceiver) Redeliveries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.redeliveries
}
