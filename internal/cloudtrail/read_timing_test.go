package cloudtrail_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
)

// BenchmarkReadEvents decodes, normalises and hashes a generated trail of 20,000 events (gzip
// files in the S3 layout, read from memory), as one ingest worker does, and reports events/s.
func BenchmarkReadEvents(b *testing.B) {
	dir := b.TempDir()
	if _, err := generate.Generate(context.Background(), dir, generate.Options{Seed: 1, Events: 20_000, End: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	var files [][]byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") || strings.Contains(p, "Digest") {
			return err
		}
		data, err := os.ReadFile(p)
		files = append(files, data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var rd cloudtrail.Reader
	var h cloudtrail.Hasher
	events, size := 0, 0
	for _, f := range files {
		size += len(f)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		events = 0
		for _, f := range files {
			_, err := rd.ReadEvents(bytes.NewReader(f), false, func(ev cloudtrail.Event) error {
				h.Sum(ev.Record)
				events++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkHash compares the content hash (version 2, nested keys sorted) with version 1 over the
// records of a generated trail of 20,000 events: go test -bench Hash -count 5 ./internal/cloudtrail
func BenchmarkHash(b *testing.B) {
	dir := b.TempDir()
	if _, err := generate.Generate(context.Background(), dir, generate.Options{Seed: 1, Events: 20_000, End: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	var recs []*cloudtrail.Record
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") || strings.Contains(p, "Digest") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = cloudtrail.ReadEvents(f, false, func(ev cloudtrail.Event) error {
			recs = append(recs, ev.Record)
			return nil
		})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		sum  func(*cloudtrail.Hasher, *cloudtrail.Record) uint64
	}{{"v1", (*cloudtrail.Hasher).SumV1}, {"v2", (*cloudtrail.Hasher).Sum}} {
		b.Run(v.name, func(b *testing.B) {
			var h cloudtrail.Hasher
			for b.Loop() {
				for _, r := range recs {
					v.sum(&h, r)
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
