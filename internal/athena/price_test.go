package athena

import (
	"math"
	"testing"
)

func TestScanPrice(t *testing.T) {
	for _, c := range []struct {
		bytes int64
		usd   float64
	}{
		{0, 10 << 20 * 5.0 / 1e12},       // the 10 MB minimum
		{1 << 20, 10 << 20 * 5.0 / 1e12}, // below it
		{1e12, 5},                        // a terabyte
		{3e12, 15},
	} {
		if got := ScanPrice(c.bytes); math.Abs(got-c.usd) > 1e-12 {
			t.Errorf("ScanPrice(%d) = %g, want %g", c.bytes, got, c.usd)
		}
	}
}
