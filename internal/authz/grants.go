package authz

import (
	"strconv"
	"strings"

	"github.com/trailsql/trailsql/internal/iam"
)

// Source says how a policy applies to a principal.
type Source string

// The ways a policy applies.
const (
	SourceInline       Source = "inline"        // the principal's own inline policy
	SourceManaged      Source = "managed"       // a managed policy attached to the principal
	SourceGroupInline  Source = "group-inline"  // an inline policy of one of a user's groups
	SourceGroupManaged Source = "group-managed" // a managed policy attached to one of a user's groups
	SourceBoundary     Source = "boundary"      // the principal's permissions boundary
)

// StatementRef names one statement of one policy of a principal, to explain a grant or a deny.
type StatementRef struct {
	// Policy is the inline policy's name or the managed policy's name.
	Policy string `json:"policy"`
	// ARN is the managed policy's ARN; "" for inline policies.
	ARN    string `json:"arn,omitempty"`
	Source Source `json:"source"`
	// Group is the group the policy comes through, for group sources.
	Group string `json:"group,omitempty"`
	// Statement is the statement's position in the policy's Statement list, from 0.
	Statement int    `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Effect    Effect `json:"effect"`
	// Resources, NotResources and Condition are the statement's, when it does not apply to
	// every resource unconditionally.
	Resources    []string `json:"resources,omitempty"`
	NotResources []string `json:"not_resources,omitempty"`
	Condition    string   `json:"condition,omitempty"`

	st *Statement
}

// Narrowed reports whether the statement is limited by resource or condition.
func (r *StatementRef) Narrowed() bool { return !r.st.Unconditional() }

// String describes the statement for people: `group developers: managed developer-access
// (arn:…), statement 2 "ReadS3"`.
func (r *StatementRef) String() string {
	var b strings.Builder
	if r.Group != "" {
		b.WriteString("group " + r.Group + ": ")
	}
	switch r.Source {
	case SourceInline, SourceGroupInline:
		b.WriteString("inline policy " + r.Policy)
	case SourceBoundary:
		b.WriteString("permissions boundary " + r.Policy)
	default:
		b.WriteString("managed policy " + r.Policy)
	}
	b.WriteString(", statement " + strconv.Itoa(r.Statement))
	if r.Sid != "" {
		b.WriteString(" " + strconv.Quote(r.Sid))
	}
	return b.String()
}

// Grant is one action a principal's policies name, with the statements that do.
type Grant struct {
	Action iam.Action
	// By are the Allow statements that name the action. Slices of StatementRef may be shared
	// between grants and must not be modified.
	By []*StatementRef
	// Narrowed is set when every statement of By is limited by resource or condition: the
	// action is granted somewhere, not everywhere.
	Narrowed bool
	// PartialDeny are the Deny statements that name the action but are limited by resource or
	// condition, so that they do not remove it.
	PartialDeny []*StatementRef
	// DeniedBy are, in Grants.Denied, the unconditional Deny statements that remove the action.
	DeniedBy []*StatementRef
}

// Grants is what one principal's identity policies allow.
type Grants struct {
	Principal *Principal
	// Allowed are the granted actions, in package iam's reference order.
	Allowed []Grant
	// Denied are actions Allow statements name that an unconditional Deny removes.
	Denied []Grant
	// OutsideBoundary are actions the identity policies allow and the permissions boundary
	// does not.
	OutsideBoundary []Grant
	// Boundary is the permissions boundary applied; nil when the principal has none or the
	// file does not hold its document (then Problems says so).
	Boundary *ManagedPolicy
	// Problems are what the file lacks to decide the grants completely, and patterns that
	// match no documented action.
	Problems []Problem

	allowed, denied, outside map[iam.Action]int // positions in the slices above
}

// Allows returns the grant of an action, if it is granted.
func (g *Grants) Allows(a iam.Action) (*Grant, bool) {
	if i, ok := g.allowed[a]; ok {
		return &g.Allowed[i], true
	}
	return nil, false
}

// ProblemKind classifies a Problem.
type ProblemKind string

// The kinds of Problem.
const (
	// MissingPolicy: an attached managed policy is not in the file's Policies.
	MissingPolicy ProblemKind = "missing-policy"
	// MissingVersion: a managed policy is in the file without its default version's document.
	MissingVersion ProblemKind = "missing-default-version"
	// MissingGroup: a user's group is not in the file's GroupDetailList.
	MissingGroup ProblemKind = "missing-group"
	// MissingBoundary: the permissions boundary policy is not in the file; it is not applied.
	MissingBoundary ProblemKind = "missing-boundary"
	// UnmatchedPattern: an Action or NotAction pattern matches no documented action.
	UnmatchedPattern ProblemKind = "unmatched-pattern"
	// Truncated: the file is one page of a longer answer (IsTruncated).
	Truncated ProblemKind = "truncated-file"
)

// Problem is something the file lacks, or holds that matches nothing, for one principal.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	// Subject is the policy ARN, group name or pattern concerned.
	Subject string `json:"subject"`
	// Message says what it means and what to do about it.
	Message string `json:"message"`
}

// policyUse is one policy document as it applies to the principal.
type policyUse struct {
	doc              *Document
	name, arn, group string
	source           Source
	boundary         bool
}

// Grants resolves the principal's identity policies into the actions they grant. See the package
// documentation for how Deny, conditions and boundaries are treated.
func (d *Details) Grants(p *Principal) *Grants {
	g := &Grants{Principal: p, allowed: map[iam.Action]int{}, denied: map[iam.Action]int{}, outside: map[iam.Action]int{}}
	seen := map[Problem]bool{}
	problem := func(pr Problem) {
		if !seen[pr] {
			seen[pr] = true
			g.Problems = append(g.Problems, pr)
		}
	}
	if d.Truncated {
		problem(Problem{Truncated, d.File, "the file is one page of a longer answer (IsTruncated): principals, groups and policies on other pages are missing; save the whole output of aws iam get-account-authorization-details (the AWS CLI gathers every page unless --no-paginate or --max-items is given)"})
	}

	var uses []policyUse
	managed := func(r PolicyRef, src Source, group string) {
		via := "attached to " + string(p.Type) + " " + p.Name
		if group != "" {
			via = "attached to group " + group
		}
		mp := d.policies[r.ARN]
		switch {
		case mp == nil:
			problem(Problem{MissingPolicy, r.ARN, "managed policy " + r.ARN + ", " + via + ", is not in the file's Policies: its grants are not counted; save the output of aws iam get-account-authorization-details without --filter (or with LocalManagedPolicy and AWSManagedPolicy)"})
		case mp.Document == nil:
			problem(Problem{MissingVersion, r.ARN, "managed policy " + r.ARN + ", " + via + ", is in the file without the document of its default version: its grants are not counted"})
		default:
			uses = append(uses, policyUse{doc: mp.Document, name: mp.Name, arn: mp.ARN, group: group, source: src})
		}
	}
	for _, ip := range p.Inline {
		uses = append(uses, policyUse{doc: ip.Document, name: ip.Name, source: SourceInline})
	}
	for _, r := range p.Attached {
		managed(r, SourceManaged, "")
	}
	for _, name := range p.Groups {
		grp := d.Group(name)
		if grp == nil {
			problem(Problem{MissingGroup, name, "group " + name + " of user " + p.Name + " is not in the file's GroupDetailList: its policies are not counted"})
			continue
		}
		for _, ip := range grp.Inline {
			uses = append(uses, policyUse{doc: ip.Document, name: ip.Name, group: grp.Name, source: SourceGroupInline})
		}
		for _, r := range grp.Attached {
			managed(r, SourceGroupManaged, grp.Name)
		}
	}
	if p.Boundary != nil {
		mp := d.policies[p.Boundary.ARN]
		if mp == nil || mp.Document == nil {
			problem(Problem{MissingBoundary, p.Boundary.ARN, "permissions boundary " + p.Boundary.ARN + " of " + string(p.Type) + " " + p.Name + " is not in the file (or has no default version there): it is not applied, so the grants may be wider than what the principal can use"})
		} else {
			g.Boundary = mp
			uses = append(uses, policyUse{doc: mp.Document, name: mp.Name, arn: mp.ARN, source: SourceBoundary, boundary: true})
		}
	}

	u := universe()
	allow, hardDeny, bAllow := u.newSet(), u.newSet(), u.newSet()
	type stmt struct {
		ref *StatementRef
		set actionSet
		one []*StatementRef // {ref}, shared by the actions only this statement names
	}
	var allows, hard, partial []stmt
	for _, use := range uses {
		for _, st := range use.doc.Statements {
			st.match()
			r := &StatementRef{Policy: use.name, ARN: use.arn, Source: use.source, Group: use.group,
				Statement: st.Index, Sid: st.Sid, Effect: st.Effect, st: st}
			if !st.Unconditional() {
				r.Resources, r.NotResources, r.Condition = st.Resources, st.NotResources, st.Condition
			}
			for _, pat := range st.unmatched {
				problem(Problem{UnmatchedPattern, pat, "pattern " + strconv.Quote(pat) + " in " + r.String() + " matches no action of the IAM reference: a typing error, a retired action, or a service newer than the reference"})
			}
			switch {
			case st.Effect == Allow && use.boundary:
				bAllow.or(st.set)
			case st.Effect == Allow:
				allow.or(st.set)
				allows = append(allows, stmt{r, st.set, []*StatementRef{r}})
			case st.Unconditional():
				hardDeny.or(st.set)
				hard = append(hard, stmt{r, st.set, []*StatementRef{r}})
			default:
				partial = append(partial, stmt{r, st.set, []*StatementRef{r}})
			}
		}
	}

	// The statements behind each action are looked up for the actions kept only: a NotAction
	// or "*" statement names the whole reference.
	refs := func(ss []stmt, i int) []*StatementRef {
		var out []*StatementRef
		n, last := 0, -1
		for k, s := range ss {
			if s.set.has(i) {
				n, last = n+1, k
			}
		}
		switch n {
		case 0:
			return nil
		case 1:
			return ss[last].one
		}
		for _, s := range ss {
			if s.set.has(i) {
				out = append(out, s.ref)
			}
		}
		return out
	}
	grant := func(i int) Grant {
		gr := Grant{Action: u.all[i], By: refs(allows, i), PartialDeny: refs(partial, i), Narrowed: true}
		for _, r := range gr.By {
			if !r.Narrowed() {
				gr.Narrowed = false
			}
		}
		return gr
	}
	if g.Boundary != nil {
		outside := allow.clone()
		outside.andNot(bAllow)
		allow.and(bAllow)
		outside.each(func(i int) {
			g.outside[u.all[i]] = len(g.OutsideBoundary)
			g.OutsideBoundary = append(g.OutsideBoundary, grant(i))
		})
	}
	denied := allow.clone()
	denied.and(hardDeny)
	allow.andNot(hardDeny)
	denied.each(func(i int) {
		gr := grant(i)
		gr.DeniedBy = refs(hard, i)
		g.denied[u.all[i]] = len(g.Denied)
		g.Denied = append(g.Denied, gr)
	})
	g.Allowed = make([]Grant, 0, allow.count())
	g.allowed = make(map[iam.Action]int, allow.count())
	allow.each(func(i int) {
		g.allowed[u.all[i]] = len(g.Allowed)
		g.Allowed = append(g.Allowed, grant(i))
	})
	return g
}
