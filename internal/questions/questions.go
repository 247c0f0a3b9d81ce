// Package questions is the catalogue of named security questions: each is an Athena-dialect SQL
// file embedded in the binary, whose values come in as bound parameters (never spliced into the
// SQL), so the same text can be pasted into Athena.
package questions

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

//go:embed sql/*.sql
var files embed.FS

// Question is one entry of the catalogue.
type Question struct {
	Name        string
	Title       string
	Description string
	// Args names the value bound to each '?' of SQL, in order.
	Args []string
	SQL  string
}

// Params are the values a question may ask for.
type Params struct {
	From, To  time.Time
	Principal string
}

// Catalog returns every question, by name.
func Catalog() ([]Question, error) {
	entries, err := fs.ReadDir(files, "sql")
	if err != nil {
		return nil, err
	}
	var out []Question
	for _, e := range entries {
		data, err := files.ReadFile("sql/" + e.Name())
		if err != nil {
			return nil, err
		}
		q, err := parse(strings.TrimSuffix(e.Name(), ".sql"), string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the named question.
func Get(name string) (Question, error) {
	all, err := Catalog()
	if err != nil {
		return Question{}, err
	}
	var names []string
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
		names = append(names, q.Name)
	}
	return Question{}, fmt.Errorf("no question %q (there are: %s)", name, strings.Join(names, ", "))
}

func parse(name, text string) (Question, error) {
	q := Question{Name: name}
	var body []string
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "-- "), ": "); ok && strings.HasPrefix(line, "-- ") && len(body) == 0 {
			switch k {
			case "title":
				q.Title = v
			case "description":
				q.Description = v
			case "args":
				for _, a := range strings.Split(v, ",") {
					q.Args = append(q.Args, strings.TrimSpace(a))
				}
			}
			continue
		}
		body = append(body, line)
	}
	q.SQL = strings.TrimSpace(strings.Join(body, "\n"))
	if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
		return q, fmt.Errorf("question %s: %d placeholders but %d args", name, n, len(q.Args))
	}
	return q, nil
}

// TimeText renders a time the way CloudTrail writes eventTime, so that string comparisons with
// eventtime are time comparisons.
func TimeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Bind returns the values for the question's placeholders.
func (q Question) Bind(p Params) ([]any, error) {
	out := make([]any, 0, len(q.Args))
	for _, a := range q.Args {
		switch a {
		case "from":
			out = append(out, TimeText(p.From))
		case "to":
			out = append(out, TimeText(p.To))
		case "principal":
			if p.Principal == "" {
				return nil, fmt.Errorf("question %s needs --principal", q.Name)
			}
			out = append(out, p.Principal)
		default:
			return nil, fmt.Errorf("question %s: unknown argument %q", q.Name, a)
		}
	}
	return out, nil
}
