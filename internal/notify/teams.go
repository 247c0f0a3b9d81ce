package notify

import (
	"context"
	"net/http"
	"strings"
)

// Teams posts each message to a Microsoft Teams Workflows webhook ("When a Teams webhook request
// is received") as an Adaptive Card attachment.
type Teams struct {
	URL    Secret
	Client *http.Client
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsElement struct {
	Type     string      `json:"type"`
	Text     string      `json:"text,omitempty"`
	Weight   string      `json:"weight,omitempty"`
	Size     string      `json:"size,omitempty"`
	Wrap     bool        `json:"wrap,omitempty"`
	IsSubtle bool        `json:"isSubtle,omitempty"`
	Facts    []teamsFact `json:"facts,omitempty"`
	FontType string      `json:"fontType,omitempty"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
	Actions []teamsAction  `json:"actions,omitempty"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsPayload struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

// teamsReportText is the most of a report's Markdown a card carries (Teams refuses messages
// over about 28 KB).
const teamsReportText = 20000

func teamsMessage(m *Message) teamsPayload {
	if m.Report != nil {
		card := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4"}
		card.Body = append(card.Body, teamsElement{Type: "TextBlock", Text: m.Title, Weight: "Bolder", Size: "Medium", Wrap: true},
			teamsElement{Type: "TextBlock", Text: m.Report.trim(m.Report.Markdown, teamsReportText), Wrap: true})
		return teamsPayload{Type: "message", Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
	}
	title := m.Title
	if m.Severity != "" {
		title = "[" + strings.ToUpper(m.Severity) + "] " + title
	}
	card := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4"}
	card.Body = append(card.Body, teamsElement{Type: "TextBlock", Text: title, Weight: "Bolder", Size: "Medium", Wrap: true})
	if m.Summary != "" {
		card.Body = append(card.Body, teamsElement{Type: "TextBlock", Text: m.Summary, Wrap: true})
	}
	if len(m.Fields) > 0 {
		fs := teamsElement{Type: "FactSet"}
		for _, f := range m.Fields {
			fs.Facts = append(fs.Facts, teamsFact{f.Name, f.Value})
		}
		card.Body = append(card.Body, fs)
	}
	if cmd := m.EventCommand(); cmd != "" {
		card.Body = append(card.Body, teamsElement{Type: "TextBlock", Text: cmd, IsSubtle: true, Wrap: true, FontType: "Monospace"})
	}
	if m.Link != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open", URL: m.Link}}
	}
	return teamsPayload{Type: "message", Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}

// Send posts each message: 200 or 202 is delivered, 429 and 5xx retryable, other 4xx refused.
func (t *Teams) Send(ctx context.Context, msgs []Message) error {
	return poster{client: t.Client, name: "teams webhook"}.postEach(ctx, msgs, t.URL.Reveal(), success2xx, func(m *Message) ([]byte, http.Header, error) {
		return jsonOf(teamsMessage(m))
	})
}
