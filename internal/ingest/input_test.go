package ingest

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goodFile writes a log file of n events of its own (ids from first) and returns its path.
func goodFile(t testing.TB, path string, first, n int) string {
	t.Helper()
	var recs []string
	for i := first; i < first+n; i++ {
		recs = append(recs, event(i, "111122223333", "us-east-1", "2024-03-01T10:00:00Z"))
	}
	logFile(t, path, recs)
	return path
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t testing.TB, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runPaths ingests paths into a new lake; the deadline turns a hang into a failure.
func runPaths(t testing.TB, paths ...string) *Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Run(ctx, Options{Lake: t.TempDir()}, paths)
	if err != nil {
		t.Fatalf("ingest %v: %v", paths, err)
	}
	return st
}

// problemsOf returns the problems of a run as "warning|error <file relative to dir>: message".
func problemsOf(st *Stats, dir string) []string {
	var out []string
	for _, p := range st.Problems {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		rel, err := filepath.Rel(dir, p.File)
		if err != nil {
			rel = p.File
		}
		out = append(out, kind+" "+filepath.ToSlash(rel)+": "+p.Message)
	}
	// Objects are read by several workers at once: the order of their problems is not fixed.
	sort.Strings(out)
	return out
}

// Symbolic links in the input are followed, loops end, and what is not a regular file is
// reported, never opened (a named pipe would block the run forever), while the rest is ingested.
func TestInputFolders(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup builds the input under dir and returns the paths to ingest.
		setup    func(t *testing.T, dir string) []string
		events   int64
		failed   bool
		problems []string // substrings, one per problem, in order
	}{
		{"symlinked file", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			symlink(t, goodFile(t, filepath.Join(dir, "elsewhere", "b.json"), 10, 2), filepath.Join(dir, "in", "b.json"))
			return []string{filepath.Join(dir, "in")}
		}, 5, false, nil},
		{"symlinked folder", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			goodFile(t, filepath.Join(dir, "elsewhere", "sub", "b.json"), 10, 2)
			symlink(t, filepath.Join(dir, "elsewhere"), filepath.Join(dir, "in", "more"))
			return []string{filepath.Join(dir, "in")}
		}, 5, false, nil},
		{"PATH is a symlink to a folder", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "real", "a.json"), 0, 4)
			symlink(t, filepath.Join(dir, "real"), filepath.Join(dir, "link"))
			return []string{filepath.Join(dir, "link")}
		}, 4, false, nil},
		{"symlink loop", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			goodFile(t, filepath.Join(dir, "in", "sub", "b.json"), 10, 2)
			symlink(t, "..", filepath.Join(dir, "in", "sub", "up"))
			return []string{filepath.Join(dir, "in")}
		}, 5, false, []string{"warning in/sub/up: the folder /"}},
		{"link to a file listed already", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			symlink(t, "a.json", filepath.Join(dir, "in", "latest.json"))
			return []string{filepath.Join(dir, "in"), filepath.Join(dir, "in", "a.json")}
		}, 3, false, nil},
		{"broken symlink", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			symlink(t, "gone.json", filepath.Join(dir, "in", "b.json"))
			return []string{filepath.Join(dir, "in")}
		}, 3, true, []string{"error in/b.json: a symbolic link to gone.json, which does not exist — fix or remove the link"}},
		{"FIFO as PATH", func(t *testing.T, dir string) []string {
			mkfifo(t, filepath.Join(dir, "pipe"))
			return []string{filepath.Join(dir, "pipe")}
		}, 0, true, []string{"error pipe: a named pipe (FIFO), not a regular file: not read (leave it out)"}},
		{"FIFO and socket in a folder", func(t *testing.T, dir string) []string {
			goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
			mkfifo(t, filepath.Join(dir, "in", "b.json"))
			symlink(t, "b.json", filepath.Join(dir, "in", "c.json"))
			sock, err := net.Listen("unix", filepath.Join(dir, "in", "d.sock"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sock.Close() })
			goodFile(t, filepath.Join(dir, "in", "e.json"), 10, 2)
			return []string{filepath.Join(dir, "in")}
		}, 5, true, []string{"error in/b.json: a named pipe", "error in/c.json: a named pipe", "error in/d.sock: a socket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := runPaths(t, tc.setup(t, dir)...)
			probs := problemsOf(st, dir)
			if st.EventsAdded != tc.events || st.Failed() != tc.failed || len(probs) != len(tc.problems) {
				t.Fatalf("%d events added (want %d), failed %v (want %v), problems:\n%s", st.EventsAdded, tc.events, st.Failed(), tc.failed, strings.Join(probs, "\n"))
			}
			for i, want := range tc.problems {
				if !strings.HasPrefix(probs[i], want) {
					t.Errorf("problem %d:\n  %s\nwant it to begin\n  %s", i, probs[i], want)
				}
			}
		})
	}
}

// A file that becomes a named pipe between listing and reading is not opened blocking.
func TestOpenFileNotRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.json")
	mkfifo(t, p)
	done := make(chan error, 1)
	go func() {
		f, err := openFile(p)(context.Background())
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("open a named pipe: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("opening a named pipe blocked")
	}
}

// asUserEnv names the input of TestUnreadableFolder when it runs as another user.
const asUserEnv = "TRAILSQL_TEST_UNREADABLE_DIR"

// A folder that cannot be read is reported with its path and what to do, and the rest of the
// input is ingested. Root reads every folder, so as root the test runs again in a child process
// as the user nobody.
func TestUnreadableFolder(t *testing.T) {
	if dir := os.Getenv(asUserEnv); dir != "" {
		unreadableFolder(t, dir)
		return
	}
	dir := t.TempDir()
	goodFile(t, filepath.Join(dir, "in", "a.json"), 0, 3)
	goodFile(t, filepath.Join(dir, "in", "locked", "b.json"), 10, 2)
	goodFile(t, filepath.Join(dir, "in", "z.json"), 20, 4)
	if err := os.Chmod(filepath.Join(dir, "in", "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "in", "locked"), 0o755) })
	if os.Geteuid() != 0 {
		unreadableFolder(t, dir)
		return
	}
	// The test binary and the folders must be reachable by nobody.
	bin := filepath.Join(dir, "ingest.test")
	copyFile(t, os.Args[0], bin)
	for _, p := range []string{filepath.Dir(dir), dir, filepath.Join(dir, "in")} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestUnreadableFolder$", "-test.v")
	cmd.Env = append(os.Environ(), asUserEnv+"="+dir, "HOME="+dir, "GOCACHE="+dir, "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUnreadableFolder") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func unreadableFolder(t *testing.T, dir string) {
	lakeDir := filepath.Join(dir, "lake")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Run(ctx, Options{Lake: lakeDir}, []string{filepath.Join(dir, "in")})
	if err != nil {
		t.Fatal(err)
	}
	probs := problemsOf(st, dir)
	want := "error in/locked: permission denied — fix permissions or leave it out"
	if st.EventsAdded != 7 || st.FilesRead != 2 || !st.Failed() || len(probs) != 1 || probs[0] != want {
		t.Fatalf("%d events added (want 7), %d files read (want 2), failed %v, problems %q (want %q)", st.EventsAdded, st.FilesRead, st.Failed(), probs, want)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
