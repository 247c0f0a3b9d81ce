package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

var end = time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)

// ingestTrail generates a trail (seed, events, ending shift after end) and ingests it into
// lakeDir in commits of commitRows events. Trails of one seed are of the same accounts: shifted by
// less than their 3 days, they add files to the same partitions.
func ingestTrail(t testing.TB, lakeDir string, seed int64, events int, commitRows int64, shift time.Duration) {
	t.Helper()
	src := t.TempDir()
	if _, err := generate.Generate(context.Background(), src, generate.Options{Seed: seed, Events: events, End: end.Add(shift), Days: 3, Accounts: 2, EventsPerFile: 25}); err != nil {
		t.Fatal(err)
	}
	st, err := ingest.Run(context.Background(), ingest.Options{Lake: lakeDir, Workers: 1, CommitRows: commitRows, CompactFiles: -1}, []string{src})
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() {
		t.Fatalf("ingest failed: %+v", st)
	}
}

// server starts a versitygw with a bucket and returns a client of it; wrap, when set, wraps the
// client's HTTP transport.
func server(t testing.TB, bucket string) (*versitygw.Server, func(wrap func(aws.HTTPClient) aws.HTTPClient) *s3.Client) {
	t.Helper()
	srv := vgwtest.Start(t)
	mk := func(wrap func(aws.HTTPClient) aws.HTTPClient) *s3.Client {
		c, err := s3src.NewClient(context.Background(), s3src.ClientOptions{
			Region:      "us-east-1",
			EndpointURL: srv.URL,
			Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey(), srv.SecretKey(), ""),
			MaxAttempts: 1,
			Wrap:        wrap,
		}, bucket)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := mk(nil).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return srv, mk
}

// published lists the files of a local lake that a push publishes: data files, manifests, hash
// files, by path relative to the root.
func published(t testing.TB, lakeDir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{lake.Table, lake.CommitsDir, "_trailsql/hashes"} {
		err := filepath.WalkDir(filepath.Join(lakeDir, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
				return err
			}
			rel, _ := filepath.Rel(lakeDir, path)
			data, err := os.ReadFile(path)
			out[filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return out
}

// bucketFiles reads every object under the target's prefix, by path relative to the prefix.
func bucketFiles(t testing.TB, c *s3.Client, tg Target) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(tg.Bucket), Prefix: aws.String(tg.Key(""))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tg.Bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(aws.ToString(o.Key), tg.Key(""))] = data
		}
	}
	return out
}

// assertMirror checks that the bucket holds exactly the lake's published files, byte for byte,
// and a claim naming each manifest.
func assertMirror(t testing.TB, lakeDir string, c *s3.Client, tg Target) {
	t.Helper()
	want := published(t, lakeDir)
	got := bucketFiles(t, c, tg)
	claims := 0
	for rel, data := range got {
		if seq, ok := strings.CutPrefix(rel, SeqsDir+"/"); ok {
			claims++
			name := strings.TrimSpace(string(data))
			if !strings.HasPrefix(name, seq+"-") {
				t.Errorf("claim %s names %s", rel, name)
			}
			if _, ok := got[lake.CommitsDir+"/"+name]; !ok {
				t.Errorf("claim %s names %s, which the bucket lacks", rel, name)
			}
			delete(got, rel)
		}
	}
	var missing, extra, differ []string
	for rel, data := range want {
		g, ok := got[rel]
		switch {
		case !ok:
			missing = append(missing, rel)
		case !bytes.Equal(g, data):
			differ = append(differ, rel)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			extra = append(extra, rel)
		}
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		t.Fatalf("bucket is not the lake: missing %v, extra %v, different %v", missing, extra, differ)
	}
	commits, err := lake.Commits(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	if claims != len(commits) {
		t.Fatalf("%d claims for %d commits", claims, len(commits))
	}
	if len(want) == 0 {
		t.Fatal("the lake is empty")
	}
}

// compact compacts the lake, deleting the files a compaction before superseded.
func compact(t testing.TB, lakeDir string) *lake.CompactStats {
	t.Helper()
	w, err := lake.OpenWriter(context.Background(), lakeDir, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, err := w.Compact(context.Background(), 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// versitygw honours If-None-Match: * on PUT, which the claims rely on.
func TestConditionalPut(t *testing.T) {
	_, mk := server(t, "bkt")
	c := mk(nil)
	put := func(body string) error {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader(body), IfNoneMatch: aws.String("*")})
		return err
	}
	if err := put("one"); err != nil {
		t.Fatal(err)
	}
	err := put("two")
	if !isPreconditionFailed(err) {
		t.Fatalf("second conditional PUT: %v, want PreconditionFailed", err)
	}
}

// A push publishes the lake file for file; a second sends nothing; after another ingest only
// the new commits travel; after a compaction the superseded files stay until the delay has
// passed.
func TestPushIncremental(t *testing.T) {
	_, mk := server(t, "lakes")
	c := mk(nil)
	ctx := context.Background()
	dir := t.TempDir()
	ingestTrail(t, dir, 1, 600, 200, 0)
	tg := Target{Bucket: "lakes", Prefix: "org/trail"}
	st, err := Push(ctx, c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
	if err != nil {
		t.Fatal(err)
	}
	commits, _ := lake.Commits(dir)
	if st.Commits != len(commits) || st.Commits < 3 || st.Uploaded == 0 {
		t.Fatalf("first push: %s; the lake has %d commits", st, len(commits))
	}
	assertMirror(t, dir, c, tg)

	st, err = Push(ctx, c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
	if err != nil {
		t.Fatal(err)
	}
	if !st.UpToDate || st.Uploaded != 0 || st.Commits != 0 {
		t.Fatalf("second push: %s", st)
	}

	ingestTrail(t, dir, 1, 300, 1000, 12*time.Hour)
	before := len(commits)
	commits, _ = lake.Commits(dir)
	st, err = Push(ctx, c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
	if err != nil {
		t.Fatal(err)
	}
	if st.Commits != len(commits)-before || st.Present != 0 {
		t.Fatalf("incremental push: %s; want %d commits", st, len(commits)-before)
	}
	assertMirror(t, dir, c, tg)

	cs := compact(t, dir)
	if cs.FilesBefore <= cs.FilesAfter {
		t.Fatalf("compaction did nothing: %+v", cs)
	}
	st, err = Push(ctx, c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
	if err != nil {
		t.Fatal(err)
	}
	if st.Commits != 1 || st.Waiting != cs.FilesBefore || st.Deleted != 0 {
		t.Fatalf("push of the compaction: %s; compaction %+v", st, cs)
	}
	// Before the delay, the bucket still holds the superseded files, as the lake does.
	assertMirror(t, dir, c, tg)
	st, err = Push(ctx, c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay, Now: func() time.Time { return time.Now().Add(DefaultDeleteDelay + time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != cs.FilesBefore || st.Waiting != 0 {
		t.Fatalf("push after the delay: %s", st)
	}
	compact(t, dir) // deletes the lake's superseded files too
	assertMirror(t, dir, c, tg)
}

// A lake whose superseded files were deleted before it was pushed publishes the compacted file
// and never a manifest that makes a missing file live.
func TestPushAfterLocalDeletion(t *testing.T) {
	_, mk := server(t, "bkt")
	c := mk(nil)
	dir := t.TempDir()
	ingestTrail(t, dir, 3, 500, 100, 0)
	ingestTrail(t, dir, 3, 300, 100, 12*time.Hour)
	compact(t, dir)
	compact(t, dir) // deletes what the first superseded
	tg := Target{Bucket: "bkt"}
	st, err := Push(context.Background(), c, dir, tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Unavailable == 0 {
		t.Fatalf("push: %s; want files unavailable locally", st)
	}
	assertMirror(t, dir, c, tg)
}

// Two lakes cannot be published to one prefix: a push finds the other lake's commits, and two
// pushes that listed the bucket before either wrote find the claim of the sequence number.
func TestTwoLakesOnePrefix(t *testing.T) {
	_, mk := server(t, "bkt")
	c := mk(nil)
	a, b := t.TempDir(), t.TempDir()
	ingestTrail(t, a, 4, 100, 1000, 0)
	ingestTrail(t, b, 5, 100, 1000, 0)

	tg := Target{Bucket: "bkt", Prefix: "p"}
	if _, err := Push(context.Background(), c, a, tg, Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := Push(context.Background(), c, b, tg, Options{})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("push of a second lake: %v, want a *ConflictError", err)
	}
	assertMirror(t, a, c, tg)

	// Lake b's push listed the bucket before lake a's claim was written.
	tg = Target{Bucket: "bkt", Prefix: "race"}
	ca, _ := lake.Commits(a)
	p := &pusher{api: c, lake: a, t: tg, opt: Options{Now: time.Now}, remote: map[string]object{}, st: &Stats{}}
	if err := p.claim(context.Background(), pendingCommit{Commit: ca[0]}); err != nil {
		t.Fatal(err)
	}
	cb, _ := lake.Commits(b)
	q := &pusher{api: c, lake: b, t: tg, opt: Options{Now: time.Now}, remote: map[string]object{}, st: &Stats{}}
	err = q.claim(context.Background(), pendingCommit{Commit: cb[0]})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), ca[0].Name) {
		t.Fatalf("second claim of seq %d: %v, want a *ConflictError naming %s", cb[0].Seq, err, ca[0].Name)
	}
}

// cutter fails every request once more than limit bytes of request bodies were sent, as a
// process killed in the middle of a push: what reached the server stays, the rest never does.
type cutter struct {
	next  aws.HTTPClient
	limit int64
	sent  atomic.Int64
	cut   atomic.Bool
}

var errCut = errors.New("push cut")

func (c *cutter) Do(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	n := max(r.ContentLength, 0)
	if c.sent.Add(n) > c.limit {
		c.cut.Store(true)
		if r.Body != nil {
			// Send part of the body, then break the connection: the server gets a short PUT.
			body := r.Body
			r.Body = io.NopCloser(io.MultiReader(io.LimitReader(body, n/2), errReader{}))
			resp, err := c.next.Do(r)
			if err == nil {
				resp.Body.Close()
			}
		}
		return nil, errCut
	}
	return c.next.Do(r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errCut }

// A push cut at random byte counts, then run again, leaves the bucket equal to the lake; after
// every cut, each manifest the bucket holds (its claim naming it) has the files it makes live.
func TestPushCutAtRandomPoints(t *testing.T) {
	_, mk := server(t, "bkt")
	whole := mk(nil)
	dir := t.TempDir()
	ingestTrail(t, dir, 8, 600, 150, 0)
	ingestTrail(t, dir, 8, 300, 100, 12*time.Hour)
	compact(t, dir)
	ingestTrail(t, dir, 8, 200, 100, 24*time.Hour)
	// Compacts again and deletes what the first compaction superseded: the push publishes
	// commits whose files the lake no longer holds, after the commit that superseded them.
	compact(t, dir)
	var total int64
	for _, data := range published(t, dir) {
		total += int64(len(data))
	}
	rng := rand.New(rand.NewSource(1))
	for i := range 8 {
		tg := Target{Bucket: "bkt", Prefix: "run" + string(rune('a'+i))}
		cuts := 0
		for {
			cut := &cutter{limit: rng.Int63n(total)}
			c := mk(func(h aws.HTTPClient) aws.HTTPClient { cut.next = h; return cut })
			_, err := Push(context.Background(), c, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
			assertConsistent(t, whole, tg)
			if err == nil {
				break
			}
			if !errors.Is(err, errCut) {
				t.Fatalf("cut push: %v", err)
			}
			cuts++
		}
		st, err := Push(context.Background(), whole, dir, tg, Options{DeleteDelay: DefaultDeleteDelay})
		if err != nil {
			t.Fatal(err)
		}
		if !st.UpToDate {
			t.Fatalf("a push after the completed one: %s", st)
		}
		assertMirror(t, dir, whole, tg)
		t.Logf("%s: %d cuts", tg, cuts)
	}
}

// assertConsistent checks what a reader of the bucket relies on: every manifest its claim names
// has every file it makes live.
func assertConsistent(t testing.TB, c *s3.Client, tg Target) {
	t.Helper()
	got := bucketFiles(t, c, tg)
	var ms []lake.Manifest
	for rel, data := range got {
		if !strings.HasPrefix(rel, lake.CommitsDir+"/") {
			continue
		}
		var m lake.Manifest
		if err := decodeManifest(data, &m); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		claim, ok := got[SeqsDir+"/"+strings.SplitN(filepathBase(rel), "-", 2)[0]]
		if !ok || strings.TrimSpace(string(claim)) != filepathBase(rel) {
			t.Fatalf("manifest %s has no claim naming it", rel)
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Seq < ms[j].Seq })
	live := map[string]bool{}
	for _, m := range ms {
		for _, r := range m.Replaces {
			delete(live, r)
		}
		for _, f := range m.Files {
			live[f.Path] = true
		}
		if m.Hashes != "" {
			live[m.Hashes] = true
		}
	}
	for f := range live {
		if _, ok := got[f]; !ok {
			t.Fatalf("the bucket's manifests make %s live, and the bucket lacks it", f)
		}
	}
}

func filepathBase(rel string) string { return rel[strings.LastIndexByte(rel, '/')+1:] }

// decodeManifest reads a manifest as a reader of the bucket would: gzip, then the first JSON
// value (the seal line after it is checked by holders of the key only).
func decodeManifest(data []byte, m *lake.Manifest) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return json.NewDecoder(zr).Decode(m)
}
