package roweval_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// lower folds every character of the Basic Multilingual Plane as the engine's lower does, and
// compares strings of them as the engine does.
func TestLowerAgreesWithEngine(t *testing.T) {
	e, err := local.Open(context.Background(), engine.Options{Lake: filepath.Join(t.TempDir(), "lake")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	query := local.Engine(e)
	row := handRow(t)
	for start := rune(0x20); start < 0x10000; start += 0x800 {
		var b strings.Builder
		for r := start; r < start+0x800 && r < 0x10000; r++ {
			if r >= 0xD800 && r <= 0xDFFF || !utf8.ValidRune(r) {
				continue
			}
			b.WriteRune(r)
		}
		lit := "'" + strings.ReplaceAll(b.String(), "'", "''") + "'"
		for _, expr := range []string{"lower(" + lit + ")", "CAST(lower(" + lit + ") = " + lit + " AS VARCHAR)"} {
			res, err := query(context.Background(), "SELECT "+expr)
			if err != nil {
				t.Fatal(err)
			}
			want := answer.String(res.Rows[0][0])
			x, err := roweval.Compile(expr)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := x.Text(row)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				gr, wr := []rune(got), []rune(want)
				for i := range min(len(gr), len(wr)) {
					if gr[i] != wr[i] {
						t.Errorf("from U+%04X: first difference at %q: Go %q (U+%04X), engine %q (U+%04X)", start, []rune(b.String())[i], gr[i], gr[i], wr[i], wr[i])
						break
					}
				}
				if len(gr) != len(wr) {
					t.Errorf("from U+%04X: Go gives %d characters, the engine %d", start, len(gr), len(wr))
				}
			}
		}
	}
}
