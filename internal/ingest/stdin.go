package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/trailsql/trailsql/internal/lake"
)

// StdinName names standard input in problems and in the ledger.
const StdinName = "standard input"

// Spool is an input that can be read only once (standard input), saved to a temporary file so
// that it is identified before it is read and read like any file.
//
// Its identity in the ledger is its content: the Source is named StdinName, with the input's
// size and, as its ETag, "sha256:" and the SHA-256 of the bytes read (compressed or not, as
// given). Piping the same bytes again is recognised as unchanged and not read; other bytes are
// another source, whose events are still deduplicated by content. Whether it is gzip or JSON is
// told by its content, as for files.
type Spool struct {
	path string
	src  lake.Source
}

// SpoolInput copies r whole to a temporary file in dir (the system's temporary folder when
// empty). The caller must Close the Spool. Disk, not memory, holds the input.
func SpoolInput(ctx context.Context, r io.Reader, dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "trailsql-stdin-*")
	if err != nil {
		return nil, fmt.Errorf("save %s to a temporary file: %w", StdinName, err)
	}
	s := &Spool{path: f.Name()}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("read %s: %w", StdinName, err)
	}
	s.src = lake.Source{Name: StdinName, Size: n, ETag: "sha256:" + hex.EncodeToString(h.Sum(nil))}
	return s, nil
}

// Source is the spooled input's identity in the ledger.
func (s *Spool) Source() lake.Source { return s.src }

// Lister lists the spooled input, as an object the user named (see Object.Named).
func (s *Spool) Lister() Lister {
	return func(ctx context.Context, yield func(Object) error) error {
		return yield(Object{Source: s.src, Key: StdinName, Named: true, Open: func(context.Context) (io.ReadCloser, error) {
			f, err := os.Open(s.path)
			if err != nil {
				return nil, fmt.Errorf("read %s (saved to %s): %w", StdinName, s.path, err)
			}
			return f, nil
		}})
	}
}

// Close removes the temporary file.
func (s *Spool) Close() error {
	if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
