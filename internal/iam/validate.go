package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// ManagedPolicyLimit is IAM's size limit of a customer managed policy document, in characters
// without whitespace.
const ManagedPolicyLimit = 6144

// PolicySize is the size IAM counts for a policy document: its characters, whitespace left out.
func PolicySize(doc []byte) int {
	n := 0
	for _, r := range string(doc) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

var sidRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]*$`) })

// ValidatePolicy checks an identity-based policy document against the IAM reference and returns
// its problems, none for a good policy: the grammar (Version, Effect, Action, Resource, Sid),
// every action documented (a wildcard matching some), every resource ARN of a resource type that
// every action of its statement accepts (an action that accepts only "*" gets no ARN), every
// condition key valid for every action of its statement or global, and the size within limit
// (0: ManagedPolicyLimit). NotAction and NotResource statements are checked for grammar only.
func ValidatePolicy(doc []byte, limit int) []string {
	if limit == 0 {
		limit = ManagedPolicyLimit
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var raw struct {
		Version   string
		Statement json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&raw); err != nil {
		return []string{"not a JSON policy document: " + err.Error()}
	}
	if raw.Version != "2012-10-17" {
		add("Version %q: want \"2012-10-17\"", raw.Version)
	}
	if n := PolicySize(doc); n > limit {
		add("%d characters without whitespace, over the limit of %d", n, limit)
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return append(problems, "Statement: not a statement or a list of statements")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		add("no statement")
	}
	sids := map[string]bool{}
	for i, st := range stmts {
		where := fmt.Sprintf("statement %d", i+1)
		var sid, effect string
		if v, ok := st["Sid"]; ok {
			if json.Unmarshal(v, &sid) != nil || !sidRE().MatchString(sid) {
				add("%s: Sid %s: letters and digits only", where, v)
			} else if sid != "" {
				where += " (" + sid + ")"
				if sids[sid] {
					add("%s: Sid used twice", where)
				}
				sids[sid] = true
			}
		}
		if json.Unmarshal(st["Effect"], &effect) != nil || effect != "Allow" && effect != "Deny" {
			add("%s: Effect %s: want Allow or Deny", where, st["Effect"])
		}
		for k := range st {
			switch k {
			case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
			default:
				add("%s: unknown element %s (an identity policy has no Principal)", where, k)
			}
		}
		actions, okA := stringOrList(st["Action"])
		_, notA := st["NotAction"]
		resources, okR := stringOrList(st["Resource"])
		_, notR := st["NotResource"]
		if !okA && !notA || okA && notA {
			add("%s: give Action or NotAction", where)
		}
		if !okR && !notR || okR && notR {
			add("%s: give Resource or NotResource", where)
		}
		var acts []Action
		for _, a := range actions {
			if strings.ContainsAny(a, "*?") {
				if len(Expand(a)) == 0 {
					add("%s: action %s matches no documented action", where, a)
				}
				continue // a pattern's resources and keys are not checked
			}
			act, ok := Exists(a)
			if !ok {
				add("%s: action %s is not in the IAM reference", where, a)
				continue
			}
			acts = append(acts, act)
		}
		for _, r := range resources {
			if r == "*" {
				continue
			}
			if !strings.HasPrefix(r, "arn:") {
				add("%s: resource %q is not an ARN or \"*\"", where, r)
				continue
			}
			for _, a := range acts {
				if len(ResourceTypes(a)) == 0 {
					add("%s: %s takes only Resource \"*\", not %s", where, a, r)
				} else if _, ok := MatchResource(a, r); !ok {
					add("%s: %s is of no resource type %s accepts (%s)", where, r, a, typeNames(a))
				}
			}
		}
		if c, ok := st["Condition"]; ok {
			var cond map[string]map[string]json.RawMessage
			if err := json.Unmarshal(c, &cond); err != nil {
				add("%s: Condition: want {operator: {key: value}}", where)
			}
			for op, keys := range cond {
				for key := range keys {
					for _, a := range acts {
						if !ConditionKeyValid(a, key) {
							add("%s: condition %s on %s: %s does not take that key", where, op, key, a)
						}
					}
				}
			}
		}
	}
	return problems
}

func typeNames(a Action) string {
	var n []string
	for _, rt := range ResourceTypes(a) {
		n = append(n, rt.Name+" "+rt.ARN)
	}
	return strings.Join(n, ", ")
}

// stringOrList reads a policy element that is a string or a list of strings.
func stringOrList(v json.RawMessage) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(v, &many) == nil && len(many) > 0 {
		return many, true
	}
	return nil, false
}
