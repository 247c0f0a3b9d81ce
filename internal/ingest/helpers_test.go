package ingest

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/versitygw"
)

// end is the newest event time of the generated trails.
var end = time.Date(2024, 3, 20, 18, 0, 0, 0, time.UTC)

// genTrail writes a generated trail under a temporary folder and returns it.
func genTrail(t testing.TB, opt generate.Options) (string, *generate.Truth) {
	t.Helper()
	dir := t.TempDir()
	if opt.End.IsZero() {
		opt.End = end
	}
	truth, err := generate.Generate(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

func s3Client(t testing.TB, srv *versitygw.Server, opts ...func(*s3src.ClientOptions)) *s3.Client {
	t.Helper()
	opt := s3src.ClientOptions{
		EndpointURL: srv.URL, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey(), srv.SecretKey(), ""),
	}
	for _, o := range opts {
		o(&opt)
	}
	c, err := s3src.NewClient(context.Background(), opt, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// upload puts every file under dir into bucket (created if needed) under prefix, through the S3
// API, so that objects have real ETags.
func upload(t testing.TB, c *s3.Client, bucket, prefix, dir string) int {
	t.Helper()
	ctx := context.Background()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	g := new(errgroup.Group)
	g.SetLimit(8)
	for _, p := range files {
		g.Go(func() error {
			rel, _ := filepath.Rel(dir, p)
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + filepath.ToSlash(rel)), Body: f})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// lakeRows returns every row of a lake as "partition dir <tab> original record", sorted: two
// lakes with the same rows, duplicates included, give equal slices.
func lakeRows(t testing.TB, root string) []string {
	t.Helper()
	snap, err := lake.OpenSnapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	buf := make([]cloudtrail.Record, 256)
	for _, f := range snap.Files {
		fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewGenericReader[cloudtrail.Record](fh)
		for {
			n, err := r.Read(buf)
			for i := range buf[:n] {
				out = append(out, f.Partition.Dir()+"\t"+string(cloudtrail.Rebuild(&buf[i])))
			}
			clear(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		fh.Close()
	}
	sort.Strings(out)
	return out
}

// sameRows fails the test unless two lakes hold the same rows.
func sameRows(t testing.TB, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var extra, missing []string
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || i < len(got) && got[i] < want[j]:
			extra = append(extra, got[i])
			i++
		case i == len(got) || want[j] < got[i]:
			missing = append(missing, want[j])
			j++
		default:
			i++
			j++
		}
	}
	short := func(s []string) string {
		if len(s) > 2 {
			s = s[:2]
		}
		var b strings.Builder
		for _, x := range s {
			if len(x) > 300 {
				x = x[:300] + "…"
			}
			b.WriteString("\n  " + x)
		}
		return b.String()
	}
	t.Fatalf("%s: %d rows, want %d: %d extra, %d missing%s%s", what, len(got), len(want), len(extra), len(missing), short(extra), short(missing))
}

// ingestLocal ingests local folders into a new lake and returns it.
func ingestLocal(t testing.TB, dirs ...string) string {
	t.Helper()
	l := t.TempDir()
	st, err := Run(context.Background(), Options{Lake: l}, dirs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() {
		t.Fatalf("local ingest failed: %+v", st.Problems)
	}
	return l
}

// runS3 ingests S3 trails into a lake.
func runS3(t testing.TB, l string, opt Options, trails ...*s3src.Trail) (*Stats, error) {
	t.Helper()
	opt.Lake = l
	// As the CLI reads S3: many objects fetched ahead of a few decoders.
	if opt.Workers == 0 {
		opt.Workers = 4
	}
	if opt.Prefetch == 0 {
		opt.Prefetch = 32
	}
	var listers []Lister
	for _, tr := range trails {
		listers = append(listers, S3Lister(tr, s3src.Filter{}))
	}
	return RunObjects(context.Background(), opt, func(ctx context.Context, yield func(Object) error) error {
		for _, l := range listers {
			if err := l(ctx, yield); err != nil {
				return err
			}
		}
		return nil
	})
}

// counters returns fresh request counters shared by trails.
func counters() *s3src.Counters { return &s3src.Counters{} }
