package roweval

import "slices"

// cost estimates what evaluating n on a row costs, in rough units of a column read: what orders the
// operands of AND and OR, cheapest first, so that one that decides the answer on most rows (a
// column compared with a literal) spares the others (a LIKE over the user agent, a regular
// expression, a JSON path). SQL leaves the order of those operands to the engine, as DuckDB and
// Trino reorder them too; evaluation of an operand has no effect but its value or an error, and an
// error sends the rule to the engine, which decides it whole.
func cost(n node) int {
	sum := func(ns ...node) int {
		c := 0
		for _, k := range ns {
			if k != nil {
				c += cost(k)
			}
		}
		return c
	}
	switch n := n.(type) {
	case *litNode, *varNode:
		return 0
	case *colNode:
		return 1
	case *fieldNode:
		return 1 + cost(n.x)
	case *cmpNode:
		return 1 + sum(n.l, n.r)
	case *lowerEqNode:
		return 2 + cost(n.x)
	case *isNullNode:
		return 1 + cost(n.x)
	case *notNode:
		return cost(n.x)
	case *inNode:
		return 1 + len(n.list)/4 + sum(n.x) + sum(n.list...)
	case *betweenNode:
		return 2 + sum(n.x, n.lo, n.hi)
	case *likeNode:
		return 8 + sum(n.x, n.pat, n.esc)
	case *logicNode:
		return sum(n.kids...)
	case *concatNode:
		return 5 + sum(n.args...)
	case *castNode:
		return 5 + cost(n.x)
	case *caseNode:
		return sum(n.operand, n.els) + sum(n.whens...) + sum(n.thens...)
	case *callNode:
		switch n.fn {
		case "coalesce":
			return sum(n.args...)
		case "lower", "length", "starts_with", "cardinality", "element_at", "map_values":
			return 4 + sum(n.args...)
		case "regexp_like":
			// A pattern every match of which holds a literal is first looked for as that literal:
			// on most rows, a substring search decides.
			if n.lit != "" {
				return 8 + sum(n.args...)
			}
			return 30 + sum(n.args...)
		case "regexp_replace", "regexp_extract":
			return 30 + sum(n.args...)
		case "json_extract_scalar", "json_extract", "json_array_length", "json_format", "any_match", "all_match", "none_match":
			return 50 + sum(n.args...)
		}
		return 10 + sum(n.args...)
	}
	return 50 // what this does not know: a list, a lambda
}

// cheapestFirst orders the operands of an AND or OR by cost, the cheapest first (stable).
func cheapestFirst(kids []node) []node {
	slices.SortStableFunc(kids, func(a, b node) int { return cost(a) - cost(b) })
	return kids
}
