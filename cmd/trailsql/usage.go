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

// deniedPredicate recognises calls refused for lack of permission; access-denied.sql uses the same
// condition (TestDeniedPredicateShared keeps them equal).
const deniedPredicate = `(errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation%'
       OR errorcode IN ('AuthorizationError', 'AuthorizationErrorException', 'Forbidden', 'ForbiddenException', 'NotAuthorized', 'UnauthorizedAccess', 'UnauthorizedException'))`

// usageQuery says whose calls, in which window, count as use.
type usageQuery struct {
	Principal       string // a value for questions.PrincipalPredicate; "" for every identity
	From, To        time.Time
	Account, Region string
	IncludeDenied   bool // count calls refused for lack of permission as uses
	Resources       bool // collect the resource ARNs of each call
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
}

// usage is what a principal used in a window, mapped to IAM actions.
type usage struct {
	Events  []*eventUse
	Actions map[iam.Action]*actionUse
	// Unmapped are events that could not be mapped to documented actions; NoPermission events
	// need none (sts:GetCallerIdentity, sign-in, AWS's own events).
	Unmapped, NoPermission []*eventUse
	DeniedCalls            int64 // refused calls left out
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
		u.mapActions()
	}
	return out, nil
}

func newUsage() *usage { return &usage{Actions: map[iam.Action]*actionUse{}} }

// mapActions files each event under the IAM actions it needed, or as needing none, or unmapped.
func (u *usage) mapActions() {
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
	}
	for _, au := range u.Actions {
		sort.Strings(au.Resources)
		au.Resources = slices.Compact(au.Resources)
	}
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
