package pattern

import (
	"strconv"
	"strings"
)

// String returns the pattern in a canonical form that Parse reads back to the same pattern:
// single spaces, parentheses only where || is inside &&, strings quoted.
func (p *Pattern) String() string {
	var b strings.Builder
	b.WriteString("{ ")
	writeNode(&b, p.root, false)
	b.WriteString(" }")
	return b.String()
}

func writeNode(b *strings.Builder, n node, inAnd bool) {
	switch n := n.(type) {
	case *orNode:
		if inAnd {
			b.WriteByte('(')
		}
		for i, t := range n.terms {
			if i > 0 {
				b.WriteString(" || ")
			}
			writeNode(b, t, false)
		}
		if inAnd {
			b.WriteByte(')')
		}
	case *andNode:
		for i, t := range n.terms {
			if i > 0 {
				b.WriteString(" && ")
			}
			writeNode(b, t, true)
		}
	case *cond:
		b.WriteString(n.String())
	}
}

// String returns the condition as a pattern writes it.
func (c *cond) String() string {
	s := c.sel.String() + " " + c.op.String()
	if c.op.compares() {
		s += " " + c.val.String()
	}
	return s
}

// String returns the selector as a pattern writes it.
func (s selector) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, seg := range s.Segments {
		switch seg.Kind {
		case segName:
			if plainName(seg.Name) {
				b.WriteString("." + seg.Name)
				break
			}
			q := "'"
			if strings.Contains(seg.Name, "'") {
				q = `"`
			}
			b.WriteString("[" + q + seg.Name + q + "]")
		case segIndex:
			b.WriteString("[" + strconv.Itoa(seg.Index) + "]")
		case segWildcard:
			if seg.bracket {
				b.WriteString("[*]")
			} else {
				b.WriteString(".*")
			}
		}
	}
	return b.String()
}

// plainName reports whether a property name can be written after a dot.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// String returns the literal as a pattern writes it: a number as written, a regex in percent
// signs, a string quoted with its wildcards.
func (v value) String() string {
	switch v.Kind {
	case valNumber:
		return v.Text
	case valRegex:
		return "%" + v.Text + "%"
	}
	var b strings.Builder
	b.WriteByte('"')
	if v.Prefix {
		b.WriteByte('*')
	}
	for i := 0; i < len(v.Text); i++ {
		c := v.Text[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
		case c == '*' && (i == 0 && !v.Prefix || i == len(v.Text)-1 && !v.Suffix):
			b.WriteByte('\\') // a star that would read as a wildcard
		}
		b.WriteByte(c)
	}
	if v.Suffix {
		b.WriteByte('*')
	}
	b.WriteByte('"')
	return b.String()
}
