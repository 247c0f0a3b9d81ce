// Package browsertest starts a real headless Chromium for tests (driven by chromedp): the web
// console's tests and the HTML reports' check that a page renders. A test skips when no Chromium
// is installed, except under CI=true, where .ci/run installs Debian's chromium and a missing one
// is a failure.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of a Chromium or Chrome to drive.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found: install it (apt-get install -y chromium), as .ci/run does")
	}
	t.Skip("no Chromium found (apt-get install -y chromium): the browser tests need one")
	return ""
}

// Browser is a headless Chromium for one test.
type Browser struct {
	// Ctx runs the test's steps (chromedp.Run, chromedp.Do); it ends with the test, or after
	// two minutes.
	Ctx context.Context
	// Shots is the folder screenshots go to: $TRAILSQL_SCREENSHOTS, else a temporary folder.
	Shots string
	t     testing.TB
}

// New starts Chromium for t, 1280×900, stopped when t ends.
func New(t testing.TB) *Browser {
	t.Helper()
	exe := Chromium(t)
	shots := os.Getenv("TRAILSQL_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelC)
	// The first run starts the browser; its context must not have a deadline (it would stop the
	// browser), so the steps get theirs from a context derived afterwards.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelT)
	return &Browser{Ctx: ctx, Shots: shots, t: t}
}

// Shot saves a screenshot of the whole page as <test>-<name>.png in Shots and logs its path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(b.Shots, filepath.Base(b.t.Name())+"-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}
