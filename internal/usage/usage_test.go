package usage_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/usage"
)

// On a generated inventory, every action of every user and role is classified as the generator's
// grants and the decoded trail say: granted and used → used; used, not granted → not-granted;
// granted, not used → unused when CloudTrail records it (data events only where the lake has
// them), else unknown. The refused calls of the ReadOnly role become not-granted rows only when
// they count.
func TestUnusedMatchesTruth(t *testing.T) {
	ctx := context.Background()
	l := answertest.Generated(t, 5, 20000)
	accts, err := generate.Authz(l.Options, l.Truth)
	if err != nil {
		t.Fatal(err)
	}
	inv := accts[0]
	details, err := authz.Parse(inv.JSON, "authz.json")
	if err != nil {
		t.Fatal(err)
	}
	dataEvents, err := usage.DataEventPrefixes(ctx, l.Query, l.From(), l.To())
	if err != nil {
		t.Fatal(err)
	}
	byID, err := usage.CollectByIdentity(ctx, l.Query, usage.Query{From: l.From(), To: l.To()})
	if err != nil {
		t.Fatal(err)
	}
	reports := details.Unused(details.Principals(), byID.Used, authz.DiffOptions{DataEvents: dataEvents})

	// What the lake logs as data events, and what each principal used, from the decoded files.
	dataLogged := map[string]bool{}
	for _, r := range l.Records {
		if r.EventCategory != nil && *r.EventCategory == "Data" {
			dataLogged[iam.SourcePrefix(*r.EventSource)] = true
		}
	}
	if got, want := slices.Compact(slices.Sorted(slices.Values(dataEvents))), slices.Sorted(maps.Keys(dataLogged)); !slices.Equal(got, want) {
		t.Errorf("data events logged for %v, the trail has them for %v", got, want)
	}
	used := answertest.UsedActions(l.Records)
	if len(reports) != len(inv.Truth.Principals) {
		t.Fatalf("%d reports for %d principals", len(reports), len(inv.Truth.Principals))
	}
	counts := map[authz.Class]int{}
	for _, rep := range reports {
		truth := inv.Truth.Principals[rep.Principal.ARN]
		if truth == nil {
			t.Errorf("report for %s, which the inventory does not hold", rep.Principal.ARN)
			continue
		}
		want := map[string]authz.Class{}
		for _, a := range truth.Granted {
			switch act, _ := iam.Exists(a); {
			case used[truth.ARN][a]:
				want[a] = authz.Used
			default:
				vis, _ := authz.VisibilityOf(act)
				if vis == authz.Management || vis == authz.DataEvent && dataLogged[act.Prefix] {
					want[a] = authz.Unused
				} else {
					want[a] = authz.Unknown
				}
			}
		}
		for a := range used[truth.ARN] {
			if !slices.Contains(truth.Granted, a) {
				want[a] = authz.NotGranted
			}
		}
		got := map[string]authz.Class{}
		for _, row := range rep.Actions {
			if _, dup := got[row.Action]; dup {
				t.Errorf("%s: %s twice", rep.Principal.ARN, row.Action)
			}
			got[row.Action] = row.Class
			counts[row.Class]++
		}
		var wrong []string
		for a, c := range want {
			if got[a] != c {
				wrong = append(wrong, a+": "+string(got[a])+", want "+string(c))
			}
		}
		for a, c := range got {
			if _, ok := want[a]; !ok {
				wrong = append(wrong, a+": "+string(c)+", want nothing")
			}
		}
		sort.Strings(wrong)
		if len(wrong) > 0 {
			t.Errorf("%s: %d actions misclassified, e.g. %s", rep.Principal.ARN, len(wrong), strings.Join(wrong[:min(len(wrong), 8)], "; "))
		}
	}
	for _, c := range []authz.Class{authz.Used, authz.Unused, authz.Unknown} {
		if counts[c] == 0 {
			t.Errorf("no %s action in the whole inventory: the test proves little", c)
		}
	}
	t.Logf("classified: %v", counts)

	// Refused calls are uses only when they count: the ReadOnly role's PutBucketPolicy.
	readOnly, err := principal.Inventory(details, "ReadOnly", "")
	if err != nil || len(readOnly) != 1 {
		t.Fatalf("ReadOnly: %v %v", readOnly, err)
	}
	for _, denied := range []bool{false, true} {
		byID, err := usage.CollectByIdentity(ctx, l.Query, usage.Query{From: l.From(), To: l.To(), IncludeDenied: denied})
		if err != nil {
			t.Fatal(err)
		}
		rep := details.Unused(readOnly, byID.Used, authz.DiffOptions{})[0]
		i := slices.IndexFunc(rep.Actions, func(r authz.Row) bool { return r.Action == "s3:PutBucketPolicy" })
		if counted := i >= 0 && rep.Actions[i].Class == authz.NotGranted; counted != denied {
			t.Errorf("include denied %v: s3:PutBucketPolicy not-granted %v", denied, counted)
		}
	}
}

// Collect for one identity is CollectByIdentity's usage of that identity.
func TestCollectAgreesWithByIdentity(t *testing.T) {
	ctx := context.Background()
	l := answertest.Generated(t, 3, 4000)
	q := usage.Query{From: l.From(), To: l.To()}
	byID, err := usage.CollectByIdentity(ctx, l.Query, q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for arn, all := range byID {
		if !strings.Contains(arn, ":user/") && !strings.Contains(arn, ":role/") {
			continue
		}
		q.Principal = arn
		one, err := usage.Collect(ctx, l.Query, q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := actionCalls(one), actionCalls(all); !slices.Equal(g, w) {
			t.Errorf("%s: Collect %v, CollectByIdentity %v", arn, g, w)
		}
		n++
	}
	if n < 5 {
		t.Errorf("only %d users and roles", n)
	}
}

func actionCalls(u *usage.Usage) []string {
	var out []string
	for a, au := range u.Actions {
		out = append(out, fmt.Sprintf("%s=%d", a, au.Calls))
	}
	sort.Strings(out)
	return out
}
