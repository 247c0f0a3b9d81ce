package s3src

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxResumes bounds how often one object's read is resumed after failing midway.
const maxResumes = 5

// Open starts reading an object. The first request's failure (after the client's own retries)
// is returned here. A read that fails midway (a reset connection, a stalled or cut-short body)
// is resumed where it stopped, asking for the rest with a Range, up to 5 times with growing
// pauses; an ETag pins the version listed, so an object replaced in the meantime fails rather
// than mixing two versions.
func (t *Trail) Open(ctx context.Context, o Object) (io.ReadCloser, error) {
	if t.Stats == nil {
		t.Stats = &Counters{}
	}
	r := &objectReader{ctx: ctx, t: t, obj: o}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

type objectReader struct {
	ctx     context.Context
	t       *Trail
	obj     Object
	body    io.ReadCloser
	off     int64
	resumes int
}

func (r *objectReader) open() error {
	in := &s3.GetObjectInput{Bucket: aws.String(r.t.Bucket), Key: aws.String(r.obj.Key)}
	if r.obj.ETag != "" {
		in.IfMatch = aws.String(r.obj.ETag)
	}
	if r.off > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-")
	}
	r.t.Stats.Gets.Add(1)
	out, err := r.t.API.GetObject(r.ctx, in)
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			return fmt.Errorf("get %s: the object changed since it was listed (it is read again on the next run): %w", r.t.URL(r.obj.Key), err)
		}
		return fmt.Errorf("get %s: %w", r.t.URL(r.obj.Key), err)
	}
	r.body = out.Body
	return nil
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		if r.body == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil {
			return n, nil
		}
		if err == io.EOF {
			if r.obj.Size <= 0 || r.off >= r.obj.Size {
				return n, io.EOF
			}
			err = fmt.Errorf("the body ended after %d of %d bytes", r.off, r.obj.Size)
		}
		r.body.Close()
		r.body = nil
		if cerr := r.ctx.Err(); cerr != nil {
			return n, cerr
		}
		if r.resumes >= maxResumes {
			return n, fmt.Errorf("read %s at byte %d (gave up after %d resumptions): %w", r.t.URL(r.obj.Key), r.off, r.resumes, err)
		}
		r.resumes++
		r.t.Stats.Resumes.Add(1)
		select {
		case <-time.After(time.Duration(r.resumes*r.resumes) * r.pause()):
		case <-r.ctx.Done():
			return n, r.ctx.Err()
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *objectReader) pause() time.Duration {
	if r.t.ResumePause > 0 {
		return r.t.ResumePause
	}
	return 200 * time.Millisecond
}

func (r *objectReader) Close() error {
	if r.body == nil {
		return nil
	}
	// The decoder stops at the end of the gzip stream, usually before the body has reported
	// EOF; a body closed unread makes the HTTP client drop the connection and dial a new one
	// for the next object. Reading the little that is left keeps the connection for reuse.
	io.Copy(io.Discard, io.LimitReader(r.body, 64<<10))
	err := r.body.Close()
	r.body = nil
	return err
}
