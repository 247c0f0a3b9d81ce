// Package goawstest starts a real SQS server (GoAws) for a test. The binary is built by the
// project's own files when missing (see versitygw.Tool.Install). Under CI=true a server that
// cannot be built or started fails the test; elsewhere (a machine without network, say) the
// test is skipped with the reason.
package goawstest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/versitygw"
)

var (
	installOnce sync.Once
	binary      string
	installErr  error
)

// Binary returns the GoAws binary, building it once per test binary if needed.
func Binary(t testing.TB) string {
	t.Helper()
	installOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			installErr = err
			return
		}
		repo, err := versitygw.RepoRoot(wd)
		if err != nil {
			installErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		binary, installErr = goaws.Tool.Install(ctx, repo, nil)
		if d := time.Since(start); installErr == nil && d > 5*time.Second {
			t.Logf("built %s@%s in %s", goaws.Tool.Package, goaws.Version, d.Round(time.Second))
		}
	})
	if installErr != nil {
		unavailable(t, "build the test SQS server: %v", installErr)
	}
	return binary
}

// Start starts a GoAws with opt (Binary and Dir default to the built binary and a temporary
// folder); it is stopped when the test ends.
func Start(t testing.TB, opt goaws.Options) *goaws.Server {
	t.Helper()
	if opt.Binary == "" {
		opt.Binary = Binary(t)
	}
	if opt.Dir == "" {
		opt.Dir = t.TempDir()
	}
	s, err := goaws.Start(context.Background(), opt)
	if err != nil {
		unavailable(t, "start the test SQS server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// unavailable fails the test under CI=true and skips it elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: SQS tests must run; see DEVELOPERS.md)", args...)
	}
	t.Skipf(format+" (skipped outside CI; see DEVELOPERS.md)", args...)
}
