package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
)

// writeGzip writes content gzip-compressed to dir/name.
func writeGzip(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(content)
	zw.Close()
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecompressCountsEveryByte(t *testing.T) {
	dir := t.TempDir()
	var files []string
	var want int64
	for i := range 7 {
		content := bytes.Repeat([]byte(fmt.Sprintf("record %d;", i)), 1000*(i+1))
		files = append(files, writeGzip(t, dir, fmt.Sprintf("AWSLogs/1/CloudTrail/r/%d.json.gz", i), content))
		want += int64(len(content))
	}
	for _, workers := range []int{0, 1, 3, 16} {
		u, raw, err := Decompress(context.Background(), files, workers)
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		if raw != want {
			t.Errorf("workers %d: %d bytes, want %d", workers, raw, want)
		}
		if u.Wall <= 0 {
			t.Errorf("workers %d: no wall time measured", workers)
		}
	}
	if _, err := Zcat(context.Background(), files); err != nil && !errors.Is(err, ErrNoZcat) {
		t.Errorf("zcat: %v", err)
	}
}

func TestDecompressNamesTheDamagedFile(t *testing.T) {
	dir := t.TempDir()
	good := writeGzip(t, dir, "good.json.gz", []byte(`{"Records":[]}`))
	bad := filepath.Join(dir, "bad.json.gz")
	if err := os.WriteFile(bad, []byte("not gzip at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Decompress(context.Background(), []string{good, bad}, 2)
	if err == nil || !strings.Contains(err.Error(), "bad.json.gz") {
		t.Fatalf("err = %v, want one naming bad.json.gz", err)
	}
	if _, err := Zcat(context.Background(), []string{bad}); err == nil {
		t.Errorf("zcat of a damaged file: no error")
	}
}

func TestCorpusFilesLeavesOutDigests(t *testing.T) {
	dir := t.TempDir()
	writeGzip(t, dir, "AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2024/01/01/a.json.gz", []byte("{}"))
	writeGzip(t, dir, "AWSLogs/o-1/111122223333/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz", []byte("{}"))
	files, err := CorpusFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.HasSuffix(files[0], "a.json.gz") {
		t.Errorf("files = %v, want only a.json.gz", files)
	}
	if _, err := CorpusFiles(t.TempDir()); err == nil {
		t.Errorf("an empty folder: no error")
	}
}

func TestPositionBits(t *testing.T) {
	tests := []struct {
		name   string
		counts map[byte]int64
		n      int64
		want   float64
	}{
		{"constant", map[byte]int64{'A': 8}, 8, 0},
		{"four equally likely", map[byte]int64{'a': 2, 'b': 2, 'c': 2, 'd': 2}, 8, 2},
		{"half the values end before", map[byte]int64{'a': 4}, 8, 1},
		{"no values", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counts [256]int64
			for c, n := range tt.counts {
				counts[c] = n
			}
			if got := positionBits(&counts, tt.n); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v bits, want %v", got, tt.want)
			}
		})
	}
}

// The native table DuckDB builds holds the rows the lake holds, under the same columns: each
// classic question gives the same answer over both, and the partition columns taken from the
// paths agree with the lake's. The lake's columns, as the footers tell them, add up, and the
// random eventIDs (version-4 UUIDs) are found to carry their 122 random bits.
func TestNativeTableAnswersAsTheLake(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	trail, lakeDir, db := filepath.Join(dir, "trail"), filepath.Join(dir, "lake"), filepath.Join(dir, "native.duckdb")
	end := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	truth, err := generate.Generate(ctx, trail, generate.Options{Seed: 7, Events: 3000, End: end, Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Lake: lakeDir}, []string{trail}); err != nil {
		t.Fatal(err)
	}
	n, err := LoadNative(ctx, trail, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(truth.Events) {
		t.Fatalf("native table: %d rows, want %d", n, truth.Events)
	}
	nat, err := OpenNative(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer nat.Close()
	e, err := engine.Open(ctx, engine.Options{Lake: lakeDir, Dialect: athena.Dialect()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	same := func(name, sql string, args ...any) {
		t.Helper()
		res, err := e.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s over the lake: %v", name, err)
		}
		got, err := nat.rows(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s over DuckDB's table: %v", name, err)
		}
		want := fmt.Sprint(res.Rows)
		if fmt.Sprint(got) != want {
			t.Errorf("%s: DuckDB's table answers\n%v\nthe lake\n%v", name, got, want)
		}
		if len(res.Rows) == 0 {
			t.Errorf("%s: no rows, the comparison proves nothing", name)
		}
	}
	same("partitions", "SELECT account, region, year, month, day, count(*) FROM cloudtrail_logs GROUP BY ALL ORDER BY ALL")
	same("payload", "SELECT count(*), count(DISTINCT json_extract_scalar(requestparameters, '$.bucketName')) FROM cloudtrail_logs")
	for _, name := range []string{"active-users", "active-roles", "console-logins", "throttling"} {
		q, err := questions.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		args, err := q.Bind(questions.Params{From: end.Add(-3 * 24 * time.Hour), To: end.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		same(name, q.SQL, args...)
	}

	files, err := DataFiles(filepath.Join(lakeDir, lake.Table))
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ReadColumns(files)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range cols.Columns {
		sum += c.Bytes
	}
	if cols.Rows != int64(truth.Events) || sum <= 0 || sum >= cols.Data {
		t.Errorf("columns: %d rows (want %d), %d bytes of columns in %d bytes of files", cols.Rows, truth.Events, sum, cols.Data)
	}
	ents, err := IDEntropy(files, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ents {
		if en.Path != "eventid" {
			continue
		}
		if en.Distinct != int64(truth.Events) || en.BitsPerValue < 120 || en.BitsPerValue > 122.5 || en.Stored <= 0 {
			t.Errorf("eventid: %d distinct (want %d), %.1f bits each (want 122), %d bytes stored", en.Distinct, truth.Events, en.BitsPerValue, en.Stored)
		}
	}
}

func TestJSONValue(t *testing.T) {
	tests := []struct{ text, key, want string }{
		{`{"a":1,"x-amz-id-2":"AbC=","b":"c"}`, "x-amz-id-2", "AbC="},
		{`{"x-amz-id-2": "spaced"}`, "x-amz-id-2", "spaced"},
		{`{"x-amz-id-2":12}`, "x-amz-id-2", ""},
		{`{"other":"v"}`, "x-amz-id-2", ""},
		{`{"x-amz-id-2":"unterminated`, "x-amz-id-2", ""},
	}
	for _, tt := range tests {
		if got := string(jsonValue([]byte(tt.text), tt.key)); got != tt.want {
			t.Errorf("jsonValue(%s, %s) = %q, want %q", tt.text, tt.key, got, tt.want)
		}
	}
}

func TestHashFloor(t *testing.T) {
	// One hash: 64 bits and log2(e) (the formula's approximation), 8 bytes; 2^16 hashes in one
	// partition: 48 + 1.44 bits each.
	if got := HashFloor([]int64{1}); got != 8 {
		t.Errorf("one hash: %d bytes, want 8", got)
	}
	if got, want := HashFloor([]int64{1 << 16, 0}), int64(405034); got != want {
		t.Errorf("2^16 hashes: %d bytes, want %d", got, want)
	}
}
