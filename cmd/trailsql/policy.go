package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/render"
)

// policyDocument is an IAM policy as IAM reads it.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  any                          `json:"Resource"` // "*" or a list of ARNs
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// policyGroup is the actions of one service that share their resources.
type policyGroup struct {
	prefix    string
	resources []string // nil: "*"
	actions   []string
}

// buildPolicy groups the used actions into statements: one per service and resource set, in
// service order, "*" first; actions sorted; then one iam:PassRole statement per service the
// roles were passed to, on those roles, with iam:PassedToService. With narrow, an action whose
// every call named resources gets those of a type it accepts (objects widened to their bucket's
// common prefix); otherwise "*". A policy over IAM's size limit has its longest resource lists
// widened to "*", then its "*" statements merged. The notes say what was widened.
func buildPolicy(u *usage, narrow bool) (policyDocument, []string) {
	var notes []string
	groups := map[string]*policyGroup{}
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
		if narrow && !au.Wildcard && len(au.Resources) > 0 {
			var n []string
			res, n = narrowResources(a, au.Resources)
			notes = append(notes, n...)
		}
		key := a.Prefix + "\x00" + strings.Join(res, "\x00")
		g := groups[key]
		if g == nil {
			g = &policyGroup{prefix: a.Prefix, resources: res}
			groups[key] = g
		}
		g.actions = append(g.actions, a.String())
	}
	var gs []*policyGroup
	for _, k := range sortedKeys(setOf(groups)) {
		g := groups[k]
		sort.Strings(g.actions)
		gs = append(gs, g)
	}
	doc := statements(gs, u, false)
	for iam.PolicySize(mustJSON(doc)) > iam.ManagedPolicyLimit {
		// Widen the group whose resources take the most room.
		var widest *policyGroup
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
	if iam.PolicySize(mustJSON(doc)) > iam.ManagedPolicyLimit {
		doc = statements(gs, u, true)
		notes = append(notes, fmt.Sprintf("merged the statements on \"*\" of every service into one to stay under IAM's %d characters", iam.ManagedPolicyLimit))
	}
	if n := iam.PolicySize(mustJSON(doc)); n > iam.ManagedPolicyLimit {
		notes = append(notes, fmt.Sprintf("the policy is %d characters, over IAM's %d for a managed policy even so: split its statements into two policies", n, iam.ManagedPolicyLimit))
	}
	return doc, notes
}

// mergeGroups joins the groups of a service that now have the same resources.
func mergeGroups(gs []*policyGroup) []*policyGroup {
	by := map[string]*policyGroup{}
	var out []*policyGroup
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
func statements(gs []*policyGroup, u *usage, merged bool) policyDocument {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].prefix != gs[j].prefix {
			return gs[i].prefix < gs[j].prefix
		}
		return strings.Join(gs[i].resources, "\x00") < strings.Join(gs[j].resources, "\x00")
	})
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	if merged {
		var star []string
		var rest []*policyGroup
		for _, g := range gs {
			if g.resources == nil {
				star = append(star, g.actions...)
			} else {
				rest = append(rest, g)
			}
		}
		if len(star) > 0 {
			sort.Strings(star)
			doc.Statement = append(doc.Statement, policyStatement{Sid: "AnyResource", Effect: "Allow", Action: star, Resource: "*"})
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
		st := policyStatement{Sid: sid, Effect: "Allow", Action: g.actions, Resource: "*"}
		if g.resources != nil {
			st.Resource = g.resources
		}
		doc.Statement = append(doc.Statement, st)
	}
	if au := u.Actions[iam.PassRole]; au != nil && au.PassedTo != nil {
		services := make([]string, 0, len(au.PassedTo))
		for s := range au.PassedTo {
			services = append(services, s)
		}
		sort.Strings(services)
		for _, s := range services {
			label, _, _ := strings.Cut(s, ".")
			doc.Statement = append(doc.Statement, policyStatement{Sid: "PassRoleTo" + sidOf(label), Effect: "Allow",
				Action: []string{iam.PassRole.String()}, Resource: au.PassedTo[s],
				Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": s}}})
		}
	}
	return doc
}

func mustJSON(doc policyDocument) []byte {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // strings, lists and maps of strings always marshal
	}
	return b
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
	for _, bucket := range sortedKeys(setOf(objects)) {
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

func setOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
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

func (m *Main) policyCommand() *cobra.Command {
	var q queryFlags
	w := windowFlags{now: m.now}
	var who, authzFile, format string
	var all, resources, explain, includeDenied bool
	cmd := &cobra.Command{
		Use:   "policy (--principal X | --all) [--days N | --from T --to T] [--resources] [--explain]",
		Short: "Write the least-privilege IAM policy for what an identity really called",
		Long: `Write an IAM policy (JSON, Version 2012-10-17) that allows exactly the actions an identity's
calls needed in the window: each event is mapped to the IAM actions that authorise it (S3, KMS,
Lambda, DynamoDB PartiQL and other exceptions handled; only actions documented by IAM are
emitted). Statements are grouped by service, in a stable order.

--resources narrows an action to the resource ARNs its calls named, when every one of its calls
named some; otherwise the action keeps "*". Calls refused for lack of permission are left out
unless --include-denied (they show what the identity tried, not what it needs). Events that need
no permission (sts:GetCallerIdentity, console sign-in, AWS's own events) are left out, and events
that cannot be mapped are listed on stderr.

Calls that hand a role to a service (Lambda's CreateFunction, EC2's RunInstances with an instance
profile, CloudFormation with a service role, …) also need iam:PassRole, which CloudTrail never
records: the policy allows it on the roles the requests named, with iam:PassedToService. An
instance profile's role is named from --authz FILE; without it (or when the file lacks the
profile) the policy allows passing any role of the account to that service, and says so.

With --resources, an S3 object action gets the common folder of the objects its calls named
(bucket/uploads/*), so that the next upload is allowed too, and never an ARN of a resource type the
action does not take (PutObject's events also name the bucket). A policy over IAM's 6,144
characters has its longest resource lists widened to "*", then its "*" statements merged; stderr
says what was widened.

--explain lists on stderr, for each action, the events behind it (for iam:PassRole, the calls that
passed each role).`,
		Example: `  trailsql policy --principal deploy-role --days 90 > deploy-role-policy.json
  trailsql policy --principal arn:aws:iam::111122223333:user/ci --resources --explain`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(render.Formats, format) {
				return fmt.Errorf("--format %q: give json (the policy document, the default), or table, csv, jsonl or markdown (one row per statement and action)", format)
			}
			if (who == "") == !all {
				return fmt.Errorf("give --principal X (a user, role or session name, an ARN, or an access key id), or --all for every identity's calls")
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			e, err := m.openEngine(cmd, &q)
			if err != nil {
				return err
			}
			defer e.Close()
			m.writeCoverage(lk, &w, from, to, "calls made only outside it are not in the policy")
			uq := usageQuery{From: from, To: to, Account: w.account, Region: w.region, IncludeDenied: includeDenied, Resources: resources}
			if authzFile != "" {
				details, err := authz.Load(authzFile)
				if err != nil {
					return err
				}
				uq.ProfileRoles = details.InstanceProfileRoles
			}
			if who != "" {
				pr, err := resolvePrincipal(cmd.Context(), e, who, w.account)
				if err != nil {
					return err
				}
				uq.Principal = pr.Value
				fmt.Fprintf(m.Stderr, "principal: %s\n", pr.How)
			}
			u, err := collectUsage(cmd.Context(), e, uq)
			if err != nil {
				return err
			}
			doc, notes := buildPolicy(u, resources)
			if err := writePolicy(m.Stdout, format, doc); err != nil {
				return err
			}
			if len(u.Actions) == 0 {
				fmt.Fprintln(m.Stderr, "no call in the window needed a permission: the policy has no statement")
			}
			for _, n := range append(u.Notes, notes...) {
				fmt.Fprintln(m.Stderr, "note: "+n)
			}
			if u.DeniedCalls > 0 && !includeDenied {
				fmt.Fprintf(m.Stderr, "left out: %d call(s) refused for lack of permission (--include-denied to count them)\n", u.DeniedCalls)
			}
			writeUnmapped(m.Stderr, u)
			if explain {
				return writeExplain(m.Stderr, u)
			}
			return nil
		},
	}
	w.register(cmd)
	cmd.Flags().StringVarP(&who, "principal", "p", "", "the identity: user, role or session name, ARN, or access key id")
	cmd.Flags().StringVarP(&format, "format", "o", "json", "output format: json (the IAM policy document), or table, csv, jsonl, markdown (one row per statement and action)")
	cmd.Flags().BoolVar(&all, "all", false, "every identity's calls in the window (as trailscraper generate does)")
	cmd.Flags().BoolVar(&resources, "resources", false, "narrow actions to the resource ARNs their calls named")
	cmd.Flags().BoolVar(&explain, "explain", false, "list on stderr the events behind every action")
	cmd.Flags().BoolVar(&includeDenied, "include-denied", false, "count calls refused for lack of permission")
	cmd.Flags().StringVar(&authzFile, "authz", "", "the IAM inventory ('aws iam get-account-authorization-details'), to name the roles of the EC2 instance profiles passed")
	q.register(cmd)
	return cmd
}

// writePolicy writes the policy document as IAM reads it (json), or one row per statement and
// action for reading and diffing.
func writePolicy(w io.Writer, format string, doc policyDocument) error {
	if format == "json" {
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	var rows [][]any
	for _, st := range doc.Statement {
		res := "*"
		if l, ok := st.Resource.([]string); ok {
			res = strings.Join(l, " ")
		}
		var cond any
		if len(st.Condition) > 0 {
			b, _ := json.Marshal(st.Condition)
			cond = string(b)
		}
		for _, a := range st.Action {
			rows = append(rows, []any{st.Sid, st.Effect, a, res, cond})
		}
	}
	return render.Write(w, format, []string{"sid", "effect", "action", "resource", "condition"}, rows)
}

// writeUnmapped reports the events that are not in the policy because no documented action is
// known for them.
func writeUnmapped(w io.Writer, u *usage) {
	if len(u.Unmapped) == 0 {
		return
	}
	if len(u.Unmapped) == 1 {
		fmt.Fprintln(w, "not in the policy: 1 kind of event maps to no documented IAM action:")
	} else {
		fmt.Fprintf(w, "not in the policy: %d kinds of event map to no documented IAM action:\n", len(u.Unmapped))
	}
	for _, ev := range u.Unmapped {
		fmt.Fprintf(w, "  %s:%s (%d calls): %s\n", ev.Source, ev.Name, ev.Calls, strings.TrimPrefix(ev.Mapping.Reason, "unknown: "))
	}
}

// writeExplain lists every action with the events behind it.
func writeExplain(w io.Writer, u *usage) error {
	var rows [][]any
	acts := make([]*actionUse, 0, len(u.Actions))
	for _, au := range u.Actions {
		acts = append(acts, au)
	}
	sort.Slice(acts, func(i, j int) bool { return acts[i].Action.String() < acts[j].Action.String() })
	for _, au := range acts {
		for _, ev := range au.Events {
			if au.Action == iam.PassRole && au.PassedTo != nil {
				for _, p := range ev.Passes {
					what, why := p.Role, "passed role "+p.Role+" to "+p.Service+" ("+p.Param+")"
					if p.Role == "" {
						what, why = "instance profile "+p.Profile, "passed instance profile "+p.Profile+" to "+p.Service+" ("+p.Param+"); its role is not in CloudTrail"
					}
					rows = append(rows, []any{au.Action.String(), ev.Source + ":" + ev.Name, p.Calls, ev.First, ev.Last, what, why})
				}
				continue
			}
			res := "*"
			if !au.Wildcard && len(au.Resources) > 0 {
				res = strings.Join(au.Resources, " ")
			}
			rows = append(rows, []any{au.Action.String(), ev.Source + ":" + ev.Name, ev.Calls, ev.First, ev.Last, res, ev.Mapping.Reason})
		}
	}
	for _, ev := range u.NoPermission {
		rows = append(rows, []any{"(none)", ev.Source + ":" + ev.Name, ev.Calls, ev.First, ev.Last, "", ev.Mapping.Reason})
	}
	return render.Write(w, "table", []string{"action", "event", "calls", "first_seen", "last_seen", "resources", "why"}, rows)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
