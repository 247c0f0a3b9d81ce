package daemon_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/rules"
)

const goodNotify = `notify:
  destinations:
    hook: {type: webhook, url: "http://127.0.0.1:9/x", secret_env: HOOK_SECRET}
  routes:
    - destinations: [hook]
`

func getenv(k string) string {
	if k == "HOOK_SECRET" {
		return "whsec_c2VjcmV0LWtleS1vZi10aGUtdGVzdHM="
	}
	return ""
}

// TestParseConfig reads a config with every section; relative paths are the config folder's.
func TestParseConfig(t *testing.T) {
	now := time.Date(2024, 3, 20, 12, 0, 0, 0, time.UTC)
	text := `# collect every minute
sources:
  interval: 1m
  paths: [logs, /var/log/trail]
  s3:
    - url: s3://my-trail/prefix
      from: 7d
      regions: [us-east-1]
      endpoint_url: http://localhost:9000
  lookup_events: {regions: [eu-west-1], from: 24h}
  cloudwatch_logs:
    - group: aws-cloudtrail-logs-111122223333
      region: eu-west-1
      from: 2d
      lateness: 1h
    - {group: /trail/other, endpoint_url: "http://127.0.0.1:4566", profile: audit}
  sqs:
    - queue_url: https://sqs.eu-west-1.amazonaws.com/111122223333/trail-notifications
      visibility_timeout: 5m
      s3_endpoint_url: http://localhost:9000
rules:
  files: [rules]
  sigma: [/opt/sigma]
  min_severity: medium
` + goodNotify + `  queue: {drain_timeout: 20s}
`
	c, err := daemon.ParseConfig("/etc/trailsql/trailsql.yml", []byte(text), getenv, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != time.Minute || c.Paths[0] != "/etc/trailsql/logs" || c.Paths[1] != "/var/log/trail" {
		t.Errorf("sources: %v %v", c.Interval, c.Paths)
	}
	if len(c.S3) != 1 || c.S3[0].URL != "s3://my-trail/prefix" || !c.S3[0].From.Equal(now.Add(-7*24*time.Hour)) || c.S3[0].EndpointURL != "http://localhost:9000" {
		t.Errorf("s3: %+v", c.S3)
	}
	if c.Lookup == nil || c.Lookup.Regions[0] != "eu-west-1" || !c.Lookup.From.Equal(now.Add(-24*time.Hour)) {
		t.Errorf("lookup: %+v", c.Lookup)
	}
	if cw := c.CloudWatchLogs; len(cw) != 2 || cw[0].Group != "aws-cloudtrail-logs-111122223333" || cw[0].Region != "eu-west-1" || !cw[0].From.Equal(now.Add(-48*time.Hour)) ||
		cw[0].Lateness != time.Hour || cw[1].Group != "/trail/other" || cw[1].EndpointURL != "http://127.0.0.1:4566" || cw[1].Profile != "audit" || cw[1].Lateness != 0 || !cw[1].From.IsZero() {
		t.Errorf("cloudwatch_logs: %+v", cw)
	}
	if q := c.SQS; len(q) != 1 || q[0].QueueURL != "https://sqs.eu-west-1.amazonaws.com/111122223333/trail-notifications" || q[0].Visibility != 5*time.Minute || q[0].S3EndpointURL != "http://localhost:9000" {
		t.Errorf("sqs: %+v", q)
	}
	if c.Rules.Files[0] != filepath.Join("/etc/trailsql", "rules") || c.Rules.Sigma[0] != "/opt/sigma" || c.Rules.MinSeverity != rules.Medium {
		t.Errorf("rules: %+v", c.Rules)
	}
	if _, ok := c.Notify.Destinations["hook"].(*notify.Webhook); !ok || c.Notify.Options.DrainTimeout != 20*time.Second || len(c.Notify.Routes) != 1 {
		t.Errorf("notify: %+v", c.Notify)
	}
}

// TestParseConfigErrors: a malformed config is an error naming the file and the line, for the
// run's own sections and for the notify section alike.
func TestParseConfigErrors(t *testing.T) {
	src := "sources:\n  paths: [logs]\n"
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "c.yml is empty"},
		{"unknown top-level", src + "alerts: {}\n" + goodNotify, "c.yml:3: unknown setting alerts"},
		{"unknown source setting", "sources:\n  paths: [logs]\n  bucket: x\n" + goodNotify, "c.yml:3: unknown setting bucket"},
		{"bad interval", "sources:\n  interval: soon\n  paths: [logs]\n" + goodNotify, "c.yml:2: sources: interval \"soon\" is not a positive duration"},
		{"bad s3 url", "sources:\n  s3:\n    - url: http://bucket\n" + goodNotify, "c.yml:3: sources: s3:"},
		{"bad from", "sources:\n  s3:\n    - url: s3://b\n      from: yesterday\n" + goodNotify, "c.yml:4: sources: s3: s3://b:"},
		{"no source", "sources: {}\n" + goodNotify, "give paths, s3, lookup_events, cloudwatch_logs or sqs"},
		{"cwl: no group", "sources:\n  cloudwatch_logs:\n    - region: eu-west-1\n" + goodNotify, "c.yml:3: sources: cloudwatch_logs: give the log group's name"},
		{"cwl: bad group", "sources:\n  cloudwatch_logs:\n    - region: eu-west-1\n      group: bad:name\n" + goodNotify, "c.yml:4: sources: cloudwatch_logs: log group name \"bad:name\""},
		{"cwl: bad lateness", "sources:\n  cloudwatch_logs:\n    - group: g1\n    - group: g2\n      lateness: -5m\n" + goodNotify, "c.yml:5: sources: cloudwatch_logs: g2: lateness \"-5m\" is not a positive duration"},
		{"cwl: zero lateness", "sources:\n  cloudwatch_logs: [{group: g, lateness: 0s}]\n" + goodNotify, "c.yml:2: sources: cloudwatch_logs: g: lateness \"0s\""},
		{"cwl: bad from", "sources:\n  cloudwatch_logs:\n    - group: g\n      from: last week\n" + goodNotify, "c.yml:4: sources: cloudwatch_logs: g:"},
		{"cwl: unknown setting", "sources:\n  cloudwatch_logs:\n    - group: g\n      stream: s\n" + goodNotify, "c.yml:4: unknown setting stream"},
		{"sqs: no url", "sources:\n  sqs:\n    - region: eu-west-1\n" + goodNotify, "c.yml:3: sources: sqs: queue_url \"\": give the queue's URL"},
		{"sqs: sqs scheme", "sources:\n  sqs:\n    - queue_url: sqs://sqs.eu-west-1.amazonaws.com/1/q\n" + goodNotify, "c.yml:3: sources: sqs: queue_url \"sqs://"},
		{"sqs: no queue name", "sources:\n  sqs:\n    - queue_url: https://sqs.eu-west-1.amazonaws.com/\n" + goodNotify, "c.yml:3: sources: sqs: queue_url"},
		{"sqs: short visibility", "sources:\n  sqs:\n    - queue_url: http://127.0.0.1:4100/1/q\n      visibility_timeout: 1s\n" + goodNotify, "c.yml:4: sources: sqs: http://127.0.0.1:4100/1/q: visibility_timeout \"1s\": give a duration of 3s or more"},
		{"sqs: unknown setting", "sources:\n  sqs:\n    - queue_url: http://127.0.0.1:4100/1/q\n      wait: 20s\n" + goodNotify, "c.yml:4: unknown setting wait"},
		{"no notify", src, "give a notify section"},
		{"no route", src + "notify:\n  destinations:\n    hook: {type: webhook, url: \"http://x\", secret_env: HOOK_SECRET}\n", "c.yml:4: notify: give its routes"},
		{"notify: unknown destination setting", src + "rules: {no_builtin: false}\nnotify:\n  destinations:\n    hook:\n      type: webhook\n      url: http://x\n      secret_env: HOOK_SECRET\n      colour: red\n  routes: [{destinations: [hook]}]\n",
			"c.yml:10: webhook destination: unknown setting \"colour\""},
		{"notify: missing secret", src + "notify:\n  destinations:\n    hook: {type: webhook, url: \"http://x\", secret_env: NOT_SET}\n  routes: [{destinations: [hook]}]\n",
			"c.yml:5: destination hook: the environment variable NOT_SET (secret_env) is not set"},
		{"notify: unknown route destination", src + "notify:\n  destinations:\n    hook: {type: webhook, url: \"http://x\", secret_env: HOOK_SECRET}\n  routes:\n    - destinations: [slack]\n",
			"c.yml:7: route route-1: no destination \"slack\""},
		{"notify: flow style", src + "notify: {destinations: {hook: {type: webhook, url: \"http://x\", secret_env: HOOK_SECRET, x: 1}}, routes: [{destinations: [hook]}]}\n",
			"c.yml:3: webhook destination: unknown setting \"x\""},
		{"not yaml", "sources: [\n", "c.yml:"},
		{"bad min_severity", src + "rules:\n  min_severity: severe\n" + goodNotify, "c.yml:4: min_severity \"severe\": give info, low, medium, high or critical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := daemon.ParseConfig("c.yml", []byte(tt.text), getenv, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseConfig: no config crashes the parser.
func FuzzParseConfig(f *testing.F) {
	f.Add("sources:\n  paths: [logs]\n" + goodNotify)
	f.Add("notify: {destinations: {a: {type: slack}}}\nsources: {paths: [x]}\n")
	f.Fuzz(func(t *testing.T, text string) {
		daemon.ParseConfig("c.yml", []byte(text), getenv, time.Now())
	})
}

// TestReportsConfig: the reports section is read with its schedules; a bad cron, an unknown
// destination or kind, a report to Jira or PagerDuty, an unknown setting and a bad start are
// errors naming the line.
func TestReportsConfig(t *testing.T) {
	env := func(k string) string {
		switch k {
		case "HOOK_SECRET":
			return getenv(k)
		case "PD_KEY":
			return "0123456789abcdef0123456789abcdef"
		case "JIRA_TOKEN":
			return "token"
		}
		return ""
	}
	head := `sources:
  paths: [logs]
notify:
  destinations:
    hook: {type: webhook, url: "http://127.0.0.1:9/x", secret_env: HOOK_SECRET}
    pager: {type: pagerduty, url: "http://127.0.0.1:9/pd", routing_key_env: PD_KEY}
    tickets: {type: jira, url: "http://127.0.0.1:9", user: a@example.com, token_env: JIRA_TOKEN, project: SEC}
  routes:
    - destinations: [hook]
`
	now := time.Date(2024, 3, 20, 12, 0, 0, 0, time.UTC)
	good := head + `start: all
reports:
  - name: weekly
    kind: identity
    days: 30
    schedule: "0 8 * * 1"
    to: [hook]
  - {name: daily-alerts, kind: alerts, format: markdown, schedule: "@daily", to: hook}
`
	c, err := daemon.ParseConfig("trailsql.yml", []byte(good), env, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Start != daemon.StartAll || len(c.Reports) != 2 {
		t.Fatalf("start %q, %d reports", c.Start, len(c.Reports))
	}
	w := c.Reports[0]
	if w.Days != 30 || w.Format != "html" || w.To[0] != "hook" || !w.Schedule.Next(now).Equal(time.Date(2024, 3, 25, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly: %+v, next %s", w, w.Schedule.Next(now))
	}
	if d := c.Reports[1]; d.Days != 7 || d.Format != "markdown" || !d.Schedule.Next(now).Equal(time.Date(2024, 3, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("daily: %+v", d)
	}
	bad := []struct{ text, want string }{
		{"reports:\n  - {name: r, kind: identity, schedule: \"0 8 * *\", to: [hook]}\n", `trailsql.yml:11: reports: report r: schedule "0 8 * *" is not a cron schedule`},
		{"reports:\n  - {name: r, kind: identity, schedule: \"61 8 * * *\", to: [hook]}\n", `trailsql.yml:11: reports: report r: schedule "61 8 * * *"`},
		{"reports:\n  - name: r\n    kind: identity\n    schedule: \"@daily\"\n    to: [hook, mail]\n", `trailsql.yml:14: reports: report r: no destination "mail"`},
		{"reports:\n  - name: r\n    kind: identities\n    schedule: \"@daily\"\n    to: [hook]\n", `trailsql.yml:12: reports: report r: kind "identities"`},
		{"reports:\n  - name: r\n    kind: alerts\n    schedule: \"@daily\"\n    to: [pager]\n", `trailsql.yml:14: reports: report r: destination "pager" is Jira or PagerDuty`},
		{"reports:\n  - name: r\n    kind: alerts\n    schedule: \"@daily\"\n    to:\n      - tickets\n", `trailsql.yml:15: reports: report r: destination "tickets" is Jira or PagerDuty`},
		{"reports:\n  - name: r\n    kind: alerts\n    when: \"@daily\"\n    to: [hook]\n", `trailsql.yml:13: reports: unknown setting "when"`},
		{"reports:\n  - name: r\n    kind: alerts\n    to: [hook]\n", `trailsql.yml:11: reports: the report has no schedule`},
		{"reports:\n  - {name: r, kind: alerts, days: -3, schedule: \"@daily\", to: [hook]}\n", `trailsql.yml:11: reports: days "-3"`},
		{"reports:\n  - {name: r, kind: alerts, format: pdf, schedule: \"@daily\", to: [hook]}\n", `trailsql.yml:11: reports: report r: format "pdf"`},
		{"start: yesterday\n", `trailsql.yml:10: start "yesterday"`},
	}
	for _, b := range bad {
		_, err := daemon.ParseConfig("trailsql.yml", []byte(head+b.text), env, now)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want %q", b.text, err, b.want)
		}
	}
}
