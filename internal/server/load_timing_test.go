package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
)

// TestLoad runs 20 clients for 5 seconds (1 with -short), mixing questions and SQL, while
// ingests commit to the lake: no request may fail but for the documented limit refusals (503
// at the concurrency limit), and every count read must be a whole commit's (the rows of the
// snapshot the answer names).
func TestLoad(t *testing.T) {
	l := newLake(t, 13, 3000)
	var more []string
	for i := range 3 {
		dir := filepath.Join(l.dir, fmt.Sprintf("more%d", i))
		opt := generate.Options{Seed: int64(100 + i), Events: 800, End: end, Days: 30}
		if _, err := generate.Generate(context.Background(), dir, opt); err != nil {
			t.Fatal(err)
		}
		more = append(more, dir)
	}
	h := serve(t, l, nil)
	rowsAt := sync.Map{} // commit → rows of the lake at it
	snap, err := lake.OpenSnapshot(l.lake)
	if err != nil {
		t.Fatal(err)
	}
	rowsAt.Store(snap.Seq, snap.Rows())

	duration := 5 * time.Second
	if testing.Short() {
		duration = time.Second
	}
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	ingestDone := make(chan error, 1)
	go func() {
		for _, dir := range more {
			// Record the rows of the commit before it can be read: the ledger's next
			// commit, whole, is what the ingest adds.
			st, err := lake.OpenSnapshot(l.lake)
			if err != nil {
				ingestDone <- err
				return
			}
			if st, err := ingest.Run(context.Background(), ingest.Options{Lake: l.lake, Workers: 1}, []string{dir}); err != nil || st.Failed() {
				ingestDone <- fmt.Errorf("ingest %s: %v", dir, err)
				return
			}
			after, err := lake.OpenSnapshot(l.lake)
			if err != nil {
				ingestDone <- err
				return
			}
			if after.Seq <= st.Seq {
				ingestDone <- fmt.Errorf("ingest of %s committed nothing", dir)
				return
			}
			rowsAt.Store(after.Seq, after.Rows())
		}
		ingestDone <- nil
	}()

	type outcome struct {
		latencies        []time.Duration
		ok, refused      int
		failures         []string
		counts           [][2]int64 // commit, count(*)
		commitWentBackTo int64
	}
	outcomes := make([]outcome, 20)
	client := &http.Client{Timeout: time.Minute}
	questionBody := `{"from":"` + windowFrom + `","to":"` + windowTo + `"}`
	for c := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outcomes[c]
			var lastCommit int64
			for i := 0; time.Now().Before(deadline); i++ {
				var req *http.Request
				switch (c + i) % 3 {
				case 0:
					req, _ = http.NewRequest("GET", h.base+"/api/v1/query?sql="+url.QueryEscape("SELECT count(*) AS n FROM cloudtrail_logs"), nil)
				case 1:
					req, _ = http.NewRequest("POST", h.base+"/api/v1/questions/active-users", strings.NewReader(questionBody))
				default:
					req, _ = http.NewRequest("GET", h.base+"/api/v1/query?sql="+url.QueryEscape("SELECT eventsource, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC"), nil)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					o.failures = append(o.failures, err.Error())
					continue
				}
				var body struct {
					QueryResult
					Error *APIError `json:"error"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				o.latencies = append(o.latencies, time.Since(start))
				switch {
				case err != nil:
					o.failures = append(o.failures, fmt.Sprintf("status %d: %v", resp.StatusCode, err))
				case resp.StatusCode == 200:
					o.ok++
					if body.Commit < lastCommit {
						o.commitWentBackTo = body.Commit
					}
					lastCommit = body.Commit
					if (c+i)%3 == 0 {
						o.counts = append(o.counts, [2]int64{body.Commit, int64(body.Rows[0].(map[string]any)["n"].(float64))})
					}
				case resp.StatusCode == 503 && body.Error != nil && body.Error.Type == ErrorLimit:
					o.refused++
				default:
					o.failures = append(o.failures, fmt.Sprintf("status %d: %+v", resp.StatusCode, body.Error))
				}
			}
		}()
	}
	wg.Wait()
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}
	var all []time.Duration
	ok, refused, commits := 0, 0, map[int64]bool{}
	for c, o := range outcomes {
		for _, f := range o.failures {
			t.Errorf("client %d: %s", c, f)
		}
		if o.commitWentBackTo != 0 {
			t.Errorf("client %d read commit %d after a later one", c, o.commitWentBackTo)
		}
		for _, cc := range o.counts {
			// A commit the test saw holds exactly its rows; one between (an ingest's
			// compaction) holds the rows of one of them.
			want, known := rowsAt.Load(cc[0])
			whole := known && want.(int64) == cc[1]
			if !known {
				rowsAt.Range(func(_, v any) bool { whole = whole || v.(int64) == cc[1]; return true })
			}
			if !whole {
				t.Errorf("client %d: count(*) %d at commit %d: not the rows of a whole commit (%v)", c, cc[1], cc[0], want)
			}
			commits[cc[0]] = true
		}
		all = append(all, o.latencies...)
		ok, refused = ok+o.ok, refused+o.refused
	}
	slices.Sort(all)
	if len(all) == 0 {
		t.Fatal("no request answered")
	}
	t.Logf("%d requests in %s by %d clients (%.0f/s): %d answered, %d refused at a limit; %d commits read; latency p50 %s, p99 %s",
		len(all), duration, len(outcomes), float64(len(all))/duration.Seconds(), ok, refused, len(commits),
		all[len(all)/2].Round(time.Millisecond), all[len(all)*99/100].Round(time.Millisecond))
}

// BenchmarkQuery measures a query's latency through the API against the same query on the
// in-process engine, and reports p50 and p99 of both and the API's overhead (p50 - p50).
func BenchmarkQuery(b *testing.B) {
	h := serve(b, newLake(b, 14, 3000), nil)
	const q = "SELECT eventname, count(*) AS n FROM cloudtrail_logs WHERE eventsource = 's3.amazonaws.com' GROUP BY 1 ORDER BY 2 DESC"
	ctx := context.Background()
	path := h.base + "/api/v1/query?sql=" + url.QueryEscape(q)
	var engineLat, apiLat []time.Duration
	client := &http.Client{}
	for b.Loop() {
		start := time.Now()
		if _, err := h.e.Query(ctx, q); err != nil {
			b.Fatal(err)
		}
		engineLat = append(engineLat, time.Since(start))
		start = time.Now()
		resp, err := client.Get(path)
		if err != nil {
			b.Fatal(err)
		}
		var res QueryResult
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || res.RowCount == 0 {
			b.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		apiLat = append(apiLat, time.Since(start))
	}
	pct := func(d []time.Duration, p int) float64 {
		slices.Sort(d)
		return float64(d[(len(d)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(pct(apiLat, 50), "api-p50-ms")
	b.ReportMetric(pct(apiLat, 99), "api-p99-ms")
	b.ReportMetric(pct(engineLat, 50), "engine-p50-ms")
	b.ReportMetric(pct(engineLat, 99), "engine-p99-ms")
	b.ReportMetric(pct(apiLat, 50)-pct(engineLat, 50), "overhead-p50-ms")
}
