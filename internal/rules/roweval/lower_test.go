package roweval

import "testing"

// FuzzLowerEquals: lowerEquals(s, lit) is lower(s) = lit.
func FuzzLowerEquals(f *testing.F) {
	for _, c := range [][2]string{{"ConsoleLogin", "consolelogin"}, {"ÀİΣ", "àiσ"}, {"ÀİΣ", "ÀİΣ"}, {"K", "k"},
		{"abc", "ab"}, {"ab", "abc"}, {"\xff", "\ufffd"}, {"\xff", "\xff"}, {"", ""}, {"A\u0300", "a\u0300"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, s, lit string) {
		if got, want := lowerEquals(s, lit), lower(s) == lit; got != want {
			t.Errorf("lowerEquals(%q, %q) = %v, lower(s) = %q", s, lit, got, lower(s))
		}
	})
}
