package generate

import (
	"encoding/json"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

func TestFlood(t *testing.T) {
	for _, n := range []int{0, 1, 1000} {
		f := NewFlood(n, time.Date(2024, 3, 1, 5, 0, 0, 0, time.UTC))
		data, err := io.ReadAll(iotest.OneByteReader(f))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Records []struct {
				EventTime string `json:"eventTime"`
				EventID   string `json:"eventID"`
			}
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%d events: %v", n, err)
		}
		if len(doc.Records) != n || f.Emitted() != n {
			t.Fatalf("%d records, %d emitted, want %d", len(doc.Records), f.Emitted(), n)
		}
		ids := map[string]bool{}
		for _, r := range doc.Records {
			if r.EventTime[:10] != "2024-03-01" {
				t.Fatalf("time %s outside the day", r.EventTime)
			}
			ids[r.EventID] = true
		}
		if len(ids) != n {
			t.Fatalf("%d distinct eventIDs, want %d", len(ids), n)
		}
	}
}
