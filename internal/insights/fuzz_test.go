package insights

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that no query makes Parse or SQL panic, that every error is an *Error pointing
// inside the query, and that a query that translates gives one SELECT statement.
func FuzzParse(f *testing.F) {
	for _, tc := range translations {
		f.Add(tc.query)
	}
	for _, s := range []string{"", "|", "filter", "fields `a", "parse @message /(?<a>x", "stats count(*) by bin(", "filter a in [", "sort a desc | dedup", "filter a like /x/ and not b =~ /y/", "fields -(-1)", "filter (((", "#comment\nfields a # more", "fields 1.2.3m", "stats sum(a) as x | stats max(x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err == nil {
			var s string
			s, err = q.SQL()
			if err == nil {
				if !strings.HasPrefix(s, "SELECT ") || strings.Contains(s, ";") && !strings.Contains(src, ";") {
					t.Fatalf("%q became %q", src, s)
				}
				return
			}
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: %v is not an *Error", src, err)
		}
		if e.Offset < 0 || e.Offset > len(src) || e.Line < 1 || e.Column < 1 {
			t.Fatalf("%q: the error points outside the query: %+v", src, e)
		}
	})
}
