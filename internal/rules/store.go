package rules

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/lake"
)

// AlertsDir is the folder of the lake that holds the alerts (lake.AlertsDir).
const AlertsDir = lake.AlertsDir

// AlertsTable is the name of the alerts' table in SQL (lake.AlertsTable); its columns are
// lake.AlertColumns, the Parquet columns of Alert.
const AlertsTable = lake.AlertsTable

// Each evaluation of new commits writes one file, named by the commits it covers: the cursor is
// the last commit of the newest file, so that the alerts and the cursor move together, in one
// rename. A crash before the rename leaves the commits to evaluate again; after it, done.
var alertFileRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^alerts-(\d{16})-(\d{16})\.parquet$`) })

func alertFileName(from, to int64) string { return fmt.Sprintf("alerts-%016d-%016d.parquet", from, to) }

// Store is the alerts of a lake.
type Store struct {
	dir string
}

// OpenStore returns the alerts of the lake at root (the folder is made on the first write).
func OpenStore(root string) *Store { return &Store{dir: filepath.Join(root, AlertsDir)} }

type alertFile struct {
	name     string
	from, to int64
}

func (s *Store) files() ([]alertFile, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the alerts: %w", err)
	}
	var out []alertFile
	for _, e := range ents {
		m := alertFileRE().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		from, _ := strconv.ParseInt(m[1], 10, 64)
		to, _ := strconv.ParseInt(m[2], 10, 64)
		out = append(out, alertFile{e.Name(), from, to})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].to < out[j].to })
	return out, nil
}

// Cursor is the last lake commit whose events were evaluated (0: none).
func (s *Store) Cursor() (int64, error) {
	fs, err := s.files()
	if err != nil || len(fs) == 0 {
		return 0, err
	}
	return fs[len(fs)-1].to, nil
}

// Alerts returns every stored alert, oldest commit first.
func (s *Store) Alerts() ([]Alert, error) {
	fs, err := s.files()
	if err != nil {
		return nil, err
	}
	var out []Alert
	for _, f := range fs {
		rows, err := parquet.ReadFile[Alert](filepath.Join(s.dir, f.name))
		if err != nil {
			return nil, fmt.Errorf("read alerts %s: %w (move the file away to go on; its commits are then evaluated again)", filepath.Join(s.dir, f.name), err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// AlertsAfter returns the alerts stored for the commits after seq, oldest commit first, and
// the last commit evaluated (seq when none is newer): what a reader that has taken every alert
// up to seq has not taken yet.
func (s *Store) AlertsAfter(seq int64) ([]Alert, int64, error) {
	fs, err := s.files()
	if err != nil {
		return nil, seq, err
	}
	last := seq
	var out []Alert
	for _, f := range fs {
		if f.to <= seq {
			continue
		}
		rows, err := parquet.ReadFile[Alert](filepath.Join(s.dir, f.name))
		if err != nil {
			return nil, seq, fmt.Errorf("read alerts %s: %w (move the file away to go on; its commits are then evaluated again)", filepath.Join(s.dir, f.name), err)
		}
		for _, a := range rows {
			if a.Commit == 0 || a.Commit > seq {
				out = append(out, a)
			}
		}
		last = max(last, f.to)
	}
	return out, last, nil
}

// alertRowGroupRows bounds the rows of an alerts file's row groups.
const alertRowGroupRows = 128 << 10

// alertsWithoutBounds are the columns of an alerts file written without bounds (see write).
var alertsWithoutBounds = []string{"rule", "severity", "title", "event_id", "event_source", "event_name", "principal",
	"source_ip", "account", "region", "dedup"}

// write stores the alerts of the commits from…to, atomically, and so moves the cursor to to.
func (s *Store) write(from, to int64, alerts *Alerts) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("store alerts: %w", err)
	}
	err := lake.WriteAtomic(filepath.Join(s.dir, alertFileName(from, to)), func(out io.Writer) error {
		// The fastest zstd level, and row groups encoded on every core: an ingest that fires on
		// most events writes as many alerts.
		opts := []parquet.WriterOption{parquet.Compression(lake.Zstd(zstd.SpeedFastest))}
		// Bounds only for the columns a reader may skip row groups by: the rows are sorted by
		// event time, and a day or commit spans few row groups. The others' (every rule and
		// principal in every row group) skip nothing, and were half of the writing.
		for _, col := range alertsWithoutBounds {
			opts = append(opts, parquet.SkipPageBounds(col))
		}
		// Made from their packed form a few at a time as they are encoded: not all at once.
		return lake.WriteMade(out, alerts.Len(), alertRowGroupRows, alerts.At, opts...)
	})
	if err != nil {
		return fmt.Errorf("store alerts: %w", err)
	}
	return nil
}

// lock holds the store for one evaluation at a time (across processes); unlock releases it.
func (s *Store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock the alerts: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the alerts: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the alerts: %w", err)
	}
	return func() { f.Close() }, nil
}

// Filter keeps some alerts: of a window of event time, a partition, some rules.
type Filter struct {
	From, To        time.Time // zero: unbounded
	Account, Region string
	Rules           []string
}

// Select returns the alerts that pass f, by event time.
func Select(alerts []Alert, f Filter) []Alert {
	from, to := "", ""
	if !f.From.IsZero() {
		from = f.From.UTC().Format(time.RFC3339)
	}
	if !f.To.IsZero() {
		to = f.To.UTC().Format(time.RFC3339)
	}
	var out []Alert
	for _, a := range alerts {
		switch {
		case from != "" && a.EventTime < from, to != "" && a.EventTime >= to,
			f.Account != "" && a.Account != f.Account, f.Region != "" && a.Region != f.Region,
			len(f.Rules) > 0 && !slices.Contains(f.Rules, a.Rule):
			continue
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EventTime < out[j].EventTime })
	return out
}
