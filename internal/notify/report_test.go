package notify

import (
	"strings"
	"testing"
)

// TestReportPayloads: a report's Markdown fits Slack's limits (sections of 3000 characters at
// most, 50 blocks) and Teams', with a note saying it was trimmed and how to read it whole; a
// short one is whole, with no note.
func TestReportPayloads(t *testing.T) {
	var long strings.Builder
	long.WriteString("# Identity report\n\n| user | last seen |\n|---|---|\n")
	for i := range 8000 {
		long.WriteString("| user-" + strings.Repeat("x", i%40) + " | 2024-03-01 |\n")
	}
	for _, tc := range []struct {
		name, md string
		trimmed  bool
	}{{"short", "# Identity report\n\nNo inactive user.\n", false}, {"long", long.String(), true}} {
		m := Message{ID: "report-x", Title: "Identity report", Report: &Report{Name: "weekly", Kind: "identity", Format: "html", Markdown: tc.md, Command: "trailsql report identity --days 30 --format html"}}
		p := slackMessage(&m)
		if err := checkBlocks(p); err != nil {
			t.Fatalf("%s: slack: %v", tc.name, err)
		}
		var text strings.Builder
		for _, b := range p.Blocks {
			if b.Text != nil {
				text.WriteString(b.Text.Text)
			}
			for _, e := range b.Elements {
				text.WriteString(e.Text)
			}
		}
		if got := strings.Contains(text.String(), "trimmed"); got != tc.trimmed {
			t.Errorf("%s: slack note of trimming: %v, want %v", tc.name, got, tc.trimmed)
		}
		if !tc.trimmed && !strings.Contains(text.String(), "No inactive user.") {
			t.Errorf("short: slack lost the text: %q", text.String())
		}
		card := teamsMessage(&m).Attachments[0].Content
		body := card.Body[1].Text
		if len(body) > teamsReportText || strings.Contains(body, "trailsql report identity") != tc.trimmed {
			t.Errorf("%s: teams text of %d bytes, note %v", tc.name, len(body), strings.Contains(body, "trailsql report identity"))
		}
	}
}
