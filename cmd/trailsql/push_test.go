package main

import (
	"bytes"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// treeFiles reads the regular files under root/sub... (hidden ones left out: temporary files of
// the lake and of the S3 server), by path relative to root.
func treeFiles(t testing.TB, root string, subs ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, sub := range subs {
		err := filepath.WalkDir(filepath.Join(root, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			data, err := os.ReadFile(path)
			out[filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return out
}

// assertPushed checks that the bucket folder of the S3 server (its posix backend: one file per
// object) holds the lake's data files, manifests and hash files byte for byte, nothing else but
// the claims of sequence numbers, and not the lake's key.
func assertPushed(t testing.TB, lakeDir string, srv *versitygw.Server, bucketPrefix string) {
	t.Helper()
	want := treeFiles(t, lakeDir, "cloudtrail_logs", "_trailsql/commits", "_trailsql/hashes")
	got := treeFiles(t, filepath.Join(srv.Root(), bucketPrefix), ".")
	if len(want) == 0 {
		t.Fatal("the lake is empty")
	}
	for rel, data := range want {
		if g, ok := got[rel]; !ok || !bytes.Equal(g, data) {
			t.Fatalf("the bucket lacks %s (or holds other bytes)", rel)
		}
		delete(got, rel)
	}
	for rel := range got {
		if !strings.HasPrefix(rel, "_trailsql/seqs/") {
			t.Fatalf("the bucket holds %s, which the lake does not publish", rel)
		}
	}
}

// lakesServer starts an S3 server with a bucket "lakes" and points the AWS SDK at it.
func lakesServer(t *testing.T) *versitygw.Server {
	t.Helper()
	srv := vgwtest.Start(t)
	awsEnv(t, srv.AccessKey(), srv.SecretKey())
	if err := os.Mkdir(filepath.Join(srv.Root(), "lakes"), 0o755); err != nil {
		t.Fatal(err)
	}
	return srv
}

// trailsql push end to end: credentials from the environment, --endpoint-url, the summary, an
// incremental push after another ingest, a push with nothing to send.
func TestPushCommand(t *testing.T) {
	srv := lakesServer(t)
	l := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", l, "--commit-rows", "200", writeTrail(t, t.TempDir(), 6, 100))
	out := mustRun(t, 0, "push", "--lake", l, "--endpoint-url", srv.URL, "s3://lakes/org/trail")
	if !strings.Contains(out, "s3://lakes/org/trail: 3 commits published") {
		t.Fatalf("push said:\n%s", out)
	}
	assertPushed(t, l, srv, "lakes/org/trail")
	more := t.TempDir()
	writeTrail(t, more, 9, 100) // the same 6 files, and 3 more
	mustRun(t, 0, "ingest", "--lake", l, more)
	out = mustRun(t, 0, "push", "--lake", l, "--endpoint-url", srv.URL, "s3://lakes/org/trail")
	if !strings.Contains(out, "1 commits published") {
		t.Fatalf("incremental push said:\n%s", out)
	}
	assertPushed(t, l, srv, "lakes/org/trail")
	out = mustRun(t, 0, "push", "--lake", l, "--endpoint-url", srv.URL, "s3://lakes/org/trail")
	if !strings.Contains(out, "the bucket was up to date") || !strings.Contains(out, "0 files uploaded") {
		t.Fatalf("push with nothing new said:\n%s", out)
	}
	_, _, errOut := run(t, "", "push", "--lake", l, "--endpoint-url", srv.URL, "s3:///x")
	if !strings.Contains(errOut, "names no bucket") {
		t.Fatalf("push to a URL without a bucket said:\n%s", errOut)
	}
}

// A real push process killed with SIGKILL at random moments, then run again, leaves the bucket
// equal to the lake.
func TestPushSurvivesSIGKILL(t *testing.T) {
	bin := trailsqlBinary(t)
	srv := lakesServer(t)
	l := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", l, "--commit-rows", "1000", writeTrail(t, t.TempDir(), 150, 200))
	args := func(prefix string) []string {
		return []string{"push", "--lake", l, "--endpoint-url", srv.URL, "s3://lakes/" + prefix}
	}
	began := time.Now()
	if out, err := exec.Command(bin, args("clean")...).CombinedOutput(); err != nil {
		t.Fatalf("clean push: %v\n%s", err, out)
	}
	window := time.Since(began)
	assertPushed(t, l, srv, "lakes/clean")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("clean push took %v; kill moments drawn with seed %d", window, seed)
	kills := 0
	for round := 0; kills < 6 && round < 30; round++ {
		prefix := "r" + string(rune('a'+round%26)) + string(rune('a'+round/26))
		for k := 0; k < 2; k++ {
			cmd := exec.Command(bin, args(prefix)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(time.Duration(rng.Int63n(int64(window))), func() { cmd.Process.Signal(syscall.SIGKILL) })
			err := cmd.Wait()
			timer.Stop()
			if err != nil {
				kills++
			}
		}
		if out, err := exec.Command(bin, args(prefix)...).CombinedOutput(); err != nil {
			t.Fatalf("round %d: final push: %v\n%s", round, err, out)
		}
		assertPushed(t, l, srv, "lakes/"+prefix)
	}
	if kills == 0 {
		t.Fatal("no push was killed midway: the test proves nothing")
	}
	t.Logf("%d pushes killed midway, each completed by the next", kills)
}
