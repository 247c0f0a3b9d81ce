// Package principal resolves an identity as a person names it — an IAM user, role or role
// session name, an ARN, an access key id — to the value the questions' principal predicate
// matches (questions.PrincipalPredicate): a user, role or session ARN, or an access key id.
// Bare names are looked up in the lake, through an answer.QueryFunc, so the CLI, the server and
// the rules resolve names alike, over the local engine or Athena.
//
// Names are matched as CloudTrail records them, case and all: CloudTrail writes the name as it
// was created, and IAM, though it refuses two names that differ only in case, shows and matches
// ARNs with their case (an ARN in a policy is case-sensitive).
package principal

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/trailsql/trailsql/internal/answer"
)

// Principal is an identity resolved to the value the principal predicate matches.
type Principal struct {
	Value string
	Kind  string // user, role, session, root, federated, access key
	// How says how the name was understood, for the answer's header.
	How string
}

// AccountWord is how an error tells to restrict the lookup to one account; front ends replace
// it with their own words (the CLI's --account).
const AccountWord = "the account"

// Error is a name that could not be resolved to one identity: not a name, ARN or key at all,
// found nowhere (NotFound), or naming several (Ambiguous). Its text is the name then Detail;
// front ends put their own words for the name's field before it.
type Error struct {
	Name   string
	Detail string
	// Bare says the name is shown as it is (root), not quoted.
	Bare                bool
	NotFound, Ambiguous bool
}

func (e *Error) Error() string { return "principal " + e.NameText() + e.Detail }

// NameText is the name as the message shows it.
func (e *Error) NameText() string {
	if e.Bare {
		return e.Name
	}
	return fmt.Sprintf("%q", e.Name)
}

var (
	accessKeyRE = regexp.MustCompile(`^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}$`)
	arnRE       = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(.+)$`)
	nameRE      = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// Resolve understands an identity given as an ARN, an access key id, or a bare name: a
// user name, a role name, or a role session name, looked up in the lake. The classic confusion
// between a role's name and the name of its sessions is resolved explicitly: the answer says which
// it was, and an ambiguous name is an error that lists the candidates.
func Resolve(ctx context.Context, query answer.QueryFunc, name, account string) (Principal, error) {
	name = strings.TrimSpace(name)
	if accessKeyRE.MatchString(name) {
		p := Principal{Value: name, Kind: "access key"}
		owners, err := answer.Strings(ctx, query, `SELECT DISTINCT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) FROM cloudtrail_logs WHERE useridentity.accesskeyid = ? ORDER BY 1 LIMIT 5`, name)
		if err != nil {
			return p, err
		}
		switch {
		case strings.HasPrefix(name, "ASIA"):
			p.How = "temporary access key " + name + " (one session's credentials)"
		default:
			p.How = "access key " + name
		}
		if len(owners) > 0 {
			p.How += ", used by " + strings.Join(owners, ", ")
		} else {
			p.How += ", never used in the lake"
		}
		return p, nil
	}
	if m := arnRE.FindStringSubmatch(name); m != nil {
		service, res := m[1], m[3]
		switch {
		case service == "iam" && strings.HasPrefix(res, "user/"):
			return Principal{Value: name, Kind: "user", How: "IAM user " + name}, nil
		case service == "iam" && strings.HasPrefix(res, "role/"):
			return Principal{Value: name, Kind: "role", How: "role " + name + " (all its sessions)"}, nil
		case service == "iam" && res == "root":
			return Principal{Value: name, Kind: "root", How: "root user of account " + m[2]}, nil
		case service == "sts" && strings.HasPrefix(res, "assumed-role/") && strings.Count(res, "/") == 2:
			parts := strings.Split(res, "/")
			return Principal{Value: name, Kind: "session", How: fmt.Sprintf("session %q of role %s only (give the role's ARN for all its sessions)", parts[2], parts[1])}, nil
		case service == "sts" && strings.HasPrefix(res, "federated-user/"):
			return Principal{Value: name, Kind: "federated", How: "federated user " + name}, nil
		}
		return Principal{}, &Error{Name: name, Detail: ": not the ARN of an IAM user, role, root or role session"}
	}
	if strings.HasPrefix(name, "arn:") {
		return Principal{}, &Error{Name: name, Detail: ": not an IAM or STS ARN (arn:aws:iam::ACCOUNT:user/NAME, …:role/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)"}
	}
	if !nameRE.MatchString(name) {
		return Principal{}, &Error{Name: name, Detail: ": not a user, role or session name, ARN or access key id"}
	}
	inAcct, acctArgs := "", []any{}
	if account != "" {
		inAcct, acctArgs = " AND account = ?", []any{account}
	}
	if name == "root" {
		roots, err := answer.Strings(ctx, query, `SELECT DISTINCT useridentity.arn FROM cloudtrail_logs WHERE useridentity.type = 'Root' AND useridentity.arn IS NOT NULL`+inAcct+` ORDER BY 1`, acctArgs...)
		if err != nil {
			return Principal{}, err
		}
		if len(roots) == 1 {
			return Principal{Value: roots[0], Kind: "root", How: "root user " + roots[0]}, nil
		}
		if len(roots) > 1 {
			return Principal{}, &Error{Name: "root", Bare: true, Detail: fmt.Sprintf(": the root users of %d accounts are in the lake (%s); give %s or the ARN", len(roots), strings.Join(roots, ", "), AccountWord), Ambiguous: true}
		}
	}
	// One scan finds the name as a user name, a role name and a role session name.
	res, err := query(ctx, `SELECT DISTINCT
       CASE WHEN useridentity.type = 'IAMUser' AND useridentity.username = ? THEN useridentity.arn END,
       CASE WHEN useridentity.type = 'AssumedRole' AND useridentity.sessioncontext.sessionissuer.username = ? THEN useridentity.sessioncontext.sessionissuer.arn END,
       CASE WHEN useridentity.type = 'AssumedRole' AND split_part(useridentity.arn, '/', 3) = ? THEN useridentity.arn END
FROM cloudtrail_logs
WHERE ((useridentity.type = 'IAMUser' AND useridentity.username = ?)
       OR (useridentity.type = 'AssumedRole' AND (useridentity.sessioncontext.sessionissuer.username = ? OR split_part(useridentity.arn, '/', 3) = ?)))`+inAcct,
		append([]any{name, name, name, name, name, name}, acctArgs...)...)
	if err != nil {
		return Principal{}, err
	}
	found := [3]map[string]bool{{}, {}, {}}
	for _, r := range res.Rows {
		for i := range found {
			if s, _ := r[i].(string); s != "" {
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
	inAccount := ""
	if account != "" {
		inAccount = " in account " + account
	}
	switch {
	case len(users) > 0 && len(roles) > 0:
		return Principal{}, &Error{Name: name, Detail: fmt.Sprintf(" names both IAM user %s and role %s%s: give the ARN", strings.Join(users, ", "), strings.Join(roles, ", "), inAccount), Ambiguous: true}
	case len(users) > 1:
		return Principal{}, &Error{Name: name, Detail: fmt.Sprintf(" names IAM users in %d accounts (%s): give %s or the ARN", len(users), strings.Join(users, ", "), AccountWord), Ambiguous: true}
	case len(roles) > 1:
		return Principal{}, &Error{Name: name, Detail: fmt.Sprintf(" names roles in %d accounts (%s): give %s or the ARN", len(roles), strings.Join(roles, ", "), AccountWord), Ambiguous: true}
	case len(users) == 1:
		return Principal{Value: users[0], Kind: "user", How: fmt.Sprintf("user name %q → IAM user %s%s", name, users[0], also("session name", sessions))}, nil
	case len(roles) == 1:
		return Principal{Value: roles[0], Kind: "role", How: fmt.Sprintf("role name %q → role %s, all its sessions%s", name, roles[0], also("session name", sessions))}, nil
	case len(sessions) == 1:
		role := strings.Split(sessions[0], "/")[1]
		return Principal{Value: sessions[0], Kind: "session", How: fmt.Sprintf("%q is not a user or role name but a role session name: session %s of role %s (the console's event history filters roles by session name; give the role name %q for all the role's sessions)", name, sessions[0], role, role)}, nil
	case len(sessions) > 1:
		return Principal{}, &Error{Name: name, Detail: fmt.Sprintf(" is not a user or role name but the session name of %d role sessions (%s): give one session's ARN, or the role's name or ARN for all its sessions", len(sessions), strings.Join(sessions, ", ")), Ambiguous: true}
	}
	return Principal{}, &Error{Name: name, Detail: fmt.Sprintf(": no IAM user, role or role session of that name in the lake%s (names are case-sensitive; an ARN or access key id also works)", inAccount), NotFound: true}
}
