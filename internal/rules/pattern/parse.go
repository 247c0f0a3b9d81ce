package pattern

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

const (
	// maxRegexes is CloudWatch's quota of regexes in one JSON filter pattern.
	maxRegexes = 2
	// maxDepth bounds the nesting of parentheses, so that no input exhausts the stack.
	maxDepth = 200
)

// numberRe is the syntax of numbers in patterns: an integer or a decimal with an optional sign,
// optionally followed by an exponent. A JSON string is compared as a number when it is wholly one.
var numberRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
})

// repeatRe is the inside of a regex repetition {m}, {m,} or {m,n}.
var repeatRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(,[0-9]*)?$`) })

// Parse reads a CloudWatch Logs JSON filter pattern such as
// { ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }. A pattern that
// does not follow the grammar (see the package documentation) gives a *SyntaxError naming the
// column and what is wrong.
func Parse(text string) (*Pattern, error) {
	p := &parser{text: text}
	root, err := p.pattern()
	if err != nil {
		return nil, err
	}
	return &Pattern{root: root}, nil
}

// parser reads one pattern; errors are *SyntaxError.
type parser struct {
	text    string
	pos     int
	regexes int
	depth   int
}

func (p *parser) errorAt(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Column: utf8.RuneCountInString(p.text[:off]) + 1, Msg: fmt.Sprintf(format, args...)}
}

// column is the 1-based character column of a byte offset, for messages that point back.
func (p *parser) column(off int) int { return utf8.RuneCountInString(p.text[:off]) + 1 }

// found describes what is at off, for messages.
func (p *parser) found(off int) string {
	for off < len(p.text) && strings.IndexByte(" \t\r\n", p.text[off]) >= 0 {
		off++
	}
	if off >= len(p.text) {
		return "the end of the pattern"
	}
	end := off
	for end < len(p.text) && end-off < 20 {
		r, n := utf8.DecodeRuneInString(p.text[end:])
		if end > off && (r == ' ' || r == '\t' || r == '\n' || r == '\r') {
			break
		}
		end += n
	}
	return strconv.Quote(p.text[off:end])
}

func (p *parser) ws() {
	for p.pos < len(p.text) {
		switch p.text[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) peek(s string) bool { return strings.HasPrefix(p.text[p.pos:], s) }

func (p *parser) pattern() (node, error) {
	p.ws()
	if p.pos == len(p.text) {
		return nil, p.errorAt(p.pos, `empty pattern: a JSON filter pattern is a condition in braces, e.g. { $.eventName = "ConsoleLogin" }`)
	}
	if p.text[p.pos] != '{' {
		return nil, p.errorAt(p.pos, "expected '{', found %s: a JSON filter pattern is written in braces (term and space-delimited patterns match the text of log lines, not CloudTrail's JSON fields)", p.found(p.pos))
	}
	p.pos++
	p.ws()
	if p.peek("}") {
		return nil, p.errorAt(p.pos, `empty braces: write a condition, e.g. { $.eventName = "ConsoleLogin" }`)
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos == len(p.text) {
		return nil, p.errorAt(p.pos, "missing '}' at the end of the pattern")
	}
	if p.text[p.pos] != '}' {
		return nil, p.errorAt(p.pos, "expected &&, || or '}', found %s", p.found(p.pos))
	}
	p.pos++
	p.ws()
	if p.pos != len(p.text) {
		return nil, p.errorAt(p.pos, "unexpected %s after the closing '}'", p.found(p.pos))
	}
	return root, nil
}

func (p *parser) or() (node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	terms := []node{first}
	for {
		p.ws()
		if !p.peek("||") {
			break
		}
		p.pos += 2
		t, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &orNode{terms: flatten[*orNode](terms, func(o *orNode) []node { return o.terms })}, nil
}

func (p *parser) and() (node, error) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	terms := []node{first}
	for {
		p.ws()
		if !p.peek("&&") {
			break
		}
		p.pos += 2
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &andNode{terms: flatten[*andNode](terms, func(a *andNode) []node { return a.terms })}, nil
}

// flatten splices the terms of nested nodes of the same kind ((a && b) && c is a && b && c).
func flatten[T node](terms []node, kids func(T) []node) []node {
	var out []node
	for _, t := range terms {
		if n, ok := t.(T); ok {
			out = append(out, kids(n)...)
			continue
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) term() (node, error) {
	p.ws()
	if p.pos == len(p.text) {
		return nil, p.errorAt(p.pos, "expected a condition or '(', found the end of the pattern")
	}
	switch p.text[p.pos] {
	case '(':
		open := p.pos
		if p.depth++; p.depth > maxDepth {
			return nil, p.errorAt(open, "parentheses nested more than %d deep", maxDepth)
		}
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.peek(")") {
			return nil, p.errorAt(p.pos, "expected ')' to close the '(' at column %d, found %s", p.column(open), p.found(p.pos))
		}
		p.pos++
		p.depth--
		return e, nil
	case '$':
		return p.cond()
	}
	return nil, p.errorAt(p.pos, "expected a selector such as $.eventName or '(', found %s", p.found(p.pos))
}

func (p *parser) cond() (node, error) {
	start := p.pos
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	p.ws()
	opAt := p.pos
	c := &cond{sel: sel}
	switch {
	case p.peek("=="):
		return nil, p.errorAt(opAt, "'==' is not an operator: write '='")
	case p.peek("!="):
		c.op, p.pos = opNe, p.pos+2
	case p.peek("<="):
		c.op, p.pos = opLe, p.pos+2
	case p.peek(">="):
		c.op, p.pos = opGe, p.pos+2
	case p.peek("<"):
		c.op, p.pos = opLt, p.pos+1
	case p.peek(">"):
		c.op, p.pos = opGt, p.pos+1
	case p.peek("="):
		c.op, p.pos = opEq, p.pos+1
	default:
		return p.keywordCond(c, start)
	}
	p.ws()
	valAt := p.pos
	if c.val, err = p.value(c.op); err != nil {
		return nil, err
	}
	if c.op >= opLt && c.op <= opGe && c.val.Kind != valNumber {
		return nil, p.errorAt(valAt, "%s compares numbers: %s is not a number", c.op, p.text[valAt:p.pos])
	}
	return c, nil
}

// keywordCond reads IS NULL, IS TRUE, IS FALSE or NOT EXISTS after a selector.
func (p *parser) keywordCond(c *cond, start int) (node, error) {
	at := p.pos
	word := strings.ToUpper(p.word())
	switch word {
	case "IS":
		p.ws()
		at2 := p.pos
		switch w := strings.ToUpper(p.word()); w {
		case "NULL":
			c.op = opIsNull
		case "TRUE":
			c.op = opIsTrue
		case "FALSE":
			c.op = opIsFalse
		case "NOT":
			return nil, p.errorAt(at2, `IS NOT is not supported by CloudWatch: to require a value, compare it (e.g. %s = "*")`, strings.TrimSpace(p.text[start:at]))
		default:
			return nil, p.errorAt(at2, "IS must be followed by NULL, TRUE or FALSE, found %s", p.found(at2))
		}
		return c, nil
	case "NOT":
		p.ws()
		at2 := p.pos
		if strings.ToUpper(p.word()) != "EXISTS" {
			return nil, p.errorAt(at2, "NOT must be followed by EXISTS, found %s", p.found(at2))
		}
		c.op = opNotExists
		return c, nil
	case "EXISTS":
		return nil, p.errorAt(at, `EXISTS is not supported by CloudWatch (only NOT EXISTS): to require a value, compare it (e.g. %s = "*")`, strings.TrimSpace(p.text[start:at]))
	}
	return nil, p.errorAt(at, "expected an operator (=, !=, <, <=, >, >=), IS NULL, IS TRUE, IS FALSE or NOT EXISTS after the selector, found %s", p.found(at))
}

// word reads a run of ASCII letters.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.text) && isLetter(p.text[p.pos]) {
		p.pos++
	}
	return p.text[start:p.pos]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isNameByte reports whether c may appear in a dotted property name.
func isNameByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '-' }

func (p *parser) selector() (selector, error) {
	start := p.pos
	p.pos++ // '$'
	var sel selector
	wildcards := 0
	for p.pos < len(p.text) {
		at := p.pos
		c := p.text[p.pos]
		if c != '.' && c != '[' {
			break
		}
		var seg segment
		switch {
		case c == '.' && p.pos+1 < len(p.text) && p.text[p.pos+1] == '*':
			seg, p.pos = segment{Kind: segWildcard}, p.pos+2
		case c == '.' && p.pos+1 < len(p.text) && p.text[p.pos+1] == '[':
			p.pos++
			var err error
			if seg, err = p.bracket(); err != nil {
				return sel, err
			}
			if seg.Kind != segName {
				return sel, p.errorAt(at, "'.[' must be followed by a quoted name, as in $.['a.b']; write %s without the '.'", p.text[at+1:p.pos])
			}
		case c == '.':
			p.pos++
			ns := p.pos
			for p.pos < len(p.text) && isNameByte(p.text[p.pos]) {
				p.pos++
			}
			if p.pos == ns {
				return sel, p.errorAt(ns, "expected a property name after '.', found %s (names are letters, digits, '-' and '_'; write other names as ['name'])", p.found(ns))
			}
			seg = segment{Kind: segName, Name: p.text[ns:p.pos]}
		default:
			var err error
			if seg, err = p.bracket(); err != nil {
				return sel, err
			}
		}
		if seg.Kind == segWildcard {
			if wildcards++; wildcards > 1 {
				return sel, p.errorAt(at, "a selector may hold only one wildcard (CloudWatch's quota)")
			}
		}
		sel.Segments = append(sel.Segments, seg)
	}
	if len(sel.Segments) == 0 {
		return sel, p.errorAt(start, "expected a property after '$', as in $.eventName, found %s", p.found(p.pos))
	}
	if p.pos < len(p.text) && (isNameByte(p.text[p.pos]) || p.text[p.pos] >= utf8.RuneSelf) {
		return sel, p.errorAt(p.pos, "unexpected %s in the selector (names are letters, digits, '-' and '_'; write other names as ['name'])", p.found(p.pos))
	}
	return sel, nil
}

// bracket reads [n], [*] or ['name'] at p.pos.
func (p *parser) bracket() (segment, error) {
	open := p.pos
	p.pos++ // '['
	var seg segment
	switch {
	case p.peek("*"):
		p.pos++
		seg = segment{Kind: segWildcard, bracket: true}
	case p.pos < len(p.text) && (p.text[p.pos] == '\'' || p.text[p.pos] == '"'):
		q := p.text[p.pos]
		end := strings.IndexByte(p.text[p.pos+1:], q)
		if end < 0 {
			return seg, p.errorAt(p.pos, "unterminated name: the %c at column %d has no closing %c", q, p.column(p.pos), q)
		}
		name := p.text[p.pos+1 : p.pos+1+end]
		if name == "" {
			return seg, p.errorAt(p.pos, "empty property name")
		}
		p.pos += end + 2
		seg = segment{Kind: segName, Name: name}
	case p.pos < len(p.text) && isDigit(p.text[p.pos]):
		ds := p.pos
		for p.pos < len(p.text) && isDigit(p.text[p.pos]) {
			p.pos++
		}
		n, err := strconv.ParseInt(p.text[ds:p.pos], 10, 32)
		if err != nil {
			return seg, p.errorAt(ds, "array index %s is too large", p.text[ds:p.pos])
		}
		seg = segment{Kind: segIndex, Index: int(n)}
	default:
		return seg, p.errorAt(p.pos, "expected an array index, '*' or a quoted name after '[', found %s", p.found(p.pos))
	}
	if !p.peek("]") {
		return seg, p.errorAt(p.pos, "expected ']' to close the '[' at column %d, found %s", p.column(open), p.found(p.pos))
	}
	p.pos++
	return seg, nil
}

// value reads the literal after a comparison operator.
func (p *parser) value(op operator) (value, error) {
	if p.pos == len(p.text) {
		return value{}, p.errorAt(p.pos, "expected a value after %s, found the end of the pattern", op)
	}
	switch c := p.text[p.pos]; {
	case c == '"':
		return p.quoted()
	case c == '%':
		if op != opEq && op != opNe {
			return value{}, p.errorAt(p.pos, "%s compares numbers: a regex can only follow = or !=", op)
		}
		return p.regex()
	case isBareByte(c):
		return p.bare()
	}
	return value{}, p.errorAt(p.pos, "expected a value after %s, found %s (quote strings that hold characters other than letters, digits and _ . - + : / *)", op, p.found(p.pos))
}

func isBareByte(c byte) bool {
	return isLetter(c) || isDigit(c) || strings.IndexByte("_.-+:/*", c) >= 0
}

// bare reads an unquoted string or number.
func (p *parser) bare() (value, error) {
	start := p.pos
	for p.pos < len(p.text) && isBareByte(p.text[p.pos]) {
		p.pos++
	}
	if p.pos < len(p.text) && strings.IndexByte(" \t\r\n)}&|", p.text[p.pos]) < 0 {
		return value{}, p.errorAt(p.pos, "unexpected %s in the value %s: quote values that hold characters other than letters, digits and _ . - + : / *", p.found(p.pos), p.text[start:p.pos])
	}
	tok := p.text[start:p.pos]
	if numberRe().MatchString(tok) {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return value{}, p.errorAt(start, "the number %s is out of range", tok)
		}
		return value{Kind: valNumber, Text: tok, Num: f}, nil
	}
	esc := make([]bool, len(tok))
	return stringValue(tok, esc), nil
}

// quoted reads a double-quoted string; a backslash escapes the character after it.
func (p *parser) quoted() (value, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	var esc []bool // per byte of b: written escaped
	for {
		if p.pos >= len(p.text) {
			return value{}, p.errorAt(open, "unterminated string: the '\"' at column %d has no closing quote", p.column(open))
		}
		c := p.text[p.pos]
		switch c {
		case '"':
			p.pos++
			return stringValue(b.String(), esc), nil
		case '\\':
			if p.pos+1 >= len(p.text) {
				return value{}, p.errorAt(open, "unterminated string: the '\"' at column %d has no closing quote", p.column(open))
			}
			_, n := utf8.DecodeRuneInString(p.text[p.pos+1:])
			b.WriteString(p.text[p.pos+1 : p.pos+1+n])
			for range n {
				esc = append(esc, true)
			}
			p.pos += 1 + n
		default:
			b.WriteByte(c)
			esc = append(esc, false)
			p.pos++
		}
	}
}

// stringValue makes a string literal of its characters, telling wildcards (an unescaped '*' at
// either end) from the text.
func stringValue(s string, esc []bool) value {
	v := value{Kind: valString}
	if len(s) > 0 && s[0] == '*' && !esc[0] {
		v.Prefix = true
		s, esc = s[1:], esc[1:]
	}
	if n := len(s); n > 0 && s[n-1] == '*' && !esc[n-1] {
		v.Suffix = true
		s = s[:n-1]
	}
	v.Text = s
	return v
}

// regex reads a %regex%.
func (p *parser) regex() (value, error) {
	open := p.pos
	end := strings.IndexByte(p.text[open+1:], '%')
	if end < 0 {
		return value{}, p.errorAt(open, "unterminated regex: the '%%' at column %d has no closing '%%'", p.column(open))
	}
	src := p.text[open+1 : open+1+end]
	if src == "" {
		return value{}, p.errorAt(open, "empty regex %%%%")
	}
	re, off, err := compileRegex(src)
	if err != nil {
		return value{}, p.errorAt(open+1+off, "%v", err)
	}
	if p.regexes++; p.regexes > maxRegexes {
		return value{}, p.errorAt(open, "a pattern may hold at most %d regexes (CloudWatch's quota)", maxRegexes)
	}
	p.pos = open + end + 2
	return value{Kind: valRegex, Text: src, re: re}, nil
}

// regexSymbols are the characters CloudWatch's regexes take as themselves, besides letters and
// digits (and the space its own examples use).
const regexSymbols = ":_#=@/;,- "

// regexOperators are the operators of CloudWatch's regexes; escaped, each is itself.
const regexOperators = `^$?[]{}|\*+.`

// compileRegex checks a regex against CloudWatch's restricted syntax and compiles it. Inside the
// subset, Go's RE2, DuckDB's RE2 and Trino's Java patterns read a regex alike, so the source is
// used as it is everywhere. On error it returns the byte offset of the fault in src.
func compileRegex(src string) (*regexp.Regexp, int, error) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c >= utf8.RuneSelf:
			return nil, i, errors.New("multi-byte characters are not supported in a CloudWatch regex")
		case c == '(' || c == ')':
			return nil, i, errors.New("parentheses are not supported in a CloudWatch regex (it has no sub-patterns); use | between whole alternatives")
		case c == '\\':
			if i+1 >= len(src) {
				return nil, i, errors.New(`a regex cannot end with \`)
			}
			e := src[i+1]
			switch {
			case strings.IndexByte("dDsSwW", e) >= 0:
			case e == 'x':
				if i+3 >= len(src) || !isHex(src[i+2]) || !isHex(src[i+3]) {
					return nil, i, errors.New(`\x must be followed by two hexadecimal digits`)
				}
				i += 2
			case strings.IndexByte(regexOperators, e) >= 0 || strings.IndexByte(regexSymbols, e) >= 0 && e != ' ':
			default:
				return nil, i, fmt.Errorf(`\%c is not an escape CloudWatch supports (\d \D \s \S \w \W \xhh, or \ before one of %s)`, e, regexOperators+strings.TrimSpace(regexSymbols))
			}
			i++
		case c == '{':
			j := i + 1
			for j < len(src) && (isDigit(src[j]) || src[j] == ',') {
				j++
			}
			if j == i+1 || j >= len(src) || src[j] != '}' || !repeatRe().MatchString(src[i+1:j]) {
				return nil, i, errors.New(`'{' starts a repetition {m}, {m,} or {m,n}; write \{ for the character`)
			}
		case isLetter(c) || isDigit(c) || strings.IndexByte(regexSymbols, c) >= 0 || strings.IndexByte(regexOperators, c) >= 0:
		default:
			return nil, i, fmt.Errorf("%q is not allowed in a CloudWatch regex (letters, digits, space, %s and the operators %s)", c, strings.TrimSpace(regexSymbols), regexOperators)
		}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, 0, fmt.Errorf("invalid regex: %s", se.Code)
		}
		return nil, 0, fmt.Errorf("invalid regex: %v", err)
	}
	return re, 0, nil
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
