package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Match evaluates the pattern over one event, given as its raw JSON (a CloudTrail record as
// CloudTrail writes it), as CloudWatch Logs would. An event that is valid JSON but not an object
// matches nothing; text that is not JSON is an error.
func (p *Pattern) Match(rawJSON []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(rawJSON))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("match: the event is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false, errors.New("match: the event is not valid JSON: text after its end")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, nil
	}
	return eval(p.root, obj), nil
}

func eval(n node, event map[string]any) bool {
	switch n := n.(type) {
	case *orNode:
		for _, t := range n.terms {
			if eval(t, event) {
				return true
			}
		}
		return false
	case *andNode:
		for _, t := range n.terms {
			if !eval(t, event) {
				return false
			}
		}
		return true
	case *cond:
		return n.holds(resolve(n.sel, event))
	}
	return false
}

// resolve returns the values a selector reaches in a decoded event (nil for a JSON null).
func resolve(sel selector, event map[string]any) []any {
	cur := []any{event}
	for _, seg := range sel.Segments {
		var next []any
		for _, v := range cur {
			switch seg.Kind {
			case segName:
				if m, ok := v.(map[string]any); ok {
					if x, has := m[seg.Name]; has {
						next = append(next, x)
					}
				}
			case segIndex:
				if a, ok := v.([]any); ok && seg.Index < len(a) {
					next = append(next, a[seg.Index])
				}
			case segWildcard:
				switch x := v.(type) {
				case map[string]any:
					for _, e := range x {
						next = append(next, e)
					}
				case []any:
					next = append(next, x...)
				}
			}
		}
		if len(next) == 0 {
			return nil
		}
		cur = next
	}
	return cur
}

// holds reports whether the condition holds on the values its selector reached.
func (c *cond) holds(vals []any) bool {
	if c.op == opNotExists {
		return len(vals) == 0
	}
	for _, v := range vals {
		if c.holdsOn(v) {
			return true
		}
	}
	return false
}

func (c *cond) holdsOn(v any) bool {
	switch c.op {
	case opIsNull:
		return v == nil
	case opIsTrue:
		return v == true
	case opIsFalse:
		return v == false
	}
	if c.val.Kind == valNumber {
		f, ok := numberOf(v)
		if !ok {
			return false
		}
		switch c.op {
		case opEq:
			return f == c.val.Num
		case opNe:
			return f != c.val.Num
		case opLt:
			return f < c.val.Num
		case opLe:
			return f <= c.val.Num
		case opGt:
			return f > c.val.Num
		case opGe:
			return f >= c.val.Num
		}
		return false
	}
	s, ok := textOf(v)
	if !ok {
		return false
	}
	return c.val.matchText(s) == (c.op == opEq)
}

// textOf is the text a string or regex is compared with: a string's, a number's as written, a
// boolean's. Nulls, objects and arrays have none.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// numberOf is the value a number is compared with: a number's, or a string's that is wholly a
// number.
func numberOf(v any) (float64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		if !numberRe().MatchString(x) {
			return 0, false
		}
		s = x
	default:
		return 0, false
	}
	// Beyond float64's range a number is ±Inf, as SQL engines read it.
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil || errors.Is(err, strconv.ErrRange)
}
