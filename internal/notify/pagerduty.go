package notify

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// PagerDutyURL is the Events API v2 endpoint.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty triggers an event per message with the Events API v2; its dedup_key is the hash of
// the alert's rule and dedup key, so that a re-send or a repeat joins the open incident.
type PagerDuty struct {
	RoutingKey Secret
	URL        string // empty: PagerDutyURL
	Client     *http.Client
}

type pdPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

type pdEvent struct {
	RoutingKey  string    `json:"routing_key"`
	EventAction string    `json:"event_action"`
	DedupKey    string    `json:"dedup_key"`
	Payload     pdPayload `json:"payload"`
	Links       []pdLink  `json:"links,omitempty"`
}

// pdSeverity maps trailsql's severities onto PagerDuty's critical, error, warning, info.
func pdSeverity(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "critical"
	case "high":
		return "error"
	case "medium", "low":
		return "warning"
	}
	return "info"
}

// Send triggers one event per message: 202 is accepted, 429 and 5xx retryable, 400 (invalid
// event) refused.
func (p *PagerDuty) Send(ctx context.Context, msgs []Message) error {
	u := p.URL
	if u == "" {
		u = PagerDutyURL
	}
	ok := func(status int) bool { return status == http.StatusAccepted || status == http.StatusOK }
	return poster{client: p.Client, name: "pagerduty"}.postEach(ctx, msgs, u, ok, func(m *Message) ([]byte, http.Header, error) {
		return jsonOf(pdEventOf(p.RoutingKey.Reveal(), m))
	})
}

// pdEventOf is the trigger event of m.
func pdEventOf(routingKey string, m *Message) pdEvent {
	ev := pdEvent{RoutingKey: routingKey, EventAction: "trigger", DedupKey: "trailsql-" + m.DedupHash(),
		Payload: pdPayload{Summary: truncate(m.Title+": "+m.Summary, 1024), Source: "trailsql", Severity: pdSeverity(m.Severity),
			Component: m.Account, Class: m.Rule, CustomDetails: map[string]string{}}}
	if m.Summary == "" {
		ev.Payload.Summary = truncate(m.Title, 1024)
	}
	if !m.Time.IsZero() {
		ev.Payload.Timestamp = m.Time.UTC().Format(time.RFC3339)
	}
	for _, f := range m.Fields {
		ev.Payload.CustomDetails[f.Name] = f.Value
	}
	if cmd := m.EventCommand(); cmd != "" {
		ev.Payload.CustomDetails["See the event"] = cmd
	}
	if m.Link != "" {
		ev.Links = []pdLink{{Href: m.Link, Text: "trailsql"}}
	}
	return ev
}
