// Package policy writes the least-privilege IAM policy for what an identity really called: each
// IAM action its calls needed (package usage), grouped by service into statements in a stable
// order, optionally narrowed to the resources the calls named, iam:PassRole on the roles the calls
// passed with iam:PassedToService, kept under IAM's size limit. The document is an
// authz.Document, the type authz reads inventories with, so a generated policy can be evaluated
// by the same code that evaluates the policies of an account (see the tests).
package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/usage"
)

// Version is the policy language version of every document written.
const Version = "2012-10-17"

// Options say how narrow the policy is.
type Options struct {
	// Resources narrows an action to the resource ARNs its calls named, when every one of its
	// calls named some of a type the action accepts; otherwise the action keeps "*".
	Resources bool
}

// group is the actions of one service that share their resources.
type group struct {
	prefix    string
	resources []string // nil: "*"
	actions   []string
}

// Build groups the used actions into statements: one per service and resource set, in service
// order, "*" first; actions sorted; then one iam:PassRole statement per service the roles were
// passed to, on those roles, with iam:PassedToService. With opt.Resources, an action whose
// every call named resources gets those of a type it accepts (objects widened to their bucket's
// common prefix); otherwise "*". A policy over IAM's size limit has its longest resource lists
// widened to "*", then its "*" statements merged. The notes say what was widened; u.Notes say
// what the lake could not tell.
func Build(u *usage.Usage, opt Options) (*authz.Document, []string) {
	var notes []string
	groups := map[string]*group{}
	// In the actions' order, so that the notes and the widening come out the same every time.
	acts := make([]iam.Action, 0, len(u.Actions))
	for a := range u.Actions {
		acts = append(acts, a)
	}
	sort.Slice(acts, func(i, j int) bool { return acts[i].String() < acts[j].String() })
	for _, a := range acts {
		au := u.Actions[a]
		if a == iam.PassRole && au.PassedTo != nil {
			continue
		}
		var res []string
		if opt.Resources && !au.Wildcard && len(au.Resources) > 0 {
			var n []string
			res, n = narrowResources(a, au.Resources)
			notes = append(notes, n...)
		}
		key := a.Prefix + "\x00" + strings.Join(res, "\x00")
		g := groups[key]
		if g == nil {
			g = &group{prefix: a.Prefix, resources: res}
			groups[key] = g
		}
		g.actions = append(g.actions, a.String())
	}
	var gs []*group
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		sort.Strings(g.actions)
		gs = append(gs, g)
	}
	doc := statements(gs, u, false)
	for size(doc) > iam.ManagedPolicyLimit {
		// Widen the group whose resources take the most room.
		var widest *group
		for _, g := range gs {
			if g.resources != nil && (widest == nil || len(strings.Join(g.resources, "")) > len(strings.Join(widest.resources, ""))) {
				widest = g
			}
		}
		if widest == nil {
			break
		}
		notes = append(notes, fmt.Sprintf("widened %s from %d resources to \"*\" to stay under IAM's %d characters", strings.Join(widest.actions, ", "), len(widest.resources), iam.ManagedPolicyLimit))
		widest.resources = nil
		gs = mergeGroups(gs)
		doc = statements(gs, u, false)
	}
	if size(doc) > iam.ManagedPolicyLimit {
		doc = statements(gs, u, true)
		notes = append(notes, fmt.Sprintf("merged the statements on \"*\" of every service into one to stay under IAM's %d characters", iam.ManagedPolicyLimit))
	}
	if n := size(doc); n > iam.ManagedPolicyLimit {
		notes = append(notes, fmt.Sprintf("the policy is %d characters, over IAM's %d for a managed policy even so: split its statements into two policies", n, iam.ManagedPolicyLimit))
	}
	return doc, notes
}

// mergeGroups joins the groups of a service that now have the same resources.
func mergeGroups(gs []*group) []*group {
	by := map[string]*group{}
	var out []*group
	for _, g := range gs {
		key := g.prefix + "\x00" + strings.Join(g.resources, "\x00")
		if m := by[key]; m != nil {
			m.actions = append(m.actions, g.actions...)
			sort.Strings(m.actions)
			continue
		}
		by[key] = g
		out = append(out, g)
	}
	return out
}

// statements renders the groups and the PassRole statements in a stable order; with merged,
// the groups on "*" of every service are one statement.
func statements(gs []*group, u *usage.Usage, merged bool) *authz.Document {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].prefix != gs[j].prefix {
			return gs[i].prefix < gs[j].prefix
		}
		return strings.Join(gs[i].resources, "\x00") < strings.Join(gs[j].resources, "\x00")
	})
	doc := &authz.Document{Version: Version, Statements: []*authz.Statement{}}
	if merged {
		var star []string
		var rest []*group
		for _, g := range gs {
			if g.resources == nil {
				star = append(star, g.actions...)
			} else {
				rest = append(rest, g)
			}
		}
		if len(star) > 0 {
			sort.Strings(star)
			doc.Statements = append(doc.Statements, &authz.Statement{Sid: "AnyResource", Effect: authz.Allow, Actions: star, Resources: []string{"*"}})
		}
		gs = rest
	}
	count := map[string]int{}
	for _, g := range gs {
		count[g.prefix]++
	}
	seen := map[string]int{}
	for _, g := range gs {
		seen[g.prefix]++
		sid := sidOf(g.prefix)
		if count[g.prefix] > 1 {
			sid += fmt.Sprint(seen[g.prefix])
		}
		st := &authz.Statement{Sid: sid, Effect: authz.Allow, Actions: g.actions, Resources: []string{"*"}}
		if g.resources != nil {
			st.Resources = g.resources
		}
		doc.Statements = append(doc.Statements, st)
	}
	if au := u.Actions[iam.PassRole]; au != nil && au.PassedTo != nil {
		services := make([]string, 0, len(au.PassedTo))
		for s := range au.PassedTo {
			services = append(services, s)
		}
		sort.Strings(services)
		for _, s := range services {
			label, _, _ := strings.Cut(s, ".")
			doc.Statements = append(doc.Statements, &authz.Statement{Sid: "PassRoleTo" + sidOf(label), Effect: authz.Allow,
				Actions: []string{iam.PassRole.String()}, Resources: au.PassedTo[s],
				Condition: passedToService(s)})
		}
	}
	return doc
}

// size is the document's size as IAM counts it against its limits.
func size(doc *authz.Document) int {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // strings, lists of strings and a condition made by passedToService always marshal
	}
	return iam.PolicySize(b)
}

// passedToService is the condition of a PassRole statement: the role may be passed to that
// service only. Compact JSON with sorted keys, as authz.Statement holds conditions.
func passedToService(service string) string {
	b, err := json.Marshal(map[string]map[string]string{"StringEquals": {"iam:PassedToService": service}})
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return string(b)
}

// narrowResources returns the resources an action's calls named that are of a type the action
// accepts (S3 PutObject's events also name the bucket, which PutObject does not take), with the
// objects of a bucket widened to their common folder ("bucket/uploads/*"), so that the next
// object is allowed too; the notes say what was widened. None left: nil, "*".
func narrowResources(a iam.Action, arns []string) ([]string, []string) {
	var out, notes []string
	objects := map[string][]string{} // "arn:aws:s3:::bucket" → keys
	for _, arn := range arns {
		rt, ok := iam.MatchResource(a, arn)
		if !ok {
			continue
		}
		if rt.Service == "s3" && rt.Name == "object" {
			bucket, key, _ := strings.Cut(arn, "/")
			objects[bucket] = append(objects[bucket], key)
			continue
		}
		out = append(out, arn)
	}
	for _, bucket := range slices.Sorted(maps.Keys(objects)) {
		keys := objects[bucket]
		prefix := keys[0]
		for _, k := range keys[1:] {
			for !strings.HasPrefix(k, prefix) {
				prefix = prefix[:len(prefix)-1]
			}
		}
		prefix = prefix[:strings.LastIndex(prefix, "/")+1]
		arn := bucket + "/" + prefix + "*"
		out = append(out, arn)
		notes = append(notes, fmt.Sprintf("%s: %d object(s) of %s widened to %s, so that other objects there are allowed too", a, len(keys), bucket, arn))
	}
	if len(out) == 0 {
		return nil, []string{fmt.Sprintf("%s: its calls named no resource of a type it accepts (%s): \"*\"", a, typeList(a))}
	}
	sort.Strings(out)
	return slices.Compact(out), notes
}

func typeList(a iam.Action) string {
	var n []string
	for _, rt := range iam.ResourceTypes(a) {
		n = append(n, rt.Name)
	}
	if len(n) == 0 {
		return "it takes only \"*\""
	}
	return strings.Join(n, ", ")
}

// sidOf makes a statement id from a service prefix: letters and digits only ("s3-object-lambda"
// → "S3ObjectLambda").
func sidOf(prefix string) string {
	var b strings.Builder
	up := true
	for _, r := range prefix {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
