package roweval

import (
	"fmt"
	"strings"
)

type tkind uint8

const (
	tEOF tkind = iota
	tIdent
	tQuoted // a "quoted" identifier
	tString
	tNumber
	tOp
)

type token struct {
	k    tkind
	text string // the identifier (lower case), the string's value, the number or operator
	pos  int
}

// lex splits an expression into tokens: identifiers (folded to lower case), 'strings' with ”
// escapes, "identifiers", numbers, operators. Comments (-- and /* */) are skipped.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, errorf("unterminated comment at %d", i+1)
			}
			i += j + 4
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, errorf("unterminated %c at %d", c, i+1)
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			k := tString
			text := b.String()
			if c == '"' {
				k, text = tQuoted, strings.ToLower(text)
			}
			out = append(out, token{k: k, text: text, pos: i})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			out = append(out, token{k: tIdent, text: strings.ToLower(s[i:j]), pos: i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && s[k] >= '0' && s[k] <= '9' {
					j = k
					for j < len(s) && s[j] >= '0' && s[j] <= '9' {
						j++
					}
				}
			}
			if j < len(s) && isIdentByte(s[j]) {
				return nil, errorf("invalid number at %d: %s", i+1, s[i:j+1])
			}
			out = append(out, token{k: tNumber, text: s[i:j], pos: i})
			i = j
		default:
			op := ""
			for _, o := range []string{"<=", ">=", "<>", "!=", "||", "->", "=>", "::"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				if !strings.ContainsRune("=<>(),[]+-*/%.?:", rune(c)) {
					return nil, errorf("unexpected character %q at %d", c, i+1)
				}
				op = string(c)
			}
			out = append(out, token{k: tOp, text: op, pos: i})
			i += len(op)
		}
	}
	out = append(out, token{k: tEOF, pos: len(s)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
