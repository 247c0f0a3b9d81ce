package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Slack's Block Kit limits: text of a section, fields of a section, blocks of a message, text of
// a header and of one field.
const (
	slackSectionText = 3000
	slackFields      = 10
	slackBlocks      = 50
	slackHeaderText  = 150
	slackFieldText   = 2000
)

// Slack posts each message to a Slack incoming webhook as Block Kit: a header, a section with
// the summary, sections of fields, and a context line with the CLI command that shows the
// events.
type Slack struct {
	URL    Secret
	Client *http.Client // nil: http.DefaultClient
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackMessage(m *Message) slackPayload {
	if m.Report != nil {
		return slackReport(m)
	}
	title := m.Title
	if m.Severity != "" {
		title = fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity), m.Title)
	}
	p := slackPayload{Text: truncate(title, slackSectionText)}
	p.Blocks = append(p.Blocks, slackBlock{Type: "header", Text: &slackText{"plain_text", truncate(title, slackHeaderText)}})
	if m.Summary != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", truncate(slackEscape(m.Summary), slackSectionText)}})
	}
	var ctxLine []slackText
	if cmd := m.EventCommand(); cmd != "" {
		ctxLine = append(ctxLine, slackText{"mrkdwn", truncate("See the event: `"+cmd+"`", slackSectionText)})
	}
	if m.Link != "" {
		ctxLine = append(ctxLine, slackText{"mrkdwn", truncate("<"+m.Link+"|Open>", slackSectionText)})
	}
	room := slackBlocks - len(p.Blocks)
	if len(ctxLine) > 0 {
		room--
	}
	for i := 0; i < len(m.Fields) && room > 0; i += slackFields {
		var fs []slackText
		for _, f := range m.Fields[i:min(i+slackFields, len(m.Fields))] {
			fs = append(fs, slackText{"mrkdwn", truncate("*"+slackEscape(f.Name)+"*\n"+slackEscape(f.Value), slackFieldText)})
		}
		if room == 1 && i+slackFields < len(m.Fields) {
			// The last block there is room for: say that fields were left out.
			fs[len(fs)-1].Text = truncate(fs[len(fs)-1].Text, slackFieldText-1) + "…"
		}
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Fields: fs})
		room--
	}
	if len(ctxLine) > 0 {
		p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: ctxLine})
	}
	return p
}

// Send posts each message. Slack answers 200 "ok"; 429 with Retry-After; 400 invalid_blocks,
// invalid_payload, 403, 404 no_service, 410 channel_is_archived for good.
func (s *Slack) Send(ctx context.Context, msgs []Message) error {
	ok := func(status int) bool { return status == http.StatusOK }
	return poster{client: s.Client, name: "slack webhook"}.postEach(ctx, msgs, s.URL.Reveal(), ok, func(m *Message) ([]byte, http.Header, error) {
		return jsonOf(slackMessage(m))
	})
}

// slackReport is a report's Markdown in sections of at most 3000 characters, cut at line
// breaks, in at most 50 blocks; what does not fit is left out with a note.
func slackReport(m *Message) slackPayload {
	r := m.Report
	p := slackPayload{Text: truncate(m.Title, slackSectionText)}
	p.Blocks = append(p.Blocks, slackBlock{Type: "header", Text: &slackText{"plain_text", truncate(m.Title, slackHeaderText)}})
	lines := strings.Split(slackEscape(r.Markdown), "\n")
	var cur strings.Builder
	trimmed := false
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", cur.String()}})
		}
		cur.Reset()
	}
	for _, l := range lines {
		l = truncate(l, slackSectionText-1)
		if cur.Len()+len(l)+1 > slackSectionText {
			if len(p.Blocks) >= slackBlocks-2 { // room for the last section and the note
				trimmed = true
				break
			}
			flush()
		}
		cur.WriteString(l + "\n")
	}
	if !trimmed {
		flush()
	} else if len(p.Blocks) < slackBlocks-1 {
		flush()
	}
	if trimmed {
		p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{{"mrkdwn", truncate(r.trimmedNote(), slackSectionText)}}})
	}
	return p
}
