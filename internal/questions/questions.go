// Package questions is the catalogue of named security questions: each is an Athena-dialect SQL
// file embedded in the binary, whose values come in as bound parameters (never spliced into the
// SQL), so the same text can be pasted into Athena.
//
// A question file starts with header comments:
//
//	-- title: one line
//	-- description: one line
//	-- args: from, to          the value bound to each '?' in order (see Params)
//	-- options: account, region, principal   optional filters the question accepts
//
// Optional filters are inserted where the SQL has the comment /*filters*/ (once per table
// reference that they must restrict): each given filter becomes "AND column = ?" with its value
// bound. Without filters the comment stays a comment, so q.SQL is always a valid statement.
package questions

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/suggest"
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
	// Options are the optional filters (account, region, principal) the question accepts.
	Options []string
	SQL     string
}

// Params are the values a question may ask for.
type Params struct {
	From, To time.Time
	// BaselineFrom starts the baseline window [BaselineFrom, From) of new-behaviour.
	BaselineFrom time.Time
	// Principal is an identity as the principal predicate matches it: a user, role or
	// assumed-role ARN, or an access key id (see PrincipalPredicate).
	Principal string
	// Account and Region, when set, restrict the rows to one partition account and region.
	Account, Region string
	// Inventory lists the identities of an IAM inventory, for inactive-identities.
	Inventory []Identity
}

// Identity is one user or role of an IAM inventory.
type Identity struct {
	Kind    string // user or role
	Name    string
	ARN     string
	Created string // ISO-8601, "" when unknown
}

// Marker comments where optional parts are inserted.
const (
	filtersMarker   = "/*filters*/"
	inventoryMarker = "/*inventory*/"
)

// PrincipalPredicate matches the events of one identity named by the value bound to its three
// parameters: a user ARN or an assumed-role session ARN match userIdentity.arn, a role ARN
// matches the session issuer (every session of the role), an access key id matches
// userIdentity.accessKeyId.
const PrincipalPredicate = "(useridentity.arn = ? OR useridentity.sessioncontext.sessionissuer.arn = ? OR useridentity.accesskeyid = ?)"

// FailedPredicate is what "failed" means in every question: an error code, or a sign-in that
// failed. CloudTrail records a failed console sign-in with responseElements.ConsoleLogin
// "Failure" and an errorMessage ("Failed authentication"), and no errorCode, so errorcode alone
// counts it as a success. A question file writes it as the marker /*failed*/, replaced when the
// catalogue is read (Question.SQL, and so --sql, hold the predicate itself).
const FailedPredicate = "(errorcode IS NOT NULL OR (eventsource = 'signin.amazonaws.com' AND (errormessage IS NOT NULL OR json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure')))"

// DeniedPredicate recognises calls refused for lack of permission: the access-denied question
// (as the marker /*denied*/), and what policy and unused leave out of the calls they count.
const DeniedPredicate = `(errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation%'
       OR errorcode IN ('AuthorizationError', 'AuthorizationErrorException', 'Forbidden', 'ForbiddenException', 'NotAuthorized', 'UnauthorizedAccess', 'UnauthorizedException'))`

// IsDenied is DeniedPredicate in Go: whether an error code is a refusal for lack of permission.
func IsDenied(errorCode string) bool {
	switch errorCode {
	case "AuthorizationError", "AuthorizationErrorException", "Forbidden", "ForbiddenException", "NotAuthorized", "UnauthorizedAccess", "UnauthorizedException":
		return true
	}
	return strings.Contains(errorCode, "AccessDenied") || strings.Contains(errorCode, "UnauthorizedOperation")
}

// predicateMarkers are replaced by the predicates when a question is read.
var predicateMarkers = strings.NewReplacer("/*failed*/", FailedPredicate, "/*denied*/", DeniedPredicate)

var filterColumns = []struct{ name, sql string }{
	{"account", "account = ?"},
	{"region", "region = ?"},
	{"principal", PrincipalPredicate},
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
	if s := suggest.Closest(name, names); s != "" {
		return Question{}, fmt.Errorf("no question %q: did you mean %s? (there are: %s)", name, s, strings.Join(names, ", "))
	}
	return Question{}, fmt.Errorf("no question %q (there are: %s)", name, strings.Join(names, ", "))
}

func parse(name, text string) (Question, error) {
	q := Question{Name: name}
	var body []string
	list := func(v string) []string {
		var out []string
		for _, a := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(a))
		}
		return out
	}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "-- "), ": "); ok && strings.HasPrefix(line, "-- ") && len(body) == 0 {
			switch k {
			case "title":
				q.Title = v
			case "description":
				q.Description = v
			case "args":
				q.Args = list(v)
			case "options":
				q.Options = list(v)
			}
			continue
		}
		body = append(body, line)
	}
	q.SQL = predicateMarkers.Replace(strings.TrimSpace(strings.Join(body, "\n")))
	if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
		return q, fmt.Errorf("question %s: %d placeholders but %d args", name, n, len(q.Args))
	}
	for _, o := range q.Options {
		found := false
		for _, f := range filterColumns {
			found = found || f.name == o
		}
		if !found {
			return q, fmt.Errorf("question %s: unknown option %q", name, o)
		}
	}
	if len(q.Options) > 0 && !strings.Contains(q.SQL, filtersMarker) {
		return q, fmt.Errorf("question %s: options but no %s", name, filtersMarker)
	}
	return q, nil
}

// Accepts reports whether the question takes the option (account, region, principal) as a filter
// or as an argument.
func (q Question) Accepts(option string) bool {
	for _, o := range q.Options {
		if o == option {
			return true
		}
	}
	for _, a := range q.Args {
		if a == option {
			return true
		}
	}
	return false
}

// Needs reports whether the question needs the argument (from, to, principal, inventory, …).
func (q Question) Needs(arg string) bool {
	if arg == "inventory" {
		return strings.Contains(q.SQL, inventoryMarker)
	}
	for _, a := range q.Args {
		if a == arg {
			return true
		}
	}
	return false
}

// TimeText renders a time the way CloudTrail writes eventTime, so that string comparisons with
// eventtime are time comparisons.
func TimeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Bind returns the values for the placeholders of q.SQL as it is (no optional filters).
func (q Question) Bind(p Params) ([]any, error) {
	out := make([]any, 0, len(q.Args))
	for _, a := range q.Args {
		v, err := q.value(a, p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (q Question) value(a string, p Params) (any, error) {
	switch a {
	case "from":
		return TimeText(p.From), nil
	case "to":
		return TimeText(p.To), nil
	case "baseline_from":
		return TimeText(p.BaselineFrom), nil
	case "principal":
		if p.Principal == "" {
			return nil, &ParamError{Question: q.Name, Param: "principal", Problem: Missing}
		}
		return p.Principal, nil
	case "account":
		return p.Account, nil
	case "region":
		return p.Region, nil
	}
	return nil, fmt.Errorf("question %s: unknown argument %q", q.Name, a)
}

var identityRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9+=,.@_:/\-]+$`) })

// Build returns the statement with the optional filters that p sets, and the values of all its
// placeholders in order. Values are never part of the text.
func (q Question) Build(p Params) (string, []any, error) {
	var filters []string
	var filterArgs []any
	for _, f := range filterColumns {
		var v string
		switch f.name {
		case "account":
			v = p.Account
		case "region":
			v = p.Region
		case "principal":
			if q.Needs("principal") {
				continue // an argument, not a filter
			}
			v = p.Principal
		}
		if v == "" {
			continue
		}
		if !q.Accepts(f.name) {
			return "", nil, &ParamError{Question: q.Name, Param: f.name, Problem: NotTaken}
		}
		filters = append(filters, "AND "+f.sql)
		for range strings.Count(f.sql, "?") {
			filterArgs = append(filterArgs, v)
		}
	}
	for _, id := range p.Inventory {
		if id.Kind != "user" && id.Kind != "role" || !identityRE().MatchString(id.ARN) {
			return "", nil, fmt.Errorf("inventory identity %q (%s): not a user or role ARN", id.ARN, id.Kind)
		}
	}
	if q.Needs("inventory") && len(p.Inventory) == 0 {
		return "", nil, &ParamError{Question: q.Name, Param: "inventory", Problem: Missing}
	}
	var b strings.Builder
	var args []any
	argi := 0
	rest := q.SQL
	for len(rest) > 0 {
		i := strings.IndexAny(rest, "?/")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		switch {
		case rest[0] == '?':
			v, err := q.value(q.Args[argi], p)
			if err != nil {
				return "", nil, err
			}
			argi++
			args = append(args, v)
			b.WriteByte('?')
			rest = rest[1:]
		case strings.HasPrefix(rest, filtersMarker):
			if len(filters) > 0 {
				b.WriteString(strings.Join(filters, " "))
				args = append(args, filterArgs...)
			} else {
				b.WriteString(filtersMarker)
			}
			rest = rest[len(filtersMarker):]
		case strings.HasPrefix(rest, inventoryMarker):
			for i, id := range p.Inventory {
				if i > 0 {
					b.WriteString(",\n       ")
				}
				b.WriteString("(?, ?, ?, ?)")
				args = append(args, id.Kind, id.Name, id.ARN, id.Created)
			}
			rest = rest[len(inventoryMarker):]
		default:
			b.WriteByte('/')
			rest = rest[1:]
		}
	}
	return b.String(), args, nil
}

// Inline returns the statement with every placeholder replaced by its value as a SQL literal,
// for pasting into Athena's editor (which has no way to bind them). Only this rendering splices
// values into the text; trailsql itself always binds them.
func Inline(sql string, args []any) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(sql); i++ {
		if sql[i] != '?' || n >= len(args) {
			b.WriteByte(sql[i])
			continue
		}
		switch v := args[n].(type) {
		case string:
			b.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		default:
			fmt.Fprint(&b, v)
		}
		n++
	}
	return b.String()
}
