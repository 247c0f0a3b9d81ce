package engine

import "testing"

func TestSplitSingle(t *testing.T) {
	ok := map[string]string{
		"SELECT 1;":                            "SELECT 1",
		"SELECT ';' AS x; -- done\n":           "SELECT ';' AS x",
		"/* c; */ SELECT \"a;b\" FROM t ;  ; ": "/* c; */ SELECT \"a;b\" FROM t",
		"SELECT 'it''s; fine'":                 "SELECT 'it''s; fine'",
	}
	for in, want := range ok {
		if got, err := splitSingle(in); err != nil || got != want {
			t.Errorf("splitSingle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"SELECT 1; SELECT 2", "", " -- only a comment\n", "SELECT 1; COPY t TO 'x'"} {
		if _, err := splitSingle(in); err == nil {
			t.Errorf("splitSingle(%q) accepted", in)
		}
	}
	if got := stripComments("SELECT /* x */ 1 -- y\n, '--not' "); got != "SELECT   1  \n, '--not' " {
		t.Errorf("stripComments: %q", got)
	}
}
