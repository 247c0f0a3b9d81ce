package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trailsql/trailsql/internal/cwlsrc"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/window"
)

// Config is a run config file, read: where to collect from, which rules to run, and whom to
// tell.
type Config struct {
	// Interval is the time between two collections (default 5m).
	Interval time.Duration
	// Paths are local files or folders read on every cycle (what is read already is skipped).
	Paths []string
	// S3 are the S3 trails watched.
	S3 []S3Source
	// Lookup, when set, reads the LookupEvents API.
	Lookup *LookupSource
	// CloudWatchLogs are the CloudWatch Logs log groups watched.
	CloudWatchLogs []CWLSource
	// SQS are the queues of S3 event notifications read.
	SQS []SQSSource
	// Rules are the rule sources.
	Rules rules.Sources
	// Notify is the notification config.
	Notify *notify.Config
	// Reports are the scheduled reports.
	Reports []ReportSchedule
	// Start is what the first start does with the lake's history: StartNow (the default) sends
	// the alerts of what is collected from then on, StartAll every alert.
	Start string
}

// S3Source is one S3 trail to watch.
type S3Source struct {
	URL, Profile, Region, EndpointURL string
	// From is the oldest delivery read on the first cycle (zero: all).
	From              time.Time
	Accounts, Regions []string
}

// LookupSource reads the LookupEvents API.
type LookupSource struct {
	Profile, EndpointURL string
	Regions              []string
	From                 time.Time
}

// CWLSource is a CloudWatch Logs log group to watch (as trailsql ingest cwl:// reads it).
type CWLSource struct {
	Group, Region, Profile, EndpointURL string
	// From bounds the streams not read before (zero: all the group holds).
	From time.Time
	// Lateness is how late behind its stream an event may arrive and still be collected (zero:
	// ingest.DefaultCWLLateness).
	Lateness time.Duration
}

// SQSSource is a queue of S3 event notifications to read (as trailsql ingest sqs:// reads it).
type SQSSource struct {
	// QueueURL is the queue's https:// (or http://) URL.
	QueueURL                     string
	Region, Profile, EndpointURL string
	// S3EndpointURL reaches an S3-compatible server holding the objects named.
	S3EndpointURL string
	// Visibility is the messages' visibility timeout (zero: the default, 2 min).
	Visibility time.Duration
}

type fileYAML struct {
	Sources struct {
		Interval string   `yaml:"interval"`
		Paths    []string `yaml:"paths"`
		S3       []struct {
			URL         string   `yaml:"url"`
			Profile     string   `yaml:"profile"`
			Region      string   `yaml:"region"`
			EndpointURL string   `yaml:"endpoint_url"`
			From        string   `yaml:"from"`
			Accounts    []string `yaml:"accounts"`
			Regions     []string `yaml:"regions"`
		} `yaml:"s3"`
		LookupEvents *struct {
			Profile     string   `yaml:"profile"`
			EndpointURL string   `yaml:"endpoint_url"`
			Regions     []string `yaml:"regions"`
			From        string   `yaml:"from"`
		} `yaml:"lookup_events"`
		CloudWatchLogs []struct {
			Group       string `yaml:"group"`
			Region      string `yaml:"region"`
			Profile     string `yaml:"profile"`
			EndpointURL string `yaml:"endpoint_url"`
			From        string `yaml:"from"`
			Lateness    string `yaml:"lateness"`
		} `yaml:"cloudwatch_logs"`
		SQS []struct {
			QueueURL          string `yaml:"queue_url"`
			Region            string `yaml:"region"`
			Profile           string `yaml:"profile"`
			EndpointURL       string `yaml:"endpoint_url"`
			S3EndpointURL     string `yaml:"s3_endpoint_url"`
			VisibilityTimeout string `yaml:"visibility_timeout"`
		} `yaml:"sqs"`
	} `yaml:"sources"`
	Rules struct {
		Files       []string `yaml:"files"`
		Sigma       []string `yaml:"sigma"`
		NoBuiltin   bool     `yaml:"no_builtin"`
		Only        []string `yaml:"only"`
		MinSeverity string   `yaml:"min_severity"`
	} `yaml:"rules"`
	Notify  yaml.Node `yaml:"notify"`
	Start   string    `yaml:"start"`
	Reports yaml.Node `yaml:"reports"`
}

// LoadConfig reads the run config at path (see ParseConfig).
func LoadConfig(path string, getenv func(string) string, now time.Time) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the run config: %w", err)
	}
	return ParseConfig(path, data, getenv, now)
}

// ParseConfig reads a run config file's contents; name is its path, which errors name with the
// line, and relative paths are relative to its folder. now anchors ages (from: 7d).
//
//	sources:
//	  interval: 5m                      # time between two collections
//	  paths: [/var/log/cloudtrail]      # local files or folders
//	  s3:
//	    - url: s3://my-trail-bucket/prefix
//	      from: 7d                      # also: profile, region, endpoint_url, accounts, regions
//	  lookup_events: {regions: [us-east-1], from: 24h}
//	  cloudwatch_logs:
//	    - group: aws-cloudtrail-logs-111122223333
//	      region: eu-west-1               # also: profile, endpoint_url, from, lateness (default 15m)
//	  sqs:
//	    - queue_url: https://sqs.eu-west-1.amazonaws.com/111122223333/trail-notifications
//	      visibility_timeout: 2m          # also: region, profile, endpoint_url, s3_endpoint_url
//	rules:
//	  files: [./rules]                  # trailsql rule files or folders
//	  sigma: [./sigma/rules/cloud/aws]  # Sigma rules
//	  no_builtin: false
//	  min_severity: medium              # only the rules of this severity or higher
//	start: now                          # first start: now (history's alerts stored, not sent) or all
//	reports:                            # scheduled reports (see ReportSchedule)
//	  - {name: weekly-identity, kind: identity, days: 30, format: html, schedule: "0 8 * * 1", to: [mail]}
//	notify:                             # the notification config (see notify.LoadConfig)
//	  destinations: {ops: {type: webhook, url: https://…, secret_env: HOOK_SECRET}}
//	  routes: [{destinations: [ops]}]
//
// An unknown setting, a bad value or a bad notification setting is an error naming the line.
func ParseConfig(name string, data []byte, getenv func(string) string, now time.Time) (*Config, error) {
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: give its sources, rules and notify sections", name)
		}
		return nil, notify.YAMLError(name, err)
	}
	dir := filepath.Dir(name)
	rel := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
				p = filepath.Join(dir, p)
			}
			out[i] = p
		}
		return out
	}
	s := &f.Sources
	c := &Config{Interval: 5 * time.Minute, Paths: rel(s.Paths),
		Rules: rules.Sources{Files: rel(f.Rules.Files), Sigma: rel(f.Rules.Sigma), NoBuiltin: f.Rules.NoBuiltin, Only: f.Rules.Only,
			MinSeverity: rules.Severity(f.Rules.MinSeverity)}}
	if sev := c.Rules.MinSeverity; sev != "" && sev.Rank() < 0 {
		return nil, fmt.Errorf("%s:%d: min_severity %q: give info, low, medium, high or critical", name, lineOf(data, "min_severity:"), sev)
	}
	switch f.Start {
	case "", StartNow:
		c.Start = StartNow
	case StartAll:
		c.Start = StartAll
	default:
		return nil, fmt.Errorf("%s:%d: start %q: give now (the alerts of the lake's history at the first start are stored, not sent) or all", name, lineOf(data, "start:"), f.Start)
	}
	if s.Interval != "" {
		d, err := time.ParseDuration(s.Interval)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s:%d: sources: interval %q is not a positive duration (write 30s, 5m or 1h)", name, lineOf(data, "interval:"), s.Interval)
		}
		c.Interval = d
	}
	from := func(what, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := window.ParseTime("from", v, now, false)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s:%d: %s: %w", name, lineOf(data, "from: "+v), what, err)
		}
		return t, nil
	}
	for _, src := range s.S3 {
		if _, _, err := s3src.ParseURL(src.URL); err != nil {
			return nil, fmt.Errorf("%s:%d: sources: s3: %w", name, lineOf(data, src.URL), err)
		}
		t, err := from("sources: s3: "+src.URL, src.From)
		if err != nil {
			return nil, err
		}
		c.S3 = append(c.S3, S3Source{URL: src.URL, Profile: src.Profile, Region: src.Region, EndpointURL: src.EndpointURL, From: t, Accounts: src.Accounts, Regions: src.Regions})
	}
	if l := s.LookupEvents; l != nil {
		t, err := from("sources: lookup_events", l.From)
		if err != nil {
			return nil, err
		}
		c.Lookup = &LookupSource{Profile: l.Profile, EndpointURL: l.EndpointURL, Regions: l.Regions, From: t}
	}
	for i, src := range s.CloudWatchLogs {
		at := func(key string) int { return fieldLine(data, "cloudwatch_logs", i, key) }
		if err := cwlsrc.ValidGroup(src.Group); err != nil {
			if src.Group == "" {
				err = errors.New("give the log group's name (group:)")
			}
			return nil, fmt.Errorf("%s:%d: sources: cloudwatch_logs: %w", name, at("group"), err)
		}
		cs := CWLSource{Group: src.Group, Region: src.Region, Profile: src.Profile, EndpointURL: src.EndpointURL}
		if src.From != "" {
			t, err := window.ParseTime("from", src.From, now, false)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: sources: cloudwatch_logs: %s: %w", name, at("from"), src.Group, err)
			}
			cs.From = t
		}
		if src.Lateness != "" {
			d, err := time.ParseDuration(src.Lateness)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%s:%d: sources: cloudwatch_logs: %s: lateness %q is not a positive duration (write 30m or 2h)", name, at("lateness"), src.Group, src.Lateness)
			}
			cs.Lateness = d
		}
		c.CloudWatchLogs = append(c.CloudWatchLogs, cs)
	}
	for i, src := range s.SQS {
		at := func(key string) int { return fieldLine(data, "sqs", i, key) }
		u, err := url.Parse(src.QueueURL)
		if src.QueueURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, fmt.Errorf("%s:%d: sources: sqs: queue_url %q: give the queue's URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME", name, at("queue_url"), src.QueueURL)
		}
		qs := SQSSource{QueueURL: src.QueueURL, Region: src.Region, Profile: src.Profile, EndpointURL: src.EndpointURL, S3EndpointURL: src.S3EndpointURL}
		if src.VisibilityTimeout != "" {
			d, err := time.ParseDuration(src.VisibilityTimeout)
			if err != nil || d < ingest.MinSQSVisibility {
				return nil, fmt.Errorf("%s:%d: sources: sqs: %s: visibility_timeout %q: give a duration of %s or more (it is renewed every third of it)", name, at("visibility_timeout"), src.QueueURL, src.VisibilityTimeout, ingest.MinSQSVisibility)
			}
			qs.Visibility = d
		}
		c.SQS = append(c.SQS, qs)
	}
	if len(c.Paths) == 0 && len(c.S3) == 0 && c.Lookup == nil && len(c.CloudWatchLogs) == 0 && len(c.SQS) == 0 {
		return nil, fmt.Errorf("%s: sources: give paths, s3, lookup_events, cloudwatch_logs or sqs: there is nothing to collect", name)
	}
	if f.Notify.Kind == 0 {
		return nil, fmt.Errorf("%s: give a notify section (its destinations and routes): alerts would reach no one", name)
	}
	nc, err := notify.ParseConfig(name, section(data, &f.Notify), getenv)
	if err != nil {
		return nil, err
	}
	if len(nc.Routes) == 0 {
		return nil, fmt.Errorf("%s:%d: notify: give its routes (at least one, with its destinations): alerts would reach no one", name, f.Notify.Line)
	}
	c.Notify = nc
	if c.Reports, err = parseReports(name, &f.Reports, nc); err != nil {
		return nil, err
	}
	return c, nil
}

// section is the text of a top-level mapping value n of data alone, at its own lines and
// columns (every other character blanked), so that the errors of its parser name the lines of
// the whole file.
func section(data []byte, n *yaml.Node) []byte {
	lines := strings.Split(string(data), "\n")
	start := n.Line - 1
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		if l != "" && l[0] != ' ' && l[0] != '\t' && l[0] != '#' {
			end = i // the next top-level key
			break
		}
	}
	out := make([]string, len(lines))
	for i := start; i < end; i++ {
		out[i] = lines[i]
	}
	if col := n.Column - 1; col > 0 && col <= len(out[start]) {
		out[start] = strings.Repeat(" ", col) + out[start][col:]
	}
	return []byte(strings.Join(out, "\n"))
}

// fieldLine is the line of key in the i-th entry of the list sources.<list> of data (the entry's
// own line when it has no such key; 0 when there is no such entry).
func fieldLine(data []byte, list string, i int, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	value := func(m *yaml.Node, k string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == k {
				return m.Content[j+1]
			}
		}
		return nil
	}
	l := value(value(doc.Content[0], "sources"), list)
	if l == nil || l.Kind != yaml.SequenceNode || i >= len(l.Content) {
		return 0
	}
	e := l.Content[i]
	if v := value(e, key); v != nil {
		return v.Line
	}
	return e.Line
}

// lineOf is the first line of data that contains s (0: none).
func lineOf(data []byte, s string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}
