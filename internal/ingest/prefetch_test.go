package ingest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/lake"
)

type failingBody struct {
	data string
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if b.data == "" {
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *failingBody) Close() error { return nil }

// Prefetched objects open to the same bytes; a failure to open or to read to the end reaches the
// decoder after what arrived; objects over the size bound are not fetched ahead.
func TestPrefetch(t *testing.T) {
	openErr, readErr := errors.New("403 Forbidden"), errors.New("connection reset")
	streamed := 0
	objs := map[string]Object{
		"ok":     {Source: lake.Source{Name: "ok", Size: 5}, Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("hello")), nil }},
		"noopen": {Source: lake.Source{Name: "noopen", Size: 5}, Open: func(context.Context) (io.ReadCloser, error) { return nil, openErr }},
		"cut":    {Source: lake.Source{Name: "cut", Size: 10}, Open: func(context.Context) (io.ReadCloser, error) { return &failingBody{"half", readErr}, nil }},
		"toolarge": {Source: lake.Source{Name: "toolarge", Size: 100}, Open: func(context.Context) (io.ReadCloser, error) {
			streamed++
			return io.NopCloser(strings.NewReader("streamed")), nil
		}},
	}
	in := make(chan Object, len(objs))
	for _, o := range objs {
		in <- o
	}
	close(in)
	got := map[string]Object{}
	for o := range prefetch(context.Background(), in, 3, 50) {
		got[o.Source.Name] = o
	}
	if len(got) != len(objs) {
		t.Fatalf("%d objects out of %d", len(got), len(objs))
	}
	if streamed != 0 {
		t.Fatal("an object over the bound was fetched ahead")
	}
	read := func(name string) (string, error) {
		f, err := got[name].Open(context.Background())
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		return string(b), err
	}
	if s, err := read("ok"); s != "hello" || err != nil {
		t.Errorf("ok: %q %v", s, err)
	}
	if _, err := read("noopen"); !errors.Is(err, openErr) {
		t.Errorf("noopen: %v", err)
	}
	if s, err := read("cut"); s != "half" || !errors.Is(err, readErr) {
		t.Errorf("cut: %q %v", s, err)
	}
	if s, err := read("toolarge"); s != "streamed" || err != nil || streamed != 1 {
		t.Errorf("toolarge: %q %v (opened %d times)", s, err, streamed)
	}
}
