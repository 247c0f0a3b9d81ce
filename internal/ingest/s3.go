package ingest

import (
	"context"
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
