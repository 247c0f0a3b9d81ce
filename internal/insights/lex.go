package insights

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind tells the tokens of a query apart.
type tokKind int

const (
	tkEOF      tokKind = iota
	tkIdent            // a name or field path: eventName, userIdentity.userName, @timestamp, `a b`
	tkString           // "…" or '…', unquoted
	tkNumber           // 3000, 1.5
	tkDuration         // 5m, 1h, 30s: a number with a unit, for bin()
	tkRegex            // /…/, its source between the slashes
	tkOp               // | , ( ) [ ] = != < <= > >= =~ + - * / % ^
)

// token is one token of a query: its kind, its text (unquoted for strings, regexes and quoted
// names) and the byte offset where it starts in the query.
type token struct {
	kind tokKind
	text string
	pos  int
	end  int // the byte offset just past it
	// quoted is true for a name written between backticks, which is never a keyword.
	quoted bool
}

// is reports whether the token is the operator or (unquoted) keyword s, keywords in any case.
func (t token) is(s string) bool {
	switch t.kind {
	case tkOp:
		return t.text == s
	case tkIdent:
		return !t.quoted && strings.EqualFold(t.text, s)
	}
	return false
}

// endsOperand reports whether the token can end an operand, after which '/' divides rather than
// opening a regex.
func (t token) endsOperand() bool {
	switch t.kind {
	case tkNumber, tkDuration, tkString, tkRegex:
		return true
	case tkOp:
		return t.text == ")" || t.text == "]"
	case tkIdent:
		if t.quoted {
			return true
		}
		switch strings.ToLower(t.text) {
		case "like", "in", "and", "or", "not", "by", "as", "filter", "where", "fields", "stats", "sort", "display", "dedup", "limit":
			return false
		}
		return true
	}
	return false
}

// lex splits a query into tokens, comments (# to the end of the line) left out. A '/' opens a
// regex where no operand ends before it, and after the field of a parse command.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		regexHere := c == '/' && (len(out) == 0 || !out[len(out)-1].endsOperand() ||
			(len(out) >= 2 && out[len(out)-2].is("parse")))
		switch {
		case regexHere:
			text, end, ok := quoted(src, i, true)
			if !ok {
				return nil, errAt(src, start, "this regular expression has no closing /")
			}
			i = end
			out = append(out, token{kind: tkRegex, text: text, pos: start, end: i})
		case c == '"' || c == '\'':
			text, end, ok := quoted(src, i, false)
			if !ok {
				return nil, errAt(src, start, "this string has no closing %c", c)
			}
			i = end
			out = append(out, token{kind: tkString, text: text, pos: start, end: i})
		case c == '`':
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return nil, errAt(src, start, "this name has no closing `")
			}
			name := src[i+1 : i+1+end]
			if name == "" {
				return nil, errAt(src, start, "an empty name ``")
			}
			i += end + 2
			out = append(out, token{kind: tkIdent, text: name, pos: start, end: i, quoted: true})
		case isDigit(c):
			for i < len(src) && (isDigit(src[i]) || src[i] == '.') {
				i++
			}
			kind := tkNumber
			if i < len(src) && isLetter(src[i]) {
				for i < len(src) && isLetter(src[i]) {
					i++
				}
				kind = tkDuration
			}
			out = append(out, token{kind: kind, text: src[start:i], pos: start, end: i})
		case isLetter(c) || c == '_' || c == '@' || c == '$':
			// A list index right after a name, resources[0].ARN, is the path resources.0.ARN.
			var b strings.Builder
			for i < len(src) {
				if isLetter(src[i]) || isDigit(src[i]) || strings.IndexByte("_@$.", src[i]) >= 0 {
					b.WriteByte(src[i])
					i++
					continue
				}
				j := i + 1
				for j < len(src) && isDigit(src[j]) {
					j++
				}
				if src[i] != '[' || j == i+1 || j >= len(src) || src[j] != ']' {
					break
				}
				b.WriteString("." + src[i+1:j])
				i = j + 1
			}
			out = append(out, token{kind: tkIdent, text: b.String(), pos: start, end: i})
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "!=", "<=", ">=", "=~", "==":
				i += 2
				if two == "==" {
					two = "="
				}
				out = append(out, token{kind: tkOp, text: two, pos: start, end: i})
				continue
			}
			if strings.IndexByte("|,()[]=<>+-*/%^", c) < 0 {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errAt(src, start, "unexpected character %q", r)
			}
			i++
			out = append(out, token{kind: tkOp, text: string(c), pos: start, end: i})
		}
	}
	return append(out, token{kind: tkEOF, pos: len(src), end: len(src)}), nil
}

// quoted reads the string or /regex/ that opens at src[start] up to its closing quote, and
// returns its text, the offset past it, and false when nothing closes it. In a string \n and \t
// are a newline and a tab and \ keeps any other character as itself; in a regex \/ is a slash and
// other escapes stay for the regex.
func quoted(src string, start int, regex bool) (string, int, bool) {
	q := src[start]
	var b strings.Builder
	for i := start + 1; i < len(src); i++ {
		c := src[i]
		switch {
		case c == q:
			return b.String(), i + 1, true
		case c != '\\' || i+1 == len(src):
			b.WriteByte(c)
			continue
		}
		i++
		switch e := src[i]; {
		case regex && e != '/':
			b.WriteByte('\\')
			b.WriteByte(e)
		case !regex && e == 'n':
			b.WriteByte('\n')
		case !regex && e == 't':
			b.WriteByte('\t')
		default:
			b.WriteByte(e)
		}
	}
	return "", len(src), false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Error is a query that does not parse or cannot be translated: where (Line and Column counted
// from 1, Column in characters; Offset in bytes from 0) and what is wrong.
type Error struct {
	Line, Column, Offset int
	Msg                  string
	// Text is the line of the query the error points into.
	Text string
}

// Error returns "line:column: message", then the line of the query and a caret under the place.
func (e *Error) Error() string {
	pad := strings.Repeat(" ", e.Column-1)
	return fmt.Sprintf("%d:%d: %s\n  %s\n  %s^", e.Line, e.Column, e.Msg, e.Text, pad)
}

// errAt is an *Error at byte offset off of src.
func errAt(src string, off int, format string, args ...any) *Error {
	if off > len(src) {
		off = len(src)
	}
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	lineEnd := strings.IndexByte(src[off:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += off
	}
	text := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' {
			return ' '
		}
		return r
	}, src[lineStart:lineEnd])
	return &Error{
		Line:   strings.Count(src[:off], "\n") + 1,
		Column: utf8.RuneCountInString(src[lineStart:off]) + 1,
		Offset: off,
		Msg:    fmt.Sprintf(format, args...),
		Text:   text,
	}
}
