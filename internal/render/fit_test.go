package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/text"
)

var wideRows = [][]any{
	{"arn:aws:iam::111122223333:role/MonitoringRole", "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/cloudwatch#1.49.0", int64(63)},
	{"arn:aws:sts::111122223333:assumed-role/Admin/alice", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)\nsecond line of a cell", int64(7)},
}

func writeWidth(t *testing.T, format string, width int) string {
	t.Helper()
	var b bytes.Buffer
	s, err := NewStream(&b, format)
	if err != nil {
		t.Fatal(err)
	}
	s.SetWidth(width)
	s.Begin([]string{"principal", "useragent", "count"}, nil)
	for _, r := range wideRows {
		s.Row(r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A table wider than the terminal has its wide columns cut with "…" to fit, narrow ones kept
// whole, and says so; CSV is never cut.
func TestTableFitsWidth(t *testing.T) {
	for _, width := range []int{80, 100, 40} {
		out := writeWidth(t, "table", width)
		for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if strings.HasPrefix(line, "(") {
				continue
			}
			if w := text.StringWidth(line); w > width {
				t.Errorf("width %d: line of %d columns: %q", width, w, line)
			}
		}
		if !strings.Contains(out, "…") || !strings.Contains(out, "--wide shows them whole") || !strings.Contains(out, "│ 63    │") {
			t.Errorf("width %d:\n%s", width, out)
		}
		if !strings.Contains(out, "arn:aws:iam") {
			t.Errorf("width %d: the principal column is cut under its minimum:\n%s", width, out)
		}
	}
	// Wide enough, or no width: whole values, no footer.
	for _, width := range []int{0, 400} {
		out := writeWidth(t, "table", width)
		if strings.Contains(out, "…") || strings.Contains(out, "--wide") || !strings.Contains(out, "api/cloudwatch#1.49.0") {
			t.Errorf("width %d:\n%s", width, out)
		}
	}
	for _, f := range []string{"csv", "markdown", "jsonl"} {
		if out := writeWidth(t, f, 40); strings.Contains(out, "…") || !strings.Contains(out, "api/cloudwatch#1.49.0") {
			t.Errorf("%s cut at width 40:\n%s", f, out)
		}
	}
}

func TestFitColumnsShares(t *testing.T) {
	hdr := []string{"a", "b", "c"}
	rows := [][]string{{strings.Repeat("x", 50), strings.Repeat("y", 50), "zz"}}
	// 3 columns: 10 columns of borders, 60 for the cells: "zz" keeps 2, the others 29 each.
	if !fitColumns(hdr, rows, 70) {
		t.Fatal("not cut")
	}
	if got := []int{text.StringWidth(rows[0][0]), text.StringWidth(rows[0][1]), text.StringWidth(rows[0][2])}; got[0] != 29 || got[1] != 29 || got[2] != 2 {
		t.Errorf("widths %v, want [29 29 2]", got)
	}
	if !strings.HasSuffix(rows[0][0], "…") {
		t.Errorf("cut cell %q has no …", rows[0][0])
	}
}
