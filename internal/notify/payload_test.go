package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/payloads")

// goldenAlert is the alert whose payloads the golden files hold.
func goldenAlert() Message {
	m := FromAlert(rules.Alert{Rule: "cloudtrail-tampering", Severity: rules.Critical, Title: "CloudTrail logging stopped",
		EventID: "3f1c2e4a-9b8d-4c7e-a1f0-5d6e7f8a9b0c", EventTime: "2026-03-01T12:34:56Z", EventSource: "cloudtrail.amazonaws.com",
		EventName: "StopLogging", Principal: "arn:aws:iam::111122223333:role/Admin", SourceIP: "203.0.113.7",
		Account: "111122223333", Region: "eu-west-1", Dedup: "3f1c2e4a-9b8d-4c7e-a1f0-5d6e7f8a9b0c", Count: 1})
	m.ID = m.Key()
	m.Link = "https://trailsql.example.com/alerts/cloudtrail-tampering"
	return m
}

// TestPayloadsGolden: what each destination sends for one alert, as the golden files in
// testdata/payloads (go test -run TestPayloadsGolden -update rewrites them).
func TestPayloadsGolden(t *testing.T) {
	m := goldenAlert()
	j3, j2 := &Jira{}, &Jira{API: "2"}
	e := &Email{From: "trailsql@example.com", To: []string{"sec@example.com"}}
	mail, err := e.mail(&m, time.Date(2026, 3, 1, 12, 35, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	boundary := regexp.MustCompile(`boundary="?([0-9a-f]+)"?`).FindSubmatch(mail)
	mail = bytes.ReplaceAll(mail, boundary[1], []byte("BOUNDARY"))
	for name, v := range map[string]any{
		"slack.json":               slackMessage(&m),
		"teams.json":               teamsMessage(&m),
		"pagerduty.json":           pdEventOf("R0123456789ABCDEF0123456789ABCDE", &m),
		"jira-v3-description.json": j3.body(&m),
		"jira-v2-description.json": j2.body(&m),
		"webhook.json":             WebhookBody{Type: "alert", Timestamp: time.Date(2026, 3, 1, 12, 35, 0, 0, time.UTC), Data: m},
		"email.eml":                string(mail),
	} {
		var got []byte
		if s, ok := v.(string); ok {
			got = []byte(strings.ReplaceAll(s, "\r\n", "\n"))
		} else if got, err = json.MarshalIndent(v, "", "  "); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "payloads", name)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n%s", name, got)
		}
	}
	// The command that shows the event is in every payload but PagerDuty's custom details too.
	if !strings.Contains(string(mail), "eventid =3D '3f1c2e4a") && !strings.Contains(string(mail), "eventid = '3f1c2e4a") {
		t.Error("the mail lacks the command that shows the event")
	}
}

// TestEmailEscapes: text from the events (a principal, a user agent) cannot inject HTML.
func TestEmailEscapes(t *testing.T) {
	m := goldenAlert()
	m.Summary = `<script>alert(1)</script> called "x"`
	mail, err := (&Email{From: "a@b", To: []string{"c@d"}}).mail(&m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, part, _ := strings.Cut(string(mail), "Content-Type: text/html; charset=utf-8\r\n\r\n")
	html, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(part)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(html), "<script>") || !strings.Contains(string(html), "&lt;script&gt;") {
		t.Errorf("the HTML part does not escape the summary:\n%s", html)
	}
}

func TestRoutes(t *testing.T) {
	routes := []Route{
		{Name: "page", Match: Match{MinSeverity: "critical"}, Destinations: []string{"pd"}, Continue: true},
		{Name: "root", Match: Match{Rules: []string{"root-*"}, Accounts: []string{"111122223333"}}, Destinations: []string{"slack"}},
		{Name: "attack", Match: Match{Tags: []string{"attack.t1078", "attack.t1098"}}, Destinations: []string{"jira"}},
		{Name: "rest", Match: Match{MinSeverity: "medium"}, Destinations: []string{"mail"}},
	}
	dests := map[string]Destination{"pd": discard{}, "slack": discard{}, "jira": discard{}, "mail": discard{}}
	for _, tc := range []struct {
		name string
		m    Message
		want []string
	}{
		{"critical root: paged, then the root route", Message{Rule: "root-activity", Severity: "critical", Account: "111122223333"}, []string{"pd", "slack"}},
		{"root in another account", Message{Rule: "root-activity", Severity: "high", Account: "999999999999"}, []string{"mail"}},
		{"a tag", Message{Rule: "x", Severity: "low", Tags: []string{"attack.t1098"}}, []string{"jira"}},
		{"below every route", Message{Rule: "x", Severity: "low"}, nil},
		{"an unknown severity ranks lowest", Message{Rule: "x", Severity: "weird"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(t.TempDir(), dests, routes, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			tc.m.Title = "t"
			if err := n.Enqueue(tc.m); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range []string{"pd", "slack", "jira", "mail"} {
				if n.Stats()[d].Queued > 0 {
					got = append(got, d)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("routed to %v, want %v", got, tc.want)
			}
		})
	}
}
