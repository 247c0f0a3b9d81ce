package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// send calls the API with a method and a JSON body, and decodes the answer (nil out: none).
func (c *console) send(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %s %s", method, path, res.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// str evaluates JavaScript that yields a string (or a promise of one).
func (b *browser) str(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// waitFor polls a JavaScript condition until it holds (the test's timeout bounds it).
func (b *browser) waitFor(js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js)); err != nil {
		b.t.Fatalf("waiting for %s: %v", js, err)
	}
}

// TestConsoleTabsChartSaved drives the editor's tabs (kept across a reload), the chart of a
// result (top-N bars and rows per time bucket, checked against the API's rows), saving a
// statement, the saved queries page and its shareable link, and the history page.
func TestConsoleTabsChartSaved(t *testing.T) {
	b := newBrowser(t)
	c := serveLake(t)
	b.do(chromedp.Navigate(c.base+"/"), visible(".cm-content"))
	b.do(chromedp.Evaluate[chromedp.Void](`localStorage.clear()`), chromedp.Reload(), visible(".cm-content"))

	// Top-N bars: event sources by count, as the API answers.
	const top = "SELECT eventsource, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY n DESC, eventsource"
	want := c.apiRows(t, top)
	b.typeSQL(top)
	b.do(chromedp.KeyEvent(kb.Enter, ctrl), visible("#chart .chart-bar"))
	b.shot("01-editor-chart-top")
	// Ctrl-Enter runs the statement once (the test's own apiRows ran it before).
	var runs struct{ History []struct{ SQL string } }
	c.get(t, "/api/v1/history?limit=0", &runs)
	if len(runs.History) != 2 || runs.History[0].SQL != top || runs.History[1].SQL != top {
		t.Errorf("after apiRows and one Ctrl-Enter, the server ran %+v", runs.History)
	}
	if title := b.str(`document.querySelector("#chart .chart-title").textContent`); !strings.HasPrefix(title, "top ") || !strings.HasSuffix(title, "eventsource by n") {
		t.Errorf("chart title %q", title)
	}
	bars := b.str(`JSON.stringify([...document.querySelectorAll("#chart .chart-bar")].map((r) => [r.dataset.label, Number(r.dataset.value)]))`)
	var got [][]any
	json.Unmarshal([]byte(bars), &got)
	if len(got) != min(20, len(want)) || len(got) == 0 {
		t.Fatalf("%d bars for %d event sources", len(got), len(want))
	}
	for i, g := range got {
		if g[0] != want[i][0] || g[1] != want[i][1] {
			t.Errorf("bar %d is %v, the API's row %v", i, g, want[i])
		}
	}

	// A second tab: every event's time gives rows per bucket, summing to the lake's events.
	b.do(chromedp.Click(chromedp.CSS("#new-tab")))
	if n := b.eval(`document.querySelectorAll("#tabs .tab").length`); n != 2 {
		t.Fatalf("%d tabs after +", n)
	}
	b.typeSQL("SELECT eventtime, eventname FROM cloudtrail_logs")
	b.do(chromedp.KeyEvent(kb.Enter, ctrl), visible("#chart .chart-bar"))
	b.waitFor(`document.querySelector("#status").textContent.startsWith("2000 rows")`)
	b.shot("02-editor-chart-time")
	if sum := b.eval(`[...document.querySelectorAll("#chart .chart-bar")].reduce((s, r) => s + Number(r.dataset.value), 0)`); sum != 2000 {
		t.Errorf("the time chart's bars sum to %d rows, the result has 2000", sum)
	}
	if title := b.str(`document.querySelector("#chart .chart-title").textContent`); !strings.HasPrefix(title, "rows per ") || !strings.HasSuffix(title, "of eventtime") {
		t.Errorf("time chart title %q", title)
	}
	// A statement with no column to chart shows no chart.
	b.typeSQL("SELECT eventname FROM cloudtrail_logs LIMIT 3")
	b.do(chromedp.KeyEvent(kb.Enter, ctrl))
	b.waitFor(`document.querySelector("#status").textContent.startsWith("3 rows")`)
	if b.eval(`document.querySelector("#chart").hidden ? 1 : 0`) != 1 {
		t.Error("a result of one text column shows a chart")
	}

	// The tabs come back after a reload; switching shows each tab's statement.
	b.do(chromedp.Reload(), visible("#tabs .tab"))
	if n := b.eval(`document.querySelectorAll("#tabs .tab").length`); n != 2 {
		t.Fatalf("%d tabs after a reload, want 2", n)
	}
	if ed := b.text(".cm-content"); !strings.Contains(ed, "LIMIT 3") {
		t.Errorf("after a reload the editor holds %q, want the active tab's statement", ed)
	}
	b.do(chromedp.Click(chromedp.CSS("#tabs .tab:first-child .tab-title")))
	if ed := b.text(".cm-content"); !strings.Contains(ed, "eventsource") {
		t.Errorf("the first tab holds %q, want the top-N statement", ed)
	}

	// Save the first tab's statement under a name; the tab takes the name.
	b.do(chromedp.SendKeys(chromedp.CSS("#save-name"), "sources by count"), chromedp.Click(chromedp.CSS("#save")), visible("#saved-link"))
	var saved struct {
		Saved []struct{ ID, Name, SQL string }
	}
	c.get(t, "/api/v1/saved", &saved)
	if len(saved.Saved) != 1 || saved.Saved[0].Name != "sources by count" || saved.Saved[0].SQL != top {
		t.Fatalf("saved queries after Save: %+v", saved.Saved)
	}
	id := saved.Saved[0].ID
	if tab := b.text("#tabs .tab.active .tab-title"); tab != "sources by count" {
		t.Errorf("the saved tab is titled %q", tab)
	}

	// The saved page lists it; its shareable link opens it in a new tab of a fresh console.
	b.do(chromedp.Navigate(c.base+"/#/saved"), visible(`tr[data-saved="`+id+`"]`))
	if row := b.text(`tr[data-saved="` + id + `"]`); !strings.Contains(row, "sources by count") || !strings.Contains(row, "GROUP BY 1") {
		t.Errorf("saved page row %q", row)
	}
	b.shot("03-saved")
	b.do(chromedp.Evaluate[chromedp.Void](`localStorage.clear()`), chromedp.Navigate("about:blank"), chromedp.Navigate(c.base+"/#/saved/"+id), visible(".cm-content"))
	b.waitFor(`location.hash === "#/query"`)
	if ed, tab := b.text(".cm-content"), b.text("#tabs .tab.active .tab-title"); !strings.Contains(ed, "ORDER BY n DESC, eventsource") || tab != "sources by count" {
		t.Errorf("the shared link opened %q in tab %q", ed, tab)
	}
	// Delete it from the saved page.
	b.do(chromedp.Navigate(c.base+"/#/saved"), visible(`tr[data-saved="`+id+`"]`),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`tr[data-saved="`+id+`"] button.delete`)),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-saved="`+id+`"]`)))
	c.get(t, "/api/v1/saved", &saved)
	if len(saved.Saved) != 0 {
		t.Errorf("after Delete, saved: %+v", saved.Saved)
	}

	// History: every statement run, newest first, with its figures; Open re-opens it.
	var hist struct {
		History []struct {
			ID, SQL, State, Time string
			Rows                 int
			BytesRead            int64   `json:"bytes_read"`
			ElapsedMS            float64 `json:"elapsed_ms"`
		}
	}
	c.get(t, "/api/v1/history?limit=0", &hist)
	b.do(chromedp.Navigate(c.base+"/#/history"), visible("#history-list"))
	b.shot("04-history")
	if n := b.eval(`document.querySelectorAll("#history-list tbody tr").length`); n != len(hist.History) || n < 4 {
		t.Fatalf("history page shows %d entries, the API %d", n, len(hist.History))
	}
	for i, h := range hist.History {
		row := b.str(fmt.Sprintf(`document.querySelector('tr[data-history="%s"]')?.innerText ?? ""`, h.ID))
		if !strings.HasPrefix(row, strings.Replace(h.Time[:19], "T", " ", 1)+"\t") || !strings.Contains(row, h.State) || !strings.Contains(row, fmt.Sprintf("\t%d\t", h.Rows)) || !strings.Contains(row, fmt.Sprintf("%.0f ms", h.ElapsedMS)) {
			t.Errorf("history row %d %q lacks its time %s, state %s, rows %d or time taken %.0f ms", i, row, h.Time, h.State, h.Rows, h.ElapsedMS)
		}
	}
	if first := b.text("#history-list tbody tr:first-child code"); first != hist.History[0].SQL {
		t.Errorf("the newest history entry shows %q, the API's %q", first, hist.History[0].SQL)
	}
	timeQ := ""
	for _, h := range hist.History {
		if strings.HasPrefix(h.SQL, "SELECT eventtime") {
			timeQ = h.ID
			if h.Rows != 2000 {
				t.Errorf("history says the time query gave %d rows", h.Rows)
			}
		}
	}
	b.do(chromedp.Click(chromedp.CSS(`tr[data-history="`+timeQ+`"] button.open`)), visible(".cm-content"))
	b.waitFor(`location.hash === "#/query"`)
	if ed := b.text(".cm-content"); !strings.Contains(ed, "SELECT eventtime, eventname") {
		t.Errorf("Open from the history put %q in the editor", ed)
	}
}

// TestConsolePolicyUnusedRulesSilences opens the policy, unused, rules and silences pages and
// checks what they show against the API's answers; it adds and expires a silence in the page.
func TestConsolePolicyUnusedRulesSilences(t *testing.T) {
	b := newBrowser(t)
	c := serveLake(t)

	// The policy of the identity that called most.
	who := c.apiRows(t, "SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS p, count(*) FROM cloudtrail_logs WHERE coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0][0].(string)
	var pol struct {
		Policy  json.RawMessage
		Actions []struct{ Action string }
	}
	c.get(t, "/api/v1/policy?principal="+url.QueryEscape(who), &pol)
	b.do(chromedp.Navigate(c.base+"/#/policy"), visible("#policy-principal"))
	b.waitFor(`document.querySelectorAll("#principals option").length > 0`)
	if first := b.str(`document.querySelector("#principals option").value`); first != who {
		t.Errorf("the principal picker offers %q first, the top caller is %q", first, who)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#policy-principal"), who), chromedp.Click(chromedp.CSS(`#policy-form button[type="submit"]`)), visible("#policy-json"))
	b.shot("01-policy")
	var shown, api any
	if err := json.Unmarshal([]byte(b.text("#policy-json")), &shown); err != nil {
		t.Fatalf("the policy shown is not JSON: %v", err)
	}
	json.Unmarshal(pol.Policy, &api)
	if js, ja := jsonText(shown), jsonText(api); js != ja || !strings.Contains(js, `"Statement"`) {
		t.Errorf("policy page shows\n%s\nthe API answers\n%s", js, ja)
	}
	if n := b.eval(`document.querySelectorAll("#policy-actions tbody tr").length`); n != len(pol.Actions) || n == 0 {
		t.Errorf("policy page lists %d actions, the API %d", n, len(pol.Actions))
	}
	if first := b.text("#policy-actions tbody tr:first-child td:first-child"); first != pol.Actions[0].Action {
		t.Errorf("first action %q, the API's %q", first, pol.Actions[0].Action)
	}
	// The download is the same document.
	href := b.str(`document.querySelector("#policy-download").href`)
	dl, err := url.PathUnescape(strings.TrimPrefix(href, "data:application/json;charset=utf-8,"))
	var fromFile any
	if err == nil {
		err = json.Unmarshal([]byte(dl), &fromFile)
	}
	if err != nil || jsonText(fromFile) != jsonText(api) || !strings.HasSuffix(b.str(`document.querySelector("#policy-download").download`), ".json") {
		t.Errorf("the downloaded policy %q differs from the API's (%v)", href, err)
	}

	// Unused: a report per user and role of the inventory, with the API's figures.
	var un struct {
		Reports []struct {
			Principal struct{ Name string }
			Summary   struct {
				Granted, Used, Unused, Unknown int
				NotGranted                     int `json:"not_granted"`
			}
		}
	}
	c.get(t, "/api/v1/unused", &un)
	b.do(chromedp.Navigate(c.base+"/#/unused"), visible(".unused-report"))
	b.shot("02-unused")
	if n := b.eval(`document.querySelectorAll(".unused-report").length`); n != len(un.Reports) || n == 0 {
		t.Fatalf("unused page shows %d reports, the API %d", n, len(un.Reports))
	}
	r0 := un.Reports[0]
	s := r0.Summary
	wantSummary := fmt.Sprintf("%d granted: %d used, %d unused, %d unknown; %d used but not granted", s.Granted, s.Used, s.Unused, s.Unknown, s.NotGranted)
	if got := b.text(".unused-report:first-child .unused-summary"); got != wantSummary || s.Granted == 0 {
		t.Errorf("first report summary %q, want %q", got, wantSummary)
	}
	if h := b.text(".unused-report:first-child .unused-principal"); !strings.Contains(h, r0.Principal.Name) {
		t.Errorf("first report is titled %q, want %s", h, r0.Principal.Name)
	}
	b.do(chromedp.SetValue(chromedp.CSS("#unused-class"), "unused"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#unused-class").dispatchEvent(new Event("change"))`))
	if n := b.eval(`document.querySelectorAll(".unused-report:first-child tbody tr").length`); n != s.Unused {
		t.Errorf("filtered to unused, the first report lists %d actions, want %d", n, s.Unused)
	}

	// Rules: the server's rules with their ids.
	var rl struct {
		Rules []struct{ ID, Title, Severity, Where string }
	}
	c.get(t, "/api/v1/rules", &rl)
	b.do(chromedp.Navigate(c.base+"/#/rules"), visible("#rules-list"))
	if got := b.text("#rules-count"); got != strconv.Itoa(len(rl.Rules))+" rules" || len(rl.Rules) == 0 {
		t.Errorf("rules page says %q, the API lists %d", got, len(rl.Rules))
	}
	r := rl.Rules[len(rl.Rules)-1]
	b.do(chromedp.Click(chromedp.CSS(`tr[data-rule="`+r.ID+`"]`)), visible("#rule-detail h3"))
	if h, row := b.text("#rule-detail h3"), b.text(`tr[data-rule="`+r.ID+`"]`); h != r.Title || !strings.Contains(row, r.Severity) {
		t.Errorf("rule %s: detail %q, row %q; want %q, %s", r.ID, h, row, r.Title, r.Severity)
	}
	b.shot("03-rules")

	// Silences: add one in the page, see it listed from the API's file, expire it.
	b.do(chromedp.Navigate(c.base+"/#/silences"), visible("#silence-form"))
	if msg := b.text(".silences-page"); !strings.Contains(msg, "No silence holds notifications back") {
		t.Errorf("silences page with none: %q", msg)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#silence-matchers"), "rule=root-activity account=~1111.*"),
		chromedp.SendKeys(chromedp.CSS("#silence-comment"), "drill"),
		chromedp.SetValue(chromedp.CSS("#silence-duration"), "4h"),
		chromedp.Click(chromedp.CSS(`#silence-form button[type="submit"]`)), visible("tr[data-silence]"))
	var sil struct {
		Silences []struct {
			ID, State, Comment string
			EndsAt             string `json:"ends_at"`
		}
	}
	c.get(t, "/api/v1/silences", &sil)
	if len(sil.Silences) != 1 || sil.Silences[0].Comment != "drill" || sil.Silences[0].EndsAt != "2026-03-01T04:00:00Z" {
		t.Fatalf("silences after adding one in the page: %+v", sil.Silences)
	}
	sid := sil.Silences[0].ID
	if row := b.text(`tr[data-silence="` + sid + `"]`); !strings.Contains(row, "rule=root-activity account=~1111.*") || !strings.Contains(row, "active") {
		t.Errorf("silence row %q", row)
	}
	b.shot("04-silences")
	// A bad matcher is refused with the API's message.
	b.do(chromedp.SendKeys(chromedp.CSS("#silence-matchers"), "rule"), chromedp.SendKeys(chromedp.CSS("#silence-comment"), "x"),
		chromedp.Click(chromedp.CSS(`#silence-form button[type="submit"]`)), visible(".silences-page .error"))
	if e := b.text(".silences-page .error"); !strings.Contains(e, "matchers") {
		t.Errorf("a bad matcher shows %q", e)
	}
	b.do(chromedp.Click(chromedp.CSS(`tr[data-silence="`+sid+`"] button.expire`)), chromedp.WaitNotPresent(chromedp.CSS(`tr[data-silence="`+sid+`"]`)))
	c.get(t, "/api/v1/silences?all=true", &sil)
	if len(sil.Silences) != 1 || sil.Silences[0].State != "expired" {
		t.Errorf("after Expire: %+v", sil.Silences)
	}
	b.do(chromedp.Click(chromedp.CSS("#silences-all")), visible(`tr[data-silence="`+sid+`"].state-expired`))
}
