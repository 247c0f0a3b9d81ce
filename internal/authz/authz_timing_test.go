package authz

import "testing"

// A principal granted nearly every action (Allow NotAction iam:*), the worst case of both steps.
func benchPrincipal(b *testing.B) (*Details, *Principal) {
	d := load(b, "account.json")
	return d, d.Lookup("Everything-But-IAM")[0]
}

func BenchmarkGrantsEverything(b *testing.B) {
	d, p := benchPrincipal(b)
	d.Grants(p)
	for b.Loop() {
		d.Grants(p)
	}
}

func BenchmarkDiffEverything(b *testing.B) {
	d, p := benchPrincipal(b)
	g := d.Grants(p)
	for b.Loop() {
		Diff(g, nil, DiffOptions{})
	}
}
