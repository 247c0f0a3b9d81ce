package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// files are what the server keeps beside the lake, in <lake>/server, without expiry: saved
// queries (saved.json), the history of statements run (history.jsonl, a line each, appended)
// and the acknowledgements of alerts (acks.json). The JSON files are rewritten atomically
// (lake.WriteFileAtomic); one server writes them at a time.
type files struct {
	dir string
	mu  sync.Mutex
}

// newID returns a random id for a URL: 16 hex digits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{16}$`) })

// readJSON reads a JSON file of the folder into v; a missing file leaves v as it is.
func (f *files) readJSON(name string, v any) error {
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(f.dir, name), err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w (move it away to start anew)", filepath.Join(f.dir, name), err)
	}
	return nil
}

// writeJSON replaces a JSON file of the folder with v, atomically.
func (f *files) writeJSON(name string, v any) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := lake.WriteFileAtomic(filepath.Join(f.dir, name), append(data, '\n')); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Join(f.dir, name), err)
	}
	return nil
}

// SavedQuery is a statement kept under a name, run by its id (GET /api/v1/query?saved=ID).
type SavedQuery struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	SQL         string    `json:"sql"`
	Created     time.Time `json:"created"`
	By          string    `json:"by,omitempty"`
}

func (f *files) savedList() ([]SavedQuery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []SavedQuery{}
	return list, f.readJSON("saved.json", &list)
}

func (f *files) saved(id string) (SavedQuery, error) {
	list, err := f.savedList()
	if err != nil {
		return SavedQuery{}, err
	}
	if i := slices.IndexFunc(list, func(q SavedQuery) bool { return q.ID == id }); i >= 0 {
		return list[i], nil
	}
	return SavedQuery{}, &notFound{fmt.Sprintf("no saved query %q (GET /api/v1/saved lists them)", id)}
}

func (f *files) save(q SavedQuery) (SavedQuery, error) {
	if strings.TrimSpace(q.Name) == "" || len(q.Name) > 200 {
		return q, &paramError{"name", q.Name, "give a name of 1 to 200 characters"}
	}
	if strings.TrimSpace(q.SQL) == "" {
		return q, &paramError{"sql", "", "give the statement to save"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []SavedQuery{}
	if err := f.readJSON("saved.json", &list); err != nil {
		return q, err
	}
	q.ID, q.Created = newID(), time.Now().UTC().Truncate(time.Second)
	return q, f.writeJSON("saved.json", append(list, q))
}

func (f *files) deleteSaved(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []SavedQuery{}
	if err := f.readJSON("saved.json", &list); err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(q SavedQuery) bool { return q.ID == id })
	if i < 0 {
		return &notFound{fmt.Sprintf("no saved query %q", id)}
	}
	return f.writeJSON("saved.json", slices.Delete(list, i, i+1))
}

// historyEntry is one statement run through the API, synchronous or not.
type historyEntry struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	By        string    `json:"by,omitempty"`
	SQL       string    `json:"sql,omitempty"`
	Saved     string    `json:"saved,omitempty"`
	Format    string    `json:"format,omitempty"`
	State     string    `json:"state"`
	Rows      int       `json:"rows"`
	Truncated bool      `json:"truncated,omitempty"`
	BytesRead int64     `json:"bytes_read"`
	Commit    int64     `json:"commit,omitempty"`
	ElapsedMS float64   `json:"elapsed_ms"`
	Error     string    `json:"error,omitempty"`
	start     time.Time
}

func (f *files) newEntry(c caller, q *queryRequest, start time.Time) *historyEntry {
	by := c.Name
	if by == "" {
		by = c.TokenID
	}
	return &historyEntry{ID: newID(), Time: start.UTC(), By: by, SQL: q.SQL, Saved: q.Saved, Format: q.Format, State: StateRunning, start: start}
}

// done records the outcome.
func (e *historyEntry) done(res *QueryResult, err error) {
	e.ElapsedMS = float64(time.Since(e.start).Microseconds()) / 1000
	if err != nil {
		e.State, e.Error = StateFailed, apiError(err).Message
		return
	}
	e.State, e.Rows, e.Truncated = StateSucceeded, res.RowCount, res.Truncated
	e.BytesRead, e.Commit = res.Stats.BytesRead, res.Commit
}

// record appends an entry to the history. A failure to record is not the request's: it is
// logged by the caller's logger only through the returned error being dropped here on purpose
// (the answer was given).
func (f *files) record(e *historyEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	h, err := os.OpenFile(filepath.Join(f.dir, "history.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = h.Write(append(line, '\n'))
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	return err
}

// history returns the entries, newest first, at most limit (0: all); a line that does not
// decode (a write cut short) is skipped.
func (f *files) history(limit int) ([]historyEntry, error) {
	f.mu.Lock()
	data, err := os.ReadFile(filepath.Join(f.dir, "history.jsonl"))
	f.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		return []historyEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	out := []historyEntry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e historyEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Ack is an alert's acknowledgement.
type Ack struct {
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
	Note string    `json:"note,omitempty"`
}

func (f *files) acks() (map[string]Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]Ack{}
	return m, f.readJSON("acks.json", &m)
}

// setAck acknowledges an alert (ack not nil) or withdraws its acknowledgement.
func (f *files) setAck(id string, ack *Ack) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]Ack{}
	if err := f.readJSON("acks.json", &m); err != nil {
		return err
	}
	if ack == nil {
		delete(m, id)
	} else {
		m[id] = *ack
	}
	return f.writeJSON("acks.json", m)
}
