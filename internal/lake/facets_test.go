package lake

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// TestFileValues checks that the writer records each file's distinct facet values, that a
// compaction records the union of the merged files', and that a column with too many values is
// left unknown rather than listed in part.
func TestFileValues(t *testing.T) {
	root := t.TempDir()
	s := func(v string) *string { return &v }
	commit := func(recs ...*cloudtrail.Record) {
		t.Helper()
		w, err := OpenWriter(context.Background(), root, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for _, r := range recs {
			if _, err := w.Add(part, r, cloudtrail.Hash(r)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a, b := rec(1), rec(2)
	b.EventName, b.ErrorCode, b.UserIdentity = s("DeleteUser"), s("AccessDenied"), nil
	commit(a, b)
	c := rec(3)
	c.EventSource, c.UserIdentity.Type = s("iam.amazonaws.com"), s("Root")
	commit(c)
	// A file of more event names than a file records.
	var many []*cloudtrail.Record
	for i := range maxFacetValues + 1 {
		r := rec(100 + i)
		r.EventName = s(fmt.Sprint("Op", i))
		many = append(many, r)
	}
	commit(many...)

	want := []map[string][]string{
		{"useridentity.type": {"IAMUser"}, "eventsource": {}, "eventname": {"DeleteUser", "GetObject"}, "errorcode": {"AccessDenied"}},
		{"useridentity.type": {"Root"}, "eventsource": {"iam.amazonaws.com"}, "eventname": {"GetObject"}, "errorcode": {}},
		{"useridentity.type": {"IAMUser"}, "eventsource": {}, "errorcode": {}},
	}
	snap, err := OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Files) != len(want) {
		t.Fatalf("%d files, want %d", len(snap.Files), len(want))
	}
	for _, f := range snap.Files {
		i := f.Origins[0] - 1 // the commit that wrote it
		if !equalValues(f.Values, want[i]) {
			t.Errorf("file of commit %d (%s): values %v, want %v", i+1, f.Path, f.Values, want[i])
		}
	}

	// Compacting the three files into one: the union of their values, and eventname unknown
	// (the third file's list was past the limit: the union is too).
	compactLake(t, root)
	snap, err = OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Files) != 1 {
		t.Fatalf("after compaction: %d files, want 1", len(snap.Files))
	}
	union := map[string][]string{"useridentity.type": {"IAMUser", "Root"}, "eventsource": {"iam.amazonaws.com"}, "errorcode": {"AccessDenied"}}
	if got := snap.Files[0].Values; !equalValues(got, union) {
		t.Errorf("compacted file: values %v, want %v", got, union)
	}
}

func equalValues(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

func TestFacetHolds(t *testing.T) {
	cases := []struct {
		op     string
		values []string
		v      string
		want   bool
	}{
		{"=", []string{"DeleteUser"}, "DeleteUser", true},
		{"=", []string{"DeleteUser"}, "deleteuser", false},
		{"lower =", []string{"deleteuser"}, "DeleteUser", true},
		{"lower in", []string{"a", "stoplogging"}, "StopLogging", true},
		{"lower =", []string{"DeleteUser"}, "DeleteUser", false}, // lower() never equals upper case
		{"<>", []string{"HeadBucket"}, "HeadBucket", false},
		{"not in", []string{"a"}, "b", true},
		{"like", []string{"UpdateFunctionCode%"}, "UpdateFunctionCode20150331v2", true},
		{"like", []string{"%Unauthorized_peration"}, "Client.UnauthorizedOperation", true},
		{"like", []string{"%Unauthorized_peration"}, "UnauthorizedOperations", false},
		{"not like", []string{"Get%"}, "GetObject", false},
		{"lower like", []string{"updatefunctionconfiguration%"}, "UpdateFunctionConfiguration20150331v2", true},
		{"like escape", []string{`100\%`}, "100%", true},
		{"like escape", []string{`100\%`}, "1000", false},
		{"like escape", []string{`a\_b%`}, "a_bc", true},
		{"like escape", []string{`a\_b%`}, "axbc", false},
		{"like", []string{"%a%b%"}, "xxaxxbxx", true},
		{"like", []string{"%a%b"}, "xxaxxbxxa", false},
		{"is not null", nil, "x", true},
		{"between", []string{"a", "b"}, "z", true}, // not known: holds
	}
	for _, c := range cases {
		if got := FacetHolds(c.op, c.values, c.v); got != c.want {
			t.Errorf("FacetHolds(%q, %q, %q) = %v, want %v", c.op, c.values, c.v, got, c.want)
		}
	}
}
