package insights

import "testing"

// BenchmarkTranslate measures Parse and SQL over the translation cases.
func BenchmarkTranslate(b *testing.B) {
	for b.Loop() {
		for _, tc := range translations {
			q, err := Parse(tc.query)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := q.SQL(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
