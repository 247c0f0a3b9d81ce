package ingest

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// prefetch reads objects whole into memory with n fetchers, ahead of the decoders: it returns the
// objects of in, in the order their fetches end, each opening its fetched bytes. An object that
// fails to fetch opens with that error, so the decoder reports it as any other. Objects larger
// than maxBytes (by their listed size) pass through untouched, to be streamed. At most about 2n
// objects are held at a time.
func prefetch(ctx context.Context, in <-chan Object, n int, maxBytes int64) <-chan Object {
	if maxBytes <= 0 {
		maxBytes = 16 << 20
	}
	out := make(chan Object, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range in {
				if o.Source.Size <= maxBytes && o.Open != nil {
					o.Open = fetched(ctx, o)
				}
				select {
				case out <- o:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// fetched reads the object now and returns an opener of what was read.
func fetched(ctx context.Context, o Object) func(context.Context) (io.ReadCloser, error) {
	data, err := readAll(ctx, o)
	return func(context.Context) (io.ReadCloser, error) {
		if err != nil && len(data) == 0 {
			return nil, err
		}
		var r io.Reader = bytes.NewReader(data)
		if err != nil {
			// What arrived before the failure is decoded, and the failure reported after it,
			// as when the object is streamed.
			r = io.MultiReader(r, errReader{err})
		}
		return io.NopCloser(r), nil
	}
}

func readAll(ctx context.Context, o Object) ([]byte, error) {
	f, err := o.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := bytes.NewBuffer(make([]byte, 0, max(o.Source.Size, 512)+1))
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
