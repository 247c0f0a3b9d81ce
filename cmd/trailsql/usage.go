package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/questions"
)

// deniedPredicate recognises calls refused for lack of permission, as access-denied does.
const deniedPredicate = questions.DeniedPredicate

// usageQuery says whose calls, in which window, count as use.
type usageQuery struct {
	Principal       string // a value for questions.PrincipalPredicate; "" for every identity
	From, To        time.Time
	Account, Region string
	IncludeDenied   bool // count calls refused for lack of permission as uses
	Resources       bool // collect the resource ARNs of each call
	// ProfileRoles names the roles of an EC2 instance profile (an ARN, or a name in an
	// account), from an IAM inventory; nil or none found: the role cannot be named.
	ProfileRoles func(profile, account string) []string
}

// eventUse is one kind of event (eventSource, eventName, eventType) of the principal.
type eventUse struct {
	Source, Name, Type string
	Calls, Errors      int64 // errors other than denials
	Denied             int64 // calls refused (excluded unless IncludeDenied)
	First, Last        string
	WithoutResources   int64 // calls that name no resource
	Resources          []string
	Mapping            iam.Mapping
	Passes             []passUse // roles the calls passed to a service (iam:PassRole)
}

// passUse is a role some calls of an event passed: named by the request, or through an
// instance profile.
type passUse struct {
	iam.PassedRole
	Account string // the account the call was made in
	Calls   int64
}

// actionUse is one IAM action the principal needed, and the events behind it.
type actionUse struct {
	Action    iam.Action
	Calls     int64
	First     string
	Last      string
	Events    []*eventUse
	Wildcard  bool // some call named no resource: the action needs "*"
	Resources []string
	// PassedTo holds, for iam:PassRole, the role ARNs passed to each service (a role/* of an
	// account when an instance profile's role could not be named).
	PassedTo map[string][]string
}

// usage is what a principal used in a window, mapped to IAM actions.
type usage struct {
	Events  []*eventUse
	Actions map[iam.Action]*actionUse
	// Unmapped are events that could not be mapped to documented actions; NoPermission events
	// need none (sts:GetCallerIdentity, sign-in, AWS's own events).
	Unmapped, NoPermission []*eventUse
	DeniedCalls            int64 // refused calls left out
	// Notes say where the policy is wider than the calls because the lake cannot say more.
	Notes []string
}

// identityKey groups calls by identity: a user's ARN, or a role's ARN for all its sessions.
const identityKey = "coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, '')"

// useKey is one kind of event of one identity.
type useKey struct{ who, source, name, typ string }

// collectUsage reads the principal's events from the lake and maps them to IAM actions.
func collectUsage(ctx context.Context, e *engine.Engine, q usageQuery) (*usage, error) {
	us, err := collectUsages(ctx, e, q, false)
	if err != nil || us[""] != nil {
		return us[""], err
	}
	return newUsage(), nil
}

// collectUsages is collectUsage for every identity at once, by identityKey (one scan of the lake
// however many identities), or, without byIdentity, for all the calls together under "".
func collectUsages(ctx context.Context, e *engine.Engine, q usageQuery, byIdentity bool) (map[string]*usage, error) {
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
	res, err := e.Query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''),
       count(*), count_if(coalesce(`+questions.FailedPredicate+`, false) AND NOT coalesce(`+deniedPredicate+`, false)), count_if(coalesce(`+deniedPredicate+`, false)),
       min(eventtime), max(eventtime), count_if(resources IS NULL OR cardinality(resources) = 0)
FROM cloudtrail_logs
WHERE `+cond+`
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the principal's events: %w", err)
	}
	out := map[string]*usage{}
	byKey := map[useKey]*eventUse{}
	for _, r := range res.Rows {
		who := str(r[0])
		u := out[who]
		if u == nil {
			u = newUsage()
			out[who] = u
		}
		ev := &eventUse{Source: str(r[1]), Name: str(r[2]), Type: str(r[3]), Calls: num(r[4]), Errors: num(r[5]), Denied: num(r[6]),
			First: str(r[7]), Last: str(r[8]), WithoutResources: num(r[9])}
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
		cond += "\n  AND NOT coalesce(" + deniedPredicate + ", false)"
	}
	if err := refinePartiQL(ctx, e, key, cond, args, byKey); err != nil {
		return nil, err
	}
	if err := collectPasses(ctx, e, key, cond, args, byKey); err != nil {
		return nil, err
	}
	if q.Resources {
		res, err := e.Query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), r.arn
FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r)
WHERE `+cond+` AND r.arn IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5`, args...)
		if err != nil {
			return nil, fmt.Errorf("read the resources of the principal's events: %w", err)
		}
		for _, r := range res.Rows {
			if ev := byKey[useKey{str(r[0]), str(r[1]), str(r[2]), str(r[3])}]; ev != nil {
				ev.Resources = append(ev.Resources, str(r[4]))
			}
		}
	}
	for _, u := range out {
		u.mapActions(q.ProfileRoles)
	}
	return out, nil
}

func newUsage() *usage { return &usage{Actions: map[iam.Action]*actionUse{}} }

// mapActions files each event under the IAM actions it needed, or as needing none, or unmapped;
// the roles its calls passed go under iam:PassRole.
func (u *usage) mapActions(profileRoles func(profile, account string) []string) {
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
				au = &actionUse{Action: a, First: ev.First, Last: ev.Last}
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
func (u *usage) addPasses(ev *eventUse, profileRoles func(profile, account string) []string) {
	if len(ev.Passes) == 0 {
		return
	}
	au := u.Actions[iam.PassRole]
	if au == nil {
		au = &actionUse{Action: iam.PassRole, First: ev.First, Last: ev.Last, PassedTo: map[string][]string{}}
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
		why := "no inventory given (--authz FILE)"
		if profileRoles != nil {
			why = "the inventory does not hold it"
		}
		u.Notes = append(u.Notes, fmt.Sprintf("%s:%s passed instance profile %s; CloudTrail does not name its role and %s, so iam:PassRole allows any role of account %s to %s",
			ev.Source, ev.Name, p.Profile, why, account, p.Service))
	}
}

// collectPasses reads the requests of the calls that can pass a role (Lambda's CreateFunction,
// EC2's RunInstances with an instance profile, …) for the roles they passed.
func collectPasses(ctx context.Context, e *engine.Engine, key, cond string, args []any, byKey map[useKey]*eventUse) error {
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
		for _, v := range sortedKeys(set) {
			marks = append(marks, "?")
			vals = append(vals, v)
		}
		return "(" + strings.Join(marks, ", ") + ")", vals
	}
	srcIn, srcArgs := in(sources)
	nameIn, nameArgs := in(names)
	all := append(append(append([]any{}, args...), srcArgs...), nameArgs...)
	res, err := e.Query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), coalesce(recipientaccountid, account, ''), requestparameters, count(*)
FROM cloudtrail_logs
WHERE `+cond+` AND eventsource IN `+srcIn+` AND eventname IN `+nameIn+` AND requestparameters IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6`, all...)
	if err != nil {
		return fmt.Errorf("read the roles passed by the principal's calls: %w", err)
	}
	for _, r := range res.Rows {
		ev := byKey[useKey{str(r[0]), str(r[1]), str(r[2]), str(r[3])}]
		if ev == nil {
			continue
		}
		for _, a := range ev.Mapping.Actions {
			for _, p := range iam.PassedRoles(a, str(r[5]), str(r[4])) {
				ev.addPass(passUse{PassedRole: p, Account: str(r[4]), Calls: num(r[6])})
			}
		}
	}
	return nil
}

// addPass adds calls passing a role, merging with the same role passed before.
func (ev *eventUse) addPass(p passUse) {
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
func refinePartiQL(ctx context.Context, e *engine.Engine, key, cond string, args []any, byKey map[useKey]*eventUse) error {
	var evs []*eventUse
	for _, ev := range byKey {
		if iam.SourcePrefix(ev.Source) == "dynamodb" && (ev.Name == "ExecuteStatement" || ev.Name == "BatchExecuteStatement" || ev.Name == "ExecuteTransaction") {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	res, err := e.Query(ctx, `SELECT `+key+`, eventsource, eventname, coalesce(eventtype, ''), requestparameters
FROM cloudtrail_logs
WHERE `+cond+` AND eventsource = 'dynamodb.amazonaws.com' AND eventname IN ('ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction')
GROUP BY 1, 2, 3, 4, 5`, args...)
	if err != nil {
		return fmt.Errorf("read DynamoDB PartiQL statements: %w", err)
	}
	found := map[*eventUse]map[iam.Action]bool{}
	unknown := map[*eventUse]bool{}
	for _, r := range res.Rows {
		ev := byKey[useKey{str(r[0]), str(r[1]), str(r[2]), str(r[3])}]
		if ev == nil {
			continue
		}
		stmts := partiQLStatements(str(r[4]))
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

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case uint64:
		return int64(n)
	case float64:
		return int64(n)
	case *big.Int:
		return n.Int64()
	}
	return 0
}
