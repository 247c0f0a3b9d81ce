package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/usage"
	"github.com/trailsql/trailsql/internal/window"
)

// The window of the answers in these tests: the whole trail.
const (
	windowFrom = "2026-01-01"
	windowTo   = "2026-03-01"
	windowQS   = "from=" + windowFrom + "&to=" + windowTo
)

func testWindow(t *testing.T) window.Spec {
	return window.Spec{From: windowFrom, To: windowTo}
}

func sqlQS(sql string) string { return "/api/v1/query?sql=" + url.QueryEscape(sql) }

func TestQueryFormats(t *testing.T) {
	h := serve(t, newLake(t, 1, 2000), nil)
	const q = "SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY eventname ORDER BY n DESC, eventname"
	want, err := h.e.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var res QueryResult
	h.call(t, "GET", sqlQS(q), nil, 200, &res)
	if res.Commit != want.Seq || res.Commit == 0 || res.RowCount != len(want.Rows) || res.Truncated {
		t.Fatalf("commit %d rows %d truncated %v; want commit %d rows %d", res.Commit, res.RowCount, res.Truncated, want.Seq, len(want.Rows))
	}
	if len(res.Columns) != 2 || res.Columns[0] != (Column{"eventname", "VARCHAR"}) || res.Columns[1].Type != "BIGINT" {
		t.Errorf("columns %v", res.Columns)
	}
	for i, r := range res.Rows {
		m := r.(map[string]any)
		if m["eventname"] != want.Rows[i][0] || int64(m["n"].(float64)) != want.Rows[i][1].(int64) {
			t.Fatalf("row %d: %v, want %v", i, m, want.Rows[i])
		}
	}
	if res.Stats.FilesRead == 0 || res.Stats.BytesRead == 0 || res.Stats.AthenaPriceUSD <= 0 || res.Stats.ElapsedMS <= 0 || res.QueryID == "" {
		t.Errorf("stats %+v, id %q", res.Stats, res.QueryID)
	}

	// Truncated at max_rows, arrays shape.
	var arr QueryResult
	h.call(t, "GET", sqlQS(q)+"&max_rows=3&_shape=arrays", nil, 200, &arr)
	if !arr.Truncated || arr.RowCount != 3 || arr.Rows[0].([]any)[0] != want.Rows[0][0] {
		t.Errorf("max_rows=3: truncated %v, %d rows: %v", arr.Truncated, arr.RowCount, arr.Rows)
	}

	// Named parameters in the query string, positional ones in a POST.
	var named, pos QueryResult
	h.call(t, "GET", sqlQS("SELECT count(*) AS n FROM cloudtrail_logs WHERE eventname = :ev")+"&ev="+url.QueryEscape(want.Rows[0][0].(string)), nil, 200, &named)
	h.call(t, "POST", "/api/v1/query", map[string]any{"sql": "SELECT count(*) AS n FROM cloudtrail_logs WHERE eventname = ? AND ? = 1", "params": []any{want.Rows[0][0], 1}}, 200, &pos)
	for _, r := range []QueryResult{named, pos} {
		if n := r.Rows[0].(map[string]any)["n"].(float64); int64(n) != want.Rows[0][1].(int64) {
			t.Errorf("parameters: %v, want %v", r.Rows, want.Rows[0][1])
		}
	}
	h.wantError(t, "GET", sqlQS("SELECT :missing"), nil, 400, ErrorParameter)

	// NDJSON: a row a line, then _meta.
	code, body, hdr := h.do(t, "GET", sqlQS(q)+"&format=ndjson", nil)
	if code != 200 || hdr.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("ndjson: %d %s", code, hdr.Get("Content-Type"))
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("ndjson line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != len(want.Rows)+1 || lines[0]["eventname"] != want.Rows[0][0] {
		t.Fatalf("ndjson: %d lines, want %d rows and _meta", len(lines), len(want.Rows))
	}
	meta := lines[len(lines)-1]["_meta"].(map[string]any)
	if meta["commit"].(float64) != float64(want.Seq) || meta["truncated"] != false {
		t.Errorf("ndjson _meta %v", meta)
	}

	// CSV download.
	code, body, hdr = h.do(t, "GET", sqlQS(q)+"&format=csv", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment; filename=") || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", code, hdr)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != len(want.Rows)+1 || recs[0][0] != "eventname" || recs[1][0] != want.Rows[0][0] {
		t.Fatalf("csv: %v %v", err, recs[:min(len(recs), 2)])
	}
}

func TestQuestions(t *testing.T) {
	h := serve(t, newLake(t, 2, 2000), nil)
	var list struct{ Questions []questionJSON }
	h.call(t, "GET", "/api/v1/questions", nil, 200, &list)
	all, _ := questions.Catalog()
	if len(list.Questions) != len(all) || len(all) == 0 {
		t.Fatalf("%d questions, want %d", len(list.Questions), len(all))
	}
	var one questionJSON
	h.call(t, "GET", "/api/v1/questions/identity-activity", nil, 200, &one)
	if !slices.Contains(one.Needs, "principal") || !strings.Contains(one.SQL, "cloudtrail_logs") {
		t.Errorf("identity-activity: %+v", one)
	}
	h.wantError(t, "GET", "/api/v1/questions/no-such", nil, 404, ErrorNotFound)
	h.wantError(t, "POST", "/api/v1/questions/identity-activity", map[string]any{"from": windowFrom, "to": windowTo}, 400, ErrorParameter)

	from, to, err := testWindow(t).Resolve(end)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"active-users", "root-activity", "console-logins", "throttling", "iam-changes"} {
		var got QuestionAnswer
		h.call(t, "POST", "/api/v1/questions/"+name, map[string]any{"from": windowFrom, "to": windowTo}, 200, &got)
		q, _ := questions.Get(name)
		res, err := q.Answer(context.Background(), local.Engine(h.e), questions.Params{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		want := resultOf(res, "", DefaultMaxRows)
		if got.Commit != res.Commit || normalise(t, got.Rows) != normalise(t, want.Rows) || normalise(t, got.Columns) != normalise(t, want.Columns) {
			t.Errorf("%s: the API's answer differs from questions.Answer's (commit %d vs %d, %d vs %d rows)", name, got.Commit, res.Commit, len(got.Rows), len(want.Rows))
		}
		if !strings.Contains(got.SQL, "'"+questions.TimeText(from)+"'") || got.Window.Coverage.Events == 0 {
			t.Errorf("%s: sql %q, window %+v", name, got.SQL, got.Window)
		}
	}
}

func TestPolicyAndUnused(t *testing.T) {
	h := serve(t, newLake(t, 3, 3000), nil)
	ctx := context.Background()
	from, to, _ := testWindow(t).Resolve(end)
	query := local.Engine(h.e)
	d, err := authz.Load(h.authz)
	if err != nil {
		t.Fatal(err)
	}
	// An identity of the inventory that called something.
	ps, _ := principal.Inventory(d, "", "")
	var who string
	for _, p := range ps {
		u, err := usage.Collect(ctx, query, usage.Query{Principal: p.ARN, From: from, To: to})
		if err == nil && len(u.Actions) > 0 {
			who = p.ARN
			break
		}
	}
	if who == "" {
		t.Fatal("no principal of the inventory called anything")
	}
	var got PolicyAnswer
	h.call(t, "GET", "/api/v1/policy?principal="+url.QueryEscape(who)+"&"+windowQS+"&resources=true", nil, 200, &got)
	u, err := usage.Collect(ctx, query, usage.Query{Principal: who, From: from, To: to, Resources: true, ProfileRoles: d.InstanceProfileRoles})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := policy.Build(u, policy.Options{Resources: true})
	if normalise(t, got.Policy) != normalise(t, doc) || len(doc.Statements) == 0 {
		t.Errorf("policy differs from policy.Build's:\n%s\n%s", normalise(t, got.Policy), normalise(t, doc))
	}
	if got.Commit != h.e.Snapshot().Seq || got.Principal == "" {
		t.Errorf("commit %d principal %q", got.Commit, got.Principal)
	}
	h.wantError(t, "GET", "/api/v1/policy?"+windowQS, nil, 400, ErrorParameter)
	h.wantError(t, "GET", "/api/v1/policy?principal=nobody-at-all&"+windowQS, nil, 400, ErrorParameter)
	h.wantError(t, "GET", "/api/v1/policy?principal=x&days=-1", nil, 400, ErrorParameter)

	var un UnusedAnswer
	h.call(t, "GET", "/api/v1/unused?"+windowQS, nil, 200, &un)
	reports, _, err := usage.Unused(ctx, query, d, ps, usage.UnusedQuery{Query: usage.Query{From: from, To: to}})
	if err != nil {
		t.Fatal(err)
	}
	if normalise(t, un.Reports) != normalise(t, reports) || len(reports) == 0 {
		t.Errorf("unused differs from usage.Unused's (%d vs %d reports)", len(un.Reports), len(reports))
	}
}

func TestLakeSchemaRulesAlerts(t *testing.T) {
	l := newLake(t, 4, 3000)
	h := serve(t, l, nil)
	ctx := context.Background()

	var info lake.Info
	h.call(t, "GET", "/api/v1/lake", nil, 200, &info)
	want, _ := lake.ReadInfo(l.lake)
	if normalise(t, info) != normalise(t, want) || info.Coverage.Events != int64(l.truth.Events) {
		t.Errorf("lake: %+v, want %+v", info.Coverage, want.Coverage)
	}

	var schema struct{ Columns []SchemaColumn }
	h.call(t, "GET", "/api/v1/schema", nil, 200, &schema)
	i := slices.IndexFunc(schema.Columns, func(c SchemaColumn) bool { return c.Name == "useridentity" })
	if i < 0 || !slices.ContainsFunc(schema.Columns[i].Fields, func(f SchemaColumn) bool {
		return f.Name == "useridentity.sessioncontext.sessionissuer.arn"
	}) {
		t.Fatalf("schema: no useridentity.sessioncontext.sessionissuer.arn")
	}

	var rl struct {
		Rules  []ruleJSON
		Errors []string
	}
	h.call(t, "GET", "/api/v1/rules", nil, 200, &rl)
	builtin, _ := rules.Builtin()
	if len(rl.Rules) != len(builtin) || len(rl.Errors) != 0 {
		t.Errorf("%d rules, %v; want %d", len(rl.Rules), rl.Errors, len(builtin))
	}

	// Alerts: detection over the lake, as trailsql detect runs it.
	ok, problems := rules.Validate(ctx, local.Engine(h.e), builtin)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	p, release, err := h.e.Pin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	det := &rules.Detector{Store: rules.OpenStore(l.lake), Rules: ok, PathOf: h.e.PathOf}
	if _, err := det.Run(ctx, local.Engine(p), p.Snapshot()); err != nil {
		t.Fatal(err)
	}
	release()
	stored, _ := rules.OpenStore(l.lake).Alerts()
	if len(stored) == 0 {
		t.Fatal("the generated trail raised no alert")
	}
	var al struct{ Alerts []AlertJSON }
	h.call(t, "GET", "/api/v1/alerts", nil, 200, &al)
	if len(al.Alerts) != len(stored) {
		t.Fatalf("%d alerts, want %d", len(al.Alerts), len(stored))
	}
	id := al.Alerts[0].ID
	var acked struct {
		ID  string
		Ack Ack
	}
	h.call(t, "POST", "/api/v1/alerts/"+id+"/ack", map[string]string{"note": "seen"}, 200, &acked)
	if acked.Ack.Note != "seen" {
		t.Errorf("ack: %+v", acked)
	}
	h.call(t, "GET", "/api/v1/alerts?acked=true", nil, 200, &al)
	if len(al.Alerts) != 1 || al.Alerts[0].ID != id || al.Alerts[0].Ack == nil {
		t.Fatalf("acked=true: %+v", al.Alerts)
	}
	h.call(t, "GET", "/api/v1/alerts?acked=false", nil, 200, &al)
	if len(al.Alerts) != len(stored)-1 {
		t.Errorf("acked=false: %d alerts", len(al.Alerts))
	}
	// The acknowledgement is kept beside the lake: a new server sees it.
	h2 := serve(t, l, nil)
	h2.call(t, "GET", "/api/v1/alerts?acked=true", nil, 200, &al)
	if len(al.Alerts) != 1 {
		t.Errorf("after a restart, %d acknowledged alerts", len(al.Alerts))
	}
	h.call(t, "DELETE", "/api/v1/alerts/"+id+"/ack", nil, 204, nil)
	h.call(t, "GET", "/api/v1/alerts?acked=true", nil, 200, &al)
	if len(al.Alerts) != 0 {
		t.Errorf("after DELETE, %d acknowledged", len(al.Alerts))
	}
	h.wantError(t, "POST", "/api/v1/alerts/0000000000000000/ack", nil, 404, ErrorNotFound)
	h.wantError(t, "GET", "/api/v1/alerts?severity=urgent", nil, 400, ErrorParameter)
}

func TestSavedAndHistory(t *testing.T) {
	h := serve(t, newLake(t, 5, 1000), nil)
	var sq SavedQuery
	h.call(t, "POST", "/api/v1/saved", map[string]string{"name": "by event", "sql": "SELECT eventname, count(*) AS n FROM cloudtrail_logs WHERE eventname = :ev GROUP BY 1"}, 201, &sq)
	if !idRE().MatchString(sq.ID) {
		t.Fatalf("saved id %q", sq.ID)
	}
	var got SavedQuery
	h.call(t, "GET", "/api/v1/saved/"+sq.ID, nil, 200, &got)
	if got.SQL != sq.SQL {
		t.Errorf("saved: %+v", got)
	}
	var res QueryResult
	h.call(t, "GET", "/api/v1/query?saved="+sq.ID+"&ev=ConsoleLogin", nil, 200, &res)
	if res.RowCount != 1 {
		t.Errorf("saved query run: %+v", res)
	}
	h.wantError(t, "POST", "/api/v1/saved", map[string]string{"name": "", "sql": "SELECT 1"}, 400, ErrorParameter)
	h.wantError(t, "POST", "/api/v1/saved", map[string]any{"name": "x", "sql": "SELECT 1", "extra": 1}, 400, ErrorParameter)

	h.wantError(t, "GET", sqlQS("SELECT nosuch FROM cloudtrail_logs"), nil, 422, ErrorSQL)
	var hist struct{ History []historyEntry }
	h.call(t, "GET", "/api/v1/history", nil, 200, &hist)
	if len(hist.History) != 2 || hist.History[0].State != StateFailed || hist.History[1].ID != res.QueryID || hist.History[1].Saved != sq.ID {
		t.Fatalf("history: %+v", hist.History)
	}
	var one historyEntry
	h.call(t, "GET", "/api/v1/history/"+res.QueryID, nil, 200, &one)
	if one.Rows != 1 || one.Commit == 0 {
		t.Errorf("history entry: %+v", one)
	}
	h.call(t, "DELETE", "/api/v1/saved/"+sq.ID, nil, 204, nil)
	h.wantError(t, "GET", "/api/v1/saved/"+sq.ID, nil, 404, ErrorNotFound)
}
