// Package vgwtest starts a real S3 server (versitygw) for a test. The binary is built by the
// project's own files when missing (see versitygw.Install). Under CI=true a server that cannot be
// built or started fails the test; elsewhere (a machine without network, say) the test is skipped
// with the reason.
package vgwtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/versitygw"
)

var (
	mu    sync.Mutex
	built = map[string]*install{} // by Tool.Name
)

type install struct {
	once   sync.Once
	binary string
	err    error
}

// Binary returns the versitygw binary, building it once per test binary if needed.
func Binary(t testing.TB) string {
	t.Helper()
	return ToolBinary(t, versitygw.VersityGW, "S3")
}

// ToolBinary returns the binary of a test server the project builds (versitygw, GoAws), building
// it once per test binary if needed; what names the server in messages ("S3", "SQS").
func ToolBinary(t testing.TB, tool versitygw.Tool, what string) string {
	t.Helper()
	mu.Lock()
	in := built[tool.Name]
	if in == nil {
		in = &install{}
		built[tool.Name] = in
	}
	mu.Unlock()
	in.once.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			in.err = err
			return
		}
		repo, err := versitygw.RepoRoot(wd)
		if err != nil {
			in.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		start := time.Now()
		in.binary, in.err = tool.Install(ctx, repo, nil)
		if d := time.Since(start); in.err == nil && d > 5*time.Second {
			t.Logf("built %s@%s in %s", tool.Package, tool.Version, d.Round(time.Second))
		}
	})
	if in.err != nil {
		Unavailable(t, what, "build the test %s server: %v", what, in.err)
	}
	return in.binary
}

// Start starts a versitygw over a fresh folder; it is stopped when the test ends.
func Start(t testing.TB) *versitygw.Server {
	t.Helper()
	return StartWith(t, versitygw.Options{})
}

// StartWith starts a versitygw with opt (Binary and Root default to the built binary and a
// temporary folder); it is stopped when the test ends.
func StartWith(t testing.TB, opt versitygw.Options) *versitygw.Server {
	t.Helper()
	if opt.Binary == "" {
		opt.Binary = Binary(t)
	}
	if opt.Root == "" {
		opt.Root = t.TempDir()
	}
	s, err := versitygw.Start(context.Background(), opt)
	if err != nil {
		Unavailable(t, "S3", "start the test S3 server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Unavailable fails the test under CI=true and skips it elsewhere: a test server (of what: "S3",
// "SQS") cannot be built or started.
func Unavailable(t testing.TB, what, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: "+what+" tests must run; see DEVELOPERS.md)", args...)
	}
	t.Skipf(format+" (skipped outside CI; see DEVELOPERS.md)", args...)
}

// AWSEnv points the AWS SDK's standard chain at a test server's static credentials and away
// from the machine's own configuration.
func AWSEnv(t testing.TB, access, secret string) {
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
