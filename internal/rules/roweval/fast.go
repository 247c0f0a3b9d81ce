package roweval

import "strings"

// The conditions rules are made of are mostly VARCHAR columns compared with literals, joined by
// AND, OR, NOT, coalesce and CASE: a Sigma rule's coalesce(lower(eventname) = 'consolelogin',
// false), a CIS pattern's (errorcode LIKE 'AccessDenied%'). Such a condition is also compiled
// to functions over the row's strings, with the same three-valued logic, that Holds calls
// instead of the tree: no values built and copied, no environment taken from a pool, several
// times faster on the rows an ingest or a backtest evaluates every rule on. A part outside that
// subset (a JSON path, a cast, a number) is evaluated by the tree, only when the parts before it
// did not decide; when it fails, Holds evaluates the whole tree, which fails the same way. Every
// test of Holds runs through here (agree_test.go compares it with the engine).

// truth is SQL's three-valued truth.
type truth uint8

const (
	isFalse truth = iota
	isTrue
	isNull
	failed // a part the tree evaluated failed, or gave what is not a truth
)

func truthOf(b bool) truth {
	if b {
		return isTrue
	}
	return isFalse
}

type (
	predFn func(r *Row) truth
	textFn func(r *Row) (string, bool) // false: NULL
)

// fastText compiles a VARCHAR expression of the subset: a column, a literal, lower or coalesce
// of such; nil when n is not one.
func fastText(n node) textFn {
	switch n := n.(type) {
	case *colNode:
		if n.c.t == yStr && n.c.text != nil {
			return n.c.text
		}
	case *litNode:
		switch n.v.k {
		case kStr:
			s := n.v.s
			return func(*Row) (string, bool) { return s, true }
		case kNull:
			return func(*Row) (string, bool) { return "", false }
		}
	case *callNode:
		if n.t != yStr {
			return nil
		}
		switch n.fn {
		case "lower":
			x := fastText(n.args[0])
			if x == nil {
				return nil
			}
			return func(r *Row) (string, bool) {
				s, ok := x(r)
				if !ok {
					return "", false
				}
				return lower(s), true
			}
		case "coalesce":
			xs := make([]textFn, len(n.args))
			for i, a := range n.args {
				if xs[i] = fastText(a); xs[i] == nil {
					return nil
				}
			}
			return func(r *Row) (string, bool) {
				for _, x := range xs {
					if s, ok := x(r); ok {
						return s, true
					}
				}
				return "", false
			}
		}
	}
	return nil
}

// textual says whether t is compared as the subset compares: by the bytes of two strings.
func textual(n node) bool { return n.typ() == yStr || n.typ() == yNull }

// fastPred compiles a condition of the subset; nil when n is not one.
func (e *Expr) fastPred(n node) predFn {
	switch n := n.(type) {
	case *litNode:
		switch {
		case n.v.k == kBool:
			t := truthOf(n.v.b)
			return func(*Row) truth { return t }
		case n.v.k == kNull:
			return func(*Row) truth { return isNull }
		}
	case *logicNode:
		kids := make([]predFn, len(n.kids))
		anyFast := false
		for i, k := range n.kids {
			var fast bool
			kids[i], fast = e.predOrTree(k)
			anyFast = anyFast || fast
		}
		if !anyFast {
			return nil
		}
		decides, otherwise := truthOf(n.or), truthOf(!n.or) // OR: TRUE decides; AND: FALSE
		return func(r *Row) truth {
			sawNull := false
			for _, k := range kids {
				switch t := k(r); t {
				case decides, failed:
					return t
				case isNull:
					sawNull = true
				}
			}
			if sawNull {
				return isNull
			}
			return otherwise
		}
	case *notNode:
		x := e.fastPred(n.x)
		if x == nil {
			return nil
		}
		return func(r *Row) truth {
			switch t := x(r); t {
			case isTrue:
				return isFalse
			case isFalse:
				return isTrue
			default:
				return t
			}
		}
	case *cmpNode:
		if !textual(n.l) || !textual(n.r) {
			return nil
		}
		l, rt := fastText(n.l), fastText(n.r)
		if l == nil || rt == nil {
			return nil
		}
		var cmp func(a, b string) bool
		switch n.op {
		case "=":
			cmp = func(a, b string) bool { return a == b }
		case "<>":
			cmp = func(a, b string) bool { return a != b }
		case "<":
			cmp = func(a, b string) bool { return a < b }
		case "<=":
			cmp = func(a, b string) bool { return a <= b }
		case ">":
			cmp = func(a, b string) bool { return a > b }
		case ">=":
			cmp = func(a, b string) bool { return a >= b }
		default:
			return nil
		}
		return func(r *Row) truth {
			a, ok := l(r)
			if !ok {
				return isNull
			}
			b, ok := rt(r)
			if !ok {
				return isNull
			}
			return truthOf(cmp(a, b))
		}
	case *lowerEqNode:
		lit, not := n.lit, n.not
		return onText(n.x, func(s string) truth { return truthOf(lowerEquals(s, lit) != not) })
	case *isNullNode:
		if !textual(n.x) {
			return nil
		}
		x := fastText(n.x)
		if x == nil {
			return nil
		}
		not := n.not
		return func(r *Row) truth {
			_, ok := x(r)
			return truthOf(!ok != not)
		}
	case *inNode:
		var list []string
		sawNull := false
		for _, it := range n.list {
			l, ok := it.(*litNode)
			switch {
			case !ok:
				return nil
			case l.v.k == kNull:
				sawNull = true
			case l.v.k == kStr:
				list = append(list, l.v.s)
			default:
				return nil
			}
		}
		// Absent from the list: NULL when it holds a NULL, else NOT IN holds.
		absent := truthOf(n.not)
		if sawNull {
			absent = isNull
		}
		present := truthOf(!n.not)
		return onText(n.x, func(s string) truth {
			for _, it := range list {
				if s == it {
					return present
				}
			}
			return absent
		})
	case *likeNode:
		if n.m == nil {
			return nil
		}
		m, not := n.m, n.not
		return onText(n.x, func(s string) truth { return truthOf(m.match(s) != not) })
	case *caseNode:
		return e.fastCase(n)
	case *callNode:
		switch n.fn {
		case "coalesce":
			if n.t != yBool {
				return nil
			}
			xs := make([]predFn, len(n.args))
			for i, a := range n.args {
				var fast bool
				if xs[i], fast = e.predOrTree(a); i == 0 && !fast {
					return nil // the first decides on most rows: the tree's work
				}
			}
			return func(r *Row) truth {
				for _, x := range xs {
					if t := x(r); t != isNull {
						return t
					}
				}
				return isNull
			}
		case "regexp_like":
			re, lit := n.re, n.lit
			return onText(n.args[0], func(s string) truth {
				if lit != "" && !strings.Contains(s, lit) {
					return isFalse
				}
				return truthOf(re.MatchString(s))
			})
		}
	}
	return nil
}

// onText compiles test of a VARCHAR expression of the subset, x: NULL when x is NULL, else what
// test says of its value; nil when x is not of the subset.
func onText(x node, test func(s string) truth) predFn {
	if !textual(x) {
		return nil
	}
	text := fastText(x)
	if text == nil {
		return nil
	}
	return func(r *Row) truth {
		s, ok := text(r)
		if !ok {
			return isNull
		}
		return test(s)
	}
}

// fastCase compiles a searched CASE of conditions whose first WHEN is of the subset (Sigma's
// "selection and not filter" takes that shape): the tree evaluates the parts that are not, only
// on the rows that reach them.
func (e *Expr) fastCase(n *caseNode) predFn {
	if n.operand != nil || n.t != yBool || len(n.whens) == 0 {
		return nil
	}
	whens, thens := make([]predFn, len(n.whens)), make([]predFn, len(n.thens))
	for i := range n.whens {
		var fast bool
		if whens[i], fast = e.predOrTree(n.whens[i]); i == 0 && !fast {
			return nil
		}
		thens[i], _ = e.predOrTree(n.thens[i])
	}
	els := func(*Row) truth { return isNull }
	if n.els != nil {
		els, _ = e.predOrTree(n.els)
	}
	return func(r *Row) truth {
		for i, w := range whens {
			switch w(r) {
			case isTrue:
				return thens[i](r)
			case failed:
				return failed
			}
		}
		return els(r)
	}
}

// predOrTree compiles a condition: to the subset's functions when it is of the subset (fast),
// else to its evaluation by the tree.
func (e *Expr) predOrTree(n node) (p predFn, fast bool) {
	if p := e.fastPred(n); p != nil {
		return p, true
	}
	return func(r *Row) truth {
		v, err := e.evalNode(n, r)
		switch {
		case err != nil:
			return failed
		case v.k == kNull:
			return isNull
		case v.k == kBool:
			return truthOf(v.b)
		}
		return failed
	}, false
}
