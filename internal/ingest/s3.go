package ingest

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
)

// S3Lister lists the log objects of an S3 trail that the filter selects, each identified in the
// ledger by its URL, size and ETag. When a run watches, the passes after the first list from the
// day before the previous pass began: CloudTrail files an object under the day it delivers it,
// so older days get no new objects (objects that failed are retried by the run itself).
func S3Lister(tr *s3src.Trail, f s3src.Filter) Lister {
	var last time.Time
	return func(ctx context.Context, yield func(Object) error) error {
		pf := f
		if !last.IsZero() {
			if from := last.Add(-24 * time.Hour); from.After(pf.From) {
				pf.From = from
			}
		}
		started := time.Now()
		err := tr.List(ctx, pf, func(o s3src.Object) error {
			return yield(Object{
				Source: lake.Source{Name: tr.URL(o.Key), Size: o.Size, ETag: o.ETag},
				Key:    o.Key,
				Open:   func(ctx context.Context) (io.ReadCloser, error) { return tr.Open(ctx, o) },
			})
		})
		if err == nil {
			last = started
		}
		return err
	}
}

// S3Source is an s3://BUCKET[/PREFIX] trail to read, and how to reach it.
type S3Source struct {
	URL string
	// Client are the S3 client's options (profile, region, endpoint, connections, logger).
	Client s3src.ClientOptions
	Filter s3src.Filter
	// Stats, when set, counts the requests.
	Stats *s3src.Counters
}

// OpenS3 makes the client of an S3 trail and returns its lister (S3Lister).
func OpenS3(ctx context.Context, src S3Source) (Lister, error) {
	bucket, prefix, err := s3src.ParseURL(src.URL)
	if err != nil {
		return nil, err
	}
	client, err := s3src.NewClient(ctx, src.Client, bucket)
	if err != nil {
		return nil, err
	}
	tr := &s3src.Trail{API: client, Bucket: bucket, Prefix: prefix, Stats: src.Stats, Logger: src.Client.Logger}
	return S3Lister(tr, src.Filter), nil
}

// Chain lists the objects of several listers one after the other; a lister's failure does not
// stop the others (their errors are joined).
func Chain(ls ...Lister) Lister {
	if len(ls) == 1 {
		return ls[0]
	}
	return func(ctx context.Context, yield func(Object) error) error {
		var errs []error
		for _, l := range ls {
			if err := l(ctx, yield); err != nil {
				if ctx.Err() != nil {
					return err
				}
				errs = append(errs, err) // the other sources are still read
			}
		}
		return errors.Join(errs...)
	}
}
