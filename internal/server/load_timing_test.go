package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
)

// loadDuration is how long TestLoad's clients run: -load-duration, else $TRAILSQL_LOAD_DURATION,
// else 5 seconds (1 with -short). Issue 15's run is a minute:
//
//	go test ./internal/server -run 'TestLoad$' -v -args -load-duration=60s
var loadDuration = flag.Duration("load-duration", 0, "how long TestLoad's 20 clients run (default 5s, 1s with -short; also $TRAILSQL_LOAD_DURATION)")

func loadRun(t *testing.T) time.Duration {
	if *loadDuration > 0 {
		return *loadDuration
	}
	if v := os.Getenv("TRAILSQL_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("TRAILSQL_LOAD_DURATION=%q: give a duration such as 60s", v)
		}
		return d
	}
	if testing.Short() {
		return time.Second
	}
	return 5 * time.Second
}

// TestLoad runs 20 clients (loadRun: 5 seconds by default, a minute for issue 15's run),
// mixing questions and SQL, while ingests commit to the lake one after another for the whole
// run: no request may fail but for the documented limit refusals (503 at the concurrency
// limit), and every count read must be a whole commit's (the rows of the snapshot the answer
// names). It logs the requests' p50 and p99, and for the same SQL statements run in process
// on the engine meanwhile (a sampler beside the clients), p50 and the API's ratio to it.
func TestLoad(t *testing.T) {
	duration := loadRun(t)
	l := newLake(t, 13, 3000)
	h := serve(t, l, nil)
	rowsAt := sync.Map{} // commit → rows of the lake at it
	snap, err := lake.OpenSnapshot(l.lake)
	if err != nil {
		t.Fatal(err)
	}
	rowsAt.Store(snap.Seq, snap.Rows())

	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	ingestDone := make(chan error, 1)
	ingests := 0
	go func() {
		// A new batch of events is generated and ingested, one commit after another, until
		// the clients stop (at least one, however short the run).
		for i := 0; i == 0 || time.Now().Before(deadline); i++ {
			dir := filepath.Join(l.dir, fmt.Sprintf("more%d", i))
			opt := generate.Options{Seed: int64(100 + i), Events: 800, End: end, Days: 30}
			if _, err := generate.Generate(context.Background(), dir, opt); err != nil {
				ingestDone <- err
				return
			}
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
			ingests++
		}
		ingestDone <- nil
	}()

	// The SQL statements of the mix, by kind (the clients' (c+i)%3); kind 1 is a question.
	statements := map[int]string{
		0: "SELECT count(*) AS n FROM cloudtrail_logs",
		2: "SELECT eventsource, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC",
	}
	// The in-process sampler runs the same statements on the engine under the same load, one
	// at a time, twice a second.
	inProcess := map[int][]time.Duration{}
	var inProcessErr error
	inProcessRefused := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(deadline); i++ {
			kind := []int{0, 2}[i%2]
			start := time.Now()
			_, err := h.e.Query(context.Background(), statements[kind])
			var limit *engine.LimitError
			switch {
			case errors.As(err, &limit):
				// The engine's queue was full: the refusal the API answers 503 for.
				inProcessRefused++
			case err != nil:
				inProcessErr = err
				return
			default:
				inProcess[kind] = append(inProcess[kind], time.Since(start))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()

	type outcome struct {
		latencies        []time.Duration
		byKind           map[int][]time.Duration
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
			o.byKind = map[int][]time.Duration{}
			var lastCommit int64
			for i := 0; time.Now().Before(deadline); i++ {
				var req *http.Request
				kind := (c + i) % 3
				if kind == 1 {
					req, _ = http.NewRequest("POST", h.base+"/api/v1/questions/active-users", strings.NewReader(questionBody))
				} else {
					req, _ = http.NewRequest("GET", h.base+"/api/v1/query?sql="+url.QueryEscape(statements[kind]), nil)
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
				took := time.Since(start)
				o.latencies = append(o.latencies, took)
				switch {
				case err != nil:
					o.failures = append(o.failures, fmt.Sprintf("status %d: %v", resp.StatusCode, err))
				case resp.StatusCode == 200:
					o.ok++
					o.byKind[kind] = append(o.byKind[kind], took)
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
	if inProcessErr != nil {
		t.Fatalf("in process: %v", inProcessErr)
	}
	var all []time.Duration
	apiByKind := map[int][]time.Duration{}
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
		for k, d := range o.byKind {
			apiByKind[k] = append(apiByKind[k], d...)
		}
		ok, refused = ok+o.ok, refused+o.refused
	}
	if len(all) == 0 {
		t.Fatal("no request answered")
	}
	failed := 0
	for _, o := range outcomes {
		failed += len(o.failures)
	}
	t.Logf("%d requests in %s by %d clients (%.0f/s) while %d ingests committed: %d answered, %d refused at a limit, %d errors; %d commits read; latency p50 %s, p99 %s",
		len(all), duration, len(outcomes), float64(len(all))/duration.Seconds(), ingests, ok, refused, failed, len(commits),
		percentile(all, 50), percentile(all, 99))
	for _, k := range []int{0, 2} {
		api, in := apiByKind[k], inProcess[k]
		if len(api) == 0 || len(in) == 0 {
			continue
		}
		ap, ip := percentile(api, 50), percentile(in, 50)
		t.Logf("%q: API p50 %s p99 %s (%d answers); in process p50 %s p99 %s (%d runs, %d refused at the limit in all); API/in-process p50 %.1f×",
			statements[k], ap, percentile(api, 99), len(api), ip, percentile(in, 99), len(in), inProcessRefused, float64(ap)/float64(ip))
	}

	// Once the load is over, the same statements one at a time: the API's own cost, over the
	// engine's, without queueing.
	for _, k := range []int{0, 2} {
		var api, in []time.Duration
		for range 10 {
			start := time.Now()
			if _, err := h.e.Query(context.Background(), statements[k]); err != nil {
				t.Fatal(err)
			}
			in = append(in, time.Since(start))
			start = time.Now()
			resp, err := client.Get(h.base + "/api/v1/query?sql=" + url.QueryEscape(statements[k]))
			if err != nil {
				t.Fatal(err)
			}
			var res QueryResult
			err = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || res.RowCount == 0 {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
			api = append(api, time.Since(start))
		}
		ap, ip := percentile(api, 50), percentile(in, 50)
		t.Logf("quiet, %q: API p50 %s, in process p50 %s: API/in-process %.2f×, overhead %s",
			statements[k], ap, ip, float64(ap)/float64(ip), (ap - ip).Round(100*time.Microsecond))
	}
}

// percentile is the p-th percentile of d (sorted in place), to the tenth of a millisecond.
func percentile(d []time.Duration, p int) time.Duration {
	slices.Sort(d)
	return d[(len(d)-1)*p/100].Round(100 * time.Microsecond)
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
