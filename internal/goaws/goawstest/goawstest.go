// Package goawstest starts a real SQS server (GoAws) for a test. The binary is built by the
// project's own files when missing (see versitygw.Tool.Install). Under CI=true a server that
// cannot be built or started fails the test; elsewhere (a machine without network, say) the
// test is skipped with the reason.
package goawstest

import (
	"context"
	"testing"

	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// Binary returns the GoAws binary, building it once per test binary if needed.
func Binary(t testing.TB) string {
	t.Helper()
	return vgwtest.ToolBinary(t, goaws.Tool, "SQS")
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
		vgwtest.Unavailable(t, "SQS", "start the test SQS server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}
