package report

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// The formats a Document is written in.
var Formats = []string{"markdown", "html", "json"}

// Write writes d in format (markdown, html or json).
func (d *Document) Write(w io.Writer, format string) error {
	switch format {
	case "markdown", "md":
		return d.Markdown(w)
	case "html":
		return d.HTML(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return fmt.Errorf("no report format %q: the formats are %s", format, strings.Join(Formats, ", "))
}

func (d *Document) window() string {
	return fmt.Sprintf("%s to %s (UTC)", d.From.Format("2 Jan 2006 15:04"), d.To.Format("2 Jan 2006 15:04"))
}

// cell is a value as a report shows it.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case string:
		return x
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// Markdown writes d as Markdown: a heading per section, its rows as a table, and each chart as
// a table of its values (Markdown has no pictures of its own).
func (d *Document) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s. Made %s by trailsql.\n", d.Title, d.window(), d.Made.Format("2 Jan 2006 15:04 UTC"))
	md := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		return strings.ReplaceAll(s, "\n", " ")
	}
	for _, c := range d.Charts {
		fmt.Fprintf(&b, "\n## %s\n\n| | |\n|---|---:|\n", c.Title)
		for i, l := range c.Labels {
			fmt.Fprintf(&b, "| %s | %s |\n", md(l), number(c.Values[i]))
		}
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", s.Title, s.About)
		if len(s.Rows) == 0 {
			fmt.Fprintf(&b, "%s\n", s.Empty)
			continue
		}
		b.WriteString("| " + strings.Join(s.Columns, " | ") + " |\n|")
		b.WriteString(strings.Repeat("---|", len(s.Columns)) + "\n")
		for _, r := range s.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = md(cell(v))
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		if s.More > 0 {
			fmt.Fprintf(&b, "\n… and %d more rows (the JSON format has them all up to the limit).\n", s.More)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func number(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// HTML writes d as one self-contained page: inline CSS, charts as inline SVG, no script and no
// outside address, so that it reads the same offline, as a file, and in an e-mail client.
func (d *Document) HTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + e(d.Title) + ` · trailsql</title>
<style>
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d2330;margin:24px;max-width:1100px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
p.meta{color:#5b6475;margin:0 0 16px}p.about{color:#3c4454;margin:4px 0 10px;font-size:14px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border:1px solid #dde1e8;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f9}td{word-break:break-word}.empty{color:#2f7d4f}.more{color:#5b6475;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #dde1e8;padding:8px}
</style></head><body>
`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p class=\"meta\">%s. Made %s by trailsql.</p>\n", e(d.Title), e(d.window()), e(d.Made.Format("2 Jan 2006 15:04 UTC")))
	if len(d.Charts) > 0 {
		b.WriteString("<div class=\"charts\">\n")
		for _, c := range d.Charts {
			b.WriteString("<div class=\"chart\">" + c.SVG() + "</div>\n")
		}
		b.WriteString("</div>\n")
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "<h2>%s</h2>\n<p class=\"about\">%s</p>\n", e(s.Title), e(s.About))
		if len(s.Rows) == 0 {
			fmt.Fprintf(&b, "<p class=\"empty\">%s</p>\n", e(s.Empty))
			continue
		}
		b.WriteString("<table><thead><tr>")
		for _, c := range s.Columns {
			b.WriteString("<th>" + e(c) + "</th>")
		}
		b.WriteString("</tr></thead><tbody>\n")
		for _, r := range s.Rows {
			b.WriteString("<tr>")
			for _, v := range r {
				b.WriteString("<td>" + e(cell(v)) + "</td>")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</tbody></table>\n")
		if s.More > 0 {
			fmt.Fprintf(&b, "<p class=\"more\">… and %d more rows.</p>\n", s.More)
		}
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// SVG draws c as a bar chart in inline SVG: one bar per label, its value written above it.
func (c Chart) SVG() string {
	const height, top, bottom, left = 180.0, 24.0, 60.0, 8.0
	n := len(c.Labels)
	bar := 28.0
	if n > 20 {
		bar = math.Max(6, 560/float64(n))
	}
	width := left*2 + float64(n)*bar*1.25
	width = math.Max(width, 240)
	maxV := 0.0
	for _, v := range c.Values {
		maxV = math.Max(maxV, v)
	}
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="%s">`, width, height+top+bottom, e(c.Title))
	fmt.Fprintf(&b, `<text x="%.0f" y="16" font-size="13" font-family="Helvetica,Arial,sans-serif" fill="#1d2330">%s</text>`, left, e(c.Title))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12" font-family="Helvetica,Arial,sans-serif" fill="#5b6475">nothing in the window</text></svg>`, left, top+height/2)
		return b.String()
	}
	for i, v := range c.Values {
		h := 0.0
		if maxV > 0 {
			h = v / maxV * height
		}
		x := left + float64(i)*bar*1.25
		y := top + height - h
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#3b6fd4"><title>%s: %s</title></rect>`, x, y, bar, h, e(c.Labels[i]), number(v))
		if n <= 20 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" font-family="Helvetica,Arial,sans-serif" fill="#1d2330">%s</text>`, x+bar/2, y-3, number(v))
		}
		if n <= 20 || i%int(math.Ceil(float64(n)/10)) == 0 {
			fmt.Fprintf(&b, `<text transform="translate(%.1f,%.1f) rotate(40)" font-size="10" font-family="Helvetica,Arial,sans-serif" fill="#3c4454">%s</text>`, x+2, top+height+12, e(shorten(c.Labels[i], 24)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
