package questions

import (
	"context"
	"fmt"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
)

// Request is what a caller gives a question, before names are resolved in the lake: every
// front end (the CLI's flags, the server's parameters, a rule) checks it with Check.
type Request struct {
	// Principal is the identity as the caller named it ("" for none).
	Principal string
	// BaselineDays, when BaselineGiven, is the baseline of new-behaviour in days.
	BaselineDays  int
	BaselineGiven bool
	// Inventory says an IAM inventory was given.
	Inventory bool
}

// The problems a ParamError names.
const (
	Missing  = "missing"   // the question needs the parameter
	NotTaken = "not taken" // the question has no such parameter
	Invalid  = "invalid"   // the value cannot be used
)

// ParamError is a parameter a question cannot be asked with: Param is principal, baseline or
// inventory. Its text names the parameter, not a front end's flag: front ends word it their way.
type ParamError struct {
	Question, Param, Problem string
	Reason                   string
}

func (e *ParamError) Error() string {
	switch e.Problem {
	case Missing:
		return fmt.Sprintf("question %s needs a %s", e.Question, e.Param)
	case NotTaken:
		return fmt.Sprintf("question %s takes no %s", e.Question, e.Param)
	}
	return fmt.Sprintf("question %s: %s: %s", e.Question, e.Param, e.Reason)
}

// Check says whether q can be asked with r.
func (q Question) Check(r Request) error {
	switch {
	case q.Needs("baseline_from") && r.BaselineDays <= 0:
		return &ParamError{Question: q.Name, Param: "baseline", Problem: Invalid, Reason: "give a positive number of days"}
	case !q.Needs("baseline_from") && r.BaselineGiven:
		return &ParamError{Question: q.Name, Param: "baseline", Problem: NotTaken}
	case q.Needs("principal") && r.Principal == "":
		return &ParamError{Question: q.Name, Param: "principal", Problem: Missing}
	case r.Principal != "" && !q.Accepts("principal"):
		return &ParamError{Question: q.Name, Param: "principal", Problem: NotTaken}
	case q.Needs("inventory") && !r.Inventory:
		return &ParamError{Question: q.Name, Param: "inventory", Problem: Missing}
	case !q.Needs("inventory") && r.Inventory:
		return &ParamError{Question: q.Name, Param: "inventory", Problem: NotTaken}
	}
	return nil
}

// CheckPrincipal says whether the resolved principal, of kind (user, role, session, root,
// federated, access key), suits q: access-key needs an access key id.
func (q Question) CheckPrincipal(kind, how string) error {
	if q.Name == "access-key" && kind != "access key" {
		return &ParamError{Question: q.Name, Param: "principal", Problem: Invalid, Reason: "needs an access key id (AKIA… or ASIA…); it is " + how}
	}
	return nil
}

// Answer asks q with p through query.
func (q Question) Answer(ctx context.Context, query answer.QueryFunc, p Params) (*answer.Result, error) {
	sql, args, err := q.Build(p)
	if err != nil {
		return nil, err
	}
	res, err := query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("question %s: %w", q.Name, err)
	}
	return res, nil
}

// Inventory lists the users and roles of an IAM inventory (of one account when account is not
// ""), as inactive-identities takes them. It is empty when the inventory has none: the caller says
// so, naming where the inventory came from.
func Inventory(d *authz.Details, account string) []Identity {
	var out []Identity
	for _, p := range d.Principals() {
		if account != "" && p.Account != account {
			continue
		}
		id := Identity{Kind: string(p.Type), Name: p.Name, ARN: p.ARN}
		if !p.CreateDate.IsZero() {
			id.Created = TimeText(p.CreateDate)
		}
		out = append(out, id)
	}
	return out
}
