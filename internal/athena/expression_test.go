package athena

import (
	"strings"
	"testing"
)

func TestCheckExpression(t *testing.T) {
	for _, c := range []struct{ expr, err string }{
		{"eventname = 'ConsoleLogin'", ""},
		{"useridentity.type = 'Root' AND (errorcode IS NULL OR errorcode = 'x')", ""},
		{"eventname IN (SELECT 'a')", ""},
		{"json_extract_scalar(requestparameters, '$.a[0]') = ')' -- a comment", ""},
		{"regexp_like(eventname, '^(Put|Delete)') AND cardinality(resources) > 0 AND resources[1].arn LIKE '%x'", ""},
		{"", "empty"},
		{"  -- only a comment", "empty"},
		{"true) OR (true", "closes nothing"},
		{"(true", "not closed"},
		{"[1)", "closes nothing"},
		{"true; DROP TABLE x", "';'"},
		{"true UNION SELECT 1", "UNION starts a clause"},
		{"1=1 FROM cloudtrail_logs", "FROM starts a clause"},
		{"eventname = 'unterminated", "unterminated"},
	} {
		err := CheckExpression(c.expr)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.expr, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one saying %q", c.expr, err, c.err)
		}
	}
}
