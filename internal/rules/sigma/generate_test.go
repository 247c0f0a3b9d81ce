package sigma

// An event generator for the tests, written apart from the compiler so that the tests are not
// circular: it reads a rule's detection as plain YAML data, builds a minimal CloudTrail record
// that satisfies the condition's selections (in swapped letter case where Sigma ignores case),
// and derives the records that must not match: each tested field changed, and each filter the
// condition negates made true.

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// genEvent is a CloudTrail record under construction, and what it is for.
type genEvent struct {
	record map[string]any
	why    string
}

// generated are the events of one rule.
type generated struct {
	match, noMatch []genEvent
}

// payloadFields are the CloudTrail fields whose value is a JSON object.
var payloadFields = map[string]bool{"requestParameters": true, "responseElements": true, "additionalEventData": true, "serviceEventDetails": true}

// generate builds the events of a rule file's detection. It understands the conditions the
// shared rules use: identifiers and "1 of"/"all of" patterns joined by and, each possibly
// negated. Anything else is an error, so a new rule shape needs hand-written cases.
func generate(data []byte) (*generated, error) {
	var doc struct {
		Detection map[string]any `yaml:"detection"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	cond, ok := doc.Detection["condition"].(string)
	if !ok {
		return nil, fmt.Errorf("condition is not one string")
	}
	var names []string
	for k := range doc.Detection {
		if k != "condition" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	// Each positive term is a set of alternatives (one for an identifier, several for "1 of").
	var positive [][]string
	var negative []string
	words := strings.Fields(cond)
	for i := 0; i < len(words); i++ {
		neg := false
		if words[i] == "not" {
			neg = true
			i++
		}
		if i >= len(words) {
			return nil, fmt.Errorf("condition %q ends early", cond)
		}
		var group []string
		all := false
		if i+2 < len(words) && words[i+1] == "of" {
			all = words[i] == "all"
			if !all && words[i] != "1" {
				return nil, fmt.Errorf("condition %q: quantifier %q", cond, words[i])
			}
			pat := strings.ReplaceAll(words[i+2], "*", "")
			for _, n := range names {
				if strings.HasPrefix(n, pat) {
					group = append(group, n)
				}
			}
			i += 2
		} else {
			if strings.ContainsAny(words[i], "()") {
				return nil, fmt.Errorf("condition %q has parentheses", cond)
			}
			group = []string{words[i]}
		}
		switch {
		case neg:
			negative = append(negative, group...)
		case all:
			for _, g := range group {
				positive = append(positive, []string{g})
			}
		default:
			positive = append(positive, group)
		}
		if i+1 < len(words) {
			i++
			if words[i] != "and" {
				return nil, fmt.Errorf("condition %q: the generator handles and only, found %q", cond, words[i])
			}
		}
	}
	g := &generated{}
	// One matching event per alternative of each positive term, the others at their first.
	choices := [][]int{make([]int, len(positive))}
	for t, alts := range positive {
		for a := 1; a < len(alts); a++ {
			c := make([]int, len(positive))
			c[t] = a
			choices = append(choices, c)
		}
	}
	for _, choice := range choices {
		for _, swap := range []bool{false, true} {
			ev := map[string]any{}
			var tested []setField
			var why []string
			for t, alts := range positive {
				sel := alts[choice[t]]
				why = append(why, sel)
				fs, err := satisfy(ev, doc.Detection[sel], swap)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", sel, err)
				}
				tested = append(tested, fs...)
			}
			label := strings.Join(why, "+")
			if swap {
				label += " (letter case swapped)"
			}
			g.match = append(g.match, genEvent{ev, label})
			for _, f := range tested {
				ch := deepCopy(ev)
				if f.absent {
					setPath(ch, f.path, "~")
				} else if f.anything {
					deletePath(ch, f.path)
				} else {
					setPath(ch, f.path, "~")
				}
				g.noMatch = append(g.noMatch, genEvent{ch, label + ": " + strings.Join(f.path, ".") + " changed"})
			}
			for _, sel := range negative {
				for k, m := range selMaps(doc.Detection[sel]) {
					ch := deepCopy(ev)
					if _, err := satisfy(ch, m, swap); err != nil {
						return nil, fmt.Errorf("%s: %w", sel, err)
					}
					g.noMatch = append(g.noMatch, genEvent{ch, fmt.Sprintf("%s with %s[%d] true", label, sel, k)})
				}
			}
		}
	}
	return g, nil
}

// setField is a field the generator set (or left out, for null).
type setField struct {
	path     []string
	absent   bool // the selection wants it null: the event leaves it out
	anything bool // any value matches: only leaving it out changes the outcome
}

// selMaps returns a selection's maps: itself, or the elements of a list of maps.
func selMaps(sel any) []map[string]any {
	switch s := sel.(type) {
	case map[string]any:
		return []map[string]any{s}
	case []any:
		var out []map[string]any
		for _, e := range s {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// satisfy sets the fields of a selection's first map in ev so that it matches.
func satisfy(ev map[string]any, sel any, swap bool) ([]setField, error) {
	ms := selMaps(sel)
	if len(ms) == 0 {
		return nil, fmt.Errorf("not a map or a list of maps: %v", sel)
	}
	m := ms[0]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []setField
	for _, k := range keys {
		parts := strings.Split(k, "|")
		field, mods := parts[0], parts[1:]
		path := strings.Split(field, ".")
		if len(path) == 1 && payloadFields[field] {
			path = append(path, "sigmaTest") // a payload's JSON text: put the value in a member
		}
		var values []any
		switch v := m[k].(type) {
		case []any:
			values = v
		default:
			values = []any{v}
		}
		if len(values) == 1 && values[0] == nil {
			out = append(out, setField{path: path, absent: true})
			continue
		}
		has := func(mod string) bool { return slices.Contains(mods, mod) }
		var texts []string
		for _, v := range values {
			if v != nil {
				texts = append(texts, fmt.Sprint(v))
			}
		}
		if !has("all") {
			texts = texts[:1]
		}
		var s string
		switch {
		case has("re"):
			re, err := syntax.Parse(texts[0], syntax.Perl)
			if err != nil {
				return nil, err
			}
			s = sampleRegexp(re)
		case has("fieldref"):
			s = "Same-Value-42"
			other := strings.Split(texts[0], ".")
			setPath(ev, other, swapCase(s, swap))
		case has("exists"):
			s = "present"
		default:
			var parts []string
			for _, t := range texts {
				lit := unwild(t)
				switch {
				case has("contains"):
					lit = "pre " + lit + " post"
				case has("startswith"):
					lit += " post"
				case has("endswith"):
					lit = "pre " + lit
				}
				parts = append(parts, swapCase(lit, swap && !has("cased")))
			}
			s = strings.Join(parts, " ")
		}
		setPath(ev, path, s)
		anything := has("exists") || len(texts) == 1 && strings.Trim(texts[0], "*") == "" && (has("contains") || texts[0] != "")
		out = append(out, setField{path: path, anything: anything})
	}
	return out, nil
}

// unwild turns a Sigma value into text it matches: wildcards become nothing (*) or a letter (?).
func unwild(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v) && strings.IndexByte(`*?\`, v[i+1]) >= 0:
			b.WriteByte(v[i+1])
			i++
		case c == '*':
		case c == '?':
			b.WriteByte('Q')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// swapCase swaps the case of every letter when swap is set.
func swapCase(s string, swap bool) string {
	if !swap {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// sampleRegexp returns a short text the expression matches.
func sampleRegexp(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			return string(re.Rune[0])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return "a"
	case syntax.OpCapture, syntax.OpPlus:
		return sampleRegexp(re.Sub[0])
	case syntax.OpRepeat:
		return strings.Repeat(sampleRegexp(re.Sub[0]), re.Min)
	case syntax.OpConcat:
		var b strings.Builder
		for _, s := range re.Sub {
			b.WriteString(sampleRegexp(s))
		}
		return b.String()
	case syntax.OpAlternate:
		return sampleRegexp(re.Sub[0])
	}
	return ""
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func deletePath(m map[string]any, path []string) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}
