package server

import (
	"bytes"
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

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/window"
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

// loadCall is one request of TestLoad's mix: a SQL statement (GET /api/v1/query, with its ?
// values as p=…) or a question (POST /api/v1/questions/{name}), in a row shape.
type loadCall struct {
	sql      string
	args     []string
	question string
	shape    string // objects or arrays
	// ordered says the statement has an ORDER BY: its rows are compared in order, but for
	// rows tied on the ORDER BY's columns (ties), whose order is the engine's to choose (a
	// question's ORDER BY need not cover every column); without, rows compare as a multiset.
	ordered bool
	ties    []string
}

func (c loadCall) String() string {
	if c.question != "" {
		return "question " + c.question + " (" + c.shape + ")"
	}
	s := fmt.Sprintf("%q", c.sql)
	if len(c.args) > 0 {
		s += fmt.Sprintf(" with %q", c.args)
	}
	return s + " (" + c.shape + ")"
}

// loadMix is what TestLoad's clients ask, client c's i-th request being loadMix[(c+i)%len].
var loadMix = []loadCall{
	{sql: "SELECT count(*) AS n FROM cloudtrail_logs", shape: "objects", ordered: true},
	{question: "active-users", shape: "objects", ordered: true},
	{sql: "SELECT eventsource, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC, 1", shape: "objects", ordered: true},
	{question: "access-denied", shape: "arrays", ordered: true, ties: []string{"denied", "principal", "eventsource", "eventname", "errorcode"}},
	{sql: "SELECT eventname, count(*) AS n, min(eventtime) AS first, max(eventtime) AS last FROM cloudtrail_logs WHERE eventsource = ? GROUP BY 1 ORDER BY 2 DESC, 1", args: []string{"s3.amazonaws.com"}, shape: "arrays", ordered: true},
	{sql: "SELECT DISTINCT awsregion, recipientaccountid FROM cloudtrail_logs", shape: "objects"},
	{question: "console-logins", shape: "arrays", ordered: true, ties: []string{"eventtime", "arn", "who", "sourceipaddress", "result"}},
}

// loadAnswer is an answer's columns, rows and truncation, canonically encoded (rows re-encoded
// from JSON, sorted when the statement does not order them all) so that equal answers are
// equal strings.
type loadAnswer struct {
	Columns   []Column          `json:"columns"`
	Rows      []json.RawMessage `json:"rows"`
	Truncated bool              `json:"truncated"`
}

func canonical(columns []Column, rows []json.RawMessage, truncated bool, call loadCall) (string, error) {
	out := loadAnswer{Columns: columns, Rows: make([]json.RawMessage, len(rows)), Truncated: truncated}
	keys := make([]string, len(rows)) // each row's values of call.ties
	for i, r := range rows {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("row %d: %v: %s", i, err, r)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		out.Rows[i] = b
		var key []any
		for _, name := range call.ties {
			switch row := v.(type) {
			case map[string]any:
				x, ok := row[name]
				if !ok {
					return "", fmt.Errorf("row %d: no column %s", i, name)
				}
				key = append(key, x)
			case []any:
				j := slices.IndexFunc(columns, func(c Column) bool { return c.Name == name })
				if j < 0 || j >= len(row) {
					return "", fmt.Errorf("row %d: no column %s", i, name)
				}
				key = append(key, row[j])
			}
		}
		k, _ := json.Marshal(key)
		keys[i] = string(k)
	}
	if !call.ordered {
		slices.SortFunc(out.Rows, func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
	}
	if call.ordered && len(call.ties) > 0 {
		// Rows tied on the ORDER BY's columns, in the engine's order: sorted among themselves.
		for i := 0; i < len(rows); {
			j := i + 1
			for j < len(rows) && keys[j] == keys[i] {
				j++
			}
			slices.SortFunc(out.Rows[i:j], func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
			i = j
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	return string(b), err
}

// loadObserved are the answers read through the API: by loadMix index, commit, canonical
// answer, how many times.
type loadObserved map[int]map[int64]map[string]int

func (o loadObserved) add(kind int, commit int64, answer string) {
	if o[kind] == nil {
		o[kind] = map[int64]map[string]int{}
	}
	if o[kind][commit] == nil {
		o[kind][commit] = map[string]int{}
	}
	o[kind][commit][answer]++
}

// loadBatch is a folder of events the load ingested, and the lake's commit once it was in.
type loadBatch struct {
	dir    string
	commit int64
}

// TestLoad runs 20 clients (loadRun: 5 seconds by default, a minute for issue 15's run),
// mixing questions and SQL (loadMix), while ingests commit to the lake one after another for
// the whole run: no request may fail but for the documented limit refusals (503 at the
// concurrency limit), and every answer must be the CLI's at the commit it names. For that,
// once the load is over, the same batches are ingested in the same order into a second lake,
// and after each of its commits every statement and question answered at that commit is
// answered in process (the engine and the questions package, as trailsql query and ask do)
// and compared with what the API said: columns, their types, rows (in order where the ORDER BY
// orders them all), truncation. It logs the requests' p50 and p99, and for the same SQL
// statements run in process on the engine meanwhile (a sampler beside the clients), p50 and
// the API's ratio to it.
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
	batches := []loadBatch{{filepath.Join(l.dir, "trail"), snap.Seq}}

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
			batches = append(batches, loadBatch{dir, after.Seq})
			ingests++
		}
		ingestDone <- nil
	}()

	// The in-process sampler runs the mix's first SQL statements on the engine under the same
	// load, one at a time, twice a second.
	sampled := []int{0, 2}
	inProcess := map[int][]time.Duration{}
	var inProcessErr error
	inProcessRefused := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(deadline); i++ {
			kind := sampled[i%len(sampled)]
			start := time.Now()
			_, err := h.e.Query(context.Background(), loadMix[kind].sql)
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
		observed         loadObserved
	}
	outcomes := make([]outcome, 20)
	client := &http.Client{Timeout: time.Minute}
	for c := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outcomes[c]
			o.byKind, o.observed = map[int][]time.Duration{}, loadObserved{}
			var lastCommit int64
			for i := 0; time.Now().Before(deadline); i++ {
				var req *http.Request
				kind := (c + i) % len(loadMix)
				call := loadMix[kind]
				if call.question != "" {
					body := `{"from":"` + windowFrom + `","to":"` + windowTo + `","shape":"` + call.shape + `"}`
					req, _ = http.NewRequest("POST", h.base+"/api/v1/questions/"+call.question, strings.NewReader(body))
				} else {
					v := url.Values{"sql": {call.sql}, "shape": {call.shape}, "p": call.args}
					req, _ = http.NewRequest("GET", h.base+"/api/v1/query?"+v.Encode(), nil)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					o.failures = append(o.failures, err.Error())
					continue
				}
				var body struct {
					Columns   []Column          `json:"columns"`
					Rows      []json.RawMessage `json:"rows"`
					Truncated bool              `json:"truncated"`
					Commit    int64             `json:"commit"`
					Error     *APIError         `json:"error"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				took := time.Since(start)
				o.latencies = append(o.latencies, took)
				switch {
				case err != nil:
					o.failures = append(o.failures, fmt.Sprintf("%s: status %d: %v", call, resp.StatusCode, err))
				case resp.StatusCode == 200:
					o.ok++
					o.byKind[kind] = append(o.byKind[kind], took)
					if body.Commit < lastCommit {
						o.commitWentBackTo = body.Commit
					}
					lastCommit = body.Commit
					a, err := canonical(body.Columns, body.Rows, body.Truncated, call)
					if err != nil {
						o.failures = append(o.failures, fmt.Sprintf("%s: %v", call, err))
						continue
					}
					o.observed.add(kind, body.Commit, a)
					if kind == 0 {
						var row struct{ N int64 }
						if len(body.Rows) != 1 || json.Unmarshal(body.Rows[0], &row) != nil {
							o.failures = append(o.failures, fmt.Sprintf("%s: rows %s", call, body.Rows))
							continue
						}
						o.counts = append(o.counts, [2]int64{body.Commit, row.N})
					}
				case resp.StatusCode == 503 && body.Error != nil && body.Error.Type == ErrorLimit:
					o.refused++
				default:
					o.failures = append(o.failures, fmt.Sprintf("%s: status %d: %+v", call, resp.StatusCode, body.Error))
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
	observed := loadObserved{}
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
		}
		for kind, byCommit := range o.observed {
			for commit, answers := range byCommit {
				commits[commit] = true
				for a, n := range answers {
					for range n {
						observed.add(kind, commit, a)
					}
				}
			}
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
	for _, k := range sampled {
		api, in := apiByKind[k], inProcess[k]
		if len(api) == 0 || len(in) == 0 {
			continue
		}
		ap, ip := percentile(api, 50), percentile(in, 50)
		t.Logf("%s: API p50 %s p99 %s (%d answers); in process p50 %s p99 %s (%d runs, %d refused at the limit in all); API/in-process p50 %.1f×",
			loadMix[k], ap, percentile(api, 99), len(api), ip, percentile(in, 99), len(in), inProcessRefused, float64(ap)/float64(ip))
	}

	// Once the load is over, the same statements one at a time: the API's own cost, over the
	// engine's, without queueing.
	for _, k := range sampled {
		var api, in []time.Duration
		for range 10 {
			start := time.Now()
			if _, err := h.e.Query(context.Background(), loadMix[k].sql); err != nil {
				t.Fatal(err)
			}
			in = append(in, time.Since(start))
			start = time.Now()
			resp, err := client.Get(h.base + "/api/v1/query?sql=" + url.QueryEscape(loadMix[k].sql))
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
		t.Logf("quiet, %s: API p50 %s, in process p50 %s: API/in-process %.2f×, overhead %s",
			loadMix[k], ap, ip, float64(ap)/float64(ip), (ap - ip).Round(100*time.Microsecond))
	}

	checkLoadAnswers(t, batches, observed)
}

// checkLoadAnswers ingests the batches, in order, into a new lake, and at each of its commits
// answers in process every call of loadMix observed at that commit, and compares.
func checkLoadAnswers(t *testing.T, batches []loadBatch, observed loadObserved) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	var e *engine.Engine
	defer func() {
		if e != nil {
			e.Close()
		}
	}()
	evaluated := map[int64]bool{}
	checked := map[int]int{}
	var evalErr error
	evaluate := func() {
		if evalErr != nil {
			return
		}
		snap, err := lake.OpenSnapshot(root)
		if err != nil {
			evalErr = err
			return
		}
		if evaluated[snap.Seq] {
			return
		}
		evaluated[snap.Seq] = true
		if e == nil {
			if e, err = local.Open(ctx, engine.Options{Lake: root}); err != nil {
				evalErr = err
				return
			}
		}
		pinned, release, err := e.Pin(ctx)
		if err != nil {
			evalErr = err
			return
		}
		defer release()
		if got := pinned.Snapshot().Seq; got != snap.Seq {
			evalErr = fmt.Errorf("the rebuilt lake is at commit %d, its engine reads %d", snap.Seq, got)
			return
		}
		for kind, call := range loadMix {
			answers := observed[kind][snap.Seq]
			if len(answers) == 0 {
				continue
			}
			want, err := loadExpected(ctx, pinned, call)
			if err != nil {
				evalErr = fmt.Errorf("%s at commit %d, in process: %v", call, snap.Seq, err)
				return
			}
			for got, n := range answers {
				if got != want {
					t.Errorf("%s at commit %d: %d API answers differ from the CLI's:\n%s", call, snap.Seq, n, lineDiff(want, got))
				}
				checked[kind] += n
			}
		}
	}
	for _, b := range batches {
		opt := ingest.Options{Lake: root, Workers: 1,
			AfterCommit: func(context.Context, []ingest.Outcome) { evaluate() },
			PassDone:    func(ingest.Stats) { evaluate() }}
		st, err := ingest.Run(ctx, opt, []string{b.dir})
		if err != nil || st.Failed() {
			t.Fatalf("rebuild: ingest %s: %v %v", b.dir, err, st.Problems)
		}
		if evalErr != nil {
			t.Fatal(evalErr)
		}
		snap, err := lake.OpenSnapshot(root)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Seq != b.commit {
			t.Fatalf("rebuild: after %s the rebuilt lake is at commit %d, the served one was at %d: the rebuild is not the same lake", b.dir, snap.Seq, b.commit)
		}
	}
	total := 0
	for kind, call := range loadMix {
		for commit := range observed[kind] {
			if !evaluated[commit] {
				t.Errorf("%s: answered at commit %d, which the rebuilt lake never had", call, commit)
			}
		}
		t.Logf("%s: %d answers compared with the CLI's, at %d commits", call, checked[kind], len(observed[kind]))
		total += checked[kind]
	}
	t.Logf("%d answers compared at %d commits of the rebuilt lake", total, len(evaluated))
}

// loadExpected answers call in process on e, as the CLI does (trailsql query, trailsql ask
// --from --to), in the API's shape.
func loadExpected(ctx context.Context, e *engine.Engine, call loadCall) (string, error) {
	var res *answer.Result
	if call.question != "" {
		q, err := questions.Get(call.question)
		if err != nil {
			return "", err
		}
		from, to, err := window.Spec{Days: defaultDays, From: windowFrom, To: windowTo}.Resolve(end)
		if err != nil {
			return "", err
		}
		p := questions.Params{From: from, To: to}
		if err := q.Check(questions.Request{BaselineDays: 30}); err != nil {
			return "", err
		}
		if q.Needs("baseline_from") {
			p.BaselineFrom = from.Add(-30 * 24 * time.Hour)
		}
		if res, err = q.Answer(ctx, local.Engine(e), p); err != nil {
			return "", err
		}
	} else {
		args := make([]any, len(call.args))
		for i, a := range call.args {
			args[i] = a
		}
		r, err := e.Query(ctx, call.sql, args...)
		if err != nil {
			return "", err
		}
		res = &answer.Result{Columns: r.Columns, Types: r.Types, Rows: r.Rows}
	}
	typed := render.NewTyped(res.Types)
	rows := res.Rows
	truncated := len(rows) > DefaultMaxRows
	if truncated {
		rows = rows[:DefaultMaxRows]
	}
	encoded := make([]json.RawMessage, len(rows))
	for i, row := range rows {
		var v any = typed.Object(res.Columns, row)
		if call.shape == "arrays" {
			cells := make([]any, len(row))
			for j, x := range row {
				cells[j] = typed.JSON(j, x)
			}
			v = cells
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		encoded[i] = b
	}
	cols := make([]Column, len(res.Columns))
	for i, c := range res.Columns {
		cols[i] = Column{Name: c, Type: res.Types[i]}
	}
	return canonical(cols, encoded, truncated, call)
}

// lineDiff shows the lines of want and got that differ (the first 20).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  CLI: %s\n  API: %s\n", i+1, wl, gl)
			shown++
		}
	}
	if len(w) != len(g) {
		fmt.Fprintf(&b, "(%d lines from the CLI, %d from the API)\n", len(w), len(g))
	}
	return b.String()
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
