package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/goaws/goawstest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/sqs"
	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// sqsFixture is a trail in a real S3 server (versitygw) with one S3 event notification per
// object in a real SQS queue (GoAws), plus poison messages.
type sqsFixture struct {
	s3     *versitygw.Server
	sqs    *goaws.Server
	queue  *sqs.Client
	dir    string // the bucket's folder: the same files, to ingest from disk
	objs   int
	poison []string
}

func newSQSFixture(t *testing.T, files, perFile int, etag string) *sqsFixture {
	t.Helper()
	s3srv := vgwtest.StartWith(t, versitygw.Options{DefaultETag: etag})
	awsEnv(t, s3srv.AccessKey(), s3srv.SecretKey())
	q := goawstest.Start(t, goaws.Options{Queues: []string{"trail"}, VisibilityTimeout: 3})
	dir := writeTrail(t, filepath.Join(s3srv.Root(), "trail"), files, perFile)
	qc, err := sqs.Open(context.Background(), sqs.Options{QueueURL: q.QueueURL("trail"), Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		bodies = append(bodies, s3Event("trail", filepath.ToSlash(rel), info.Size(), etag))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &sqsFixture{s3: s3srv, sqs: q, queue: qc, dir: dir, objs: len(bodies)}
	f.poison = []string{"not a notification", s3Event("trail", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/gone.json.gz", 100, etag)}
	if _, err := qc.Send(context.Background(), append(bodies, f.poison...)); err != nil {
		t.Fatal(err)
	}
	return f
}

// s3Event is an S3 ObjectCreated notification (event structure 2.1), written for these tests.
func s3Event(bucket, key string, size int64, etag string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key), "size": size, "eTag": etag}},
	}}})
	return string(b)
}

func (f *sqsFixture) args(lakeDir string, more ...string) []string {
	a := []string{"ingest", "--lake", lakeDir, "--no-detect", "--endpoint-url", f.sqs.URL, "--s3-endpoint-url", f.s3.URL, "--visibility-timeout", "3s"}
	return append(append(a, more...), "sqs://"+strings.TrimPrefix(f.sqs.QueueURL("trail"), "http://"))
}

// lastLine returns the last line of a command's output.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// messages is how many messages the queue holds, in flight included (GoAws counts them so).
func (f *sqsFixture) messages(t *testing.T) int {
	t.Helper()
	attrs, err := f.queue.Attributes(context.Background(), "ApproximateNumberOfMessages")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(attrs["ApproximateNumberOfMessages"], &n)
	return n
}

// onceEach fails unless the lake's ledger records every object of the trail exactly once.
func onceEach(t *testing.T, l string, objs int) {
	t.Helper()
	srcs, err := lake.ReadSources(l, "s3://trail/")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range srcs {
		if seen[s.Name] {
			t.Errorf("%s recorded twice", s.Name)
		}
		seen[s.Name] = true
	}
	if len(seen) != objs {
		t.Errorf("the ledger records %d objects, want %d", len(seen), objs)
	}
}

// trailsql ingest sqs://… end to end (the queue's messages name the objects, with the real
// servers' endpoints): the summary, the poison messages reported with their ids and left in the
// queue, exit status 1 for them, the lake equal to ingesting the same files from disk.
func TestIngestSQSCommand(t *testing.T) {
	f := newSQSFixture(t, 120, 5, "00000000000000000000000000000003")
	l := t.TempDir()
	code, out, errOut := run(t, "", f.args(l)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (poison messages)\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"events: 600 read, 600 added", fmt.Sprintf("sqs: %d messages received, %d deleted after their commit", f.objs+2, f.objs), "2 left in the queue (poison)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"poison message ", "not an S3 event notification", "gone.json.gz", "left in the queue for its redrive policy", "2 messages could not be ingested"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := f.messages(t); n != 2 {
		t.Errorf("the queue holds %d messages, want the 2 poison ones", n)
	}
	onceEach(t, l, f.objs)
	disk := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", disk, "--no-detect", f.dir)
	if got, want := scalar(t, l, fingerprint), scalar(t, disk, fingerprint); got != want {
		t.Errorf("lake from sqs:// %s, from disk %s", got, want)
	}
	// Flags that do not go with sqs://.
	for _, tc := range []struct{ args []string }{
		{[]string{"ingest", "--lake", l, "sqs://q.example/1/q", f.dir}},
		{[]string{"ingest", "--lake", l, "--from", "7d", "sqs://q.example/1/q"}},
		{[]string{"ingest", "--lake", l, "--s3-endpoint-url", "http://x", f.dir}},
	} {
		if code, _, _ := run(t, "", tc.args...); code == 0 {
			t.Errorf("%v: exit 0, want an error", tc.args)
		}
	}
}

// A real `trailsql ingest sqs://` process killed with SIGKILL at random moments, several times,
// then run until the queue holds only its poison messages: no object is lost (its messages were
// not deleted before the commit that holds it), none is stored twice, and the lake equals one
// ingested from disk.
func TestIngestSQSSurvivesSIGKILL(t *testing.T) {
	bin := trailsqlBinary(t)
	f := newSQSFixture(t, 1000, 5, "00000000000000000000000000000004")
	l := t.TempDir()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	kills := 0
	start := time.Now()
	// Kill moments: at random early in a run (before or during its first commit), or as soon as
	// the run's first deletions show in the queue (between one commit and the next, while the
	// deletions of a commit may be half done). Small commits, one decoder: a run takes seconds.
	for round := 0; kills < 8 && round < 40; round++ {
		before := f.messages(t)
		if before <= len(f.poison) {
			t.Logf("round %d: the queue holds only its %d poison messages", round, before)
			break // drained before enough kills: the test says how many it made below
		}
		cmd := exec.Command(bin, f.args(l, "--commit-rows", "100", "--workers", "1", "--fetches", "4")...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		moment := ""
		var timer *time.Timer
		if round%2 == 0 {
			d := 50*time.Millisecond + time.Duration(rng.Int63n(int64(500*time.Millisecond)))
			moment = "after " + d.Round(time.Millisecond).String()
			timer = time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGKILL) })
		} else {
			moment = "after its first deletions"
			go func() {
				for {
					select {
					case <-exited:
						return
					case <-time.After(5 * time.Millisecond): // polls the server: nothing to wait on in-process
					}
					attrs, err := f.queue.Attributes(context.Background(), "ApproximateNumberOfMessages")
					if err == nil && attrs["ApproximateNumberOfMessages"] != fmt.Sprint(before) {
						cmd.Process.Signal(syscall.SIGKILL)
						return
					}
				}
			}()
		}
		err := cmd.Wait()
		close(exited)
		if timer != nil {
			timer.Stop()
		}
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
			kills++
			t.Logf("round %d: killed %s; the queue held %d messages, now %d", round, moment, before, f.messages(t))
		} else {
			t.Logf("round %d: ended before its kill %s (%v): %s", round, moment, err, lastLine(out.String()))
		}
	}
	if kills < 4 {
		t.Fatalf("only %d runs were killed mid-way (seed %d)", kills, seed)
	}
	// Run to the end: messages held by a killed run come back after their visibility timeout
	// (3 s), so a run that finds the queue empty before that is followed by another.
	deadline := time.Now().Add(3 * time.Minute)
	runs := 0
	for f.messages(t) > len(f.poison) {
		if time.Now().After(deadline) {
			t.Fatalf("the queue still holds %d messages after %d runs", f.messages(t), runs)
		}
		out, err := exec.Command(bin, f.args(l)...).CombinedOutput()
		runs++
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			t.Fatalf("final run: %v\n%s", err, out)
		}
	}
	t.Logf("%d objects, %d runs killed (seed %d), %d runs to finish; %s in all", f.objs, kills, seed, runs, time.Since(start).Round(time.Millisecond))
	onceEach(t, l, f.objs)
	disk := t.TempDir()
	mustRun(t, 0, "ingest", "--lake", disk, "--no-detect", f.dir)
	got, want := scalar(t, l, fingerprint), scalar(t, disk, fingerprint)
	if got != want || !strings.HasPrefix(want, fmt.Sprintf("%d/%d/", f.objs*5, f.objs*5)) {
		t.Errorf("lake from sqs:// %s, from disk %s", got, want)
	}
	if problems, err := lake.Check(l); err != nil || len(problems) > 0 {
		t.Fatalf("lake check: %v %v", err, problems)
	}
}

// --watch on a queue in a real process: notifications sent while it runs are ingested within a
// pass (a receive long-polls for them), their messages deleted; SIGTERM stops it, committed.
func TestIngestSQSWatch(t *testing.T) {
	bin := trailsqlBinary(t)
	f := newSQSFixture(t, 40, 5, "00000000000000000000000000000005")
	// More objects, notified later.
	later := writeTrail(t, t.TempDir(), 80, 5)
	l := t.TempDir()
	cmd := exec.Command(bin, f.args(l, "--watch")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var all strings.Builder
	waitFor := func(want string) {
		t.Helper()
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("the watching ingest ended before %q:\n%s\n%s", want, all.String(), stderr.String())
				}
				all.WriteString(line + "\n")
				if strings.Contains(line, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no %q within 2 minutes:\n%s\n%s", want, all.String(), stderr.String())
			}
		}
	}
	waitFor("(total 200 events added)")
	// The files 40..79 of the second trail are new objects (the first 40 have the same names
	// and contents as the bucket's: notified again, they are recognised).
	var bodies []string
	err = filepath.WalkDir(later, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(later, p)
		dst := filepath.Join(f.dir, rel)
		if _, err := os.Stat(dst); err != nil {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Rename(p, dst); err != nil {
				return err
			}
		}
		info, err := os.Stat(dst)
		if err != nil {
			return err
		}
		bodies = append(bodies, s3Event("trail", filepath.ToSlash(rel), info.Size(), "00000000000000000000000000000005"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.queue.Send(context.Background(), bodies); err != nil {
		t.Fatal(err)
	}
	waitFor("(total 400 events added)")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for line := range lines {
			all.WriteString(line + "\n")
		}
	}()
	// Exit status 1: the fixture's two poison messages could not be ingested.
	if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), "2 messages could not be ingested") {
		t.Fatalf("after SIGTERM: %v, want exit status 1 for the poison messages\n%s", err, stderr.String())
	}
	if n := f.messages(t); n != len(f.poison) {
		t.Errorf("the queue holds %d messages, want the %d poison ones", n, len(f.poison))
	}
	onceEach(t, l, 80)
}
