package authz

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/iam"
)

// Class is how Diff classifies an action of a principal.
type Class string

// The classes of Diff, in the order Report lists them.
const (
	// Used: granted, and CloudTrail shows the principal used it.
	Used Class = "used"
	// Unused: granted, CloudTrail would show a use, and shows none: a candidate for removal.
	Unused Class = "unused"
	// NotGranted: used, but no identity policy in the file grants it (a resource-based policy
	// may, a policy missing from the file may, or the calls failed).
	NotGranted Class = "not-granted"
	// Unknown: granted, not seen, and CloudTrail cannot show its use (data events not logged,
	// calls CloudTrail does not record, permission-only actions, unverified actions).
	Unknown Class = "unknown"
)

// Usage is what CloudTrail shows of a principal's use of one action; every field is optional and
// only copied into the report.
type Usage struct {
	Calls       int64
	First, Last time.Time
}

// Merge adds v to u: several events can map to one action (S3 HeadObject and GetObject both need
// s3:GetObject).
func (u Usage) Merge(v Usage) Usage {
	u.Calls += v.Calls
	if !v.First.IsZero() && (u.First.IsZero() || v.First.Before(u.First)) {
		u.First = v.First
	}
	if v.Last.After(u.Last) {
		u.Last = v.Last
	}
	return u
}

// DiffOptions say what the trail records beyond management events.
type DiffOptions struct {
	// DataEvents lists the IAM prefixes ("s3", "lambda", "dynamodb") whose data events the
	// trail logs, or "*" for all: their data-event actions count as recorded (unused when not
	// seen) instead of unknown. The command can fill it from the prefixes of the data events
	// present in the lake (eventcategory = 'Data').
	DataEvents []string
	// AssumeRecorded counts Unverified actions (no source says whether CloudTrail records them)
	// as recorded, so unused rather than unknown. Off by default: a wrong "unused" invites
	// removing a permission in use.
	AssumeRecorded bool
}

func (o DiffOptions) dataLogged(prefix string) bool {
	return slices.ContainsFunc(o.DataEvents, func(p string) bool { return p == "*" || strings.EqualFold(p, prefix) })
}

// Report is the used-versus-granted diff of one principal.
type Report struct {
	Principal ReportPrincipal `json:"principal"`
	Summary   Summary         `json:"summary"`
	// Actions lists every granted or used action once: used, unused, not granted, unknown; by
	// prefix and name within each class.
	Actions []Row `json:"actions"`
	// Problems are what the file lacks to decide the grants completely.
	Problems []Problem `json:"problems,omitempty"`
}

// ReportPrincipal identifies the principal of a Report.
type ReportPrincipal struct {
	Type    PrincipalType `json:"type"`
	Name    string        `json:"name"`
	ARN     string        `json:"arn"`
	Account string        `json:"account"`
	// Boundary is the ARN of the permissions boundary, "" when none.
	Boundary string `json:"boundary,omitempty"`
	// RoleLastUsed is IAM's last-used date of a role, when the file has it.
	RoleLastUsed time.Time `json:"role_last_used,omitzero"`
}

// Summary counts a Report's rows.
type Summary struct {
	// Granted counts granted actions (Used + Unused + Unknown).
	Granted    int `json:"granted"`
	Used       int `json:"used"`
	Unused     int `json:"unused"`
	NotGranted int `json:"not_granted"`
	Unknown    int `json:"unknown"`
	// UnknownBy splits Unknown by why CloudTrail cannot show the use.
	UnknownBy map[Visibility]int `json:"unknown_by,omitempty"`
	// Denied counts actions allowed and removed by an unconditional Deny; OutsideBoundary those
	// allowed and cut by the permissions boundary. Neither is in Granted.
	Denied          int `json:"denied"`
	OutsideBoundary int `json:"outside_boundary"`
}

// Row is one action of a Report.
type Row struct {
	Action string `json:"action"`
	Class  Class  `json:"class"`
	// AccessLevel is the reference's (List, Read, Write, Permissions management, Tagging).
	AccessLevel string `json:"access_level,omitempty"`
	// CloudTrail says whether CloudTrail can show a use of the action.
	CloudTrail Visibility `json:"cloudtrail"`
	// Reason explains the class for people.
	Reason string `json:"reason"`
	// Calls, First and Last come from the Usage given to Diff.
	Calls int64     `json:"calls,omitempty"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Narrowed is set when every statement granting the action is limited by resource or
	// condition.
	Narrowed bool `json:"narrowed,omitempty"`
	// GrantedBy are the Allow statements naming the action (for not-granted rows: those a Deny
	// or the boundary overrode).
	GrantedBy []*StatementRef `json:"granted_by,omitempty"`
	// PartialDeny are Deny statements naming the action but limited by resource or condition.
	PartialDeny []*StatementRef `json:"partial_deny,omitempty"`
	// DeniedBy are the unconditional Deny statements that remove a not-granted action.
	DeniedBy []*StatementRef `json:"denied_by,omitempty"`

	action iam.Action
	pos    int // position in the reference, for sorting
}

// IAMAction returns the row's action.
func (r *Row) IAMAction() iam.Action { return r.action }

// Diff classifies every action g grants and every action used shows (actions mapped from the
// principal's CloudTrail events, see iam.Map) into used, unused, not granted and unknown.
func Diff(g *Grants, used map[iam.Action]Usage, opt DiffOptions) *Report {
	p := g.Principal
	rep := &Report{
		Principal: ReportPrincipal{Type: p.Type, Name: p.Name, ARN: p.ARN, Account: p.Account},
		Problems:  slices.Clone(g.Problems),
	}
	if p.Boundary != nil {
		rep.Principal.Boundary = p.Boundary.ARN
	}
	if p.RoleLastUsed != nil {
		rep.Principal.RoleLastUsed = p.RoleLastUsed.Date
	}
	s := &rep.Summary
	s.Denied, s.OutsideBoundary = len(g.Denied), len(g.OutsideBoundary)
	u := universe()

	row := func(a iam.Action, c Class) Row {
		vis, why := VisibilityOf(a)
		r := Row{Class: c, CloudTrail: vis, Reason: why, action: a, pos: len(u.all)}
		if i, ok := u.pos[a]; ok {
			r.pos, r.Action, r.AccessLevel = i, u.names[i], u.levels[i]
		} else {
			r.Action = a.String()
		}
		if us, ok := used[a]; ok {
			r.Calls, r.First, r.Last = us.Calls, us.First, us.Last
		}
		return r
	}
	// Rows are built in one slice, in g.Allowed's reference order, and then grouped by class
	// stably; reasons are shared strings, built once per kind.
	rows := make([]Row, 0, len(g.Allowed)+len(used))
	reasons := map[[2]string]string{}
	reason := func(head, tail string) string {
		k := [2]string{head, tail}
		s, ok := reasons[k]
		if !ok {
			s = head + tail
			reasons[k] = s
		}
		return s
	}
	for i := range g.Allowed {
		gr := &g.Allowed[i]
		var r Row
		if _, ok := used[gr.Action]; ok {
			r = row(gr.Action, Used)
			r.Reason = "granted and used"
			s.Used++
		} else {
			r = row(gr.Action, Unknown)
			switch {
			case r.CloudTrail == Management:
				r.Class, r.Reason = Unused, reason("granted, not used; ", r.Reason)
			case r.CloudTrail == DataEvent && opt.dataLogged(gr.Action.Prefix):
				r.Class, r.Reason = Unused, reason("granted, not used; data events are logged for ", gr.Action.Prefix)
			case r.CloudTrail == Unverified && opt.AssumeRecorded:
				r.Class, r.Reason = Unused, reason("granted, not used; assumed recorded: ", r.Reason)
			default:
				r.Reason = reason("granted; CloudTrail cannot show its use: ", r.Reason)
			}
			if r.Class == Unused {
				s.Unused++
			} else {
				s.Unknown++
				if s.UnknownBy == nil {
					s.UnknownBy = map[Visibility]int{}
				}
				s.UnknownBy[r.CloudTrail]++
			}
		}
		r.Narrowed, r.GrantedBy, r.PartialDeny = gr.Narrowed, gr.By, gr.PartialDeny
		rows = append(rows, r)
	}
	s.Granted = len(g.Allowed)

	missing := false
	for _, pr := range g.Problems {
		switch pr.Kind {
		case MissingPolicy, MissingVersion, MissingGroup, Truncated:
			missing = true
		}
	}
	for a := range used {
		if _, ok := g.allowed[a]; ok {
			continue
		}
		r := row(a, NotGranted)
		switch {
		case hasKey(g.denied, a):
			gr := g.Denied[g.denied[a]]
			r.GrantedBy, r.DeniedBy = gr.By, gr.DeniedBy
			r.Reason = "allowed, but an unconditional Deny removes it (" + refList(gr.DeniedBy) + "): calls under these policies fail, so the calls failed or the policies changed since"
		case hasKey(g.outside, a):
			gr := g.OutsideBoundary[g.outside[a]]
			r.GrantedBy = gr.By
			r.Reason = "allowed by identity policies, but outside the permissions boundary " + g.Boundary.ARN + ": calls under it fail, so the calls failed or the boundary changed since"
		default:
			r.Reason = "no identity policy in the file grants it: a resource-based policy (bucket, key, queue policy) may, or the calls failed"
			if missing {
				r.Reason += ", or a policy the file lacks grants it (see problems)"
			}
		}
		rows = append(rows, r)
		s.NotGranted++
	}
	// Not-granted rows in reference order (prefix, then name); actions the reference lacks,
	// which callers should not pass, last.
	ng := rows[len(g.Allowed):]
	slices.SortFunc(ng, func(a, b Row) int {
		if c := a.pos - b.pos; c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	rep.Actions = make([]Row, 0, len(rows))
	for _, c := range []Class{Used, Unused, NotGranted, Unknown} {
		for i := range rows {
			if rows[i].Class == c {
				rep.Actions = append(rep.Actions, rows[i])
			}
		}
	}
	return rep
}

func hasKey(m map[iam.Action]int, a iam.Action) bool {
	_, ok := m[a]
	return ok
}

func refList(rs []*StatementRef) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	if len(parts) > 3 {
		parts = append(parts[:3], "and "+strconv.Itoa(len(rs)-3)+" more")
	}
	return strings.Join(parts, "; ")
}

// ServiceCount counts a report's actions of one service (IAM prefix) by class.
type ServiceCount struct {
	Service string
	// Granted counts the granted actions (used, unused and unknown).
	Granted, Used, Unused, NotGranted, Unknown int
}

// ByService counts the report's actions per service, services in order.
func (r *Report) ByService() []ServiceCount {
	by := map[string]*ServiceCount{}
	var out []ServiceCount
	for _, a := range r.Actions {
		prefix, _, _ := strings.Cut(a.Action, ":")
		c := by[prefix]
		if c == nil {
			c = &ServiceCount{Service: prefix}
			by[prefix] = c
		}
		switch a.Class {
		case Used:
			c.Used++
		case Unused:
			c.Unused++
		case NotGranted:
			c.NotGranted++
		case Unknown:
			c.Unknown++
		}
	}
	for _, c := range by {
		c.Granted = c.Used + c.Unused + c.Unknown
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}
