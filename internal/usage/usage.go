// Package usage answers "what did this identity call, and which IAM actions did that need?" from
// the lake: the calls of one identity, or of every identity at once, in a window, mapped to IAM
// actions (package iam), with the roles the calls passed to services (iam:PassRole, which
// CloudTrail never records as such), DynamoDB PartiQL statements mapped by their verbs, and the
// calls refused for lack of permission counted apart (questions.DeniedPredicate).
//
// Its statements are Athena (Trino) SQL run through an answer.QueryFunc, so the same usage is read
// from the local engine or from Amazon Athena. Package policy turns a Usage into a least-privilege
// policy; authz.Unused compares it with what an IAM inventory grants.
package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/questions"
)

// Query says whose calls, in which window, count as use.
type Query struct {
	Principal       string // a value for questions.PrincipalPredicate; "" for every identity
	From, To        time.Time
	Account, Region string
	IncludeDenied   bool // count calls refused for lack of permission as uses
	Resources       bool // collect the resource ARNs of each call
	// ProfileRoles names the roles of an EC2 instance profile (an ARN, or a name in an
	// account), from an IAM inventory; nil or none found: the role cannot be named.
	ProfileRoles func(profile, account string) []string
}

// Event is one kind of event (eventSource, eventName, eventType) of the principal.
type Event struct {
	Source, Name, Type string
	Calls, Errors      int64 // errors other than denials
	Denied             int64 // calls refused (excluded unless IncludeDenied)
	First, Last        string
	WithoutResources   int64 // calls that name no resource
	Resources          []string
	Mapping            iam.Mapping
	Passes             []Pass // roles the calls passed to a service (iam:PassRole)
}

// Pass is a role some calls of an event passed: named by the request, or through an instance
// profile.
type Pass struct {
	iam.PassedRole
	Account string // the account the call was made in
	Calls   int64
}

// Action is one IAM action the principal needed, and the events behind it.
type Action struct {
	Action    iam.Action
	Calls     int64
	First     string
	Last      string
	Events    []*Event
	Wildcard  bool // some call named no resource: the action needs "*"
	Resources []string
	// PassedTo holds, for iam:PassRole, the role ARNs passed to each service (a role/* of an
	// account when an instance profile's role could not be named).
	PassedTo map[string][]string
}

// Usage is what a principal used in a window, mapped to IAM actions.
type Usage struct {
	Events  []*Event
	Actions map[iam.Action]*Action
	// Unmapped are events that could not be mapped to documented actions; NoPermission events
	// need none (sts:GetCallerIdentity, sign-in, AWS's own events).
	Unmapped, NoPermission []*Event
	DeniedCalls            int64 // refused calls left out
	// Notes say where the policy is wider than the calls because the lake cannot say more.
	Notes []string
}

// NoInventory is how a note says that no IAM inventory was given to name the role of an
// instance profile; a front end may add how to give one.
const NoInventory = "no inventory given"

// identityKey groups calls by identity: a user's ARN, or a role's ARN for all its sessions.
const identityKey = "coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, '')"

// useKey is one kind of event of one identity.
type useKey struct{ who, source, name, typ string }

// Collect reads the principal's events from the lake and maps them to IAM actions.
func Collect(ctx context.Context, query answer.QueryFunc, q Query) (*Usage, error) {
	us, err := collect(ctx, query, q, false)
	if err != nil || us[""] != nil {
		return us[""], err
	}
	return New(), nil
}

// ByIdentity is the usage of every identity of a window, by identity: a user's ARN, or a role's
// ARN for all its sessions (other identities by their own ARN, "" for calls without one).
type ByIdentity map[string]*Usage

// CollectByIdentity is Collect for every identity at once (q.Principal is ignored): one scan of
// the lake however many identities there are.
func CollectByIdentity(ctx context.Context, query answer.QueryFunc, q Query) (ByIdentity, error) {
	q.Principal = ""
	return collect(ctx, query, q, true)
}

// Used returns the actions the identity with that ARN used, as authz.Diff takes them: an
// authz.UsedFunc. None for an identity without calls.
func (b ByIdentity) Used(arn string) map[iam.Action]authz.Usage {
	if u := b[arn]; u != nil {
		return u.Used()
	}
	return map[iam.Action]authz.Usage{}
}

// Used returns the actions used, with their calls and first and last use, as authz.Diff takes
// them.
func (u *Usage) Used() map[iam.Action]authz.Usage {
	used := make(map[iam.Action]authz.Usage, len(u.Actions))
	for a, au := range u.Actions {
		used[a] = used[a].Merge(authz.Usage{Calls: au.Calls, First: eventTime(au.First), Last: eventTime(au.Last)})
	}
	return used
}

func eventTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// DataEventPrefixes returns the IAM prefixes of the services whose data events the lake holds in
// the window (eventcategory 'Data'): what authz.DiffOptions.DataEvents counts as logged.
func DataEventPrefixes(ctx context.Context, query answer.QueryFunc, from, to time.Time) ([]string, error) {
	res, err := query(ctx, `SELECT DISTINCT eventsource FROM cloudtrail_logs WHERE eventcategory = 'Data' AND eventtime >= ? AND eventtime < ?`, questions.TimeText(from), questions.TimeText(to))
	if err != nil {
		return nil, fmt.Errorf("read the services of the data events: %w", err)
	}
	var out []string
	for _, s := range res.Strings() {
		out = append(out, iam.SourcePrefix(s))
	}
	return out, nil
}

// collect reads the usage of every identity by identityKey, or, without byIdentity, of all the
// calls together under "".
func collect(ctx context.Context, query answer.QueryFunc, q Query, byIdentity bool) (map[string]*Usage, error) {
	key := "''"
	if byIdentity {
		key = identityKey
	}
	where := []string{"eventtime >= ?", "eventtime < ?"}
	args := []any{questions.TimeText(q.From), questions.TimeText(q.To)}
	if q.Principal != "" {
		where = append(where, questions.PrincipalPredicate)
		args = append(args, q.Principal, q.Principal, q.Principal)
	}
	if q.Account != "" {
		where = append(where, "account = ?")
		args = append(args, q.Account)
	}
	if q.Region != "" {
		where = append(where, "region = ?")
		args = append(args, q.Region)
	}
	cond := strings.Join(where, "\n  AND ")
	res, err := query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''),
       count(*), count_if(coalesce(`+questions.FailedPredicate+`, false) AND NOT coalesce(`+questions.DeniedPredicate+`, false)), count_if(coalesce(`+questions.DeniedPredicate+`, false)),
       min(eventtime), max(eventtime), count_if(resources IS NULL OR cardinality(resources) = 0)
FROM cloudtrail_logs
WHERE `+cond+`
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the principal's events: %w", err)
	}
	out := map[string]*Usage{}
	byKey := map[useKey]*Event{}
	for _, r := range res.Rows {
		who := answer.String(r[0])
		u := out[who]
		if u == nil {
			u = New()
			out[who] = u
		}
		ev := &Event{Source: answer.String(r[1]), Name: answer.String(r[2]), Type: answer.String(r[3]), Calls: answer.Int(r[4]), Errors: answer.Int(r[5]), Denied: answer.Int(r[6]),
			First: answer.String(r[7]), Last: answer.String(r[8]), WithoutResources: answer.Int(r[9])}
		u.DeniedCalls += ev.Denied
		if !q.IncludeDenied {
			ev.Calls -= ev.Denied
			if ev.Calls == 0 {
				continue
			}
		}
		ev.Mapping = iam.Map(ev.Source, ev.Name, ev.Type)
		u.Events = append(u.Events, ev)
		byKey[useKey{who, ev.Source, ev.Name, ev.Type}] = ev
	}
	if !q.IncludeDenied {
		cond += "\n  AND NOT coalesce(" + questions.DeniedPredicate + ", false)"
	}
	if err := refinePartiQL(ctx, query, key, cond, args, byKey); err != nil {
		return nil, err
	}
	if err := collectPasses(ctx, query, key, cond, args, byKey); err != nil {
		return nil, err
	}
	if q.Resources {
		res, err := query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), r.arn
FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r)
WHERE `+cond+` AND r.arn IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5`, args...)
		if err != nil {
			return nil, fmt.Errorf("read the resources of the principal's events: %w", err)
		}
		for _, r := range res.Rows {
			if ev := byKey[useKey{answer.String(r[0]), answer.String(r[1]), answer.String(r[2]), answer.String(r[3])}]; ev != nil {
				ev.Resources = append(ev.Resources, answer.String(r[4]))
			}
		}
	}
	for _, u := range out {
		u.mapActions(q.ProfileRoles)
	}
	return out, nil
}

// New returns an empty Usage: no call.
func New() *Usage { return &Usage{Actions: map[iam.Action]*Action{}} }

// mapActions files each event under the IAM actions it needed, or as needing none, or unmapped;
// the roles its calls passed go under iam:PassRole.
func (u *Usage) mapActions(profileRoles func(profile, account string) []string) {
	for _, ev := range u.Events {
		switch {
		case ev.Mapping.NoPermission:
			u.NoPermission = append(u.NoPermission, ev)
			continue
		case len(ev.Mapping.Actions) == 0:
			u.Unmapped = append(u.Unmapped, ev)
			continue
		}
		for _, a := range ev.Mapping.Actions {
			au := u.Actions[a]
			if au == nil {
				au = &Action{Action: a, First: ev.First, Last: ev.Last}
				u.Actions[a] = au
			}
			au.Calls += ev.Calls
			au.Events = append(au.Events, ev)
			au.First, au.Last = min(au.First, ev.First), max(au.Last, ev.Last)
			if ev.WithoutResources > 0 || len(ev.Resources) == 0 {
				au.Wildcard = true
			}
			au.Resources = append(au.Resources, ev.Resources...)
		}
		u.addPasses(ev, profileRoles)
	}
	for _, au := range u.Actions {
		sort.Strings(au.Resources)
		au.Resources = slices.Compact(au.Resources)
		for s, roles := range au.PassedTo {
			sort.Strings(roles)
			au.PassedTo[s] = slices.Compact(roles)
		}
	}
	sort.Strings(u.Notes)
	u.Notes = slices.Compact(u.Notes)
}

// addPasses files the roles an event's calls passed under iam:PassRole. A role passed through
// an instance profile is named from the inventory; failing that the policy allows passing any
// role of the account to the service, and a note says so: CloudTrail records the profile, not
// its role.
func (u *Usage) addPasses(ev *Event, profileRoles func(profile, account string) []string) {
	if len(ev.Passes) == 0 {
		return
	}
	au := u.Actions[iam.PassRole]
	if au == nil {
		au = &Action{Action: iam.PassRole, First: ev.First, Last: ev.Last, PassedTo: map[string][]string{}}
		u.Actions[iam.PassRole] = au
	}
	au.Events = append(au.Events, ev)
	au.First, au.Last = min(au.First, ev.First), max(au.Last, ev.Last)
	if au.PassedTo == nil {
		au.PassedTo = map[string][]string{}
	}
	for _, p := range ev.Passes {
		au.Calls += p.Calls
		if p.Role != "" {
			au.PassedTo[p.Service] = append(au.PassedTo[p.Service], p.Role)
			continue
		}
		account := p.Account
		if parts := strings.SplitN(p.Profile, ":", 6); len(parts) == 6 && strings.HasPrefix(p.Profile, "arn:") {
			account = parts[4]
		}
		var roles []string
		if profileRoles != nil {
			roles = profileRoles(p.Profile, account)
		}
		if len(roles) > 0 {
			au.PassedTo[p.Service] = append(au.PassedTo[p.Service], roles...)
			continue
		}
		au.PassedTo[p.Service] = append(au.PassedTo[p.Service], "arn:aws:iam::"+account+":role/*")
		why := NoInventory
		if profileRoles != nil {
			why = "the inventory does not hold it"
		}
		u.Notes = append(u.Notes, fmt.Sprintf("%s:%s passed instance profile %s; CloudTrail does not name its role and %s, so iam:PassRole allows any role of account %s to %s",
			ev.Source, ev.Name, p.Profile, why, account, p.Service))
	}
}

// collectPasses reads the requests of the calls that can pass a role (Lambda's CreateFunction,
// EC2's RunInstances with an instance profile, …) for the roles they passed.
func collectPasses(ctx context.Context, query answer.QueryFunc, key, cond string, args []any, byKey map[useKey]*Event) error {
	sources, names := map[string]bool{}, map[string]bool{}
	for _, ev := range byKey {
		for _, a := range ev.Mapping.Actions {
			if _, ok := iam.PassesRole(a); ok {
				sources[ev.Source], names[ev.Name] = true, true
			}
		}
	}
	if len(sources) == 0 {
		return nil
	}
	in := func(set map[string]bool) (string, []any) {
		var marks []string
		var vals []any
		for _, v := range slices.Sorted(maps.Keys(set)) {
			marks = append(marks, "?")
			vals = append(vals, v)
		}
		return "(" + strings.Join(marks, ", ") + ")", vals
	}
	srcIn, srcArgs := in(sources)
	nameIn, nameArgs := in(names)
	all := append(append(append([]any{}, args...), srcArgs...), nameArgs...)
	res, err := query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), coalesce(recipientaccountid, account, ''), requestparameters, count(*)
FROM cloudtrail_logs
WHERE `+cond+` AND eventsource IN `+srcIn+` AND eventname IN `+nameIn+` AND requestparameters IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6`, all...)
	if err != nil {
		return fmt.Errorf("read the roles passed by the principal's calls: %w", err)
	}
	for _, r := range res.Rows {
		ev := byKey[useKey{answer.String(r[0]), answer.String(r[1]), answer.String(r[2]), answer.String(r[3])}]
		if ev == nil {
			continue
		}
		for _, a := range ev.Mapping.Actions {
			for _, p := range iam.PassedRoles(a, answer.String(r[5]), answer.String(r[4])) {
				ev.addPass(Pass{PassedRole: p, Account: answer.String(r[4]), Calls: answer.Int(r[6])})
			}
		}
	}
	return nil
}

// addPass adds calls passing a role, merging with the same role passed before.
func (ev *Event) addPass(p Pass) {
	for i := range ev.Passes {
		q := &ev.Passes[i]
		if q.Service == p.Service && q.Role == p.Role && q.Profile == p.Profile && q.Account == p.Account && q.Param == p.Param {
			q.Calls += p.Calls
			return
		}
	}
	ev.Passes = append(ev.Passes, p)
}

// refinePartiQL replaces the "every PartiQL action" mapping of DynamoDB's statement calls by the
// actions their statements' verbs need, read from requestParameters.
func refinePartiQL(ctx context.Context, query answer.QueryFunc, key, cond string, args []any, byKey map[useKey]*Event) error {
	var evs []*Event
	for _, ev := range byKey {
		if iam.SourcePrefix(ev.Source) == "dynamodb" && (ev.Name == "ExecuteStatement" || ev.Name == "BatchExecuteStatement" || ev.Name == "ExecuteTransaction") {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	res, err := query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), requestparameters
FROM cloudtrail_logs
WHERE `+cond+` AND eventsource = 'dynamodb.amazonaws.com' AND eventname IN ('ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction')
GROUP BY 1, 2, 3, 4, 5`, args...)
	if err != nil {
		return fmt.Errorf("read DynamoDB PartiQL statements: %w", err)
	}
	found := map[*Event]map[iam.Action]bool{}
	unknown := map[*Event]bool{}
	for _, r := range res.Rows {
		ev := byKey[useKey{answer.String(r[0]), answer.String(r[1]), answer.String(r[2]), answer.String(r[3])}]
		if ev == nil {
			continue
		}
		stmts := partiQLStatements(answer.String(r[4]))
		if len(stmts) == 0 {
			unknown[ev] = true
			continue
		}
		for _, s := range stmts {
			a, ok := iam.PartiQLAction(s)
			if !ok {
				unknown[ev] = true
				continue
			}
			if found[ev] == nil {
				found[ev] = map[iam.Action]bool{}
			}
			found[ev][a] = true
		}
	}
	for ev, set := range found {
		if unknown[ev] {
			continue // some statements unreadable: keep every PartiQL action
		}
		var as []iam.Action
		for a := range set {
			as = append(as, a)
		}
		sort.Slice(as, func(i, j int) bool { return as[i].String() < as[j].String() })
		ev.Mapping.Actions = as
		ev.Mapping.Reason = "DynamoDB " + ev.Name + ": the verbs of its PartiQL statements"
	}
	return nil
}

// partiQLStatements returns the statements of an ExecuteStatement, BatchExecuteStatement or
// ExecuteTransaction request.
func partiQLStatements(requestParameters string) []string {
	var rp struct {
		Statement          string
		Statements         []struct{ Statement string }
		TransactStatements []struct{ Statement string }
	}
	if json.Unmarshal([]byte(requestParameters), &rp) != nil {
		return nil
	}
	var out []string
	if rp.Statement != "" {
		out = append(out, rp.Statement)
	}
	for _, s := range append(rp.Statements, rp.TransactStatements...) {
		if s.Statement == "" {
			return nil
		}
		out = append(out, s.Statement)
	}
	return out
}
