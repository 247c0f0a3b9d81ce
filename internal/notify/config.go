package notify

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a notification config file, read: the destinations built (secrets resolved), the
// routes, and the queue options.
type Config struct {
	Destinations map[string]Destination
	Routes       []Route
	Options      Options
}

// lineError is an error at a line of the config file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errAt(n *yaml.Node, format string, args ...any) error {
	return &lineError{n.Line, fmt.Sprintf(format, args...)}
}

// duration is a YAML duration: 30s, 5m, 4h, 2d.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return errAt(n, "%q is not a duration (write 30s, 5m, 4h or 2d)", n.Value)
	}
	*d = duration(v)
	return nil
}

// parseDuration reads a Go duration, or a whole number of days (2d).
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return v, nil
}

// stringList is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return errAt(c, "expected a string")
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return errAt(n, "expected a string or a list of strings")
}

// keysOf are the yaml keys of a struct type's fields.
func keysOf(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// checkKeys refuses a mapping's keys that are not in allowed (yaml's KnownFields does not reach
// inside a custom unmarshaller), and returns each key's line.
func checkKeys(n *yaml.Node, what string, allowed []string) (map[string]int, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s: expected a mapping of settings", what)
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return nil, errAt(k, "%s: unknown setting %q (known: %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := lines[k.Value]; dup {
			return nil, errAt(k, "%s: %q is given twice", what, k.Value)
		}
		lines[k.Value] = k.Line
	}
	return lines, nil
}

// destYAML is a destination's settings: the fields of every type, of which each type allows its
// own (destKeys).
type destYAML struct {
	Type string `yaml:"type"`
	// slack, teams, webhook, jira, pagerduty
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"url_env"`
	URLFile string `yaml:"url_file"`
	// webhook
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	// pagerduty
	RoutingKeyEnv  string `yaml:"routing_key_env"`
	RoutingKeyFile string `yaml:"routing_key_file"`
	// jira
	API       string `yaml:"api"`
	User      string `yaml:"user"`
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	Project   string `yaml:"project"`
	IssueType string `yaml:"issue_type"`
	// email
	Smarthost    string     `yaml:"smarthost"`
	From         string     `yaml:"from"`
	To           stringList `yaml:"to"`
	Username     string     `yaml:"username"`
	PasswordEnv  string     `yaml:"password_env"`
	PasswordFile string     `yaml:"password_file"`
	CAFile       string     `yaml:"ca_file"`
	Insecure     bool       `yaml:"insecure"`

	node  *yaml.Node
	lines map[string]int
}

var destKeys = map[string][]string{
	"slack":     {"url_env", "url_file"},
	"teams":     {"url_env", "url_file"},
	"webhook":   {"url", "url_env", "url_file", "secret_env", "secret_file"},
	"pagerduty": {"url", "routing_key_env", "routing_key_file"},
	"jira":      {"url", "api", "user", "token_env", "token_file", "project", "issue_type"},
	"email":     {"smarthost", "from", "to", "username", "password_env", "password_file", "ca_file", "insecure"},
}

func (d *destYAML) UnmarshalYAML(n *yaml.Node) error {
	typ := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			typ = n.Content[i+1].Value
		}
	}
	allowed, ok := destKeys[typ]
	if !ok {
		types := slices.Sorted(func(yield func(string) bool) {
			for k := range destKeys {
				if !yield(k) {
					return
				}
			}
		})
		return errAt(n, "destination type %q: give type: %s", typ, strings.Join(types, ", "))
	}
	lines, err := checkKeys(n, typ+" destination", append([]string{"type"}, allowed...))
	if err != nil {
		return err
	}
	type plain destYAML
	if err := n.Decode((*plain)(d)); err != nil {
		return err
	}
	d.node, d.lines = n, lines
	return nil
}

type matchYAML struct {
	Rule     stringList `yaml:"rule"`
	Severity string     `yaml:"severity"`
	Account  stringList `yaml:"account"`
	Tag      stringList `yaml:"tag"`
}

type routeYAML struct {
	Name           string     `yaml:"name"`
	Match          matchYAML  `yaml:"match"`
	Destinations   stringList `yaml:"destinations"`
	GroupBy        stringList `yaml:"group_by"`
	GroupWait      *duration  `yaml:"group_wait"`
	GroupInterval  *duration  `yaml:"group_interval"`
	RepeatInterval *duration  `yaml:"repeat_interval"`
	Continue       bool       `yaml:"continue"`

	node *yaml.Node
}

func (r *routeYAML) UnmarshalYAML(n *yaml.Node) error {
	if _, err := checkKeys(n, "route", keysOf(routeYAML{})); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "match" {
			if _, err := checkKeys(n.Content[i+1], "match", keysOf(matchYAML{})); err != nil {
				return err
			}
		}
	}
	type plain routeYAML
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.node = n
	return nil
}

type queueYAML struct {
	Capacity     int       `yaml:"capacity"`
	MaxBatch     int       `yaml:"max_batch"`
	MinBackoff   *duration `yaml:"min_backoff"`
	MaxBackoff   *duration `yaml:"max_backoff"`
	SendTimeout  *duration `yaml:"send_timeout"`
	DrainTimeout *duration `yaml:"drain_timeout"`
}

type fileYAML struct {
	Destinations map[string]*destYAML `yaml:"destinations"`
	Routes       []*routeYAML         `yaml:"routes"`
	Queue        queueYAML            `yaml:"queue"`
}

// LoadConfig reads the config file at path; secrets come from the environment (getenv) and from
// files (relative to the config's folder). testdata/notify.yaml shows every setting:
//
//	destinations:            # by name: slack, teams, webhook, pagerduty, jira, email
//	  sec-slack: {type: slack, url_env: SLACK_URL}
//	routes:                  # in order; the first match wins unless continue: true
//	  - match: {rule: "root-*", severity: high, account: "111122223333", tag: attack.t1078}
//	    destinations: [sec-slack]
//	    group_by: [rule, account]   # labels: rule severity account region principal source_ip event_name
//	    group_wait: 30s
//	    group_interval: 5m
//	    repeat_interval: 4h
//	queue: {capacity: 10000, max_batch: 64, min_backoff: 1s, max_backoff: 5m, send_timeout: 1m, drain_timeout: 10s}
//
// Secrets are never written in the file: X_env names an environment variable, X_file a file. An
// unknown setting, a missing variable or file, or a bad duration is an error naming the line.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the notification config: %w", err)
	}
	return ParseConfig(path, data, getenv)
}

var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (\S+) not found in type \S+`) })

// YAMLError is a YAML decoder's error in the file name, written name:line: message, an unknown
// field as "unknown setting X".
func YAMLError(name string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = unknownField().ReplaceAllString(msg, "unknown setting $1")
	msg = strings.ReplaceAll(msg, "\n  line ", "\n"+name+":")
	if m, ok := strings.CutPrefix(msg, "line "); ok {
		return errors.New(name + ":" + m)
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// ParseConfig reads a config file's contents; name is its path, which errors name with the line.
func ParseConfig(name string, data []byte, getenv func(string) string) (*Config, error) {
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, YAMLError(name, err)
	}
	c, err := f.build(filepath.Dir(name), getenv)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (f *fileYAML) build(dir string, getenv func(string) string) (*Config, error) {
	c := &Config{Destinations: map[string]Destination{}}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range f.Destinations {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		d := f.Destinations[name]
		if d == nil {
			return nil, fmt.Errorf("destination %q has no settings", name)
		}
		if !destNameRE().MatchString(name) {
			return nil, errAt(d.node, "destination %q: name it with lower-case letters, digits, - and _", name)
		}
		dest, err := d.build(name, dir, getenv)
		if err != nil {
			return nil, err
		}
		c.Destinations[name] = dest
	}
	for i, r := range f.Routes {
		if r == nil {
			return nil, fmt.Errorf("route %d is empty", i+1)
		}
		route := Route{Name: r.Name, Destinations: r.Destinations, GroupBy: r.GroupBy, Continue: r.Continue,
			Match:     Match{Rules: r.Match.Rule, MinSeverity: strings.ToLower(r.Match.Severity), Accounts: r.Match.Account, Tags: r.Match.Tag},
			GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour}
		if route.Name == "" {
			route.Name = fmt.Sprintf("route-%d", i+1)
		}
		if route.Match.MinSeverity != "" && severityRank(route.Match.MinSeverity) < 0 {
			return nil, errAt(r.node, "route %s: severity %q: give info, low, medium, high or critical", route.Name, r.Match.Severity)
		}
		for _, g := range route.Match.Rules {
			if _, err := filepath.Match(g, ""); err != nil {
				return nil, errAt(r.node, "route %s: rule glob %q: %v", route.Name, g, err)
			}
		}
		if len(route.Destinations) == 0 {
			return nil, errAt(r.node, "route %s: give its destinations", route.Name)
		}
		for _, d := range route.Destinations {
			if c.Destinations[d] == nil {
				return nil, errAt(r.node, "route %s: no destination %q (destinations: %s)", route.Name, d, strings.Join(names, ", "))
			}
		}
		if len(route.GroupBy) == 0 {
			route.GroupWait, route.GroupInterval = 0, 0
		}
		if r.GroupWait != nil {
			route.GroupWait = time.Duration(*r.GroupWait)
		}
		if r.GroupInterval != nil {
			route.GroupInterval = time.Duration(*r.GroupInterval)
		}
		if r.RepeatInterval != nil {
			route.RepeatInterval = time.Duration(*r.RepeatInterval)
		}
		c.Routes = append(c.Routes, route)
	}
	q := f.Queue
	c.Options = Options{QueueCapacity: q.Capacity, MaxBatch: q.MaxBatch}
	for _, p := range []struct {
		d   *duration
		dst *time.Duration
	}{{q.MinBackoff, &c.Options.MinBackoff}, {q.MaxBackoff, &c.Options.MaxBackoff}, {q.SendTimeout, &c.Options.SendTimeout}, {q.DrainTimeout, &c.Options.DrainTimeout}} {
		if p.d != nil {
			*p.dst = time.Duration(*p.d)
		}
	}
	return c, nil
}

// secret resolves a secret setting from its _env or _file key; required: one must be given.
func (d *destYAML) secret(name, key, env, file, dir string, getenv func(string) string, required bool) (Secret, error) {
	switch {
	case env != "" && file != "":
		return Secret{}, &lineError{d.lines[key+"_env"], fmt.Sprintf("destination %s: give %s_env or %s_file, not both", name, key, key)}
	case env != "":
		v := strings.TrimSpace(getenv(env))
		if v == "" {
			return Secret{}, &lineError{d.lines[key+"_env"], fmt.Sprintf("destination %s: the environment variable %s (%s_env) is not set", name, env, key)}
		}
		return NewSecret(v), nil
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return Secret{}, &lineError{d.lines[key+"_file"], fmt.Sprintf("destination %s: %s_file: %v", name, key, err)}
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return Secret{}, &lineError{d.lines[key+"_file"], fmt.Sprintf("destination %s: %s_file %s is empty", name, key, file)}
		}
		return NewSecret(v), nil
	}
	if required {
		return Secret{}, errAt(d.node, "destination %s: give %s_env (an environment variable) or %s_file (a file) for its %s", name, key, key, key)
	}
	return Secret{}, nil
}

func (d *destYAML) build(name, dir string, getenv func(string) string) (Destination, error) {
	need := func(key, v string) error {
		if v == "" {
			return errAt(d.node, "destination %s: %s is required", name, key)
		}
		return nil
	}
	switch d.Type {
	case "slack", "teams":
		u, err := d.secret(name, "url", d.URLEnv, d.URLFile, dir, getenv, true)
		if err != nil {
			return nil, err
		}
		if d.Type == "slack" {
			return &Slack{URL: u}, nil
		}
		return &Teams{URL: u}, nil
	case "webhook":
		u := NewSecret(d.URL)
		if d.URL == "" {
			var err error
			if u, err = d.secret(name, "url", d.URLEnv, d.URLFile, dir, getenv, true); err != nil {
				return nil, err
			}
		}
		s, err := d.secret(name, "secret", d.SecretEnv, d.SecretFile, dir, getenv, true)
		if err != nil {
			return nil, err
		}
		if _, err := webhookKey(s.Reveal()); err != nil {
			return nil, errAt(d.node, "destination %s: %v", name, err)
		}
		return &Webhook{URL: u, Secret: s}, nil
	case "pagerduty":
		k, err := d.secret(name, "routing_key", d.RoutingKeyEnv, d.RoutingKeyFile, dir, getenv, true)
		if err != nil {
			return nil, err
		}
		return &PagerDuty{RoutingKey: k, URL: d.URL}, nil
	case "jira":
		for k, v := range map[string]string{"url": d.URL, "project": d.Project} {
			if err := need(k, v); err != nil {
				return nil, err
			}
		}
		if d.API != "" && d.API != "2" && d.API != "3" {
			return nil, &lineError{d.lines["api"], fmt.Sprintf("destination %s: api %q: give 3 (Jira Cloud) or 2 (Data Center)", name, d.API)}
		}
		t, err := d.secret(name, "token", d.TokenEnv, d.TokenFile, dir, getenv, true)
		if err != nil {
			return nil, err
		}
		return &Jira{BaseURL: d.URL, API: d.API, User: d.User, Token: t, Project: d.Project, IssueType: d.IssueType}, nil
	case "email":
		for k, v := range map[string]string{"smarthost": d.Smarthost, "from": d.From} {
			if err := need(k, v); err != nil {
				return nil, err
			}
		}
		if len(d.To) == 0 {
			return nil, errAt(d.node, "destination %s: to is required", name)
		}
		if _, _, err := net.SplitHostPort(d.Smarthost); err != nil {
			return nil, &lineError{d.lines["smarthost"], fmt.Sprintf("destination %s: smarthost %q: write host:port (e.g. smtp.example.com:587)", name, d.Smarthost)}
		}
		p, err := d.secret(name, "password", d.PasswordEnv, d.PasswordFile, dir, getenv, d.Username != "")
		if err != nil {
			return nil, err
		}
		e := &Email{Addr: d.Smarthost, From: d.From, To: d.To, Username: d.Username, Password: p, Insecure: d.Insecure}
		if d.CAFile != "" {
			file := d.CAFile
			if !filepath.IsAbs(file) {
				file = filepath.Join(dir, file)
			}
			pem, err := os.ReadFile(file)
			pool := x509.NewCertPool()
			if err != nil || !pool.AppendCertsFromPEM(pem) {
				return nil, &lineError{d.lines["ca_file"], fmt.Sprintf("destination %s: ca_file %s: not a readable PEM certificate", name, file)}
			}
			host, _, _ := net.SplitHostPort(d.Smarthost)
			e.TLS = &tls.Config{RootCAs: pool, ServerName: host}
		}
		return e, nil
	}
	return nil, errAt(d.node, "destination %s: unknown type %q", name, d.Type)
}
