package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailsql/trailsql/internal/browsertest"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/report"
)

// The identity report over the last ten days of a generated trail: its inactive users are those
// the records show calling before the window and never in it; its root section has the root
// activity question's rows; the sign-in chart counts the console-logins answer. The HTML page
// renders in Chromium with its charts.
func TestReportCommand(t *testing.T) {
	g := generatedLake(t, 13, 20000)
	to := g.truth.Newest.Add(time.Second)
	from := to.Add(-10 * 24 * time.Hour)
	window := []string{"--lake", g.lake, "--from", questions.TimeText(from), "--to", questions.TimeText(to)}
	var doc report.Document
	if err := json.Unmarshal([]byte(mustRun(t, 0, append([]string{"report", "identity", "--format", "json"}, window...)...)), &doc); err != nil {
		t.Fatal(err)
	}
	section := func(title string) report.Section {
		for _, s := range doc.Sections {
			if s.Title == title {
				return s
			}
		}
		t.Fatalf("no section %q", title)
		return report.Section{}
	}
	// Inactive users, from the records.
	before, in := map[string]bool{}, map[string]bool{}
	for _, r := range g.recs {
		if r.UserIdentity == nil || r.UserIdentity.Type == nil || *r.UserIdentity.Type != "IAMUser" || r.UserIdentity.ARN == nil || r.EventTime == nil {
			continue
		}
		ts, _ := time.Parse(time.RFC3339, *r.EventTime)
		switch {
		case ts.Before(from):
			before[*r.UserIdentity.ARN] = true
		case ts.Before(to):
			in[*r.UserIdentity.ARN] = true
		}
	}
	var want, got []string
	for arn := range before {
		if !in[arn] {
			want = append(want, arn)
		}
	}
	for _, r := range section("Inactive users, roles and access keys").Rows {
		if r[0] == "user" {
			got = append(got, r[1].(string))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("inactive users: %v, the records say %v", got, want)
	}
	// Root and sign-ins, as the questions answer them.
	var root, logins answerJSON
	json.Unmarshal([]byte(mustRun(t, 0, append([]string{"ask", "root-activity", "--format", "json"}, window...)...)), &root)
	json.Unmarshal([]byte(mustRun(t, 0, append([]string{"ask", "console-logins", "--format", "json"}, window...)...)), &logins)
	if s := section("Root use"); len(s.Rows)+s.More != len(root.Rows) || len(root.Rows) == 0 {
		t.Errorf("root use: %d rows (+%d), root-activity: %d", len(s.Rows), s.More, len(root.Rows))
	}
	var chart report.Chart
	for _, c := range doc.Charts {
		if c.Title == "Console sign-ins" {
			chart = c
		}
	}
	total := 0.0
	for _, v := range chart.Values {
		total += v
	}
	if int(total) != len(logins.Rows) || len(logins.Rows) == 0 {
		t.Errorf("sign-in chart counts %v, console-logins has %d rows", chart.Values, len(logins.Rows))
	}

	// Markdown and HTML say the same; the HTML page renders in a real browser.
	md := mustRun(t, 0, append([]string{"report", "identity", "--format", "markdown"}, window...)...)
	page := mustRun(t, 0, append([]string{"report", "identity", "--format", "html"}, window...)...)
	for _, s := range doc.Sections {
		if !strings.Contains(md, "## "+s.Title) || !strings.Contains(page, "<h2>"+s.Title+"</h2>") {
			t.Errorf("section %q missing from the Markdown or the HTML", s.Title)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), "http") {
		t.Error("the HTML page has a script or an outside address: it must read offline")
	}
	file := filepath.Join(t.TempDir(), "identity.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	bars, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("svg rect")].filter(r => r.getBoundingClientRect().height > 0).length`))
	if err != nil {
		t.Fatal(err)
	}
	headings, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("h2").length`))
	if err != nil {
		t.Fatal(err)
	}
	if bars == 0 || headings != len(doc.Sections) {
		t.Errorf("in Chromium: %d visible bars, %d section headings (want %d)", bars, headings, len(doc.Sections))
	}
	b.Shot("identity-report")

	for _, kind := range []string{"activity", "alerts"} {
		if out := mustRun(t, 0, append([]string{"report", kind, "--format", "markdown"}, window...)...); !strings.HasPrefix(out, "# ") {
			t.Errorf("report %s: %.200s", kind, out)
		}
	}
	mustRun(t, 1, append([]string{"report", "nosuch"}, window...)...)
}
