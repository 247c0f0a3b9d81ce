package lake

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"
)

// Zstd returns the zstd codec at level for writing Parquet files: parquet-go's own, except
// that its encoders live as long as the process. parquet-go keeps its encoders in a sync.Pool,
// which every garbage collection empties; the next page then made a new encoder, which
// allocated and cleared a history of 16 MiB (an ingest collects often: that was 4% of its CPU).
// The window is 1 MiB, the size of a page (see writerOptions): a page compresses to the same
// bytes, in a history 14 times smaller.
func Zstd(level zstd.EncoderLevel) compress.Codec {
	codecsMu.Lock()
	defer codecsMu.Unlock()
	c := codecs[level]
	if c == nil {
		c = &zstdCodec{level: level}
		codecs[level] = c
	}
	return c
}

var (
	codecsMu sync.Mutex
	codecs   = map[zstd.EncoderLevel]*zstdCodec{}
)

type zstdCodec struct {
	level zstd.EncoderLevel
	once  sync.Once
	enc   *zstd.Encoder
	err   error
}

func (c *zstdCodec) String() string                            { return "ZSTD" }
func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode compresses src into dst. EncodeAll is safe for concurrent use: the encoder holds one
// encoder state per core, and a caller beyond those waits for one.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.once.Do(func() {
		c.enc, c.err = zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderLevel(c.level),
			zstd.WithWindowSize(1<<20),
			zstd.WithZeroFrames(true),
			zstd.WithEncoderCRC(false),
		)
	})
	if c.err != nil {
		return dst[:0], c.err
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

// Decode is parquet-go's.
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	return parquet.Zstd.Decode(dst, src)
}
