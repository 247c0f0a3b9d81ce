// Package versitygw builds and runs the Versity S3 gateway (github.com/versity/versitygw), a real
// S3 server over a local folder, for the S3 tests and the S3 benchmark. The binary is pinned to
// Version and installed by the project itself into <repo>/.tools with `go install`, once, under a
// lock so that test binaries running in parallel do not build it twice. Tool is that installer
// for any pinned Go program (the SQS server of the tests, package goaws, is built the same way).
package versitygw

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Module and Version are what Install builds.
const (
	Module  = "github.com/versity/versitygw/cmd/versitygw"
	Version = "v1.8.0"
)

// RepoRoot returns the root of the trailsql module that holds dir (a folder with a go.mod naming
// github.com/trailsql/trailsql), searching dir and its parents.
func RepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/trailsql/trailsql\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no trailsql repository above %s", abs)
		}
	}
}

// Tool is a program the project builds from a pinned module version into <repo>/.tools with
// `go install`: the S3 server (versitygw, this package) and the SQS server of the tests (goaws).
type Tool struct {
	// Name is the binary's name in .tools.
	Name string
	// Package is the main package to install; Module is its module, whose version the built
	// binary's build information must name.
	Package, Module, Version string
	// Env names the environment variable that, when set, points at a binary to use instead.
	Env string
}

// VersityGW is the pinned versitygw the tests and bench --s3 run.
var VersityGW = Tool{Name: "versitygw", Package: Module, Module: "github.com/versity/versitygw", Version: Version, Env: "VERSITYGW"}

// Find returns the versitygw binary to run: $VERSITYGW when set, else <repo>/.tools/versitygw
// when it is the pinned Version. It does not build anything (see Install).
func Find(repo string) (string, error) { return VersityGW.Find(repo) }

// Install returns <repo>/.tools/versitygw, building it first when needed (see Tool.Install).
func Install(ctx context.Context, repo string, log io.Writer) (string, error) {
	return VersityGW.Install(ctx, repo, log)
}

// Find returns the tool's binary to run: $Env when set, else <repo>/.tools/<Name> when it is
// the pinned Version. It does not build anything (see Install).
func (t Tool) Find(repo string) (string, error) {
	if p := os.Getenv(t.Env); t.Env != "" && p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", t.Env, err)
		}
		return p, nil
	}
	p := filepath.Join(repo, ".tools", t.Name)
	if err := t.checkVersion(p); err != nil {
		return "", err
	}
	return p, nil
}

func (t Tool) checkVersion(p string) error {
	bi, err := buildinfo.ReadFile(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", t.Name, p, err)
	}
	if bi.Main.Version != t.Version || bi.Main.Path != t.Module {
		return fmt.Errorf("%s %s is %s@%s, want %s@%s", t.Name, p, bi.Main.Path, bi.Main.Version, t.Module, t.Version)
	}
	return nil
}

// Install returns <repo>/.tools/<Name>, building it first with
// `GOBIN=<tmp> go install Package@Version` when it is missing or another version. An exclusive
// lock on <repo>/.tools/<Name>.lock keeps concurrent callers (parallel test binaries) from
// building it twice; the binary appears under its name only once complete. log receives the
// go command's output (nil: discarded).
func (t Tool) Install(ctx context.Context, repo string, log io.Writer) (string, error) {
	if p := os.Getenv(t.Env); t.Env != "" && p != "" {
		return t.Find(repo)
	}
	tools := filepath.Join(repo, ".tools")
	bin := filepath.Join(tools, t.Name)
	if t.checkVersion(bin) == nil {
		return bin, nil
	}
	if err := os.MkdirAll(tools, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(tools, t.Name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := flock(ctx, lock); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if t.checkVersion(bin) == nil { // built by whoever held the lock before us
		return bin, nil
	}
	tmp, err := os.MkdirTemp(tools, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if log == nil {
		log = io.Discard
	}
	cmd := exec.CommandContext(ctx, "go", "install", t.Package+"@"+t.Version)
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod", "GOWORK=off")
	var out strings.Builder
	cmd.Stdout = io.MultiWriter(log, &out)
	cmd.Stderr = io.MultiWriter(log, &out)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", t.Package, t.Version, err, strings.TrimSpace(out.String()))
	}
	// go install names the binary after the package's last path element (goaws' is "cmd").
	if err := os.Rename(filepath.Join(tmp, filepath.Base(t.Package)), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// flock takes an exclusive lock, giving up when ctx ends.
func flock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", f.Name(), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Options configure a server. Root and Binary are required.
type Options struct {
	Binary string
	// Root is the posix backend's folder: each folder in it is a bucket, each file an object.
	Root string
	// AccessKey and SecretKey are the root account's credentials (default: random).
	AccessKey, SecretKey string
	// DefaultETag is the ETag of objects placed in Root without going through the gateway (it
	// keeps ETags in extended attributes); empty: versitygw's default.
	DefaultETag string
	// Log receives the server's output (nil: discarded).
	Log io.Writer
}

// Server is a running versitygw. Stop and Start let tests take it away and bring it back on the
// same address.
type Server struct {
	opt  Options
	Addr string // host:port
	URL  string // http://host:port, the endpoint URL

	mu   sync.Mutex
	proc *Process
}

// Start starts a server on a free local port.
func Start(ctx context.Context, opt Options) (*Server, error) {
	if opt.Binary == "" || opt.Root == "" {
		return nil, errors.New("versitygw: binary and root are required")
	}
	if opt.AccessKey == "" {
		opt.AccessKey = "trailsql" + randomHex(6)
	}
	if opt.SecretKey == "" {
		opt.SecretKey = randomHex(20)
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if err := os.MkdirAll(opt.Root, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 { // a free port can be taken between choosing it and the server binding it
		addr, err := FreePort()
		if err != nil {
			return nil, err
		}
		s := &Server{opt: opt, Addr: addr, URL: "http://" + addr}
		if lastErr = s.Start(ctx); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// AccessKey and SecretKey return the server's root credentials.
func (s *Server) AccessKey() string { return s.opt.AccessKey }

// SecretKey returns the server's root secret key.
func (s *Server) SecretKey() string { return s.opt.SecretKey }

// Root returns the posix backend's folder.
func (s *Server) Root() string { return s.opt.Root }

// Start starts the server again (after Stop) on its address and waits until it accepts
// connections.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	// Keep-alive as real S3 has it: versitygw closes every connection after one response unless
	// told otherwise, which makes a client dial once per object (measured on the 1M-event bench:
	// 13,832 connections in TIME-WAIT after one ingest). --quiet: no log line per request (it
	// costs the server CPU, and this process reading them).
	args := []string{"--port", s.Addr, "--keep-alive", "--quiet", "posix"}
	if s.opt.DefaultETag != "" {
		args = append(args, "--default-etag", s.opt.DefaultETag)
	}
	args = append(args, s.opt.Root)
	cmd := exec.Command(s.opt.Binary, args...)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.opt.AccessKey, "ROOT_SECRET_KEY="+s.opt.SecretKey)
	p, err := StartProcess(ctx, cmd, s.opt.Log, s.Addr, time.Minute)
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(10 * time.Second)
		s.proc = nil
	}
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Kill()
		s.proc = nil
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
