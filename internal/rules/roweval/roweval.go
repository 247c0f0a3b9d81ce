// Package roweval evaluates a rule's Athena SQL expression (a condition, a title's {{ }} part, a
// dedup or group_by key) in Go, on one decoded record, with the meaning the engine gives it
// (Athena/Trino SQL as internal/athena translates it onto DuckDB): so detection can run while
// the lake writer writes the rows, rather than in a scan of the new files afterwards.
//
// It covers what the rules produce (built-in conditions, CloudWatch patterns and Sigma rules
// compiled to SQL, titles, dedup and group_by): columns, struct fields and structs tested for
// NULL, partition columns, resources and the attributes map; string, number, boolean and NULL
// literals; AND/OR/NOT with three-valued logic; = <> != < <= > >=, [NOT] IN, [NOT] LIKE with
// ESCAPE, IS [NOT] NULL, [NOT] BETWEEN, ||; CASE in both forms; CAST and TRY_CAST to VARCHAR,
// BIGINT, DOUBLE, BOOLEAN, ARRAY(JSON) and MAP(VARCHAR, JSON) where the engine's cast is plain;
// ARRAY[…]; coalesce, lower, concat, length, starts_with, replace, json_extract,
// json_extract_scalar, json_array_length, json_format, regexp_like, regexp_replace,
// regexp_extract, any_match, all_match, none_match, cardinality, element_at, map_values.
//
// The engine's details are kept: strings compare by their bytes; JSON is read as DuckDB's reader
// does (trailing commas, NaN) and printed as it prints (1.50 is 1.5, 1e2 is 100.0); a member is
// its first occurrence; regular expressions are RE2 (a pattern Go's regexp cannot compile is
// outside the subset); NaN orders after every number.
//
// An expression outside the subset fails Compile with an error wrapping ErrUnsupported; such a
// rule stays on the scan, which is slower but just as right. An error from Holds or Text means
// this row could not be decided (a cast the engine fails too, or a value the engine reads by
// rules of its own, wrapping ErrUnsupported): the caller falls back to the scan.
package roweval

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// Row is one row of cloudtrail_logs: the record and the partition it is stored in (the
// partition columns account, region, year, month, day; an empty value is NULL).
type Row struct {
	Rec  *cloudtrail.Record
	Part lake.Partition
}

// ErrUnsupported is wrapped by the errors of Compile for valid SQL that the evaluator does not
// evaluate, and of Text for a value it does not print.
var ErrUnsupported = errors.New("not evaluated in Go (outside the subset roweval covers)")

func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	src    string
	root   node
	nslots int
	cols   []string
	envs   sync.Pool
	fast   predFn // the condition compiled to typed functions, when of their subset (fast.go)
}

// Compile parses expr once. An error wrapping ErrUnsupported is valid SQL outside the subset;
// any other error is an expression the engine would refuse too (a syntax error, an unknown
// column, an invalid JSON path).
func Compile(expr string) (*Expr, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, err)
	}
	p := &parser{src: expr, toks: toks, cols: map[string]bool{}}
	root, err := p.expr()
	if err == nil && p.peek().k != tEOF {
		err = p.errAt("unexpected text after the expression")
	}
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, err)
	}
	e := &Expr{src: expr, root: root, nslots: p.nslots}
	e.fast = e.fastPred(root) // nil: the tree evaluates the condition whole
	for c := range p.cols {
		e.cols = append(e.cols, c)
	}
	slices.Sort(e.cols)
	return e, nil
}

// String returns the expression as it was compiled.
func (e *Expr) String() string { return e.src }

// Columns returns the columns and struct fields the expression reads, by their dotted path in
// lower case (useridentity.arn), sorted: what a reader of the row must decode.
func (e *Expr) Columns() []string { return slices.Clone(e.cols) }

func (e *Expr) eval(r *Row) (value, error) { return e.evalNode(e.root, r) }

// evalNode evaluates n, the root or a node of the expression's tree, on r.
func (e *Expr) evalNode(n node, r *Row) (value, error) {
	if r == nil || r.Rec == nil {
		return null, errors.New("evaluate: no record")
	}
	en, _ := e.envs.Get().(*env)
	if en == nil {
		en = &env{vars: make([]value, e.nslots)}
	}
	en.row = r
	v, err := n.eval(en)
	// The env goes back without what it points to: the row's strings, parsed documents.
	en.row = nil
	clear(en.docs)
	en.docs = en.docs[:0]
	clear(en.vars)
	clear(en.stack[:cap(en.stack)])
	en.stack = en.stack[:0]
	e.envs.Put(en)
	return v, err
}

// Holds evaluates the expression as a WHERE clause does: true only when it is TRUE (NULL is
// not). An error is an expression that failed on this row (the engine's query would fail too)
// or one that is not a boolean.
func (e *Expr) Holds(r *Row) (bool, error) {
	if e.fast != nil && r != nil && r.Rec != nil {
		switch e.fast(r) {
		case isTrue:
			return true, nil
		case isFalse, isNull:
			return false, nil
		}
		// A part the tree evaluated failed: the tree says how, evaluated whole.
	}
	return e.holdsByTree(r)
}

// holdsByTree is Holds evaluated by the expression's tree, whatever fast.go compiled.
func (e *Expr) holdsByTree(r *Row) (bool, error) {
	v, err := e.eval(r)
	if err != nil {
		return false, fmt.Errorf("evaluate %q: %w", e.src, err)
	}
	switch v.k {
	case kNull:
		return false, nil
	case kBool:
		return v.b, nil
	}
	return false, fmt.Errorf("evaluate %q: a %s value is not a condition", e.src, kindName(v.k))
}

// Text evaluates the expression and returns its value as CAST((expr) AS VARCHAR) gives it in
// the engine; ok is false for NULL.
func (e *Expr) Text(r *Row) (s string, ok bool, err error) {
	v, err := e.eval(r)
	if err != nil {
		return "", false, fmt.Errorf("evaluate %q: %w", e.src, err)
	}
	s, ok, err = textOf(v)
	if err != nil {
		return "", false, fmt.Errorf("evaluate %q: %w", e.src, err)
	}
	return s, ok, nil
}
