// Package suggest finds what a mistyped name was meant to be: a question (root-activty →
// root-activity), a flag (--fomat → --format), so that an error can say "did you mean …?".
package suggest

import "strings"

// Closest returns the candidate nearest to name, or "" when none is near enough to be what was
// meant: at most a third of the name's letters edited (at least 1, at most 3; a swap of two
// neighbouring letters counts once), or a candidate the name is a prefix of. Case is ignored.
// On a tie the first candidate in the list wins.
func Closest(name string, candidates []string) string {
	n := strings.ToLower(name)
	if n == "" {
		return ""
	}
	limit := min(max(len([]rune(n))/3, 1), 3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == n {
			return c
		}
		d := distance(n, lc)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		if len(n) >= 3 && strings.HasPrefix(strings.ToLower(c), n) {
			return c
		}
	}
	return ""
}

// distance is the optimal string alignment distance between a and b: insertions, deletions,
// substitutions and transpositions of neighbours, each counting 1.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back (for transpositions), one back, and the current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
