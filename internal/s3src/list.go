package s3src

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// Trail is an S3 location holding CloudTrail logs: a bucket and a prefix, which may stop anywhere
// in the layout (a custom trail prefix, AWSLogs/, an organization, an account, a region, …).
type Trail struct {
	API    API
	Bucket string
	Prefix string
	// ListConcurrency bounds the LIST requests in flight (default 8).
	ListConcurrency int
	// ResumePause is the pause before the first resumption of a broken read; it grows with the
	// square of the attempt (default 200 ms).
	ResumePause time.Duration
	// Stats counts the requests made; may be shared between trails.
	Stats  *Counters
	Logger *slog.Logger
}

// Filter selects the objects to list. Zero values select everything.
type Filter struct {
	// From and To bound the deliveries listed. CloudTrail files an object under the UTC day it
	// delivered it, and names it with its delivery time, a few minutes after its events: the day
	// folders from From's to that of To plus an hour are listed, and of their objects those
	// delivered from From to To plus an hour are taken. An object is read whole: events a little
	// outside the window may come with it.
	From, To time.Time
	// Accounts and Regions, when not empty, select those accounts and regions only.
	Accounts, Regions []string
}

// Object is one S3 object.
type Object struct {
	Key  string
	Size int64
	ETag string
}

// URL returns s3://bucket/key.
func (t *Trail) URL(key string) string { return "s3://" + t.Bucket + "/" + key }

// Walk levels of the trail layout below AWSLogs/.
const (
	levelTop     = iota // organization ids and accounts
	levelOrg            // accounts of an organization
	levelAccount        // CloudTrail/, CloudTrail-Insight/, CloudTrail-Digest/, other services
	levelKind           // regions
	levelRegion         // YYYY/MM/DD/ folders of one region
	levelBelow          // somewhere under a region: list flat
)

// List calls fn for each CloudTrail log object the filter selects; fn is never called
// concurrently, and an error from it stops the listing. Digest files and other services' logs
// are never listed. A prefix with no AWSLogs/ folder in it or right under it is not a trail: every
// object under it is passed on, for the reader to tell what it holds.
func (t *Trail) List(ctx context.Context, f Filter, fn func(Object) error) error {
	if t.Stats == nil {
		t.Stats = &Counters{}
	}
	if t.Logger == nil {
		t.Logger = slog.New(slog.DiscardHandler)
	}
	if t.ListConcurrency <= 0 {
		t.ListConcurrency = 8
	}
	w := &walker{t: t, f: f, sem: make(chan struct{}, t.ListConcurrency), log: t.Logger.With("component", "s3")}
	if !f.From.IsZero() {
		w.fromDay = f.From.UTC().Format("2006/01/02")
		w.fromStamp = f.From.UTC().Format("20060102T1504Z")
	}
	if !f.To.IsZero() {
		late := f.To.UTC().Add(time.Hour)
		w.toDay = late.Format("2006/01/02")
		w.toStamp = late.Format("20060102T1504Z")
	}
	var mu sync.Mutex
	w.emit = func(o Object) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(o)
	}
	g, ctx := errgroup.WithContext(ctx)
	w.g = g

	prefix := t.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	i := strings.Index("/"+prefix, "/AWSLogs/")
	if i < 0 {
		// The trail's own prefix, or the bucket: AWSLogs/ should be right below.
		dirs, err := w.listDirs(ctx, prefix)
		if err != nil {
			return err
		}
		if !slices.Contains(dirs, prefix+"AWSLogs/") {
			w.log.Info("no AWSLogs/ folder: listing every object", "url", t.URL(prefix))
			g.Go(func() error { return w.listFlat(ctx, prefix, "", false) })
			return g.Wait()
		}
		i = len(prefix)
		prefix += "AWSLogs/"
	}
	base := prefix[:i+len("AWSLogs/")]
	segs := strings.Split(strings.TrimSuffix(prefix[len(base):], "/"), "/")
	if segs[0] == "" {
		segs = nil
	}
	g.Go(func() error { return w.start(ctx, base, segs) })
	return g.Wait()
}

type walker struct {
	t       *Trail
	f       Filter
	g       *errgroup.Group
	sem     chan struct{}
	log     *slog.Logger
	emit    func(Object) error
	fromDay string // "" unbounded
	toDay   string
	// fromStamp and toStamp bound delivery times as object names write them (20240301T1205Z).
	fromStamp, toStamp string
}

// start walks from the level the prefix's segments below AWSLogs/ reach.
func (w *walker) start(ctx context.Context, dir string, segs []string) error {
	level := levelTop
	for _, s := range segs {
		switch {
		case level == levelTop && strings.HasPrefix(s, "o-"):
			level = levelOrg
		case level == levelTop || level == levelOrg:
			if !w.wantAccount(s) {
				return nil
			}
			level = levelAccount
		case level == levelAccount:
			level = levelKind
		case level == levelKind:
			if !w.wantRegion(s) {
				return nil
			}
			level = levelRegion
		default:
			level = levelBelow
		}
		dir += s + "/"
	}
	return w.walk(ctx, dir, level)
}

func (w *walker) walk(ctx context.Context, dir string, level int) error {
	switch level {
	case levelRegion:
		return w.listDays(ctx, dir)
	case levelBelow:
		return w.listFlat(ctx, dir, "", true)
	}
	dirs, err := w.listDirs(ctx, dir)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		name := strings.TrimSuffix(d[len(dir):], "/")
		next := -1
		switch level {
		case levelTop, levelOrg:
			switch {
			case level == levelTop && strings.HasPrefix(name, "o-"):
				next = levelOrg
			case isAccount(name) && w.wantAccount(name):
				next = levelAccount
			}
		case levelAccount:
			if name == "CloudTrail" || name == "CloudTrail-Insight" {
				next = levelKind
			}
		case levelKind:
			if w.wantRegion(name) {
				next = levelRegion
			}
		}
		if next < 0 {
			continue
		}
		w.g.Go(func() error { return w.walk(ctx, d, next) })
	}
	return nil
}

func (w *walker) wantAccount(a string) bool {
	return len(w.f.Accounts) == 0 || slices.Contains(w.f.Accounts, a)
}

func (w *walker) wantRegion(r string) bool {
	return len(w.f.Regions) == 0 || slices.Contains(w.f.Regions, r)
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// list makes one ListObjectsV2 request, within the concurrency bound.
func (w *walker) list(ctx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-w.sem }()
	w.t.Stats.Lists.Add(1)
	in.Bucket = aws.String(w.t.Bucket)
	out, err := w.t.API.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", w.t.URL(aws.ToString(in.Prefix)), err)
	}
	return out, nil
}

// listDirs returns the folders right under dir.
func (w *walker) listDirs(ctx context.Context, dir string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Prefix: aws.String(dir), Delimiter: aws.String("/")}
	var out []string
	for {
		page, err := w.list(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, p := range page.CommonPrefixes {
			out = append(out, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return out, nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}

// listDays lists a region folder's objects in the window: the listing starts right before the
// first day's folder (StartAfter) and stops at the first key past the last day, so days outside
// the window cost nothing.
func (w *walker) listDays(ctx context.Context, dir string) error {
	start := ""
	if w.fromDay != "" {
		start = dir + w.fromDay
	}
	return w.listFlat(ctx, dir, start, true)
}

// listFlat lists every object under dir (after startAfter), skipping, when dated is set, keys
// whose day folder is outside the window and stopping at the first one past it.
func (w *walker) listFlat(ctx context.Context, dir, startAfter string, dated bool) error {
	in := &s3.ListObjectsV2Input{Prefix: aws.String(dir)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	for {
		page, err := w.list(ctx, in)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue // a folder marker
			}
			if dated {
				k := cloudtrail.ParseKey(key)
				if k.Kind == cloudtrail.KeyDigest {
					continue
				}
				if k.Year != "" {
					day := k.Year + "/" + k.Month + "/" + k.Day
					if w.toDay != "" && day > w.toDay {
						return nil // keys are in order: the rest is past the window
					}
					if w.fromDay != "" && day < w.fromDay {
						continue
					}
					if st := deliveryStamp(key); st != "" && (w.fromStamp != "" && st < w.fromStamp || w.toStamp != "" && st > w.toStamp) {
						continue
					}
				}
			}
			if err := w.emit(Object{Key: key, Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}); err != nil {
				return err
			}
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}

// deliveryStamp returns the delivery time in a CloudTrail object name
// (<account>_CloudTrail_<region>_20240301T1205Z_<unique>.json.gz), or "".
func deliveryStamp(key string) string {
	name := key[strings.LastIndexByte(key, '/')+1:]
	parts := strings.Split(name, "_")
	if len(parts) < 5 {
		return ""
	}
	st := parts[3]
	if len(st) != 14 || st[8] != 'T' || st[13] != 'Z' {
		return ""
	}
	for i, c := range st {
		if i != 8 && i != 13 && (c < '0' || c > '9') {
			return ""
		}
	}
	return st
}
