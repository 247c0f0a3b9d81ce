package roweval

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The engine keeps JSON values as VARCHAR holding JSON text, read and written by DuckDB's JSON
// reader (yyjson): a document with trailing commas, NaN or Infinity is valid, a lone surrogate
// or a comment is not; a member is found by its first occurrence; numbers are printed again as
// yyjson prints them (integers as written, doubles in their shortest form with ".0" or an
// exponent, integers too large for 64 bits and doubles out of range as written). This file
// reproduces that reader and writer over a small tree.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

// jnode is one JSON value. For jNum, s is the number as the engine prints it; for jBool,
// "true" or "false"; for jStr the unescaped text.
type jnode struct {
	k    jkind
	s    string
	keys []string
	kids []*jnode
}

// parseJSON parses a document; ok is false when the engine's json_valid would say it is not
// valid.
func parseJSON(s string) (*jnode, bool) {
	p := jparser{s: s}
	p.ws()
	n, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, false
	}
	return n, true
}

type jparser struct {
	s string
	i int
}

const maxDepth = 1000

// next reads what follows a member of an object or array: close ends it (done), a comma
// precedes the next member, or ends it when close follows (a trailing comma, as DuckDB reads
// it); anything else is not JSON (!ok).
func (p *jparser) next(close byte) (done, ok bool) {
	p.ws()
	if p.i >= len(p.s) {
		return false, false
	}
	switch p.s[p.i] {
	case close:
		p.i++
		return true, true
	case ',':
		p.i++
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == close {
			p.i++
			return true, true
		}
		return false, true
	}
	return false, false
}

func (p *jparser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) lit(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *jparser) value(depth int) (*jnode, bool) {
	if p.i >= len(p.s) || depth > maxDepth {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		n := &jnode{k: jObj}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return n, true
		}
		for {
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, false
			}
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, false
			}
			p.i++
			p.ws()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			n.keys, n.kids = append(n.keys, k), append(n.kids, v)
			if done, ok := p.next('}'); !ok {
				return nil, false
			} else if done {
				return n, true
			}
		}
	case c == '[':
		p.i++
		n := &jnode{k: jArr}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return n, true
		}
		for {
			p.ws()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			n.kids = append(n.kids, v)
			if done, ok := p.next(']'); !ok {
				return nil, false
			} else if done {
				return n, true
			}
		}
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return &jnode{k: jStr, s: s}, true
	case p.lit("true"):
		return &jnode{k: jBool, s: "true"}, true
	case p.lit("false"):
		return &jnode{k: jBool, s: "false"}, true
	case p.lit("null"):
		return &jnode{k: jNull}, true
	case p.lit("NaN"):
		return &jnode{k: jNum, s: "NaN"}, true
	case p.lit("Infinity"):
		return &jnode{k: jNum, s: "Infinity"}, true
	case p.lit("-Infinity"):
		return &jnode{k: jNum, s: "-Infinity"}, true
	default:
		return p.number()
	}
}

// str reads a string at p.i (which is '"').
func (p *jparser) str() (string, bool) {
	p.i++
	start := p.i
	// The common case: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			if !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			s := b.String()
			if !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", false
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || !p.lit(`\u`) {
					return "", false
				}
				r2, ok := p.hex4()
				if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
					return "", false
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *jparser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

// number reads a number and keeps it as the engine prints it.
func (p *jparser) number() (*jnode, bool) {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	n := digits()
	if n == 0 || (n > 1 && p.s[intStart] == '0') {
		return nil, false
	}
	real := false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, false
		}
		real = true
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false
		}
		real = true
	}
	text := p.s[start:p.i]
	return &jnode{k: jNum, s: numberText(text, real)}, true
}

// numberText is how the engine prints a JSON number written as text.
func numberText(text string, real bool) string {
	if !real {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return strconv.FormatInt(v, 10)
		}
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			return strconv.FormatUint(v, 10)
		}
		return text // too large: kept as written
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && math.IsInf(f, 0) {
		return text // out of range: kept as written
	}
	return doubleText(f)
}

// doubleText prints a double as yyjson does: the shortest digits that read back as the same
// double, in decimal notation with at least one fractional digit when the decimal exponent is
// within [-6, 20], otherwise as digits, "e" and the exponent (no "+").
func doubleText(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	neg := strings.HasPrefix(e, "-")
	e = strings.TrimPrefix(e, "-")
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	switch {
	case exp >= -6 && exp <= 20:
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	default:
		out = mant + "e" + strconv.Itoa(exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// text writes the node as the engine prints JSON: no spaces, members in their order.
func (n *jnode) text() string {
	switch n.k {
	case jNull:
		return "null"
	case jBool, jNum:
		return n.s
	}
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *jnode) write(b *strings.Builder) {
	switch n.k {
	case jNull:
		b.WriteString("null")
	case jBool, jNum:
		b.WriteString(n.s)
	case jStr:
		writeJSONString(b, n.s)
	case jArr:
		b.WriteByte('[')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			k.write(b)
		}
		b.WriteByte(']')
	case jObj:
		b.WriteByte('{')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, n.keys[i])
			b.WriteByte(':')
			k.write(b)
		}
		b.WriteByte('}')
	}
}

func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// jstep is one step of a JSON path: a member name, or an array index when name is unset.
type jstep struct {
	name   string
	index  int
	member bool
}

// parseJSONPath reads Trino's JSONPath subset as the engine accepts it: $, .name, ["name"],
// ['name'], [n].
func parseJSONPath(p string) ([]jstep, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, errorf("invalid JSON path %q: a JSON path must start with '$'", p)
	}
	var out []jstep
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i+1 : j]
			if name == "" || strings.ContainsAny(name, `"*`) {
				return nil, errorf("invalid JSON path %q: invalid member name", p)
			}
			out = append(out, jstep{name: name, member: true})
			i = j
		case '[':
			if i+1 < len(p) && (p[i+1] == '"' || p[i+1] == '\'') {
				q := p[i+1]
				end := strings.IndexByte(p[i+2:], q)
				if end < 0 || i+2+end+1 >= len(p) || p[i+2+end+1] != ']' {
					return nil, errorf("invalid JSON path %q: unterminated member name in brackets", p)
				}
				name := p[i+2 : i+2+end]
				if strings.ContainsRune(name, '"') {
					return nil, errorf("invalid JSON path %q: member names containing '\"' are not supported", p)
				}
				out = append(out, jstep{name: name, member: true})
				i += 2 + end + 2
				continue
			}
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, errorf("invalid JSON path %q: missing ']'", p)
			}
			idx := p[i+1 : i+end]
			if idx == "" || strings.Trim(idx, "0123456789") != "" {
				return nil, errorf("invalid JSON path %q: array subscripts must be numbers", p)
			}
			n, err := strconv.Atoi(idx)
			if err != nil {
				return nil, errorf("invalid JSON path %q: subscript %s", p, idx)
			}
			out = append(out, jstep{index: n})
			i += end + 1
		default:
			return nil, errorf("invalid JSON path %q: unexpected character '%c'", p, p[i])
		}
	}
	return out, nil
}

// at follows a path from n; nil when a step finds nothing.
func (n *jnode) at(path []jstep) *jnode {
	for _, st := range path {
		if n == nil {
			return nil
		}
		if st.member {
			if n.k != jObj {
				return nil
			}
			var next *jnode
			for i, k := range n.keys {
				if k == st.name {
					next = n.kids[i]
					break
				}
			}
			n = next
			continue
		}
		if n.k != jArr || st.index >= len(n.kids) {
			return nil
		}
		n = n.kids[st.index]
	}
	return n
}
