package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/policy"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/usage"
)

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
			query, _, done, err := m.windowQuery(cmd, &q, &w, from, to, "calls made only outside it are not in the policy")
			if err != nil {
				return err
			}
			defer done()
			uq := usage.Query{From: from, To: to, Account: w.account, Region: w.region, IncludeDenied: includeDenied, Resources: resources}
			if authzFile != "" {
				details, err := authz.Load(authzFile)
				if err != nil {
					return err
				}
				uq.ProfileRoles = details.InstanceProfileRoles
			}
			if who != "" {
				pr, err := principal.Resolve(cmd.Context(), query, who, w.account)
				if err != nil {
					return principalFlag(err)
				}
				uq.Principal = pr.Value
				fmt.Fprintf(m.Stderr, "principal: %s\n", pr.How)
			}
			u, err := usage.Collect(cmd.Context(), query, uq)
			if err != nil {
				return err
			}
			doc, notes := policy.Build(u, policy.Options{Resources: resources})
			if err := writePolicy(m.Stdout, format, doc); err != nil {
				return err
			}
			if len(u.Actions) == 0 {
				fmt.Fprintln(m.Stderr, "no call in the window needed a permission: the policy has no statement")
			}
			for _, n := range append(u.Notes, notes...) {
				// The notes name no flag; the one that could narrow a policy is --authz.
				n = strings.Replace(n, usage.NoInventory, usage.NoInventory+" (--authz FILE)", 1)
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
	q.engine.register(cmd)
	return cmd
}

// writePolicy writes the policy document as IAM reads it (json), or one row per statement and
// action for reading and diffing.
func writePolicy(w io.Writer, format string, doc *authz.Document) error {
	if format == "json" {
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	var rows [][]any
	for _, st := range doc.Statements {
		res := strings.Join(st.Resources, " ")
		var cond any
		if st.Condition != "" {
			cond = st.Condition
		}
		for _, a := range st.Actions {
			rows = append(rows, []any{st.Sid, st.Effect, a, res, cond})
		}
	}
	return render.Write(w, format, []string{"sid", "effect", "action", "resource", "condition"}, rows)
}

// writeUnmapped reports the events that are not in the policy because no documented action is
// known for them.
func writeUnmapped(w io.Writer, u *usage.Usage) {
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
func writeExplain(w io.Writer, u *usage.Usage) error {
	var rows [][]any
	acts := make([]*usage.Action, 0, len(u.Actions))
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
