package athena

import (
	"slices"
	"testing"
)

func TestNamedParameters(t *testing.T) {
	for _, c := range []struct {
		in, out string
		names   []string
		err     bool
	}{
		{"SELECT 1", "SELECT 1", nil, false},
		{"SELECT * FROM t WHERE a = :user AND b = ?", "SELECT * FROM t WHERE a = ? AND b = ?", []string{"user"}, false},
		{"SELECT ':not' , \":no\" -- :none\n, :a, :a", "SELECT ':not' , \":no\" -- :none\n, ?, ?", []string{"a", "a"}, false},
		{"SELECT x::int", "SELECT x::int", nil, false},
		{"SELECT ': ", "", nil, true},
	} {
		out, names, err := NamedParameters(c.in)
		if (err != nil) != c.err {
			t.Errorf("%q: error %v", c.in, err)
			continue
		}
		if err == nil && (out != c.out || !slices.Equal(names, c.names)) {
			t.Errorf("%q: got %q %v, want %q %v", c.in, out, names, c.out, c.names)
		}
	}
}
