package athena

// Athena's scan pricing: $5 per TB scanned, each query billed for at least 10 MB.
const (
	PricePerTB     = 5.0
	MinBilledBytes = 10 << 20
	bytesPerTB     = 1e12
)

// ScanPrice is what Athena would bill, in US dollars, for a query that scans bytes of the same
// Parquet files.
func ScanPrice(bytes int64) float64 {
	if bytes < MinBilledBytes {
		bytes = MinBilledBytes
	}
	return float64(bytes) / bytesPerTB * PricePerTB
}
