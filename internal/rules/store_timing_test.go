package rules

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStoreWrite times the storing of one mid-pass detection's alerts (2^18, an ingest's
// HoldAlerts), made alike the 1M-event benchmark's: a few rules, random event ids, times in
// order, the default dedup key.
//
//	go test ./internal/rules -run X -bench StoreWrite -benchmem
func BenchmarkStoreWrite(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rules := []string{"sigma-aws-sts-assumerole-misuse", "console-action", "sigma-aws-enum-buckets", "root-use"}
	names := []string{"AssumeRole", "GetObject", "ListBuckets", "DescribeInstances", "PutObject"}
	alerts := make([]*Alert, 1<<18)
	for i := range alerts {
		t := start.Add(time.Duration(i) * 2 * time.Second).Format(time.RFC3339)
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rnd.Uint32(), rnd.Uint32()&0xffff, rnd.Uint32()&0xffff, rnd.Uint32()&0xffff, rnd.Uint64()&0xffffffffffff)
		name := names[rnd.IntN(len(names))]
		alerts[i] = &Alert{Rule: rules[rnd.IntN(len(rules))], Severity: Low, Title: "A role was assumed by " + name,
			EventID: id, EventTime: t, EventSource: "sts.amazonaws.com", EventName: name,
			Principal: fmt.Sprintf("arn:aws:iam::11112222%04d:role/app-%d", rnd.IntN(3), rnd.IntN(40)),
			SourceIP:  fmt.Sprintf("198.51.100.%d", rnd.IntN(250)), Account: fmt.Sprintf("11112222%04d", rnd.IntN(3)),
			Region: "us-east-1", Day: t[:10], Dedup: id + "|" + t + "|sts.amazonaws.com", Count: 1, FirstTime: t, Commit: 7}
	}
	dir := b.TempDir()
	as := sorted(nil, nil, alerts)
	for i := 0; b.Loop(); i++ {
		s := OpenStore(filepath.Join(dir, fmt.Sprint(i)))
		if err := s.write(int64(i+1), int64(i+1), as); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(alerts)), "ns/alert")
}
