package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// The states of an asynchronous query, as Athena names them.
const (
	StateQueued    = "QUEUED"
	StateRunning   = "RUNNING"
	StateSucceeded = "SUCCEEDED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
)

// Finished jobs are kept this long, and at most maxJobs of them, for their results to be
// fetched; the history keeps their record for good.
const (
	jobTTL  = time.Hour
	maxJobs = 1000
)

// jobs are the asynchronous queries. They run one at a time per engine slot: a job waits,
// QUEUED, for one of the server's async slots (as many as the engine's concurrency), with no
// queue-wait limit (a caller polls), then runs within the same limits as a synchronous query.
type jobs struct {
	s     *Server
	slots chan struct{}
	mu    sync.Mutex
	m     map[string]*job
	order []string
}

type job struct {
	mu       sync.Mutex
	entry    *historyEntry
	state    string
	result   *QueryResult
	err      error
	cancel   context.CancelFunc
	finished time.Time
	done     chan struct{}
}

func newJobs(s *Server) *jobs {
	n := s.opt.Concurrency
	if n <= 0 {
		n = 4
	}
	return &jobs{s: s, slots: make(chan struct{}, n), m: map[string]*job{}}
}

// JobStatus is GET /api/v1/queries/{id}'s answer.
type JobStatus struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Submitted time.Time `json:"submitted"`
	SQL       string    `json:"sql,omitempty"`
	Saved     string    `json:"saved,omitempty"`
	// Error is set for FAILED, in the API's error shape.
	Error *APIError `json:"error,omitempty"`
	// RowCount, Truncated and Stats are set for SUCCEEDED; the rows are at …/results.
	RowCount  int    `json:"row_count,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Stats     *Stats `json:"stats,omitempty"`
	Commit    int64  `json:"commit,omitempty"`
}

func (j *job) status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := JobStatus{ID: j.entry.ID, State: j.state, Submitted: j.entry.Time, SQL: j.entry.SQL, Saved: j.entry.Saved}
	if j.err != nil && j.state == StateFailed {
		st.Error = apiError(j.err)
	}
	if j.result != nil {
		st.RowCount, st.Truncated, st.Stats, st.Commit = j.result.RowCount, j.result.Truncated, &j.result.Stats, j.result.Commit
	}
	return st
}

// submit answers POST /api/v1/queries: the statement is checked now (its errors answer at
// once), run in the background.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	q, err := readQueryRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Format != "" && q.Format != "json" {
		s.writeError(w, r, &paramError{"format", q.Format, "asynchronous results are JSON (shape objects or arrays)"})
		return
	}
	st, lim, err := s.checkQuery(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entry := s.files.newEntry(callerOf(r.Context()), q, time.Now())
	entry.State = StateQueued
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	j := s.jobs.add(entry, cancel)
	go s.jobs.run(ctx, j, st, q.Shape, lim)
	w.Header().Set("Location", "/api/v1/queries/"+entry.ID)
	writeJSON(w, http.StatusAccepted, j.status())
}

func (js *jobs) add(entry *historyEntry, cancel context.CancelFunc) *job {
	j := &job{entry: entry, state: StateQueued, cancel: cancel, done: make(chan struct{})}
	js.mu.Lock()
	defer js.mu.Unlock()
	// Forget finished jobs past their time, and the oldest beyond maxJobs.
	now := time.Now()
	kept := js.order[:0]
	for _, id := range js.order {
		o := js.m[id]
		o.mu.Lock()
		old := !o.finished.IsZero() && (now.Sub(o.finished) > jobTTL || len(js.order)-len(kept) > maxJobs)
		o.mu.Unlock()
		if old {
			delete(js.m, id)
			continue
		}
		kept = append(kept, id)
	}
	js.order = append(kept, entry.ID)
	js.m[entry.ID] = j
	return j
}

func (js *jobs) get(id string) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.m[id]
	if !ok {
		return nil, &notFound{"no query " + id + " (finished queries are kept an hour; the history keeps their record)"}
	}
	return j, nil
}

func (js *jobs) run(ctx context.Context, j *job, st statement, shape string, lim limits) {
	defer close(j.done)
	defer j.cancel()
	var res *QueryResult
	var err error
	select {
	case js.slots <- struct{}{}:
		j.mu.Lock()
		if j.state == StateQueued {
			j.state = StateRunning
		}
		j.mu.Unlock()
		res, err = js.s.run(ctx, st, shape, lim)
		<-js.slots
	case <-ctx.Done():
		err = ctx.Err()
	}
	j.mu.Lock()
	switch {
	case j.state == StateCancelled || errors.Is(err, context.Canceled) && ctx.Err() != nil:
		j.state, j.err = StateCancelled, context.Canceled
		j.entry.done(nil, context.Canceled)
		j.entry.State, j.entry.Error = StateCancelled, ""
	case err != nil:
		j.state, j.err = StateFailed, err
		j.entry.done(nil, err)
	default:
		res.QueryID = j.entry.ID
		j.state, j.result = StateSucceeded, res
		j.entry.done(res, nil)
	}
	j.finished = time.Now()
	j.mu.Unlock()
	if err := js.s.files.record(j.entry); err != nil {
		js.s.log.Warn("history not recorded", "query", j.entry.ID, "err", err)
	}
}

// cancelAll cancels the jobs still queued or running (shutdown).
func (js *jobs) cancelAll() {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.m {
		j.cancel()
	}
}

func (s *Server) jobStatus(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobs.get(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j.status())
}

// jobResults answers GET /api/v1/queries/{id}/results: the rows of a SUCCEEDED query, the error
// of a FAILED one, 409 for a query not finished.
func (s *Server) jobResults(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobs.get(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st := j.status()
	switch st.State {
	case StateSucceeded:
		j.mu.Lock()
		res := j.result
		j.mu.Unlock()
		writeJSON(w, http.StatusOK, res)
	case StateFailed:
		j.mu.Lock()
		err := j.err
		j.mu.Unlock()
		s.writeError(w, r, err)
	default:
		s.writeError(w, r, &APIError{Type: ErrorNotFound, Message: "query " + st.ID + " is " + st.State + ": poll GET /api/v1/queries/" + st.ID + " until SUCCEEDED", Status: http.StatusConflict})
	}
}

// cancelJob answers DELETE /api/v1/queries/{id}: a queued or running query is cancelled.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobs.get(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j.mu.Lock()
	if j.state == StateQueued || j.state == StateRunning {
		j.state = StateCancelled
	}
	j.mu.Unlock()
	j.cancel()
	<-j.done
	writeJSON(w, http.StatusOK, j.status())
}
