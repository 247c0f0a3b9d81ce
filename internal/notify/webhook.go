package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
	Type      string    `json:"type"` // "alert"
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
		body, err := json.Marshal(WebhookBody{Type: "alert", Timestamp: t.Truncate(time.Second), Data: *m})
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
