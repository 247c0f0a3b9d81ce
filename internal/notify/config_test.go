package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testEnv = map[string]string{
	"SLACK_URL":      "https://hooks.slack.com/services/T000/B000/SECRETSLACK",
	"WEBHOOK_SECRET": "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=",
	"PD_ROUTING_KEY": pdKey,
	"JIRA_TOKEN":     "SECRETJIRA",
	"SMTP_PASSWORD":  "SECRETSMTP",
}

func getenv(k string) string { return testEnv[k] }

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("testdata/notify.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Destinations) != 6 || len(c.Routes) != 3 {
		t.Fatalf("%d destinations, %d routes", len(c.Destinations), len(c.Routes))
	}
	if s := c.Destinations["sec-slack"].(*Slack); s.URL.Reveal() != testEnv["SLACK_URL"] {
		t.Errorf("slack url %q", s.URL.Reveal())
	}
	if tm := c.Destinations["sec-teams"].(*Teams); tm.URL.Reveal() != "https://acme.webhook.office.com/workflows/xyz" {
		t.Errorf("teams url from the file: %q", tm.URL.Reveal())
	}
	if e := c.Destinations["mail"].(*Email); len(e.To) != 2 || e.Password.Reveal() != "SECRETSMTP" {
		t.Errorf("email %+v", e)
	}
	r := c.Routes[1]
	if r.Name != "root" || r.GroupWait != 10*time.Second || r.GroupInterval != 2*time.Minute || r.RepeatInterval != 24*time.Hour ||
		len(r.Match.Rules) != 2 || r.Match.Accounts[0] != "111122223333" || r.Match.Tags[0] != "attack.t1078" {
		t.Errorf("route %+v", r)
	}
	if r := c.Routes[2]; r.Name != "route-3" || r.GroupWait != 0 || r.RepeatInterval != 4*time.Hour {
		t.Errorf("defaults of a route without group_by: %+v", r)
	}
	if c.Options.QueueCapacity != 5000 || c.Options.MaxBatch != 20 || c.Options.MinBackoff != 500*time.Millisecond || c.Options.MaxBackoff != 2*time.Minute {
		t.Errorf("options %+v", c.Options)
	}

	// No secret shows in any rendering of the config: fmt, JSON, slog.
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s\n", c.Destinations, c.Destinations, c.Destinations, c.Destinations)
	js, _ := json.Marshal(c.Destinations)
	out.Write(js)
	log := slog.New(slog.NewJSONHandler(&out, nil))
	for name, d := range c.Destinations {
		log.Info("destination", "name", name, "dest", d)
		if s, ok := d.(*Slack); ok {
			log.Info("url", "url", s.URL)
		}
	}
	for _, secret := range testEnv {
		if strings.Contains(out.String(), secret) || strings.Contains(out.String(), "c2VjcmV0") {
			t.Errorf("a secret shows:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "<secret>") {
		t.Errorf("secrets not shown as <secret>:\n%s", out.String())
	}
}

// TestConfigErrors: a bad config is refused with its file and line.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top key", "destinations: {}\nrouts: []\n", "notify.yaml:2: unknown setting routs"},
		{"unknown destination key", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\n    channel: x\n", `notify.yaml:5: slack destination: unknown setting "channel"`},
		{"literal secret", "destinations:\n  s:\n    type: slack\n    url: https://hooks.slack.com/x\n", `notify.yaml:4: slack destination: unknown setting "url" (known: type, url_env, url_file)`},
		{"missing env", "destinations:\n  s:\n    type: slack\n    url_env: NOPE\n", "notify.yaml:4: destination s: the environment variable NOPE (url_env) is not set"},
		{"missing file", "destinations:\n  s:\n    type: slack\n    url_file: nope.txt\n", "notify.yaml:4: destination s: url_file:"},
		{"no secret", "destinations:\n  p:\n    type: pagerduty\n", "notify.yaml:3: destination p: give routing_key_env"},
		{"bad type", "destinations:\n  p:\n    type: pager\n", `notify.yaml:3: destination type "pager"`},
		{"bad duration", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: s\n    group_wait: 5 minutes\n", `notify.yaml:7: "5 minutes" is not a duration`},
		{"unknown route key", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: s\n    grouping: [rule]\n", `notify.yaml:7: route: unknown setting "grouping"`},
		{"unknown match key", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: s\n    match:\n      sev: high\n", `notify.yaml:8: match: unknown setting "sev"`},
		{"unknown destination", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: [s, t]\n", `notify.yaml:6: route route-1: no destination "t"`},
		{"bad severity", "destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: s\n    match: {severity: urgent}\n", `notify.yaml:6: route route-1: severity "urgent"`},
		{"bad webhook secret", "destinations:\n  w:\n    type: webhook\n    url: https://x\n    secret_env: SLACK_URL\n", "notify.yaml:3: destination w: the webhook secret must start with whsec_"},
		{"bad smarthost", "destinations:\n  m:\n    type: email\n    smarthost: smtp.example.com\n    from: a@b\n    to: c@d\n", `notify.yaml:4: destination m: smarthost "smtp.example.com": write host:port`},
		{"bad jira api", "destinations:\n  j:\n    type: jira\n    url: https://x\n    project: SEC\n    api: 4\n    token_env: JIRA_TOKEN\n", `notify.yaml:6: destination j: api "4"`},
		{"syntax", "destinations:\n  s: [\n", "notify.yaml:"},
		{"bad queue", "queue:\n  min_backoff: soon\n", `notify.yaml:2: "soon" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "notify.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path, getenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("the error does not start with the file: %v", err)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	seed, _ := os.ReadFile("testdata/notify.yaml")
	f.Add(string(seed))
	f.Add("destinations:\n  s:\n    type: slack\n    url_env: SLACK_URL\nroutes:\n  - destinations: s\n    group_wait: 1d\n")
	f.Add("routes:\n  - {}\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig("fuzz.yaml", []byte(s), getenv)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("the error does not name the file: %v", err)
		}
	})
}
