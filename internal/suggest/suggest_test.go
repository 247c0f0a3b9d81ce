package suggest

import "testing"

func TestClosest(t *testing.T) {
	questions := []string{"access-denied", "access-key", "active-roles", "active-users", "root-activity", "throttling", "iam-changes"}
	flags := []string{"format", "from", "to", "days", "lake", "wide", "principal", "region", "account"}
	for _, c := range []struct {
		name string
		in   []string
		want string
	}{
		{"root-activty", questions, "root-activity"},  // a letter left out
		{"root-actvitiy", questions, "root-activity"}, // two slips
		{"throttl", questions, "throttling"},          // a prefix of it
		{"ROOT-ACTIVITY", questions, "root-activity"}, // case
		{"active-user", questions, "active-users"},    // a letter short: not active-roles
		{"acess-key", questions, "access-key"},        // not access-denied
		{"fomat", flags, "format"},                    // a letter left out
		{"form", flags, "from"},                       // neighbours swapped
		{"princ", flags, "principal"},                 // a prefix
		{"priniciple", flags, "principal"},            // three edits in ten letters
		{"weather", questions, ""},                    // nothing like it
		{"x", flags, ""},                              // too short to guess
		{"zz", flags, ""},                             // too far from "to"
		{"", flags, ""},
	} {
		if got := Closest(c.name, c.in); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"form", "from", 1}, {"ca", "abc", 3}, {"é", "e", 1},
	} {
		if got := distance(c.a, c.b); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
