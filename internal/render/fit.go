package render

import (
	"strings"

	"github.com/jedib0t/go-pretty/v6/text"
)

// MinColumnWidth is the narrowest a column is cut to (its header, if shorter, sets it): enough to
// tell "arn:aws:iam…" from "AROA…" and a date from a time.
const MinColumnWidth = 12

// SetWidth makes a table fit width terminal columns (0, the default: any width): the widest
// columns are cut, each line of a cell ending in "…", and a footer says so and that --wide
// shows them whole. Only the table format is cut; CSV, JSON and Markdown are data, never cut.
func (s *Stream) SetWidth(width int) { s.width = width }

// fitColumns cuts the cells (header included) of the columns that make a table with StyleLight
// borders wider than width: the narrow columns keep their width, and the wide ones share what is
// left equally, none going under MinColumnWidth (or its header's width, if less). It reports
// whether it cut anything. A table whose columns at their minimum are still too wide gets them at
// their minimum.
func fitColumns(header []string, rows [][]string, width int) bool {
	n := len(header)
	if width <= 0 || n == 0 {
		return false
	}
	natural := make([]int, n)
	for i, h := range header {
		natural[i] = text.LongestLineLen(h)
	}
	for _, r := range rows {
		for i, c := range r {
			natural[i] = max(natural[i], text.LongestLineLen(c))
		}
	}
	budget := width - (3*n + 1) // "│ " before each column, " " after it, the last "│"
	total := 0
	for _, w := range natural {
		total += w
	}
	if total <= budget {
		return false
	}
	floor := make([]int, n)
	for i, h := range header {
		floor[i] = min(natural[i], max(min(text.LongestLineLen(h), MinColumnWidth), min(MinColumnWidth, natural[i])))
	}
	// The largest cap under which every column fits: columns under it keep their width.
	widths := func(limit int) ([]int, int) {
		out, sum := make([]int, n), 0
		for i := range natural {
			out[i] = max(min(natural[i], limit), floor[i])
			sum += out[i]
		}
		return out, sum
	}
	lo, hi := 0, 0
	for _, w := range natural {
		hi = max(hi, w)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, sum := widths(mid); sum <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	cols, _ := widths(lo)
	cut := false
	for i := range cols {
		if cols[i] >= natural[i] {
			continue
		}
		cut = true
		header[i] = snipLines(header[i], cols[i])
		for _, r := range rows {
			r[i] = snipLines(r[i], cols[i])
		}
	}
	return cut
}

// snipLines cuts each line of s to width terminal columns, the cut ones ending in "…".
func snipLines(s string, width int) string {
	if text.LongestLineLen(s) <= width {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = text.Snip(l, width, "…")
	}
	return strings.Join(lines, "\n")
}
