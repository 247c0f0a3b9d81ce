package daemon_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/notify"
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
rules:
  files: [rules]
  sigma: [/opt/sigma]
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
	if c.Rules.Files[0] != filepath.Join("/etc/trailsql", "rules") || c.Rules.Sigma[0] != "/opt/sigma" {
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
		{"no source", "sources: {}\n" + goodNotify, "give paths, s3 or lookup_events"},
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
