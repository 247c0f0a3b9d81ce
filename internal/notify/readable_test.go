package notify_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

// TestReadable reads the alerts' events back from a lake: the messages say what happened in
// plain language, with the report's fields; an alert whose event is not in the lake keeps its
// title.
func TestReadable(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	st, err := ingest.Run(ctx, ingest.Options{Lake: root}, []string{"testdata/readable-trail.json"})
	if err != nil || st.EventsAdded != 2 {
		t.Fatalf("ingest: %v (%+v)", err, st)
	}
	e, err := local.Open(ctx, engine.Options{Lake: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := rules.Alert{Severity: rules.High, Account: "111122223333", Region: "us-east-1", Day: "2024-03-20", Count: 1}
	root1, key, gone := base, base, base
	root1.Rule, root1.Title, root1.EventID, root1.EventName = "root-activity", "The root user was used", "11111111-aaaa-4bbb-8ccc-000000000001", "ConsoleLogin"
	key.Rule, key.Title, key.EventID, key.EventName, key.Count, key.FirstTime = "access-key-for-another-user", "An access key was made for another user", "11111111-aaaa-4bbb-8ccc-000000000002", "CreateAccessKey", 3, "2024-03-20T09:00:00Z"
	gone.Rule, gone.Title, gone.EventID, gone.EventTime = "root-activity", "The root user was used", "not-in-the-lake", "2024-03-20T12:00:00Z"
	rs := []*rules.Rule{{ID: "root-activity", Tags: []string{"attack.t1078"}}}
	msgs, err := notify.Readable(ctx, local.Engine(e), []rules.Alert{root1, key, gone}, rs, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	tests := []struct {
		summary []string
		fields  map[string]string
	}{
		{[]string{"root user", "signed in", "203.0.113.5"}, map[string]string{"Source IP": "203.0.113.5", "Event ID": root1.EventID}},
		{[]string{"alice", "access key", "bob", "3 events in all since 2024-03-20T09:00:00Z."}, map[string]string{"Events": "3", "Outcome": "succeeded"}},
		{[]string{"The root user was used (event not-in-the-lake of 2024-03-20T12:00:00Z could not be read from the lake)"}, map[string]string{"Rule": "root-activity"}},
	}
	for i, tt := range tests {
		m := msgs[i]
		for _, want := range tt.summary {
			if !strings.Contains(m.Summary, want) {
				t.Errorf("message %d: summary %q lacks %q", i, m.Summary, want)
			}
		}
		got := map[string]string{}
		for _, f := range m.Fields {
			got[f.Name] = f.Value
		}
		for k, v := range tt.fields {
			if got[k] != v {
				t.Errorf("message %d: field %s = %q, want %q (fields %v)", i, k, got[k], v, m.Fields)
			}
		}
		if m.ID == "" || m.ID != msgs[i].Key() {
			t.Errorf("message %d: id %q is not its key", i, m.ID)
		}
	}
	if len(msgs[0].Tags) != 1 {
		t.Errorf("the rule's tags are lost: %v", msgs[0].Tags)
	}
}
