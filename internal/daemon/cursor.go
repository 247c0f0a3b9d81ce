package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/notify"
)

// CursorFile is the run's delivery cursor in the notifier's folder (<lake>/notify/run.json).
const CursorFile = "run.json"

// Start says what the first start of a run does with a lake that has history.
const (
	// StartNow sends the alerts of what is collected from the first start on; the alerts of the
	// lake's commits at the first start are stored, not sent.
	StartNow = "now"
	// StartAll sends every alert the lake's history raises too.
	StartAll = "all"
)

// Cursor is the last alert handed to the notifier's outboxes, by the lake commit that raised it
// (rules.Alert.Commit): every alert of the commits up to Commit is queued, none after. It moves
// forward after the alerts are queued (their outbox records synced), in one atomic write, so a
// crash between the two queues them again: the outboxes take a message ID once (Enqueue), and
// an outbox compacted since re-sends at most once more.
type Cursor struct {
	// Commit is the last lake commit whose alerts are queued.
	Commit int64 `json:"commit"`
	// Start is the start setting of the first start (now or all), FirstStart its time.
	Start      string    `json:"start"`
	FirstStart time.Time `json:"first_start"`
	// Updated is the time the cursor last moved.
	Updated time.Time `json:"updated"`

	path string
}

// OpenCursor reads the delivery cursor of the lake at root; at the first start (no cursor
// yet) it makes one: with StartNow at the lake's last commit (its history's alerts are not
// sent), with StartAll at 0, and writes it.
func OpenCursor(root, start string, now time.Time) (*Cursor, error) {
	path := filepath.Join(notify.DirOf(root), CursorFile)
	data, err := os.ReadFile(path)
	if err == nil {
		c := &Cursor{path: path}
		if err := json.Unmarshal(data, c); err != nil || c.Commit < 0 {
			return nil, fmt.Errorf("%s: not a delivery cursor (%v): move it away to start again (with start: %s, the alerts stored so far are then not sent)", path, err, StartNow)
		}
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read the delivery cursor: %w", err)
	}
	c := &Cursor{Start: start, FirstStart: now.UTC(), path: path}
	switch start {
	case StartNow, "":
		c.Start = StartNow
		snap, err := lake.OpenSnapshot(root)
		if err != nil {
			return nil, fmt.Errorf("the lake's last commit, where the delivery starts: %w", err)
		}
		c.Commit = snap.Seq
	case StartAll:
	default:
		return nil, fmt.Errorf("start %q: give %s or %s", start, StartNow, StartAll)
	}
	if err := c.Save(c.Commit, now); err != nil {
		return nil, err
	}
	return c, nil
}

// Save moves the cursor to commit and writes it (temporary file, fsync, rename).
func (c *Cursor) Save(commit int64, now time.Time) error {
	old, oldUpdated := c.Commit, c.Updated
	c.Commit, c.Updated = commit, now.UTC()
	data, _ := json.MarshalIndent(c, "", "  ")
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		c.Commit, c.Updated = old, oldUpdated
		return fmt.Errorf("write the delivery cursor: %w", err)
	}
	if err := lake.WriteFileAtomic(c.path, append(data, '\n')); err != nil {
		c.Commit, c.Updated = old, oldUpdated
		return fmt.Errorf("write the delivery cursor: %w", err)
	}
	return nil
}
