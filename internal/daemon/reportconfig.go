package daemon

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
)

// ReportSchedule is a report that run sends when its schedule is due:
//
//	reports:
//	  - name: weekly-identity      # lower-case letters, digits, - and _
//	    kind: identity             # identity, activity or alerts ('trailsql report')
//	    days: 30                   # the window: the last N days (default 7)
//	    format: html               # the email's body: html (with a text part), markdown or json
//	    schedule: "0 8 * * 1"      # cron: minute hour day-of-month month day-of-week, or @daily…
//	    to: [mail, chat]           # destinations: email, slack, teams, webhook
//
// Slack and Teams get the Markdown (trimmed to their limits with a note), a webhook the JSON
// document; Jira and PagerDuty take no report (reports are not incidents).
type ReportSchedule struct {
	Name, Kind, Format string
	Days               int
	// Spec is the schedule as written; Schedule is it parsed (UTC).
	Spec     string
	Schedule cron.Schedule
	To       []string
	// Line is the line of its entry in the config.
	Line int
}

var reportNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`) })

// cronParser reads the standard 5-field cron and the descriptors (@daily, @weekly, @every 1h).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var reportKeys = []string{"name", "kind", "days", "format", "schedule", "to"}

// parseReports reads the reports section n of the config file name: each entry's setting
// checked, its error naming its line.
func parseReports(name string, n *yaml.Node, nc *notify.Config) ([]ReportSchedule, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	at := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: reports: %s", name, line, fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.SequenceNode {
		return nil, at(n.Line, "give a list of reports (- name: …, kind: …, schedule: …, to: […])")
	}
	var out []ReportSchedule
	seen := map[string]bool{}
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			return nil, at(e.Line, "each report is a mapping of name, kind, days, format, schedule and to")
		}
		r := ReportSchedule{Days: 7, Format: "html", Line: e.Line}
		lines := map[string]int{}
		var to *yaml.Node
		for i := 0; i+1 < len(e.Content); i += 2 {
			k, v := e.Content[i], e.Content[i+1]
			if !slices.Contains(reportKeys, k.Value) {
				return nil, at(k.Line, "unknown setting %q (known: %s)", k.Value, strings.Join(reportKeys, ", "))
			}
			if _, dup := lines[k.Value]; dup {
				return nil, at(k.Line, "%q is given twice", k.Value)
			}
			lines[k.Value] = k.Line
			if k.Value == "to" {
				to = v
				continue
			}
			if v.Kind != yaml.ScalarNode {
				return nil, at(v.Line, "%s: give one value", k.Value)
			}
			switch k.Value {
			case "name":
				r.Name = v.Value
			case "kind":
				r.Kind = v.Value
			case "format":
				r.Format = v.Value
			case "schedule":
				r.Spec = v.Value
			case "days":
				d, err := strconv.Atoi(v.Value)
				if err != nil || d <= 0 || d > 3660 {
					return nil, at(v.Line, "days %q: give a whole number of days from 1 to 3660", v.Value)
				}
				r.Days = d
			}
		}
		for _, k := range []string{"name", "kind", "schedule", "to"} {
			if _, ok := lines[k]; !ok {
				return nil, at(e.Line, "the report has no %s (give name, kind, schedule and to)", k)
			}
		}
		if !reportNameRE().MatchString(r.Name) {
			return nil, at(lines["name"], "name %q: use lower-case letters, digits, - and _", r.Name)
		}
		if seen[r.Name] {
			return nil, at(lines["name"], "two reports are named %q", r.Name)
		}
		seen[r.Name] = true
		if !slices.Contains(report.Kinds, r.Kind) {
			return nil, at(lines["kind"], "report %s: kind %q: give %s", r.Name, r.Kind, strings.Join(report.Kinds, ", "))
		}
		if !slices.Contains(report.Formats, r.Format) {
			return nil, at(lines["format"], "report %s: format %q: give %s", r.Name, r.Format, strings.Join(report.Formats, ", "))
		}
		sched, err := cronParser.Parse(r.Spec)
		if err != nil || strings.HasPrefix(r.Spec, "TZ=") || strings.HasPrefix(r.Spec, "CRON_TZ=") {
			msg := "a time zone is not taken: schedules are in UTC"
			if err != nil {
				msg = err.Error()
			}
			return nil, at(lines["schedule"], "report %s: schedule %q is not a cron schedule (%s): write 5 fields, minute hour day-of-month month day-of-week (\"0 8 * * 1\"), or @hourly, @daily, @weekly, @monthly, @every 6h", r.Name, r.Spec, msg)
		}
		if ss, ok := sched.(*cron.SpecSchedule); ok {
			ss.Location = time.UTC // the parser's default is the machine's zone
		}
		r.Schedule = sched
		var names []*yaml.Node
		switch to.Kind {
		case yaml.ScalarNode:
			names = []*yaml.Node{to}
		case yaml.SequenceNode:
			names = to.Content
		default:
			return nil, at(to.Line, "report %s: to: give destination names", r.Name)
		}
		if len(names) == 0 {
			return nil, at(to.Line, "report %s: to: give at least one destination", r.Name)
		}
		for _, d := range names {
			dest, ok := nc.Destinations[d.Value]
			if !ok || d.Kind != yaml.ScalarNode {
				return nil, at(d.Line, "report %s: no destination %q in notify: destinations", r.Name, d.Value)
			}
			switch dest.(type) {
			case *notify.Jira, *notify.PagerDuty:
				return nil, at(d.Line, "report %s: destination %q is Jira or PagerDuty, which take incidents, and a report is not one: send it to email, slack, teams or a webhook", r.Name, d.Value)
			}
			r.To = append(r.To, d.Value)
		}
		out = append(out, r)
	}
	return out, nil
}
