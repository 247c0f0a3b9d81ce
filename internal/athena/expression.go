package athena

import (
	"errors"
	"fmt"
)

// clauseWords end an expression when they stand outside parentheses: a condition holding one
// would change the statement it is put in rather than test a row.
var clauseWords = map[string]bool{
	"select": true, "from": true, "where": true, "group": true, "having": true, "order": true,
	"limit": true, "offset": true, "union": true, "intersect": true, "except": true, "window": true,
	"fetch": true, "into": true, "with": true,
}

// CheckExpression reports whether text is one SQL expression, fit to be put in parentheses
// inside a statement (a rule's condition over one row): its parentheses and brackets balance
// and never close what they did not open, and it holds no ';' and no clause of a statement
// (FROM, UNION, …) outside parentheses. Line comments are harmless when the caller puts the
// expression on lines of its own. The error says where the problem is (1-based column of the
// text's first line, or byte offset).
func CheckExpression(text string) error {
	toks, err := lex(text)
	if err != nil {
		return err
	}
	depth, meaningful := 0, 0
	var stack []tokenKind
	for _, t := range toks {
		if t.trivia() {
			continue
		}
		meaningful++
		switch t.kind {
		case tkLParen, tkLBracket:
			stack = append(stack, t.kind)
			depth++
		case tkRParen, tkRBracket:
			want := tkLParen
			if t.kind == tkRBracket {
				want = tkLBracket
			}
			if depth == 0 || stack[depth-1] != want {
				return fmt.Errorf("at offset %d: %q closes nothing it opened", t.pos, t.text)
			}
			stack = stack[:depth-1]
			depth--
		case tkSemicolon:
			return fmt.Errorf("at offset %d: ';' ends a statement; a condition is one expression", t.pos)
		case tkIdent:
			if depth == 0 && clauseWords[t.lower()] {
				return fmt.Errorf("at offset %d: %s starts a clause of a statement; a condition is one expression over a row (put a subquery in parentheses)", t.pos, t.text)
			}
		}
	}
	if depth > 0 {
		return errors.New("a parenthesis or bracket is not closed")
	}
	if meaningful == 0 {
		return errors.New("the expression is empty")
	}
	return nil
}
