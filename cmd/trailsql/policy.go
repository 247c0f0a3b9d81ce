package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/render"
)

// policyDocument is an IAM policy as IAM reads it.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid      string   `json:"Sid,omitempty"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource any      `json:"Resource"` // "*" or a list of ARNs
}

// managedPolicyLimit is IAM's size limit for a managed policy document (whitespace excluded).
const managedPolicyLimit = 6144

// buildPolicy groups the used actions into statements: one per service and resource set, in
// service order, "*" first; actions sorted. With narrow, an action whose every call named
// resources gets those ARNs; otherwise "*".
func buildPolicy(u *usage, narrow bool) policyDocument {
	type group struct {
		prefix    string
		resources []string // nil: "*"
		actions   []string
	}
	groups := map[string]*group{}
	for a, au := range u.Actions {
		var res []string
		if narrow && !au.Wildcard && len(au.Resources) > 0 {
			res = au.Resources
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
	for _, g := range groups {
		sort.Strings(g.actions)
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].prefix != gs[j].prefix {
			return gs[i].prefix < gs[j].prefix
		}
		return strings.Join(gs[i].resources, "\x00") < strings.Join(gs[j].resources, "\x00")
	})
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
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
	return doc
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
	var w windowFlags
	var who string
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

--explain lists on stderr, for each action, the events behind it.`,
		Example: `  trailsql policy --principal deploy-role --days 90 > deploy-role-policy.json
  trailsql policy --principal arn:aws:iam::111122223333:user/ci --resources --explain`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			c := lakeCoverage(lk.Snap, w.account, w.region)
			for _, wn := range c.windowWarnings("policy", from, to, time.Time{}) {
				fmt.Fprintln(m.Stderr, "warning: "+wn+" (calls made only outside it are not in the policy)")
			}
			uq := usageQuery{From: from, To: to, Account: w.account, Region: w.region, IncludeDenied: includeDenied, Resources: resources}
			if who != "" {
				pr, err := resolvePrincipal(cmd.Context(), e, who, w.account)
				if err != nil {
					return err
				}
				uq.Principal = pr.Value
				fmt.Fprintf(m.Stderr, "principal: %s\nwindow: %s\n", pr.How, w.describe(from, to))
			}
			u, err := collectUsage(cmd.Context(), e, uq)
			if err != nil {
				return err
			}
			doc := buildPolicy(u, resources)
			out, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s\n", out)
			compact, _ := json.Marshal(doc)
			if len(u.Actions) == 0 {
				fmt.Fprintln(m.Stderr, "no call in the window needed a permission: the policy has no statement")
			} else if len(compact) > managedPolicyLimit {
				fmt.Fprintf(m.Stderr, "note: the policy is %d characters, over IAM's %d for a managed policy; split it or use wildcards for read actions\n", len(compact), managedPolicyLimit)
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
	w.register(cmd, 90)
	cmd.Flags().StringVarP(&who, "principal", "p", "", "the identity: user, role or session name, ARN, or access key id")
	cmd.Flags().BoolVar(&all, "all", false, "every identity's calls in the window (as trailscraper generate does)")
	cmd.Flags().BoolVar(&resources, "resources", false, "narrow actions to the resource ARNs their calls named")
	cmd.Flags().BoolVar(&explain, "explain", false, "list on stderr the events behind every action")
	cmd.Flags().BoolVar(&includeDenied, "include-denied", false, "count calls refused for lack of permission")
	q.register(cmd)
	return cmd
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
