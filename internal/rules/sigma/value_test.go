package sigma

import (
	"slices"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

func TestSigmaString(t *testing.T) {
	for _, tc := range []struct{ in, like string }{
		{`abc`, `abc`},
		{`a*b?c`, `a%b_c`},
		{`a\*b\?c`, `a*b?c`},
		{`C:\Windows\*`, `C:\\Windows*`}, // a backslash before a letter is itself; \* is a plain star
		{`C:\\Windows\\*`, `C:\\Windows\\%`},
		{`a\\\*`, `a\\*`}, // three backslashes: a backslash and a plain star
		{`a\\\\b`, `a\\\\b`},
		{`100%_x`, `100\%\_x`},
		{`**x**`, `%x%`},
		{`trailing\`, `trailing\\`},
	} {
		if got := sigmaString(tc.in).like(); got != tc.like {
			t.Errorf("sigmaString(%q).like() = %q, want %q", tc.in, got, tc.like)
		}
	}
}

// The three base64offset variants of pySigma's documentation example.
func TestBase64Offsets(t *testing.T) {
	got := base64Offsets("http://")
	want := []string{"aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"}
	if !slices.Equal(got, want) {
		t.Errorf("base64Offsets(http://) = %q, want %q", got, want)
	}
}

func TestWindash(t *testing.T) {
	alts, ok := windash(sigmaString("a-b/c*"), 1024)
	if !ok || len(alts) != 25 {
		t.Fatalf("windash gave %d variants, ok %v; want 25", len(alts), ok)
	}
	if _, ok := windash(sigmaString("-a-b-c-d-e"), 1024); ok {
		t.Error("5^5 variants accepted over a limit of 1024")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"selection_*", "selection_a", true},
		{"selection_*", "selection", false},
		{"*_main_*", "filter_main_x", true},
		{"sel*tion", "selection", true},
		{"sel*tion", "selectionx", false},
		{"a*a", "a", false},
		{"x", "x", true},
	} {
		if got := globMatch(tc.pat, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pat, tc.name, got)
		}
	}
}

func TestJSONPath(t *testing.T) {
	if got := jsonPath([]string{"a", "b-c", "it's", "_x1"}); got != `$.a["b-c"]["it's"]._x1` {
		t.Errorf("jsonPath = %s", got)
	}
	if got := quote("it's"); got != `'it''s'` {
		t.Errorf("quote = %s", got)
	}
}

// TestColumnsMatchTable checks the package's view of cloudtrail_logs against the table's
// definition in internal/cloudtrail, so that a new column is not read from the residual.
func TestColumnsMatchTable(t *testing.T) {
	cols := tableColumns()
	kindOf := func(path []string) (colKind, bool) {
		c, ok := cols[path[0]]
		for _, p := range path[1:] {
			if !ok || c.fields == nil {
				return 0, false
			}
			c, ok = c.fields[p]
		}
		if !ok {
			return 0, false
		}
		return c.kind, true
	}
	check := func(name, typ string) {
		path := splitDots(name)
		k, ok := kindOf(path)
		if !ok {
			t.Errorf("column %s (%s) is not known to the Sigma compiler", name, typ)
			return
		}
		want := map[string][]colKind{
			"VARCHAR": {colText, colJSON}, "BOOLEAN": {colBool}, "MAP(VARCHAR, VARCHAR)": {colMap},
		}[typ]
		if len(typ) > 6 && typ[:6] == "STRUCT" {
			want = []colKind{colStruct}
			if typ[len(typ)-2:] == "[]" {
				want = []colKind{colResources}
			}
		}
		if !slices.Contains(want, k) {
			t.Errorf("column %s is %s but the compiler reads it as kind %d", name, typ, k)
		}
	}
	n := 0
	for _, c := range cloudtrail.Columns() {
		if c.Name == "residual" || slices.Contains(cloudtrail.PartitionColumns, c.Name) {
			continue
		}
		n++
		check(c.Name, c.Type)
		if c.Type[:6] == "STRUCT" && c.Type[len(c.Type)-2:] != "[]" {
			for _, f := range cloudtrail.Fields(c.Name) {
				check(f.Name, f.Type)
			}
		}
	}
	if n != len(cols) {
		t.Errorf("the table has %d columns, the compiler knows %d", n, len(cols))
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
