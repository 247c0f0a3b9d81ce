// Package principal understands an identity as people name it — a user name, a role name, a role
// session name, an ARN, an access key id — and finds it in the lake (Resolve) or in an IAM
// inventory (Inventory). Every front end resolves names here, so that a name means the same thing
// in every answer.
//
// # Case
//
// A bare name matches ignoring case, in the lake and in the inventory alike. IAM does not
// distinguish user, group, role and policy names by case ("you cannot create resources named both
// "MyResource" and "myresource"", IAM API reference, CreateRole and CreatePolicy), so within one
// account ignoring case can never confuse two identities; across accounts the answer is
// ambiguous and says so, as for exact names. What a name resolves to is the ARN as recorded
// (CloudTrail and the inventory keep the case the identity was created with), because ARNs are
// compared exactly: by IAM when it matches a policy's Principal or Resource, and by the questions'
// principal predicate. For the same reason an ARN, an access key id or a unique id is taken as
// written and matches exactly. Role session names, which are not IAM names, follow the same rule
// as the names beside which they are looked up.
package principal

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
)

// Kind is what a Principal names.
type Kind string

// The kinds of Principal.
const (
	User      Kind = "user"
	Role      Kind = "role"    // every session of the role
	Session   Kind = "session" // one role session
	Root      Kind = "root"
	Federated Kind = "federated"
	AccessKey Kind = "access key"
)

// Principal is an identity resolved to the value the questions' principal predicate matches
// (questions.PrincipalPredicate): a user, role or session ARN, or an access key id.
type Principal struct {
	Value string
	Kind  Kind
	// How says how the name was understood, for the answer's header.
	How string
}

// The patterns are compiled when first used, not when the program starts: their bounded
// repetitions ({12,124}, {1,128}) compile to programs of hundreds of instructions, 1.7 ms that
// every command paid before doing anything, a query included.
var (
	accessKeyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}$`) })
	arnRE       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(.+)$`) })
	nameRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,128}$`) })
)

// InvalidError is a name that cannot name an identity at all.
type InvalidError struct {
	Name string
	// Why says what the name is not, and what would do.
	Why string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("%q: %s", e.Name, e.Why) }

// NotFoundError is a name that names no identity of the lake (Inventory "") or of an inventory.
type NotFoundError struct {
	Name    string
	Account string // the account searched; "" for every account
	// Inventory is the inventory's file name; "" for the lake.
	Inventory string
}

func (e *NotFoundError) Error() string {
	if e.Inventory != "" {
		return fmt.Sprintf("%q: no user or role of that name, ARN or id in %s", e.Name, e.Inventory)
	}
	in := ""
	if e.Account != "" {
		in = " in account " + e.Account
	}
	return fmt.Sprintf("%q: no IAM user, role or role session of that name in the lake%s (an ARN or access key id also works)", e.Name, in)
}

// AmbiguousError is a name that names several identities: the candidates, by ARN.
type AmbiguousError struct {
	Name    string
	Account string // the account searched; "" for every account
	// Users, Roles and Sessions are the user, role and role session ARNs of that name; Roots the
	// root users, for the name "root".
	Users, Roles, Sessions, Roots []string
}

// Error says which identities the name names and what to give instead.
func (e *AmbiguousError) Error() string { return e.Text("an account") }

// Text is Error with giveAccount naming the way to choose an account (a flag, a field).
func (e *AmbiguousError) Text(giveAccount string) string {
	switch {
	case len(e.Roots) > 0:
		return fmt.Sprintf("root: the root users of %d accounts are in the lake (%s); give %s or the ARN", len(e.Roots), strings.Join(e.Roots, ", "), giveAccount)
	case len(e.Users) > 0 && len(e.Roles) > 0:
		in := ""
		if e.Account != "" {
			in = " in account " + e.Account
		}
		return fmt.Sprintf("%q names both IAM user %s and role %s%s: give the ARN", e.Name, strings.Join(e.Users, ", "), strings.Join(e.Roles, ", "), in)
	case len(e.Users) > 1:
		return fmt.Sprintf("%q names IAM users in %d accounts (%s): give %s or the ARN", e.Name, len(e.Users), strings.Join(e.Users, ", "), giveAccount)
	case len(e.Roles) > 1:
		return fmt.Sprintf("%q names roles in %d accounts (%s): give %s or the ARN", e.Name, len(e.Roles), strings.Join(e.Roles, ", "), giveAccount)
	}
	return fmt.Sprintf("%q is not a user or role name but the session name of %d role sessions (%s): give one session's ARN, or the role's name or ARN for all its sessions", e.Name, len(e.Sessions), strings.Join(e.Sessions, ", "))
}

// Resolve understands an identity given as an ARN, an access key id, or a bare name: a user
// name, a role name, or a role session name, looked up in the lake (in account, unless ""). The
// classic confusion between a role's name and the name of its sessions is resolved explicitly:
// the answer says which it was, and an ambiguous name is an *AmbiguousError that lists the
// candidates. A name of nothing in the lake is a *NotFoundError, a malformed one an
// *InvalidError.
func Resolve(ctx context.Context, query answer.QueryFunc, name, account string) (Principal, error) {
	name = strings.TrimSpace(name)
	if accessKeyRE().MatchString(name) {
		return accessKey(ctx, query, name)
	}
	if m := arnRE().FindStringSubmatch(name); m != nil {
		return fromARN(name, m[1], m[2], m[3])
	}
	if strings.HasPrefix(name, "arn:") {
		return Principal{}, &InvalidError{name, "not an IAM or STS ARN (arn:aws:iam::ACCOUNT:user/NAME, …:role/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)"}
	}
	if !nameRE().MatchString(name) {
		return Principal{}, &InvalidError{name, "not a user, role or session name, ARN or access key id"}
	}
	inAcct, acctArgs := "", []any{}
	if account != "" {
		inAcct, acctArgs = " AND account = ?", []any{account}
	}
	if strings.EqualFold(name, "root") {
		res, err := query(ctx, `SELECT DISTINCT useridentity.arn FROM cloudtrail_logs WHERE useridentity.type = 'Root' AND useridentity.arn IS NOT NULL`+inAcct+` ORDER BY 1`, acctArgs...)
		if err != nil {
			return Principal{}, err
		}
		switch roots := res.Strings(); {
		case len(roots) == 1:
			return Principal{Value: roots[0], Kind: Root, How: "root user " + roots[0]}, nil
		case len(roots) > 1:
			return Principal{}, &AmbiguousError{Name: name, Account: account, Roots: roots}
		}
	}
	// One scan finds the name as a user name, a role name and a role session name.
	lower := strings.ToLower(name)
	res, err := query(ctx, `SELECT DISTINCT
       CASE WHEN useridentity.type = 'IAMUser' AND lower(useridentity.username) = ? THEN useridentity.arn END,
       CASE WHEN useridentity.type = 'AssumedRole' AND lower(useridentity.sessioncontext.sessionissuer.username) = ? THEN useridentity.sessioncontext.sessionissuer.arn END,
       CASE WHEN useridentity.type = 'AssumedRole' AND lower(split_part(useridentity.arn, '/', 3)) = ? THEN useridentity.arn END
FROM cloudtrail_logs
WHERE ((useridentity.type = 'IAMUser' AND lower(useridentity.username) = ?)
       OR (useridentity.type = 'AssumedRole' AND (lower(useridentity.sessioncontext.sessionissuer.username) = ? OR lower(split_part(useridentity.arn, '/', 3)) = ?)))`+inAcct,
		append([]any{lower, lower, lower, lower, lower, lower}, acctArgs...)...)
	if err != nil {
		return Principal{}, err
	}
	found := [3]map[string]bool{{}, {}, {}}
	for _, r := range res.Rows {
		for i := range found {
			if s := answer.String(r[i]); s != "" {
				found[i][s] = true
			}
		}
	}
	users, roles, sessions := slices.Sorted(maps.Keys(found[0])), slices.Sorted(maps.Keys(found[1])), slices.Sorted(maps.Keys(found[2]))
	also := func(kind string, arns []string) string {
		if len(arns) == 0 {
			return ""
		}
		shown := arns
		if len(shown) > 3 {
			shown = shown[:3]
		}
		more := ""
		if len(arns) > 3 {
			more = fmt.Sprintf(" and %d more", len(arns)-3)
		}
		give := "give that ARN to see it"
		if len(arns) > 1 {
			give = "give one of those ARNs to see it"
		}
		return fmt.Sprintf("; %q is also the %s of %s%s (%s)", name, kind, strings.Join(shown, ", "), more, give)
	}
	switch {
	case len(users) > 0 && len(roles) > 0, len(users) > 1, len(roles) > 1:
		return Principal{}, &AmbiguousError{Name: name, Account: account, Users: users, Roles: roles}
	case len(users) == 1:
		return Principal{Value: users[0], Kind: User, How: fmt.Sprintf("user name %q → IAM user %s%s", name, users[0], also("session name", sessions))}, nil
	case len(roles) == 1:
		return Principal{Value: roles[0], Kind: Role, How: fmt.Sprintf("role name %q → role %s, all its sessions%s", name, roles[0], also("session name", sessions))}, nil
	case len(sessions) == 1:
		role := strings.Split(sessions[0], "/")[1]
		return Principal{Value: sessions[0], Kind: Session, How: fmt.Sprintf("%q is not a user or role name but a role session name: session %s of role %s (the console's event history filters roles by session name; give the role name %q for all the role's sessions)", name, sessions[0], role, role)}, nil
	case len(sessions) > 1:
		return Principal{}, &AmbiguousError{Name: name, Account: account, Sessions: sessions}
	}
	return Principal{}, &NotFoundError{Name: name, Account: account}
}

// accessKey resolves an access key id, saying whose it is.
func accessKey(ctx context.Context, query answer.QueryFunc, key string) (Principal, error) {
	p := Principal{Value: key, Kind: AccessKey}
	res, err := query(ctx, `SELECT DISTINCT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) FROM cloudtrail_logs WHERE useridentity.accesskeyid = ? ORDER BY 1 LIMIT 5`, key)
	if err != nil {
		return p, err
	}
	switch {
	case strings.HasPrefix(key, "ASIA"):
		p.How = "temporary access key " + key + " (one session's credentials)"
	default:
		p.How = "access key " + key
	}
	if owners := res.Strings(); len(owners) > 0 {
		p.How += ", used by " + strings.Join(owners, ", ")
	} else {
		p.How += ", never used in the lake"
	}
	return p, nil
}

// fromARN understands an IAM or STS ARN (service, account and resource parts given).
func fromARN(arn, service, account, res string) (Principal, error) {
	switch {
	case service == "iam" && strings.HasPrefix(res, "user/"):
		return Principal{Value: arn, Kind: User, How: "IAM user " + arn}, nil
	case service == "iam" && strings.HasPrefix(res, "role/"):
		return Principal{Value: arn, Kind: Role, How: "role " + arn + " (all its sessions)"}, nil
	case service == "iam" && res == "root":
		return Principal{Value: arn, Kind: Root, How: "root user of account " + account}, nil
	case service == "sts" && strings.HasPrefix(res, "assumed-role/") && strings.Count(res, "/") == 2:
		parts := strings.Split(res, "/")
		return Principal{Value: arn, Kind: Session, How: fmt.Sprintf("session %q of role %s only (give the role's ARN for all its sessions)", parts[2], parts[1])}, nil
	case service == "sts" && strings.HasPrefix(res, "federated-user/"):
		return Principal{Value: arn, Kind: Federated, How: "federated user " + arn}, nil
	}
	return Principal{}, &InvalidError{arn, "not the ARN of an IAM user, role, root or role session"}
}

// Inventory returns the users and roles of an IAM inventory that name picks (every one when name
// is ""), in account unless "": a user or role name (ignoring case, see the package
// documentation), a user or role ARN, an assumed-role session ARN (its role), or a unique id
// (AIDA…, AROA…). A name can pick a user and a role. A name that picks nothing is a
// *NotFoundError; none left in the account is an empty list.
func Inventory(d *authz.Details, name, account string) ([]*authz.Principal, error) {
	name = strings.TrimSpace(name)
	ps := d.Principals()
	if name != "" {
		if ps = d.Lookup(name); len(ps) == 0 {
			return nil, &NotFoundError{Name: name, Account: account, Inventory: d.File}
		}
	}
	if account == "" {
		return ps, nil
	}
	var out []*authz.Principal
	for _, p := range ps {
		if p.Account == account {
			out = append(out, p)
		}
	}
	return out, nil
}
