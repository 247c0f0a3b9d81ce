package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trailsql/trailsql/internal/athena"
)

// titlePart is a piece of a title: text, or an SQL expression whose value is put in its place.
type titlePart struct {
	text string
	expr string
}

// parseTitle splits a title template: "Root sign-in from {{ sourceipaddress }}".
func parseTitle(t string) ([]titlePart, error) {
	var out []titlePart
	for t != "" {
		i := strings.Index(t, "{{")
		if i < 0 {
			if strings.Contains(t, "}}") {
				return nil, errors.New("'}}' without '{{'")
			}
			out = append(out, titlePart{text: t})
			break
		}
		if strings.Contains(t[:i], "}}") {
			return nil, errors.New("'}}' without '{{'")
		}
		if i > 0 {
			out = append(out, titlePart{text: t[:i]})
		}
		j := strings.Index(t[i:], "}}")
		if j < 0 {
			return nil, errors.New("'{{' without '}}'")
		}
		expr := strings.TrimSpace(t[i+2 : i+j])
		if err := athena.CheckExpression(expr); err != nil {
			return nil, fmt.Errorf("{{ %s }}: %w", expr, err)
		}
		out = append(out, titlePart{expr: expr})
		t = t[i+j+2:]
	}
	return out, nil
}

// renderTitle fills a parsed title with the values of its expressions, in order.
func renderTitle(parts []titlePart, values []any) string {
	if len(parts) == 1 && parts[0].expr == "" {
		return parts[0].text // a title without {{ }}, as a Sigma rule's: the rule's own string
	}
	n := 0
	for _, p := range parts {
		n += len(p.text)
	}
	for _, v := range values {
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	var b strings.Builder
	b.Grow(n)
	k := 0
	for _, p := range parts {
		if p.expr == "" {
			b.WriteString(p.text)
			continue
		}
		if k < len(values) && values[k] != nil {
			b.WriteString(valueText(values[k]))
		} else {
			b.WriteString("(none)")
		}
		k++
	}
	return b.String()
}

// valueText is a value of a title, dedup or group_by expression (not nil) as text: what
// fmt.Sprint gives, without its cost for the strings that most are.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
