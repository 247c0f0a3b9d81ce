package engine

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// A dialect's setup defines dozens of macros (Athena's: 38), and defining them all on every new
// connection cost a query 15 to 20 ms, more than DuckDB takes to answer a small one. So the
// macros among Dialect.Setup are defined on a connection only when a statement that runs there
// names them: before DuckDB binds any text, the engine looks for each macro's name in it, and
// defines those found (and the macros their bodies name) that the connection does not have yet,
// in the order of Dialect.Setup. The other setup statements run when the connection is made.
// A name found where it is no call (in a string, a comment) defines a macro for nothing, which
// costs a little time and changes no answer.

// setupMacro is a macro of Dialect.Setup.
type setupMacro struct {
	name string // lower case
	stmt string // the statement that defines it
	// needs are the indexes of the macros its definition names, itself included, in order.
	needs []int
}

// setupPlan is Dialect.Setup split into what runs on every connection and the macros defined
// when a statement needs them.
type setupPlan struct {
	eager  []string
	macros []setupMacro
}

var macroDefinition = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+MACRO\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
})

// planSetup splits a dialect's setup statements.
func planSetup(stmts []string) setupPlan {
	var p setupPlan
	for _, s := range stmts {
		if m := macroDefinition().FindStringSubmatch(s); m != nil {
			p.macros = append(p.macros, setupMacro{name: strings.ToLower(m[1]), stmt: s})
		} else {
			p.eager = append(p.eager, s)
		}
	}
	// What each definition names, directly or through the macros it names.
	direct := make([][]bool, len(p.macros))
	for i, m := range p.macros {
		direct[i] = p.named(m.stmt)
	}
	for i := range p.macros {
		closure := make([]bool, len(p.macros))
		closure[i] = true
		for changed := true; changed; {
			changed = false
			for j, in := range closure {
				if !in {
					continue
				}
				for k, named := range direct[j] {
					if named && !closure[k] {
						closure[k], changed = true, true
					}
				}
			}
		}
		for k, in := range closure {
			if in {
				p.macros[i].needs = append(p.macros[i].needs, k)
			}
		}
	}
	return p
}

// named reports, for each macro, whether the SQL text names it as a word (in any case).
func (p setupPlan) named(text string) []bool {
	lower := strings.ToLower(text)
	out := make([]bool, len(p.macros))
	for i, m := range p.macros {
		for at := 0; ; {
			j := strings.Index(lower[at:], m.name)
			if j < 0 {
				break
			}
			j += at
			end := j + len(m.name)
			if (j == 0 || !identByte(lower[j-1])) && (end == len(lower) || !identByte(lower[end])) {
				out[i] = true
				break
			}
			at = end
		}
	}
	return out
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// defineMacros defines on the session's connection the setup macros text names that it does not
// have yet.
func (s *session) defineMacros(ctx context.Context, text string) error {
	plan := s.setup
	if len(plan.macros) == 0 {
		return nil
	}
	if s.cn.macros == nil {
		s.cn.macros = make([]bool, len(plan.macros))
	}
	want := make([]bool, len(plan.macros))
	some := false
	for i, named := range plan.named(text) {
		if named {
			for _, k := range plan.macros[i].needs {
				if !s.cn.macros[k] {
					want[k], some = true, true
				}
			}
		}
	}
	if !some {
		return nil
	}
	for k, w := range want {
		if !w {
			continue
		}
		if _, err := s.cn.c.ExecContext(ctx, plan.macros[k].stmt); err != nil {
			return fmt.Errorf("set up duckdb (%s): %w", firstLine(plan.macros[k].stmt), err)
		}
		s.cn.macros[k] = true
	}
	return nil
}
