package authz

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/trailsql/trailsql/internal/iam"
)

// Effect is a statement's Effect.
type Effect string

// The two effects of IAM policy statements.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is an IAM identity policy document: the one type for the policies read from an
// inventory (Parse, ParseDocument, json.Unmarshal) and the policies written (package policy;
// json.Marshal writes IAM's canonical form). Reading accepts every shape IAM does: a Statement
// object or list, Action, NotAction, Resource and NotResource as a string or a list, element
// names in any case, the document as an object, a JSON string or a URL-encoded string. Only what
// decides which actions are granted is kept; Principal (absent from identity policies) is ignored.
type Document struct {
	Version    string
	Statements []*Statement
}

// Statement is one statement of a policy document.
type Statement struct {
	// Index is the statement's position in the document's Statement list, from 0 (0 when the
	// Statement element is a single object).
	Index int
	Sid   string
	// Effect is Allow or Deny.
	Effect Effect
	// Actions and NotActions are the patterns of the Action or NotAction element, as written;
	// exactly one of them is set.
	Actions, NotActions []string
	// Resources and NotResources are the Resource and NotResource elements; a statement with
	// neither applies to every resource.
	Resources, NotResources []string
	// Condition is the Condition element as compact JSON with its keys sorted, "" when absent or
	// empty.
	Condition string

	once      sync.Once
	set       actionSet // the documented actions the statement applies to
	unmatched []string  // patterns that match no documented action
}

// AllResources reports whether the statement applies to every resource: Resource is "*" (alone or
// among others) and there is no NotResource.
func (s *Statement) AllResources() bool {
	if len(s.NotResources) > 0 {
		return false
	}
	return len(s.Resources) == 0 || slices.Contains(s.Resources, "*")
}

// Unconditional reports whether the statement applies to every resource without a condition.
func (s *Statement) Unconditional() bool { return s.AllResources() && s.Condition == "" }

// Matches returns the documented actions the statement applies to, in reference order: those
// its Action patterns match, or every documented action its NotAction patterns do not match.
func (s *Statement) Matches() []iam.Action {
	s.match()
	return s.set.actions()
}

// Unmatched returns the Action or NotAction patterns that match no documented action (typing
// errors, retired actions, services the reference does not know).
func (s *Statement) Unmatched() []string {
	s.match()
	return s.unmatched
}

// match expands the patterns once; statements of managed policies are shared by every principal
// the policy is attached to.
func (s *Statement) match() {
	s.once.Do(func() {
		r := universe()
		s.set = r.newSet()
		pats := s.Actions
		if len(s.NotActions) > 0 {
			pats = s.NotActions
		}
		for _, p := range pats {
			m := r.expand(p)
			if len(m) == 0 {
				s.unmatched = append(s.unmatched, p)
			}
			for _, i := range m {
				s.set.add(i)
			}
		}
		if len(s.NotActions) > 0 {
			s.set = s.set.complement(len(r.all))
		}
	})
}

// ParseDocument parses one IAM policy document (JSON, or URL-encoded JSON as the IAM API
// returns it).
func ParseDocument(data []byte) (*Document, error) {
	d := &decoder{}
	return d.parseDocument(string(data), "")
}

// UnmarshalJSON reads a policy document as ParseDocument does (given as a JSON string, the
// string's text is the document).
func (doc *Document) UnmarshalJSON(data []byte) error {
	d := &decoder{}
	v, err := d.decodeJSON(data, "")
	if err != nil {
		return err
	}
	parsed, err := d.parseDocument(v, "")
	if err != nil {
		return err
	}
	doc.Version, doc.Statements = parsed.Version, parsed.Statements
	return nil
}

// MarshalJSON writes the document as IAM writes policies: Version, then Statement, always a list.
func (doc *Document) MarshalJSON() ([]byte, error) {
	sts := doc.Statements
	if sts == nil {
		sts = []*Statement{}
	}
	return json.Marshal(struct {
		Version   string       `json:"Version"`
		Statement []*Statement `json:"Statement"`
	}{doc.Version, sts})
}

// MarshalJSON writes the statement in IAM's order (Sid, Effect, Action or NotAction, Resource or
// NotResource, Condition): Action and NotAction as lists, a Resource that is "*" alone as the
// string "*", other resources as a list.
func (s *Statement) MarshalJSON() ([]byte, error) {
	resources := func(rs []string) any {
		if len(rs) == 1 && rs[0] == "*" {
			return "*"
		}
		if len(rs) == 0 {
			return nil
		}
		return rs
	}
	var cond json.RawMessage
	if s.Condition != "" {
		cond = json.RawMessage(s.Condition)
	}
	return json.Marshal(struct {
		Sid         string          `json:"Sid,omitempty"`
		Effect      Effect          `json:"Effect"`
		Action      []string        `json:"Action,omitempty"`
		NotAction   []string        `json:"NotAction,omitempty"`
		Resource    any             `json:"Resource,omitempty"`
		NotResource any             `json:"NotResource,omitempty"`
		Condition   json.RawMessage `json:"Condition,omitempty"`
	}{s.Sid, s.Effect, s.Actions, s.NotActions, resources(s.Resources), resources(s.NotResources), cond})
}

// parseDocument parses a policy document value (object or string) found at path.
func (d *decoder) parseDocument(v any, path string) (*Document, error) {
	m, err := d.document(v, path)
	if err != nil {
		return nil, err
	}
	doc := &Document{}
	if doc.Version, err = d.str(m, "Version", path, false); err != nil {
		return nil, err
	}
	sv, ok := field(m, "Statement")
	if !ok {
		return nil, d.errf(path, "policy document has no Statement")
	}
	sp := join(path, "Statement")
	switch x := sv.(type) {
	case map[string]any:
		st, err := d.parseStatement(x, sp, 0)
		if err != nil {
			return nil, err
		}
		doc.Statements = []*Statement{st}
	case []any:
		for i, e := range x {
			m, err := d.object(e, index(sp, i))
			if err != nil {
				return nil, err
			}
			st, err := d.parseStatement(m, index(sp, i), i)
			if err != nil {
				return nil, err
			}
			doc.Statements = append(doc.Statements, st)
		}
	default:
		return nil, d.errf(sp, "want an object or an array of objects, got %s", typeName(sv))
	}
	return doc, nil
}

func (d *decoder) parseStatement(m map[string]any, path string, i int) (*Statement, error) {
	st := &Statement{Index: i}
	var err error
	if st.Sid, err = d.str(m, "Sid", path, false); err != nil {
		return nil, err
	}
	eff, err := d.str(m, "Effect", path, true)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.EqualFold(eff, "Allow"):
		st.Effect = Allow
	case strings.EqualFold(eff, "Deny"):
		st.Effect = Deny
	default:
		return nil, d.errf(join(path, "Effect"), "want \"Allow\" or \"Deny\", got %q", eff)
	}
	var hasA, hasNA, hasR, hasNR bool
	if st.Actions, hasA, err = d.stringList(m, "Action", path); err != nil {
		return nil, err
	}
	if st.NotActions, hasNA, err = d.stringList(m, "NotAction", path); err != nil {
		return nil, err
	}
	switch {
	case hasA && hasNA:
		return nil, d.errf(path, "statement has both Action and NotAction")
	case !hasA && !hasNA:
		return nil, d.errf(path, "statement has neither Action nor NotAction")
	case hasNA && len(st.NotActions) == 0:
		// An empty NotAction would allow or deny everything; IAM rejects it, so a file holding
		// one is damaged.
		return nil, d.errf(join(path, "NotAction"), "empty NotAction")
	}
	if st.Resources, hasR, err = d.stringList(m, "Resource", path); err != nil {
		return nil, err
	}
	if st.NotResources, hasNR, err = d.stringList(m, "NotResource", path); err != nil {
		return nil, err
	}
	if hasR && hasNR {
		return nil, d.errf(path, "statement has both Resource and NotResource")
	}
	if c, ok := field(m, "Condition"); ok && c != nil {
		cm, err := d.object(c, join(path, "Condition"))
		if err != nil {
			return nil, err
		}
		if len(cm) > 0 {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(cm); err != nil { // maps encode with sorted keys
				return nil, d.errf(join(path, "Condition"), "%v", err)
			}
			st.Condition = strings.TrimSpace(buf.String())
		}
	}
	return st, nil
}

// ref is the documented actions in reference order, with an index for pattern matching.
type ref struct {
	all    []iam.Action
	names  []string // all[i].String()
	levels []string // iam.AccessLevel(all[i])
	pos    map[iam.Action]int
	mu     sync.Mutex
	cache  map[string][]int
}

// universe is built once from package iam's embedded reference, which never changes while the
// program runs; the pattern cache only memoises a pure function.
var universe = sync.OnceValue(func() *ref {
	all := iam.Expand("*")
	r := &ref{all: all, pos: make(map[iam.Action]int, len(all)), cache: map[string][]int{},
		names: make([]string, len(all)), levels: make([]string, len(all))}
	for i, a := range all {
		r.pos[a] = i
		r.names[i], r.levels[i] = a.String(), iam.AccessLevel(a)
	}
	return r
})

// expand returns the positions of the actions a pattern matches (iam.Expand's rules).
func (r *ref) expand(pattern string) []int {
	key := strings.ToLower(pattern)
	r.mu.Lock()
	m, ok := r.cache[key]
	r.mu.Unlock()
	if ok {
		return m
	}
	for _, a := range iam.Expand(pattern) {
		if i, ok := r.pos[a]; ok {
			m = append(m, i)
		}
	}
	r.mu.Lock()
	r.cache[key] = m
	r.mu.Unlock()
	return m
}

func (r *ref) newSet() actionSet { return make(actionSet, (len(r.all)+63)/64) }

// actionSet is a set of documented actions, one bit per position in the reference.
type actionSet []uint64

func (s actionSet) add(i int)        { s[i>>6] |= 1 << (uint(i) & 63) }
func (s actionSet) has(i int) bool   { return s[i>>6]&(1<<(uint(i)&63)) != 0 }
func (s actionSet) clone() actionSet { return slices.Clone(s) }

func (s actionSet) or(t actionSet) {
	for i := range s {
		s[i] |= t[i]
	}
}

func (s actionSet) and(t actionSet) {
	for i := range s {
		s[i] &= t[i]
	}
}

func (s actionSet) andNot(t actionSet) {
	for i := range s {
		s[i] &^= t[i]
	}
}

func (s actionSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

func (s actionSet) complement(n int) actionSet {
	out := make(actionSet, len(s))
	for i := range s {
		out[i] = ^s[i]
	}
	if r := n % 64; r != 0 {
		out[len(out)-1] &= 1<<uint(r) - 1
	}
	return out
}

// each calls f with every position in the set, ascending.
func (s actionSet) each(f func(i int)) {
	for wi, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			f(wi*64 + b)
			w &= w - 1
		}
	}
}

func (s actionSet) actions() []iam.Action {
	r := universe()
	var out []iam.Action
	s.each(func(i int) { out = append(out, r.all[i]) })
	return out
}
