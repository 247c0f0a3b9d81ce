package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// TicketStore is Jira's own record of the tickets it created, by label: Jira's search is
// eventually consistent, so a repeat just after a create may not find the ticket by its label.
// The outbox implements it (persisted with the deliveries).
type TicketStore interface {
	Ticket(label string) (key string, ok bool)
	SetTicket(label, key string) error
}

// Jira opens a ticket per alert, labelled trailsql-<hash of rule and dedup key>; a repeat (or a
// re-send after a crash) comments on the open ticket with that label instead of opening another.
// API "3" is Jira Cloud (REST v3, ADF descriptions, POST /rest/api/3/search/jql); "2" is Jira
// Data Center (REST v2, plain text).
// handledStore is a TicketStore that also records each message a ticket was opened or
// commented for (the outbox), so that a message re-sent after a crash adds no comment.
type handledStore interface {
	Handled(id string) bool
	SetHandled(label, key, id string) error
}

type Jira struct {
	BaseURL   string // https://acme.atlassian.net
	API       string // "3" (default) or "2"
	User      string // Cloud: the account's email, with Token as an API token (basic auth)
	Token     Secret // Data Center without User: a personal access token (bearer)
	Project   string
	IssueType string // default "Task"
	Tickets   TicketStore
	Client    *http.Client
}

// JiraLabel is the label of a message's tickets.
func JiraLabel(m *Message) string { return "trailsql-" + m.DedupHash() }

func (j *Jira) api() string {
	if j.API == "2" {
		return "2"
	}
	return "3"
}

func (j *Jira) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &SendError{Detail: "encode: " + err.Error()}
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(j.BaseURL, "/")+path, strings.NewReader(string(body)))
	if err != nil {
		return &SendError{Detail: fmt.Sprintf("jira: base URL %q is not valid", j.BaseURL)}
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if j.User != "" {
		req.SetBasicAuth(j.User, j.Token.Reveal())
	} else {
		req.Header.Set("Authorization", "Bearer "+j.Token.Reveal())
	}
	status, h, resp, err := poster{client: j.Client, name: "jira"}.do(req)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return statusError(status, h, "jira "+method+" "+path+": "+jiraErrors(resp))
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("jira %s %s: the answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}

// jiraErrors reads Jira's {"errorMessages": [...], "errors": {field: message}}.
func jiraErrors(body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || (len(e.ErrorMessages) == 0 && len(e.Errors) == 0) {
		return strings.TrimSpace(string(body))
	}
	parts := append([]string(nil), e.ErrorMessages...)
	fields := make([]string, 0, len(e.Errors))
	for f := range e.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+e.Errors[f])
	}
	return strings.Join(parts, "; ")
}

type jiraIssue struct {
	Key    string `json:"key"`
	Fields struct {
		Status struct {
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
	} `json:"fields"`
}

// openTicket finds the open ticket labelled label: by search, then by the tickets this
// destination created (the search index may not have them yet).
func (j *Jira) openTicket(ctx context.Context, label string) (string, error) {
	jql := fmt.Sprintf(`project = "%s" AND labels = "%s" AND statusCategory != Done ORDER BY created DESC`, j.Project, label)
	var found struct {
		Issues []jiraIssue `json:"issues"`
	}
	path := "/rest/api/3/search/jql"
	if j.api() == "2" {
		path = "/rest/api/2/search"
	}
	if err := j.call(ctx, http.MethodPost, path, map[string]any{"jql": jql, "fields": []string{"status"}, "maxResults": 1}, &found); err != nil {
		return "", err
	}
	if len(found.Issues) > 0 {
		return found.Issues[0].Key, nil
	}
	if j.Tickets == nil {
		return "", nil
	}
	key, ok := j.Tickets.Ticket(label)
	if !ok {
		return "", nil
	}
	var issue jiraIssue
	if err := j.call(ctx, http.MethodGet, "/rest/api/"+j.api()+"/issue/"+url.PathEscape(key)+"?fields=status", nil, &issue); err != nil {
		var se *SendError
		if asSend(err, &se) && se.Status == http.StatusNotFound {
			return "", nil // deleted: open another
		}
		return "", err
	}
	if issue.Fields.Status.StatusCategory.Key == "done" {
		return "", nil
	}
	return key, nil
}

// Send opens or comments on a ticket per message.
func (j *Jira) Send(ctx context.Context, msgs []Message) error {
	return sendEach(ctx, msgs, func(ctx context.Context, m *Message) error {
		label := JiraLabel(m)
		hs, _ := j.Tickets.(handledStore)
		if hs != nil && hs.Handled(m.ID) {
			return nil // sent before a crash, and recorded: its ticket has it already
		}
		key, err := j.openTicket(ctx, label)
		if err != nil {
			return err
		}
		if key != "" {
			if err := j.call(ctx, http.MethodPost, "/rest/api/"+j.api()+"/issue/"+url.PathEscape(key)+"/comment", map[string]any{"body": j.body(m)}, nil); err != nil {
				return err
			}
			if hs != nil {
				if err := hs.SetHandled(label, key, m.ID); err != nil {
					return fmt.Errorf("record the jira comment on %s: %w", key, err)
				}
			}
			return nil
		}
		issueType := j.IssueType
		if issueType == "" {
			issueType = "Task"
		}
		fields := map[string]any{
			"project":     map[string]string{"key": j.Project},
			"issuetype":   map[string]string{"name": issueType},
			"summary":     truncate(strings.ReplaceAll(m.Title, "\n", " "), 255),
			"description": j.body(m),
			"labels":      []string{"trailsql", label},
		}
		var created struct {
			Key string `json:"key"`
		}
		if err := j.call(ctx, http.MethodPost, "/rest/api/"+j.api()+"/issue", map[string]any{"fields": fields}, &created); err != nil {
			return err
		}
		if hs != nil && created.Key != "" {
			if err := hs.SetHandled(label, created.Key, m.ID); err != nil {
				return fmt.Errorf("record jira ticket %s: %w", created.Key, err)
			}
		} else if j.Tickets != nil && created.Key != "" {
			if err := j.Tickets.SetTicket(label, created.Key); err != nil {
				return fmt.Errorf("record jira ticket %s: %w", created.Key, err)
			}
		}
		return nil
	})
}

// body is a ticket's description or comment: plain text for v2, an ADF document for v3.
func (j *Jira) body(m *Message) any {
	if j.api() == "2" {
		var b strings.Builder
		if m.Summary != "" {
			b.WriteString(m.Summary + "\n\n")
		}
		for _, f := range m.Fields {
			fmt.Fprintf(&b, "*%s:* %s\n", f.Name, f.Value)
		}
		if cmd := m.EventCommand(); cmd != "" {
			b.WriteString("\nSee the event: {noformat}" + cmd + "{noformat}\n")
		}
		if m.Link != "" {
			b.WriteString(m.Link + "\n")
		}
		return b.String()
	}
	text := func(s string, marks ...map[string]any) map[string]any {
		t := map[string]any{"type": "text", "text": s}
		if len(marks) > 0 {
			t["marks"] = marks
		}
		return t
	}
	para := func(content ...any) map[string]any { return map[string]any{"type": "paragraph", "content": content} }
	var content []any
	if m.Summary != "" {
		content = append(content, para(text(m.Summary)))
	}
	if len(m.Fields) > 0 {
		var items []any
		for _, f := range m.Fields {
			items = append(items, map[string]any{"type": "listItem", "content": []any{para(text(f.Name+": ", map[string]any{"type": "strong"}), text(orUnknown(f.Value)))}})
		}
		content = append(content, map[string]any{"type": "bulletList", "content": items})
	}
	if cmd := m.EventCommand(); cmd != "" {
		content = append(content, para(text("See the event:")),
			map[string]any{"type": "codeBlock", "attrs": map[string]any{"language": "shell"}, "content": []any{text(cmd)}})
	}
	if m.Link != "" {
		content = append(content, para(text(m.Link, map[string]any{"type": "link", "attrs": map[string]any{"href": m.Link}})))
	}
	if len(content) == 0 {
		content = append(content, para(text(orUnknown(m.Title))))
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}
