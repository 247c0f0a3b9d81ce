// Package publish copies a local lake to S3 (s3://bucket/prefix), where Athena, Trino or Spark
// read it as they read any Hive-partitioned Parquet table, and keeps the copy up to date: each
// push sends only the commits the bucket lacks.
//
// The local lake stays the source of truth and keeps its own commit protocol; the bucket gets
// the same files under the same names. For each commit, in commit order, the data files go
// first, then its hash file, then a claim of its sequence number, then its manifest, so that a
// reader of the bucket never finds a manifest whose files are missing (litestream's order). The
// claim, <prefix>/_trailsql/seqs/<seq>, is written with If-None-Match: * and names the manifest
// that holds the number: two lakes (or two pushes of different lakes) cannot both commit the same
// sequence number to one prefix, and a reader of the bucket takes a manifest as a commit only
// when the claim of its number names it. Files that a compaction superseded are deleted from the
// bucket only once its manifest has been there longer than Options.DeleteDelay (default 35
// minutes, beyond Athena's 30-minute query timeout), so that a query that listed them before
// can still read them.
//
// A push killed at any moment leaves objects that are whole (an S3 PUT is atomic) and, at worst,
// data files of a commit whose manifest is not there yet; the next push finds them already there
// (same size, and the SHA-256 recorded in their metadata) and goes on. The lake's key
// (_trailsql/key) never travels: the bucket's manifests keep their seals, which only the holder
// of the key can check. The alerts of the detection rules (alerts/) do not travel either: they are
// the local detector's state, rewritten in place, not part of any commit.
package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
)

// API is what a push uses of an S3 client (*s3.Client implements it).
type API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// DefaultDeleteDelay is how long superseded files stay in the bucket: longer than Athena's
// 30-minute query timeout.
const DefaultDeleteDelay = 35 * time.Minute

// SeqsDir holds the claims of sequence numbers in the bucket, relative to the prefix.
const SeqsDir = "_trailsql/seqs"

// shaMeta is the object metadata that records a file's SHA-256 (x-amz-meta-sha256).
const shaMeta = "sha256"

// Target is where a lake is published.
type Target struct {
	Bucket string
	Prefix string // without leading or trailing slash; empty: the bucket's root
}

// ParseTarget reads s3://bucket[/prefix].
func ParseTarget(u string) (Target, error) {
	bucket, prefix, err := s3src.ParseURL(u)
	if err != nil {
		return Target{}, err
	}
	return Target{Bucket: bucket, Prefix: strings.Trim(prefix, "/")}, nil
}

// String is the target as an s3:// URL.
func (t Target) String() string {
	if t.Prefix == "" {
		return "s3://" + t.Bucket
	}
	return "s3://" + t.Bucket + "/" + t.Prefix
}

// Key returns the object key of a path relative to the lake root.
func (t Target) Key(rel string) string {
	if t.Prefix == "" {
		return rel
	}
	return t.Prefix + "/" + rel
}

// Options configure a push.
type Options struct {
	// DeleteDelay is how long a superseded file stays in the bucket after the manifest that
	// superseded it arrived there. Zero deletes at once (for buckets no query reads while
	// pushing); the command's default is DefaultDeleteDelay.
	DeleteDelay time.Duration
	// Uploads is the number of data files of a commit sent at once (default 8): against S3 a PUT
	// waits tens of milliseconds, and a commit holds a file per partition.
	Uploads int
	// Now is the clock (default time.Now); tests move it forward.
	Now    func() time.Time
	Logger *slog.Logger
}

// Stats say what a push did.
type Stats struct {
	Commits     int   // manifests published
	Uploaded    int   // data and hash files uploaded
	Bytes       int64 // their size
	Present     int   // files already in the bucket (a push that was interrupted sent them)
	Deleted     int   // superseded files removed from the bucket
	Waiting     int   // superseded files kept until DeleteDelay has passed
	UpToDate    bool  // the bucket held every commit already
	LastSeq     int64 // the lake's last commit
	Unavailable int   // files of pending commits the local lake no longer holds (superseded and deleted there)
}

// object is what a listing says of an object.
type object struct {
	size     int64
	modified time.Time
}

// ConflictError says the bucket holds another lake's commits: two lakes cannot be pushed to one
// prefix.
type ConflictError struct {
	Target Target
	Key    string // the object that conflicts
	Detail string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: %s holds %s: another lake is published to this prefix (push each lake to a prefix of its own)", e.Target, e.Key, e.Detail)
}

// pusher is one push.
type pusher struct {
	api    API
	lake   string
	t      Target
	opt    Options
	log    *slog.Logger
	mu     sync.Mutex        // guards remote and st while files are uploaded at once
	remote map[string]object // relative path → object: listed at the start, then what was sent
	st     *Stats
}

// Push publishes the lake at lakeDir to t: the commits the bucket lacks, in commit order, then
// deletes the superseded files whose delay has passed. It may be interrupted at any point and run
// again. It refuses a lake whose ledger cannot be trusted and a bucket that holds commits the lake
// does not (a *ConflictError).
func Push(ctx context.Context, api API, lakeDir string, t Target, opt Options) (*Stats, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Uploads <= 0 {
		opt.Uploads = 8
	}
	if opt.DeleteDelay < 0 {
		return nil, fmt.Errorf("delete delay %s is negative", opt.DeleteDelay)
	}
	p := &pusher{api: api, lake: lakeDir, t: t, opt: opt, log: opt.Logger.With("component", "publish"), st: &Stats{}}
	commits, err := lake.Commits(lakeDir)
	if err != nil {
		return nil, fmt.Errorf("publish lake %s: %w", lakeDir, err)
	}
	if len(commits) == 0 {
		return nil, fmt.Errorf("lake %s holds no commits: nothing to publish (run `trailsql ingest` first)", lakeDir)
	}
	p.st.LastSeq = commits[len(commits)-1].Seq
	if p.remote, err = p.list(ctx); err != nil {
		return p.st, err
	}
	local := map[string]bool{}
	for _, c := range commits {
		local[c.Name] = true
	}
	for rel := range p.remote {
		name, ok := strings.CutPrefix(rel, lake.CommitsDir+"/")
		if ok && !strings.Contains(name, "/") && !local[name] {
			return p.st, &ConflictError{Target: t, Key: t.Key(rel), Detail: "a commit that lake " + lakeDir + " does not hold"}
		}
	}
	pending := p.order(commits)
	p.st.UpToDate = len(pending) == 0
	for _, c := range pending {
		if err := p.commit(ctx, c); err != nil {
			return p.st, err
		}
	}
	return p.st, p.removeSuperseded(ctx, commits)
}

// list lists every object under the prefix.
func (p *pusher) list(ctx context.Context) (map[string]object, error) {
	out := map[string]object{}
	prefix := p.t.Key("")
	in := &s3.ListObjectsV2Input{Bucket: aws.String(p.t.Bucket), Prefix: aws.String(prefix)}
	for {
		page, err := p.api.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", p.t, err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			out[rel] = object{size: aws.ToInt64(o.Size), modified: aws.ToTime(o.LastModified)}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return out, nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}

// pendingCommit is a commit the bucket lacks, with what the local lake no longer holds of it.
type pendingCommit struct {
	lake.Commit
	gone  map[string]bool // data files deleted locally since a later commit superseded them
	after int64           // the last commit that superseded one of them
}

// order returns the commits the bucket lacks, in the order to publish them: commit order, except
// that a commit whose files the local lake no longer holds (a compaction superseded them and they
// were deleted before this push) comes right after the commit that superseded them. So the bucket
// never holds a manifest that makes a missing file live: until the superseding manifest is
// there, the earlier one is not either.
func (p *pusher) order(commits []lake.Commit) []pendingCommit {
	supersededBy := map[string]int64{}
	for _, c := range commits {
		for _, r := range c.Replaces {
			supersededBy[r] = c.Seq
		}
		for _, r := range c.Quarantined {
			supersededBy[r] = c.Seq
		}
	}
	var out []pendingCommit
	for _, c := range commits {
		if _, ok := p.remote[lake.CommitsDir+"/"+c.Name]; ok {
			continue
		}
		pc := pendingCommit{Commit: c, gone: map[string]bool{}, after: c.Seq}
		for _, f := range c.Files {
			by, superseded := supersededBy[f.Path]
			if !superseded || p.has(f.Path, f.Bytes) {
				continue
			}
			if _, err := os.Lstat(filepath.Join(p.lake, filepath.FromSlash(f.Path))); errors.Is(err, os.ErrNotExist) {
				pc.gone[f.Path] = true
				pc.after = max(pc.after, by)
			}
		}
		out = append(out, pc)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.after != b.after {
			return a.after < b.after
		}
		// The commit that superseded the files comes before those deferred after it.
		return a.Seq == a.after && b.Seq != b.after
	})
	return out
}

// has reports whether the bucket holds rel with the given size.
func (p *pusher) has(rel string, size int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.remote[rel]
	return ok && o.size == size
}

// commit publishes one commit: data files (several at once), hash file, claim, manifest.
func (p *pusher) commit(ctx context.Context, c pendingCommit) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opt.Uploads)
	for _, f := range c.Files {
		if c.gone[f.Path] {
			p.st.Unavailable++
			p.log.Warn("a data file of a commit was superseded and deleted locally before it was published: the bucket gets the file that superseded it", "file", f.Path, "commit", c.Name)
			continue
		}
		g.Go(func() error { return p.upload(gctx, f.Path, f.Bytes, f.SHA256) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if c.Hashes != "" {
		if err := p.upload(ctx, c.Hashes, -1, c.HashesSHA256); err != nil {
			return err
		}
	}
	if err := p.claim(ctx, c); err != nil {
		return err
	}
	rel := lake.CommitsDir + "/" + c.Name
	data, err := os.ReadFile(filepath.Join(p.lake, filepath.FromSlash(rel)))
	if err != nil {
		return fmt.Errorf("publish commit %d: %w", c.Seq, err)
	}
	if err := p.putOnce(ctx, rel, data); err != nil {
		return err
	}
	p.remote[rel] = object{size: int64(len(data)), modified: p.opt.Now()}
	p.st.Commits++
	p.log.Info("published a commit", "seq", c.Seq, "files", len(c.Files), "target", p.t.String())
	return nil
}

// claim writes the claim of the commit's sequence number, or checks that the one there is ours.
func (p *pusher) claim(ctx context.Context, c pendingCommit) error {
	rel := fmt.Sprintf("%s/%016d", SeqsDir, c.Seq)
	return p.putOnce(ctx, rel, []byte(c.Name+"\n"))
}

// putOnce creates the object rel with data unless it exists (If-None-Match: *). An object already
// there must hold the same bytes: written by an earlier push of this lake that was interrupted
// before it knew the answer, or by one running at the same time.
func (p *pusher) putOnce(ctx context.Context, rel string, data []byte) error {
	key := p.t.Key(rel)
	if _, listed := p.remote[rel]; !listed {
		_, err := p.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(p.t.Bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
			IfNoneMatch:   aws.String("*"),
		})
		if err == nil {
			return nil
		}
		if !isPreconditionFailed(err) {
			return fmt.Errorf("put %s/%s: %w", p.t.Bucket, key, err)
		}
	}
	got, err := p.get(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		detail := "other content"
		if strings.HasPrefix(rel, SeqsDir+"/") {
			detail = "the claim of another commit, " + strings.TrimSpace(string(got))
		}
		return &ConflictError{Target: p.t, Key: key, Detail: detail}
	}
	return nil
}

// get reads a small object whole.
func (p *pusher) get(ctx context.Context, key string) ([]byte, error) {
	out, err := p.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.t.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", p.t.Bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", p.t.Bucket, key, err)
	}
	return data, nil
}

// isPreconditionFailed reports whether S3 refused a conditional write because the object exists.
func isPreconditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return true
		}
	}
	return false
}

// upload sends the local file rel unless the bucket holds it already (same size and SHA-256).
// size is the ledger's size (-1: unknown, for hash files); sum the ledger's SHA-256 ("" for files
// of lakes written before checksums were recorded): the file is checked against both before it is
// sent, so that a damaged local file is never published.
func (p *pusher) upload(ctx context.Context, rel string, size int64, sum string) error {
	path := filepath.Join(p.lake, filepath.FromSlash(rel))
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("publish %s: %w (run `trailsql check` on the lake)", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("publish %s: %w", rel, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if size >= 0 && n != size || sum != "" && got != sum {
		return fmt.Errorf("publish %s: the file is not the one its commit recorded (%d bytes, SHA-256 %s; the ledger says %d, %s): run `trailsql check` on the lake", rel, n, got, size, sum)
	}
	key := p.t.Key(rel)
	if p.has(rel, n) {
		head, err := p.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.t.Bucket), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("head %s/%s: %w", p.t.Bucket, key, err)
		}
		if head.Metadata[shaMeta] == got {
			p.mu.Lock()
			p.st.Present++
			p.mu.Unlock()
			return nil
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("publish %s: %w", rel, err)
	}
	if _, err := p.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(p.t.Bucket),
		Key:           aws.String(key),
		Body:          f,
		ContentLength: aws.Int64(n),
		Metadata:      map[string]string{shaMeta: got},
	}); err != nil {
		return fmt.Errorf("put %s/%s: %w", p.t.Bucket, key, err)
	}
	p.mu.Lock()
	p.remote[rel] = object{size: n, modified: p.opt.Now()}
	p.st.Uploaded++
	p.st.Bytes += n
	p.mu.Unlock()
	return nil
}

// removeSuperseded deletes from the bucket the data files that no commit holds live any more,
// once the manifest that superseded them has been in the bucket for DeleteDelay. Objects the
// ledger never listed are left alone.
func (p *pusher) removeSuperseded(ctx context.Context, commits []lake.Commit) error {
	live := map[string]bool{}
	by := map[string]string{} // superseded file → the manifest that superseded it
	for _, c := range commits {
		for _, r := range append(append([]string(nil), c.Replaces...), c.Quarantined...) {
			if live[r] {
				delete(live, r)
				by[r] = c.Name
			}
		}
		for _, f := range c.Files {
			live[f.Path] = true
			delete(by, f.Path)
		}
	}
	paths := make([]string, 0, len(by))
	for r := range by {
		paths = append(paths, r)
	}
	sort.Strings(paths)
	now := p.opt.Now()
	for _, r := range paths {
		if _, ok := p.remote[r]; !ok {
			continue
		}
		m, ok := p.remote[lake.CommitsDir+"/"+by[r]]
		if !ok {
			continue // not published (the push stopped before it): the file is still live there
		}
		if now.Sub(m.modified) < p.opt.DeleteDelay {
			p.st.Waiting++
			continue
		}
		key := p.t.Key(r)
		if _, err := p.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.t.Bucket), Key: aws.String(key)}); err != nil {
			return fmt.Errorf("delete superseded %s/%s: %w", p.t.Bucket, key, err)
		}
		delete(p.remote, r)
		p.st.Deleted++
	}
	return nil
}

// String summarises the stats in one line.
func (s *Stats) String() string {
	var b strings.Builder
	if s.UpToDate {
		b.WriteString("the bucket was up to date")
	} else {
		b.WriteString(strconv.Itoa(s.Commits) + " commits published")
	}
	fmt.Fprintf(&b, " (last commit %d); %d files uploaded (%d bytes), %d already there; %d superseded files deleted, %d kept until the delete delay has passed", s.LastSeq, s.Uploaded, s.Bytes, s.Present, s.Deleted, s.Waiting)
	if s.Unavailable > 0 {
		fmt.Fprintf(&b, "; %d files superseded and deleted locally before they were published", s.Unavailable)
	}
	return b.String()
}
