package server

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/usage"
	"github.com/trailsql/trailsql/internal/window"
)

// answerParams are the parameters of the answers about a period (questions, policy, unused),
// as the CLI's flags of the same names: a POST body, or a GET query string.
type answerParams struct {
	Days         int    `json:"days,omitempty"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
	Account      string `json:"account,omitempty"`
	Region       string `json:"region,omitempty"`
	Principal    string `json:"principal,omitempty"`
	BaselineDays int    `json:"baseline_days,omitempty"`
	// Policy's options.
	Resources     bool `json:"resources,omitempty"`
	IncludeDenied bool `json:"include_denied,omitempty"`
	// Unused's option.
	AssumeRecorded bool `json:"assume_recorded,omitempty"`
	// Shape of the rows (objects or arrays), and the request's limits.
	Shape   string `json:"shape,omitempty"`
	MaxRows int    `json:"max_rows,omitempty"`
	Timeout string `json:"timeout,omitempty"`

	daysGiven, baselineGiven bool
}

// defaultDays is the window of every answer about a period when neither days nor from is given,
// as for the CLI: 90 days, the span of CloudTrail's event history.
const defaultDays = 90

// readAnswerParams reads the parameters: a POST's JSON body, else the query string.
func readAnswerParams(r *http.Request) (*answerParams, error) {
	p := &answerParams{}
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		if err := decodeBody(r, p); err != nil {
			return nil, err
		}
		p.daysGiven, p.baselineGiven = p.Days != 0, p.BaselineDays != 0
		return p, nil
	}
	v := r.URL.Query()
	p.From, p.To, p.Account, p.Region, p.Principal = v.Get("from"), v.Get("to"), v.Get("account"), v.Get("region"), v.Get("principal")
	p.Shape, p.Timeout = v.Get("_shape"), v.Get("timeout")
	var err error
	num := func(name string, dst *int) (bool, error) {
		s := v.Get(name)
		if s == "" {
			return false, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return false, &paramError{name, s, "give a whole number"}
		}
		*dst = n
		return true, nil
	}
	if p.daysGiven, err = num("days", &p.Days); err != nil {
		return nil, err
	}
	if p.baselineGiven, err = num("baseline_days", &p.BaselineDays); err != nil {
		return nil, err
	}
	if _, err = num("max_rows", &p.MaxRows); err != nil {
		return nil, err
	}
	flag := func(name string) bool { b, _ := strconv.ParseBool(v.Get(name)); return b }
	p.Resources, p.IncludeDenied, p.AssumeRecorded = flag("resources"), flag("include_denied"), flag("assume_recorded")
	return p, nil
}

var (
	accountRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{12}$`) })
	regionRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`) })
)

// window resolves the parameters' window [from, to) and checks the partition filters.
func (s *Server) window(p *answerParams) (from, to time.Time, err error) {
	days := p.Days
	if !p.daysGiven {
		days = defaultDays
	}
	spec := window.Spec{Days: days, DaysGiven: p.daysGiven, From: p.From, To: p.To}
	if from, to, err = spec.Resolve(s.opt.Now()); err != nil {
		return from, to, err
	}
	if p.Account != "" && !accountRE().MatchString(p.Account) {
		return from, to, &paramError{"account", p.Account, "an AWS account id is 12 digits"}
	}
	if p.Region != "" && !regionRE().MatchString(p.Region) {
		return from, to, &paramError{"region", p.Region, "not an AWS region name (e.g. us-east-1)"}
	}
	return from, to, nil
}

// Window is an answer's period, and what the lake holds of it.
type Window struct {
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Baseline *time.Time    `json:"baseline_from,omitempty"`
	Coverage lake.Coverage `json:"coverage"`
	// Warnings say where the window reaches outside what the lake holds.
	Warnings []string `json:"warnings"`
}

// period is an answer about a window under way: its window, its limits, and the one snapshot
// all its statements read (within the request's timeout).
type period struct {
	from, to time.Time
	lim      limits
	ctx      context.Context
	query    answer.QueryFunc
	snap     *lake.Snapshot
	// close lets the snapshot go and ends the timeout's context.
	close func()
}

// openPeriod resolves the window and limits of p (maxRows as the request gave it, "" for the
// server's) and pins a snapshot for the answer.
func (s *Server) openPeriod(ctx context.Context, p *answerParams) (*period, error) {
	lim, err := s.limitsOf(positive(p.MaxRows), p.Timeout)
	if err != nil {
		return nil, err
	}
	from, to, err := s.window(p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := lim.context(ctx)
	pinned, release, err := s.opt.Engine.With(engine.QueryOptions{Timeout: lim.timeout}).Pin(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	return &period{from: from, to: to, lim: lim, ctx: ctx, query: local.Engine(pinned), snap: pinned.Snapshot(),
		close: func() { release(); cancel() }}, nil
}

func (s *Server) listQuestions(w http.ResponseWriter, r *http.Request) {
	all, err := questions.Catalog()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]questionJSON, len(all))
	for i, q := range all {
		out[i] = describe(q, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"questions": out})
}

// questionJSON describes a question: its parameters (what it needs, what it accepts).
type questionJSON struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Needs       []string `json:"needs"`
	Accepts     []string `json:"accepts"`
	SQL         string   `json:"sql,omitempty"`
}

func describe(q questions.Question, withSQL bool) questionJSON {
	out := questionJSON{Name: q.Name, Title: q.Title, Description: q.Description, Needs: []string{}, Accepts: []string{"days", "from", "to"}}
	for _, a := range []string{"principal", "baseline_from", "inventory"} {
		if q.Needs(a) {
			out.Needs = append(out.Needs, strings.TrimSuffix(strings.Replace(a, "baseline_from", "baseline_days", 1), "_from"))
		}
	}
	for _, o := range []string{"account", "region", "principal"} {
		if q.Accepts(o) {
			out.Accepts = append(out.Accepts, o)
		}
	}
	if q.Needs("baseline_from") {
		out.Accepts = append(out.Accepts, "baseline_days")
	}
	if withSQL {
		out.SQL = q.SQL
	}
	return out
}

func (s *Server) getQuestion(w http.ResponseWriter, r *http.Request) {
	q, err := questions.Get(r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, &notFound{err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, describe(q, true))
}

// QuestionAnswer is a question's answer: what it was asked about, the statement run with its
// values (ready for Athena's editor), and the rows.
type QuestionAnswer struct {
	Question  string `json:"question"`
	Title     string `json:"title"`
	Window    Window `json:"window"`
	Principal string `json:"principal,omitempty"`
	SQL       string `json:"sql"`
	QueryResult
}

// answerQuestion answers POST /api/v1/questions/{name}, as trailsql ask does.
func (s *Server) answerQuestion(w http.ResponseWriter, r *http.Request) {
	q, err := questions.Get(r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, &notFound{err.Error()})
		return
	}
	p, err := readAnswerParams(r)
	if err == nil {
		var a *QuestionAnswer
		if a, err = s.question(r.Context(), q, p); err == nil {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	s.writeError(w, r, err)
}

func (s *Server) question(ctx context.Context, q questions.Question, p *answerParams) (*QuestionAnswer, error) {
	if err := checkShape("", p.Shape); err != nil {
		return nil, err
	}
	baseline := p.BaselineDays
	if !p.baselineGiven {
		baseline = 30
	}
	if err := q.Check(questions.Request{Principal: p.Principal, BaselineDays: baseline, BaselineGiven: p.baselineGiven, Inventory: s.opt.Authz != "" && q.Needs("inventory")}); err != nil {
		return nil, err
	}
	qp := questions.Params{Account: p.Account, Region: p.Region}
	if q.Needs("inventory") {
		d, err := authz.Load(s.opt.Authz)
		if err != nil {
			return nil, err
		}
		if qp.Inventory = questions.Inventory(d, p.Account); len(qp.Inventory) == 0 {
			return nil, &paramError{"inventory", "", "the server's IAM inventory (--authz) has no users or roles" + map[bool]string{true: " in account " + p.Account}[p.Account != ""]}
		}
	}
	pd, err := s.openPeriod(ctx, p)
	if err != nil {
		return nil, err
	}
	defer pd.close()
	qp.From, qp.To = pd.from, pd.to
	if q.Needs("baseline_from") {
		qp.BaselineFrom = pd.from.Add(-time.Duration(baseline) * 24 * time.Hour)
	}
	a := &QuestionAnswer{Question: q.Name, Title: q.Title}
	if p.Principal != "" {
		pr, err := principal.Resolve(pd.ctx, pd.query, p.Principal, p.Account)
		if err != nil {
			return nil, err
		}
		if err := q.CheckPrincipal(string(pr.Kind), pr.How); err != nil {
			return nil, err
		}
		qp.Principal, a.Principal = pr.Value, pr.How
	}
	sqlText, args, err := q.Build(qp)
	if err != nil {
		return nil, err
	}
	a.SQL = questions.Inline(sqlText, args)
	partial := ""
	if q.Name == "inactive-identities" {
		partial = "identities active only before the lake's first event are reported inactive"
	}
	a.Window = windowOf(pd.snap, p, pd.from, pd.to, qp.BaselineFrom, partial)
	res, err := q.Answer(pd.ctx, pd.query, qp)
	if err != nil {
		return nil, err
	}
	a.QueryResult = resultOf(res, p.Shape, pd.lim.maxRows)
	return a, nil
}

func positive(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func windowOf(snap *lake.Snapshot, p *answerParams, from, to, baselineFrom time.Time, partial string) Window {
	c := snap.Coverage(p.Account, p.Region)
	w := Window{From: from, To: to, Coverage: c, Warnings: c.WindowWarnings(from, to, baselineFrom, partial)}
	if !baselineFrom.IsZero() {
		w.Baseline = &baselineFrom
	}
	if w.Warnings == nil {
		w.Warnings = []string{}
	}
	return w
}

// resultOf converts an answer's rows to the API's result, at most maxRows of them.
func resultOf(res *answer.Result, shape string, maxRows int) QueryResult {
	out := QueryResult{Rows: []any{}, Commit: res.Commit, Columns: columnsOf(res.Columns, res.Types)}
	sink := &rowSink{max: maxRows, shape: shape, emit: func(_ []any, v any) error {
		out.Rows = append(out.Rows, v)
		return nil
	}}
	sink.Begin(res.Columns, res.Types)
	for _, row := range res.Rows {
		if sink.Row(row) != nil {
			out.Truncated = true
			break
		}
	}
	out.RowCount = len(out.Rows)
	sc := res.Scan
	out.Stats = statsOf(&engine.Result{Elapsed: res.Elapsed, Stats: engine.Stats{FilesRead: sc.FilesRead, FilesTotal: sc.FilesTotal, BytesRead: sc.BytesRead, BytesTotal: sc.BytesTotal, RowsInFilesRead: sc.RowsInFilesRead}})
	return out
}

// PolicyAnswer is the least-privilege policy for what an identity called, as trailsql policy
// writes it, with what it writes on stderr as fields.
type PolicyAnswer struct {
	Principal   string           `json:"principal,omitempty"`
	Window      Window           `json:"window"`
	Policy      *authz.Document  `json:"policy"`
	Notes       []string         `json:"notes"`
	DeniedCalls int64            `json:"denied_calls_left_out"`
	Unmapped    []unmappedEvent  `json:"unmapped"`
	Actions     []policyActionJS `json:"actions"`
	Commit      int64            `json:"commit"`
}

type unmappedEvent struct {
	Source string `json:"event_source"`
	Name   string `json:"event_name"`
	Calls  int64  `json:"calls"`
	Reason string `json:"reason"`
}

// policyActionJS is an action of the policy and the events behind it (trailsql policy --explain).
type policyActionJS struct {
	Action    string   `json:"action"`
	Events    []string `json:"events"`
	Resources []string `json:"resources,omitempty"`
}

// policy answers GET /api/v1/policy?principal=X (or all=true), as trailsql policy does.
func (s *Server) policy(w http.ResponseWriter, r *http.Request) {
	p, err := readAnswerParams(r)
	if err == nil {
		var a *PolicyAnswer
		if a, err = s.policyOf(r.Context(), p, r.URL.Query().Get("all") == "true"); err == nil {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	s.writeError(w, r, err)
}

func (s *Server) policyOf(ctx context.Context, p *answerParams, all bool) (*PolicyAnswer, error) {
	if (p.Principal == "") == !all {
		return nil, &paramError{"principal", "", "give principal=X (a user, role or session name, an ARN, or an access key id), or all=true for every identity's calls"}
	}
	pd, err := s.openPeriod(ctx, p)
	if err != nil {
		return nil, err
	}
	defer pd.close()
	a := &PolicyAnswer{Window: windowOf(pd.snap, p, pd.from, pd.to, time.Time{}, "calls made only outside it are not in the policy"), Commit: pd.snap.Seq, Unmapped: []unmappedEvent{}, Actions: []policyActionJS{}}
	uq := usage.Query{From: pd.from, To: pd.to, Account: p.Account, Region: p.Region, IncludeDenied: p.IncludeDenied, Resources: p.Resources}
	if s.opt.Authz != "" {
		d, err := authz.Load(s.opt.Authz)
		if err != nil {
			return nil, err
		}
		uq.ProfileRoles = d.InstanceProfileRoles
	}
	if p.Principal != "" {
		pr, err := principal.Resolve(pd.ctx, pd.query, p.Principal, p.Account)
		if err != nil {
			return nil, err
		}
		uq.Principal, a.Principal = pr.Value, pr.How
	}
	u, err := usage.Collect(pd.ctx, pd.query, uq)
	if err != nil {
		return nil, err
	}
	doc, notes := policy.Build(u, policy.Options{Resources: p.Resources})
	a.Policy, a.Notes = doc, append(append([]string{}, u.Notes...), notes...)
	if !p.IncludeDenied {
		a.DeniedCalls = u.DeniedCalls
	}
	for _, ev := range u.Unmapped {
		a.Unmapped = append(a.Unmapped, unmappedEvent{ev.Source, ev.Name, ev.Calls, strings.TrimPrefix(ev.Mapping.Reason, "unknown: ")})
	}
	for _, au := range u.Actions {
		pa := policyActionJS{Action: au.Action.String()}
		for _, ev := range au.Events {
			pa.Events = append(pa.Events, ev.Source+":"+ev.Name)
		}
		if !au.Wildcard {
			pa.Resources = au.Resources
		}
		a.Actions = append(a.Actions, pa)
	}
	slices.SortFunc(a.Actions, func(x, y policyActionJS) int { return strings.Compare(x.Action, y.Action) })
	return a, nil
}

// UnusedAnswer is trailsql unused's report: for each user and role of the inventory, what its
// policies grant against what its calls used.
type UnusedAnswer struct {
	Window     Window          `json:"window"`
	DataEvents []string        `json:"data_events_logged"`
	Reports    []*authz.Report `json:"reports"`
	Commit     int64           `json:"commit"`
}

// unused answers GET /api/v1/unused[?principal=X], over the server's IAM inventory (--authz).
func (s *Server) unused(w http.ResponseWriter, r *http.Request) {
	p, err := readAnswerParams(r)
	if err == nil {
		var a *UnusedAnswer
		if a, err = s.unusedOf(r.Context(), p); err == nil {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	s.writeError(w, r, err)
}

func (s *Server) unusedOf(ctx context.Context, p *answerParams) (*UnusedAnswer, error) {
	if s.opt.Authz == "" {
		return nil, &APIError{Type: ErrorUnavailable, Message: "unused needs the IAM inventory: start the server with --authz FILE (the output of aws iam get-account-authorization-details)", Status: http.StatusNotImplemented}
	}
	d, err := authz.Load(s.opt.Authz)
	if err != nil {
		return nil, err
	}
	principals, err := principal.Inventory(d, p.Principal, p.Account)
	if err != nil {
		return nil, err
	}
	pd, err := s.openPeriod(ctx, p)
	if err != nil {
		return nil, err
	}
	defer pd.close()
	uq := usage.UnusedQuery{Query: usage.Query{From: pd.from, To: pd.to, Region: p.Region, IncludeDenied: p.IncludeDenied}, AssumeRecorded: p.AssumeRecorded}
	reports, logged, err := usage.Unused(pd.ctx, pd.query, d, principals, uq)
	if err != nil {
		return nil, err
	}
	if logged == nil {
		logged = []string{}
	}
	return &UnusedAnswer{Window: windowOf(pd.snap, p, pd.from, pd.to, time.Time{}, "actions used only outside it show as unused"), DataEvents: logged, Reports: reports, Commit: pd.snap.Seq}, nil
}

// query values of a list parameter: repeated, or comma-separated.
func listParam(v url.Values, name string) []string {
	var out []string
	for _, s := range v[name] {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}
