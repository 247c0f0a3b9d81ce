// Package testshared locates the team's shared folder (../shared beside the checkout: datasets,
// the Athena corpus) for tests. A test that needs it skips when it is absent, as on a user's
// machine, and fails when it is absent under CI=true, where it must be.
package testshared

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Dir returns the absolute path of ../shared/<sub> (relative to the repository root), or skips
// the test when it is absent (fails it under CI=true).
func Dir(t testing.TB, sub string) string {
	t.Helper()
	root := "."
	if out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		root = strings.TrimSpace(string(out))
	} else if wd, err := os.Getwd(); err == nil {
		// Outside git: walk up to the folder holding go.mod.
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				root = d
				break
			}
		}
	}
	dir, _ := filepath.Abs(filepath.Join(root, "..", "shared", sub))
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("../shared/%s is missing under CI: %v", sub, err)
		}
		t.Skipf("../shared/%s is not present (%v)", sub, err)
	}
	return dir
}

// BenchEvents is the size of a benchmark's generated trail: TRAILSQL_BENCH_EVENTS when set (a
// positive number, else the benchmark fails), or def.
func BenchEvents(b testing.TB, def int) int {
	b.Helper()
	s := os.Getenv("TRAILSQL_BENCH_EVENTS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("TRAILSQL_BENCH_EVENTS=%q: give a positive number of events", s)
	}
	return n
}
