package lake

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
)

// The lake's zstd codec writes what parquet-go's own reads back, pages larger than its window
// included, from concurrent writers, and keeps one encoder per level across collections.
func TestZstdCodec(t *testing.T) {
	c := Zstd(zstd.SpeedBetterCompression)
	if Zstd(zstd.SpeedBetterCompression) != c || Zstd(zstd.SpeedFastest) == c {
		t.Fatal("Zstd must give one codec per level")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, n := range []int{0, 1, 100, 64 << 10, 1 << 20, 3<<20 + 17} {
		b := make([]byte, n)
		for i := range b {
			// Compressible, with repeats farther apart than the 1 MiB window.
			b[i] = "abcdefgh"[r.IntN(8)]
			if i >= 1<<20+5 && i%7 == 0 {
				b[i] = b[i-(1<<20+5)]
			}
		}
		inputs = append(inputs, b)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst, back []byte
			for round := range 3 {
				if round == 1 {
					runtime.GC() // a collection must not lose the encoders
				}
				for _, in := range inputs {
					var err error
					if dst, err = c.Encode(dst, in); err != nil {
						t.Errorf("worker %d: encode %d bytes: %v", w, len(in), err)
						return
					}
					if back, err = parquet.Zstd.Decode(back, dst); err != nil || !bytes.Equal(back, in) {
						t.Errorf("worker %d: %d bytes do not come back (%v)", w, len(in), err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if c.(*zstdCodec).enc == nil {
		t.Fatal("no encoder kept")
	}
}
