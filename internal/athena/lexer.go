package athena

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a lexed token.
type tokenKind int

const (
	tkSpace     tokenKind = iota // whitespace
	tkComment                    // -- line comment (with its newline) or /* block */ comment
	tkIdent                      // bare word: identifier or keyword
	tkQuoted                     // "quoted identifier"
	tkString                     // 'string literal'
	tkNumber                     // numeric literal
	tkOp                         // operator or other punctuation
	tkLParen                     // (
	tkRParen                     // )
	tkLBracket                   // [
	tkRBracket                   // ]
	tkComma                      // ,
	tkSemicolon                  // ;
)

// token is one lexeme of the user's SQL; pos is its byte offset in the original text.
type token struct {
	kind tokenKind
	text string
	pos  int
}

// trivia reports whether the token carries no meaning (whitespace or comment).
func (t token) trivia() bool { return t.kind == tkSpace || t.kind == tkComment }

// lower returns the token text in lower case (for keyword and function-name comparisons).
func (t token) lower() string { return strings.ToLower(t.text) }

// is reports whether t is the bare word kw (case-insensitively).
func (t token) is(kw string) bool { return t.kind == tkIdent && strings.EqualFold(t.text, kw) }

// name returns the identifier a bare or quoted identifier token denotes.
func (t token) name() string {
	if t.kind == tkQuoted && len(t.text) >= 2 {
		return strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`)
	}
	return t.text
}

// stringValue returns the value of a string literal token (” unescaped).
func (t token) stringValue() string {
	if len(t.text) < 2 {
		return ""
	}
	return strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'")
}

// lex splits sql into tokens. Concatenating the texts of the tokens gives sql back exactly.
func lex(sql string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(sql) {
		start := i
		c := sql[i]
		var kind tokenKind
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			for i < len(sql) && strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0 {
				i++
			}
			kind = tkSpace
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			nl := strings.IndexByte(sql[i:], '\n')
			if nl < 0 {
				i = len(sql)
			} else {
				i += nl + 1 // the newline belongs to the comment so text after it never joins the comment
			}
			kind = tkComment
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, errorAt(sql, start, "unterminated comment")
			}
			i += 2 + end + 2
			kind = tkComment
		case c == '\'':
			n, ok := scanQuoted(sql[i:], '\'')
			if !ok {
				return nil, errorAt(sql, start, "unterminated string literal")
			}
			i += n
			kind = tkString
		case c == '"':
			n, ok := scanQuoted(sql[i:], '"')
			if !ok {
				return nil, errorAt(sql, start, "unterminated quoted identifier")
			}
			if n == 2 {
				return nil, errorAt(sql, start, "zero-length delimited identifier not allowed")
			}
			i += n
			kind = tkQuoted
		case c == '`':
			return nil, errorAt(sql, start, "backquoted identifiers are not supported")
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			i = scanNumber(sql, i)
			kind = tkNumber
		case isIdentStart(sql, i):
			for i < len(sql) && isIdentPart(sql, i) {
				_, w := utf8.DecodeRuneInString(sql[i:])
				i += w
			}
			kind = tkIdent
		case c == '(':
			i++
			kind = tkLParen
		case c == ')':
			i++
			kind = tkRParen
		case c == '[':
			i++
			kind = tkLBracket
		case c == ']':
			i++
			kind = tkRBracket
		case c == ',':
			i++
			kind = tkComma
		case c == ';':
			i++
			kind = tkSemicolon
		default:
			i += opLen(sql[i:])
			kind = tkOp
		}
		toks = append(toks, token{kind: kind, text: sql[start:i], pos: start})
	}
	return toks, nil
}

// scanQuoted returns the length of the quoted lexeme at the start of s (doubled quotes are escapes).
func scanQuoted(s string, q byte) (int, bool) {
	for i := 1; i < len(s); i++ {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

// scanNumber returns the end of the numeric literal starting at i.
func scanNumber(s string, i int) int {
	digits := func() {
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	digits()
	if i < len(s) && s[i] == '.' && !(i+1 < len(s) && s[i+1] == '.') {
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			i = j
			digits()
		}
	}
	return i
}

func isIdentStart(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || unicode.IsLetter(r)
}

func isIdentPart(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// opLen returns the length of the operator at the start of s; unknown bytes are one-rune operators.
func opLen(s string) int {
	for _, op := range []string{"<=", ">=", "<>", "!=", "||", "->", "=>", "::", ":="} {
		if strings.HasPrefix(s, op) {
			return len(op)
		}
	}
	_, w := utf8.DecodeRuneInString(s)
	return w
}
