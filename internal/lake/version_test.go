package lake

import "testing"

// The version changes with every commit and every table definition, and only then.
func TestVersion(t *testing.T) {
	root := t.TempDir()
	var prev, prevWhat string
	step := func(what string) {
		t.Helper()
		v, err := Version(root)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Version(root)
		if again != v {
			t.Fatalf("%s: version %s then %s with nothing changed", what, v, again)
		}
		if v == prev {
			t.Fatalf("%s: version %s, as after %s", what, v, prevWhat)
		}
		prev, prevWhat = v, what
	}
	step("empty")
	ingestBatch(t, root, 0, 10)
	step("first commit")
	ingestBatch(t, root, 10, 20)
	step("second commit")
	if err := SaveTable(root, "t", []byte(`{"name":"t","format":"yyyy/MM/dd"}`)); err != nil {
		t.Fatal(err)
	}
	step("table stored")
	// Same name, same size, written at once: the content tells.
	if err := SaveTable(root, "t", []byte(`{"name":"t","format":"yyyy-MM-dd"}`)); err != nil {
		t.Fatal(err)
	}
	step("table replaced")
	if _, err := DropTable(root, "t"); err != nil {
		t.Fatal(err)
	}
	step("table dropped")
}
