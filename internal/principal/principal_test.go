package principal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/principal"
)

// Names resolve to identities the way the answer says, ignoring case; ambiguous, unknown and
// malformed names are typed errors whose text names no flag.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	l := answertest.Generated(t, 5, 8000)
	ids, a0 := l.Truth.Identities, l.Truth.Accounts[0]
	var session string // a role session name that is nobody's user or role name: an EC2 instance id
	for _, r := range l.Records {
		if u := r.UserIdentity; u != nil && u.Type != nil && *u.Type == "AssumedRole" && strings.Contains(*u.ARN, "/i-") {
			session = *u.ARN
			break
		}
	}
	if session == "" {
		t.Fatal("no EC2 instance session in the trail")
	}
	ok := []struct {
		name, account string
		value         string
		kind          principal.Kind
		how           string
	}{
		{"alice", "", ids.Users["alice"], principal.User, `user name "alice" → IAM user ` + ids.Users["alice"]},
		{"ALICE", "", ids.Users["alice"], principal.User, `user name "ALICE" → IAM user ` + ids.Users["alice"]},
		{"Admin", a0, ids.Roles["Admin"], principal.Role, `role name "Admin" → role ` + ids.Roles["Admin"] + ", all its sessions"},
		{"admin", a0, ids.Roles["Admin"], principal.Role, `role name "admin" → role ` + ids.Roles["Admin"] + ", all its sessions"},
		{ids.Roles["Admin"], "", ids.Roles["Admin"], principal.Role, "(all its sessions)"},
		// An ARN is taken as written: IAM compares ARNs exactly.
		{strings.Replace(ids.Users["alice"], "alice", "ALICE", 1), "", strings.Replace(ids.Users["alice"], "alice", "ALICE", 1), principal.User, "IAM user "},
		{"root", "", ids.Root, principal.Root, "root user " + ids.Root},
		{"AKIAIOSFODNN7EXAMPLE", "", "AKIAIOSFODNN7EXAMPLE", principal.AccessKey, "never used in the lake"},
		{strings.Split(session, "/")[2], "", session, principal.Session, "not a user or role name but a role session name: session " + session},
	}
	for _, c := range ok {
		p, err := principal.Resolve(ctx, l.Query, c.name, c.account)
		if err != nil || p.Value != c.value || p.Kind != c.kind || !strings.Contains(p.How, c.how) {
			t.Errorf("Resolve(%q, %q) = %+v, %v; want %s %s, %q", c.name, c.account, p, err, c.kind, c.value, c.how)
		}
	}

	var amb *principal.AmbiguousError
	var nf *principal.NotFoundError
	var inv *principal.InvalidError
	bad := []struct {
		name   string
		target any
		says   string
	}{
		{"Admin", &amb, `"Admin" names roles in 3 accounts`},
		{"nobody-here", &nf, `"nobody-here": no IAM user, role or role session of that name in the lake`},
		{"arn:aws:s3:::bucket", &inv, "not an IAM or STS ARN"},
		{"arn:aws:iam::111122223333:group/devs", &inv, "not the ARN of an IAM user, role, root or role session"},
		{"bad name!", &inv, "not a user, role or session name"},
	}
	for _, c := range bad {
		_, err := principal.Resolve(ctx, l.Query, c.name, "")
		if err == nil || !errors.As(err, c.target) || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "--") {
			t.Errorf("Resolve(%q): %v (%T); want %T saying %q and naming no flag", c.name, err, err, c.target, c.says)
		}
	}
	if _, err := principal.Resolve(ctx, l.Query, "Admin", ""); errors.As(err, &amb) {
		if len(amb.Roles) != 3 || !strings.Contains(amb.Text("--account"), "give --account or the ARN") {
			t.Errorf("ambiguous Admin: %+v, %q", amb, amb.Text("--account"))
		}
	}
}

// The inventory follows the same rule: names ignore case, ARNs and ids match exactly.
func TestInventory(t *testing.T) {
	opt := generate.Options{Seed: 5, Events: 2000, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	accts, err := generate.Authz(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := authz.Parse(accts[0].JSON, "authz.json")
	if err != nil {
		t.Fatal(err)
	}
	var carol *authz.Principal
	for _, p := range d.Users {
		if p.Name == "carol" {
			carol = p
		}
	}
	if carol == nil {
		t.Fatal("no user carol")
	}
	for _, name := range []string{"carol", "CAROL", carol.ARN, carol.ID} {
		if ps, err := principal.Inventory(d, name, ""); err != nil || len(ps) != 1 || ps[0] != carol {
			t.Errorf("Inventory(%q) = %v, %v", name, ps, err)
		}
	}
	var nf *principal.NotFoundError
	for _, name := range []string{strings.ToUpper(carol.ARN[:8]) + carol.ARN[8:], "nobody"} {
		_, err := principal.Inventory(d, name, "")
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), "no user or role of that name, ARN or id in authz.json") {
			t.Errorf("Inventory(%q): %v", name, err)
		}
	}
	if ps, err := principal.Inventory(d, "", ""); err != nil || len(ps) != len(d.Users)+len(d.Roles) {
		t.Errorf("every principal: %d, %v", len(ps), err)
	}
	if ps, err := principal.Inventory(d, "carol", "000000000000"); err != nil || len(ps) != 0 {
		t.Errorf("carol in another account: %v, %v", ps, err)
	}
}
