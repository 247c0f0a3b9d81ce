package roweval

import (
	"strings"
	"unicode/utf8"
)

// likeNode is x [NOT] LIKE pattern [ESCAPE e]: % is any run of characters, _ one character;
// after the escape character any character stands for itself, and a pattern ending in the
// escape character is an error, as in the engine. No ESCAPE: no escape character.
type likeNode struct {
	x, pat, esc node
	not         bool
	m           *likeMatcher // when the pattern and escape are literals
}

func (n *likeNode) typ() vtype { return yBool }

func newLike(x, pat, esc node, not bool) (node, error) {
	for _, k := range []node{x, pat, esc} {
		if k != nil {
			if t := k.typ(); !t.stringy() && t != yNull {
				return nil, unsupportedf("LIKE over %s", t)
			}
		}
	}
	n := &likeNode{x: x, pat: pat, esc: esc, not: not}
	pl, ok := pat.(*litNode)
	if !ok || pl.v.k != kStr {
		return n, nil
	}
	var escape rune = -1
	if esc != nil {
		el, ok := esc.(*litNode)
		if !ok || el.v.k != kStr {
			return n, nil
		}
		r, err := escapeRune(el.v.s)
		if err != nil {
			return nil, err
		}
		escape = r
	}
	if n.m = compileLike(pl.v.s, escape); n.m.kind == likeNever {
		return nil, errorf("the LIKE pattern %q must not end with the escape character", pl.v.s)
	}
	return n, nil
}

func escapeRune(s string) (rune, error) {
	if utf8.RuneCountInString(s) != 1 {
		return 0, errorf("the LIKE escape must be one character, not %q", s)
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r, nil
}

func (n *likeNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k == kNull {
		return null, err
	}
	m := n.m
	if m == nil {
		p, err := n.pat.eval(e)
		if err != nil || p.k == kNull {
			return null, err
		}
		var escape rune = -1
		if n.esc != nil {
			ev, err := n.esc.eval(e)
			if err != nil || ev.k == kNull {
				return null, err
			}
			if escape, err = escapeRune(ev.text()); err != nil {
				return null, err
			}
		}
		if m = compileLike(p.text(), escape); m.kind == likeNever {
			return null, errorf("the LIKE pattern %q must not end with the escape character", p.text())
		}
	}
	return boolVal(m.match(v.text()) != n.not), nil
}

// likeMatcher is a compiled LIKE pattern.
type likeMatcher struct {
	kind  int // likeExact, likePrefix, likeSuffix, likeContains, likeGeneral, likeNever
	lit   string
	parts []likePart
}

const (
	likeGeneral = iota
	likeExact
	likePrefix
	likeSuffix
	likeContains
	likeNever // a pattern ending in the escape character
)

type likePart struct {
	any bool // %
	one bool // _
	r   rune
}

func compileLike(p string, escape rune) *likeMatcher {
	m := &likeMatcher{}
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == escape:
			if i+1 >= len(rs) {
				return &likeMatcher{kind: likeNever}
			}
			i++
			m.parts = append(m.parts, likePart{r: rs[i]})
		case r == '%':
			if len(m.parts) == 0 || !m.parts[len(m.parts)-1].any {
				m.parts = append(m.parts, likePart{any: true})
			}
		case r == '_':
			m.parts = append(m.parts, likePart{one: true})
		default:
			m.parts = append(m.parts, likePart{r: r})
		}
	}
	// The usual shapes (text, text%, %text, %text%) are string functions.
	lits := 0
	for _, pt := range m.parts {
		if pt.one {
			return m
		}
		if !pt.any {
			lits++
		}
	}
	var b strings.Builder
	for _, pt := range m.parts {
		if !pt.any {
			b.WriteRune(pt.r)
		}
	}
	m.lit = b.String()
	np := len(m.parts)
	starts := np > 0 && m.parts[0].any
	ends := np > 0 && m.parts[np-1].any
	inner := 0
	for i, pt := range m.parts {
		if pt.any && i != 0 && i != np-1 {
			inner++
		}
	}
	switch {
	case inner > 0:
	case !starts && !ends:
		m.kind = likeExact
	case starts && ends && np > 1:
		m.kind = likeContains
	case starts && np == 1:
		m.kind, m.lit = likeContains, ""
	case ends:
		m.kind = likePrefix
	default:
		m.kind = likeSuffix
	}
	return m
}

func (m *likeMatcher) match(s string) bool {
	switch m.kind {
	case likeExact:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	case likeNever:
		return false
	}
	return likeRunes(m.parts, []rune(s))
}

// likeRunes matches with backtracking to the last %.
func likeRunes(ps []likePart, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		if pi < len(ps) {
			p := ps[pi]
			if p.any {
				star, mark = pi, si
				pi++
				continue
			}
			if p.one || p.r == s[si] {
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		mark++
		si = mark
	}
	for pi < len(ps) && ps[pi].any {
		pi++
	}
	return pi == len(ps)
}
