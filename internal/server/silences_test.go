package server

import (
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/notify"
)

// TestSilences adds, lists and expires silences through the API: admin writes, read lists, the
// file is the one trailsql silence and the notifier read, and bad input is a 400 naming the field.
func TestSilences(t *testing.T) {
	l := newLake(t, 8, 300)
	h := serve(t, l, nil)
	tokens := OpenTokens(l.lake)
	readTok, _, err := tokens.Create(RoleRead, "reader")
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _, err := tokens.Create(RoleAdmin, "boss")
	if err != nil {
		t.Fatal(err)
	}

	body := map[string]any{"matchers": []string{"rule=root-activity", "account=~1111.*"}, "comment": "break-glass drill", "duration": "4h"}
	h.token = readTok
	h.wantError(t, "POST", "/api/v1/silences", body, 403, ErrorForbidden)
	h.token = ""
	h.wantError(t, "POST", "/api/v1/silences", body, 401, ErrorUnauthenticated)

	h.token = adminTok
	var added SilenceJSON
	h.call(t, "POST", "/api/v1/silences", body, 201, &added)
	if !idRE().MatchString(added.ID) || added.State != "active" || !added.EndsAt.Equal(end.Add(4*time.Hour)) || added.CreatedBy != "boss" ||
		len(added.Matchers) != 2 || added.Matchers[1] != (notify.Matcher{Name: "account", Op: "=~", Value: "1111.*"}) {
		t.Fatalf("added silence: %+v", added)
	}
	// The CLI's file holds it.
	onDisk, err := notify.OpenSilences(notify.DirOf(l.lake)).List()
	if err != nil || len(onDisk) != 1 || onDisk[0].ID != added.ID || onDisk[0].Comment != "break-glass drill" {
		t.Fatalf("silences file: %+v %v", onDisk, err)
	}
	later := map[string]any{"matchers": []string{"severity=low"}, "comment": "noisy", "starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-03T00:00:00Z"}
	var pending SilenceJSON
	h.call(t, "POST", "/api/v1/silences", later, 201, &pending)
	if pending.State != "pending" {
		t.Errorf("a silence starting tomorrow is %q, want pending", pending.State)
	}

	h.token = readTok
	var list struct{ Silences []SilenceJSON }
	h.call(t, "GET", "/api/v1/silences", nil, 200, &list)
	if len(list.Silences) != 2 || list.Silences[0].ID != pending.ID || list.Silences[1].ID != added.ID {
		t.Fatalf("silences, newest first: %+v", list.Silences)
	}
	h.wantError(t, "DELETE", "/api/v1/silences/"+added.ID, nil, 403, ErrorForbidden)

	h.token = adminTok
	var expired SilenceJSON
	h.call(t, "DELETE", "/api/v1/silences/"+added.ID, nil, 200, &expired)
	if expired.State != "expired" || !expired.EndsAt.Equal(end) {
		t.Errorf("expired silence: %+v", expired)
	}
	h.call(t, "GET", "/api/v1/silences", nil, 200, &list)
	if len(list.Silences) != 1 || list.Silences[0].ID != pending.ID {
		t.Errorf("after expiring, the silences not expired: %+v", list.Silences)
	}
	h.call(t, "GET", "/api/v1/silences?all=true", nil, 200, &list)
	if len(list.Silences) != 2 || list.Silences[1].State != "expired" {
		t.Errorf("all silences: %+v", list.Silences)
	}

	h.wantError(t, "DELETE", "/api/v1/silences/0000000000000000", nil, 404, ErrorNotFound)
	h.wantError(t, "DELETE", "/api/v1/silences/x", nil, 404, ErrorNotFound)
	for _, bad := range []map[string]any{
		{"comment": "none"},
		{"matchers": []string{"rule"}, "comment": "no operator"},
		{"matchers": []string{"rule=~("}, "comment": "bad regexp"},
		{"matchers": []string{"rule=x"}},
		{"matchers": []string{"rule=x"}, "comment": "c", "duration": "forever"},
		{"matchers": []string{"rule=x"}, "comment": "c", "ends_at": "2020-01-01T00:00:00Z"},
		{"matchers": []string{"rule=x"}, "comment": "c", "ends_at": "tomorrow"},
		{"matchers": []string{"rule=x"}, "comment": "c", "ends_at": "2027-01-01T00:00:00Z", "duration": "1h"},
		{"matchers": []string{"rule=x"}, "comment": "c", "unknown": 1},
	} {
		e := h.wantError(t, "POST", "/api/v1/silences", bad, 400, ErrorParameter)
		t.Logf("%v: %s", bad, e.Error.Message)
	}
}
