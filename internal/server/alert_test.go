package server

import (
	"context"
	"slices"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

// detectAlerts runs the built-in rules over the harness's lake and stores their alerts, as
// trailsql detect does.
func detectAlerts(t *testing.T, h *harness) []rules.Alert {
	t.Helper()
	ctx := context.Background()
	builtin, errs := rules.Builtin()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ok, problems := rules.Validate(ctx, local.Engine(h.e), builtin)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	p, release, err := h.e.Pin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	det := &rules.Detector{Store: rules.OpenStore(h.lake), Rules: ok, PathOf: h.e.PathOf}
	if _, err := det.Run(ctx, local.Engine(p), p.Snapshot()); err != nil {
		t.Fatal(err)
	}
	stored, err := rules.OpenStore(h.lake).Alerts()
	if err != nil || len(stored) == 0 {
		t.Fatalf("the generated trail raised no alert (%v)", err)
	}
	return stored
}

// TestAlertDetail: GET /api/v1/alerts/{id} gives the alert's plain-language summary (the one
// notifications carry), its labels and rule, and the silences that match it.
func TestAlertDetail(t *testing.T) {
	h := serve(t, newLake(t, 4, 3000), nil)
	stored := detectAlerts(t, h)
	i := slices.IndexFunc(stored, func(a rules.Alert) bool { return a.EventID != "" && a.Principal != "" })
	if i < 0 {
		t.Fatal("no alert with an event and a principal")
	}
	a := stored[i]
	id := AlertID(a)
	builtin, _ := rules.Builtin()
	want, err := notify.Readable(context.Background(), local.Engine(h.e), []rules.Alert{a}, builtin, report.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var d AlertDetail
	h.call(t, "GET", "/api/v1/alerts/"+id, nil, 200, &d)
	if d.ID != id || d.Rule != a.Rule || d.EventID != a.EventID || d.SummaryError != "" {
		t.Fatalf("alert detail: %+v", d)
	}
	if d.Summary != want[0].Summary || d.Summary == d.Title || normalise(t, d.Fields) != normalise(t, want[0].Fields) || len(d.Fields) == 0 {
		t.Errorf("summary %q fields %v\nwant %q %v", d.Summary, d.Fields, want[0].Summary, want[0].Fields)
	}
	if d.Labels["rule"] != a.Rule || d.Labels["principal"] != a.Principal || d.RuleDetail == nil || d.RuleDetail.ID != a.Rule {
		t.Errorf("labels %v, rule %+v", d.Labels, d.RuleDetail)
	}
	if len(d.SilencedBy) != 0 {
		t.Errorf("silenced by %v before any silence", d.SilencedBy)
	}

	// A silence of its rule and principal holds it; one of another rule does not.
	var other, match SilenceJSON
	h.call(t, "POST", "/api/v1/silences", map[string]any{"matchers": []string{"rule=not-" + a.Rule}, "comment": "other"}, 201, &other)
	h.call(t, "POST", "/api/v1/silences", map[string]any{"matchers": []string{"rule=" + a.Rule, "principal=" + a.Principal}, "comment": "drill"}, 201, &match)
	h.call(t, "GET", "/api/v1/alerts/"+id, nil, 200, &d)
	if !slices.Equal(d.SilencedBy, []string{match.ID}) {
		t.Errorf("silenced by %v, want [%s]", d.SilencedBy, match.ID)
	}
	h.call(t, "POST", "/api/v1/alerts/"+id+"/ack", map[string]string{"note": "seen"}, 200, nil)
	h.call(t, "GET", "/api/v1/alerts/"+id, nil, 200, &d)
	if d.Ack == nil || d.Ack.Note != "seen" {
		t.Errorf("ack %+v", d.Ack)
	}
	h.wantError(t, "GET", "/api/v1/alerts/0000000000000000", nil, 404, ErrorNotFound)
}
