package cloudtrail

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDatasets returns ../shared/datasets, or skips the test when it is absent (a user's
// checkout without the team's shared folder). Under CI=true it must be there.
func sharedDatasets(t testing.TB) string {
	t.Helper()
	dir, _ := filepath.Abs("../../../shared/datasets")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared datasets missing under CI: %v", err)
		}
		t.Skipf("shared datasets not present (%v)", err)
	}
	return dir
}
