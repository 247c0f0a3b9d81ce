package server

import (
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/engine"
)

// slowSQL runs for minutes on any of the test lakes: a triple self-join.
const slowSQL = "SELECT count(*) FROM cloudtrail_logs a CROSS JOIN cloudtrail_logs b CROSS JOIN cloudtrail_logs c WHERE a.eventid < b.eventid AND b.eventid < c.eventid"

// waitState polls a query until it is in one of states (no sleep: each poll is a request).
func (h *harness) waitState(t *testing.T, id string, states ...string) JobStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var st JobStatus
		h.call(t, "GET", "/api/v1/queries/"+id, nil, 200, &st)
		for _, s := range states {
			if st.State == s {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s is %s, not %v", id, st.State, states)
		}
	}
}

func TestAsyncQuery(t *testing.T) {
	h := serve(t, newLake(t, 10, 1000), nil)
	var st JobStatus
	h.call(t, "POST", "/api/v1/queries", map[string]any{"sql": "SELECT eventname FROM cloudtrail_logs ORDER BY eventtime, eventid", "max_rows": 10}, 202, &st)
	if !idRE().MatchString(st.ID) || st.State != StateQueued && st.State != StateRunning {
		t.Fatalf("submitted: %+v", st)
	}
	done := h.waitState(t, st.ID, StateSucceeded, StateFailed)
	if done.State != StateSucceeded || done.RowCount != 10 || !done.Truncated || done.Stats == nil || done.Commit == 0 {
		t.Fatalf("finished: %+v", done)
	}
	var res QueryResult
	h.call(t, "GET", "/api/v1/queries/"+st.ID+"/results", nil, 200, &res)
	if len(res.Rows) != 10 || res.QueryID != st.ID {
		t.Errorf("results: %+v", res)
	}
	// Errors of the request answer at once; errors of the statement, at /results.
	h.wantError(t, "POST", "/api/v1/queries", map[string]any{"sql": "SELECT :who"}, 400, ErrorParameter)
	h.call(t, "POST", "/api/v1/queries", map[string]any{"sql": "INSERT INTO cloudtrail_logs VALUES (1)"}, 202, &st)
	if refused := h.waitState(t, st.ID, StateFailed, StateSucceeded); refused.Error == nil || refused.Error.Type != ErrorRefused {
		t.Fatalf("refused: %+v", refused)
	}
	h.wantError(t, "GET", "/api/v1/queries/"+st.ID+"/results", nil, 400, ErrorRefused)
	h.call(t, "POST", "/api/v1/queries", map[string]any{"sql": "SELECT nosuch FROM cloudtrail_logs"}, 202, &st)
	failed := h.waitState(t, st.ID, StateFailed, StateSucceeded)
	if failed.State != StateFailed || failed.Error == nil || failed.Error.Type != ErrorSQL {
		t.Fatalf("failed: %+v", failed)
	}
	h.wantError(t, "GET", "/api/v1/queries/"+st.ID+"/results", nil, 422, ErrorSQL)
	h.wantError(t, "GET", "/api/v1/queries/0123456789abcdef", nil, 404, ErrorNotFound)
}

// TestBusyAndCancel holds the engine's only slot with a slow asynchronous query: a synchronous
// one is refused after the queue wait (503, naming the limit), a second asynchronous one waits
// QUEUED, and both are cancelled.
func TestBusyAndCancel(t *testing.T) {
	h := serve(t, newLake(t, 11, 2000), func(e *engine.Options, o *Options) {
		e.MaxConcurrent, e.MaxQueueWait, o.Concurrency = 1, 20*time.Millisecond, 1
	})
	var slow, queued JobStatus
	h.call(t, "POST", "/api/v1/queries", map[string]any{"sql": slowSQL}, 202, &slow)
	h.waitState(t, slow.ID, StateRunning)
	h.call(t, "POST", "/api/v1/queries", map[string]any{"sql": "SELECT 1 AS x"}, 202, &queued)
	if st := h.waitState(t, queued.ID, StateQueued, StateRunning, StateSucceeded); st.State != StateQueued {
		t.Errorf("second query with the only async slot taken: %s", st.State)
	}
	// The slow query takes the engine's slot a moment after it is RUNNING: ask until refused.
	var e apiErr
	for i := 0; ; i++ {
		code, body, _ := h.do(t, "GET", sqlQS("SELECT 1 AS x"), nil)
		if code == 503 {
			e = h.wantError(t, "GET", sqlQS("SELECT 1 AS x"), nil, 503, ErrorLimit)
			break
		}
		if code != 200 || i == 1000 {
			t.Fatalf("while the engine is busy: %d %s", code, body)
		}
	}
	if !strings.Contains(e.Error.Limit, "--concurrency") || !strings.Contains(e.Error.Message, "max concurrent queries") {
		t.Errorf("busy: %+v", e.Error)
	}
	var st JobStatus
	h.call(t, "DELETE", "/api/v1/queries/"+queued.ID, nil, 200, &st)
	if st.State != StateCancelled {
		t.Errorf("cancelled while queued: %s", st.State)
	}
	h.call(t, "DELETE", "/api/v1/queries/"+slow.ID, nil, 200, &st)
	if st.State != StateCancelled {
		t.Errorf("cancelled while running: %s", st.State)
	}
	h.wantError(t, "GET", "/api/v1/queries/"+slow.ID+"/results", nil, 409, ErrorNotFound)
	// The engine's slot is free again, once the cancelled statement has let it go (DELETE
	// answers when the job is cancelled, the engine's statement ends a moment later).
	for deadline := time.Now().Add(time.Minute); ; {
		code, body, _ := h.do(t, "GET", sqlQS("SELECT 1 AS x"), nil)
		if code == 200 {
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("after both were cancelled: %d %s", code, body)
		}
	}
	var hist struct{ History []historyEntry }
	h.call(t, "GET", "/api/v1/history", nil, 200, &hist)
	states := map[string]string{}
	for _, e := range hist.History {
		states[e.ID] = e.State
	}
	if states[slow.ID] != StateCancelled || states[queued.ID] != StateCancelled {
		t.Errorf("history states: %v", states)
	}
}

// TestErrorShapes checks the error of each kind: its status, type, and what it carries.
func TestErrorShapes(t *testing.T) {
	h := serve(t, newLake(t, 12, 1000), func(e *engine.Options, o *Options) { e.MaxStatementBytes, o.Authz = 1<<10, "" })
	h.wantError(t, "GET", sqlQS("INSERT INTO cloudtrail_logs VALUES (1)"), nil, 400, ErrorRefused)
	e := h.wantError(t, "GET", sqlQS("SELECT eventname,\n  nosuch FROM cloudtrail_logs"), nil, 422, ErrorSQL)
	if e.Error.Line != 2 || e.Error.Column != 3 {
		t.Errorf("SQL error at %d:%d, want 2:3: %s", e.Error.Line, e.Error.Column, e.Error.Message)
	}
	e = h.wantError(t, "GET", sqlQS("SELECT from_iso8601_timestamp(eventtime, 1, 2) FROM cloudtrail_logs"), nil, 422, ErrorSQL)
	if e.Error.Line != 1 || e.Error.Column == 0 {
		t.Errorf("translation error at %d:%d: %s", e.Error.Line, e.Error.Column, e.Error.Message)
	}
	e = h.wantError(t, "GET", sqlQS(slowSQL)+"&timeout=200ms", nil, 504, ErrorLimit)
	if !strings.Contains(e.Error.Limit, "--timeout") {
		t.Errorf("timeout: %+v", e.Error)
	}
	e = h.wantError(t, "POST", "/api/v1/query", map[string]string{"sql": "SELECT '" + strings.Repeat("x", 2000) + "'"}, 413, ErrorLimit)
	if !strings.Contains(e.Error.Limit, "--max-statement-bytes") {
		t.Errorf("statement too large: %+v", e.Error)
	}
	h.wantError(t, "GET", "/api/v1/query", nil, 400, ErrorParameter)
	h.wantError(t, "GET", sqlQS("SELECT 1")+"&format=xml", nil, 400, ErrorParameter)
	h.wantError(t, "GET", sqlQS("SELECT 1")+"&max_rows=-2", nil, 400, ErrorParameter)
	h.wantError(t, "GET", sqlQS("SELECT 1")+"&timeout=soon", nil, 400, ErrorParameter)
	h.wantError(t, "POST", "/api/v1/query", "{not json", 400, ErrorParameter)
	h.wantError(t, "GET", "/api/v1/nothing-here", nil, 404, ErrorNotFound)
	h.wantError(t, "GET", "/api/v1/unused?principal=x", nil, 501, ErrorUnavailable)
}
