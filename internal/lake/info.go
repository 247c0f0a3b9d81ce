package lake

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// eventTimeLayout is how CloudTrail writes eventTime, so that the text compares as the time.
const eventTimeLayout = "2006-01-02T15:04:05Z"

// Coverage is what a snapshot holds for an answer's partitions (all, or one account and region),
// read from the ledger: no data file is opened.
type Coverage struct {
	Events int64  `json:"events"`
	First  string `json:"first_event,omitempty"` // eventTime text of the oldest event
	Last   string `json:"last_event,omitempty"`  // and of the newest
	Scope  string `json:"scope,omitempty"`       // "account 111122223333, region us-east-1", "" for all
}

// Coverage sums the files of the snapshot in the account and region ("" for any). A file
// written without event times counts for its partition's whole day.
func (s *Snapshot) Coverage(account, region string) Coverage {
	var c Coverage
	var scope []string
	if account != "" {
		scope = append(scope, "account "+account)
	}
	if region != "" {
		scope = append(scope, "region "+region)
	}
	c.Scope = strings.Join(scope, ", ")
	for _, f := range s.Files {
		p := f.Partition
		if account != "" && p.Account != account || region != "" && p.Region != region || f.Rows == 0 {
			continue
		}
		lo, hi := fileTimes(f)
		c.Events += f.Rows
		if c.First == "" || lo != "" && lo < c.First {
			c.First = lo
		}
		if hi > c.Last {
			c.Last = hi
		}
	}
	return c
}

// fileTimes is the eventTime range of a file: its recorded bounds, else its partition's day
// ("" for the partition of events without a valid time).
func fileTimes(f File) (lo, hi string) {
	if f.MinTime != "" && f.MaxTime != "" {
		return f.MinTime, f.MaxTime
	}
	p := f.Partition
	if p.Year == "" || p.Month == "" || p.Day == "" {
		return "", ""
	}
	day := p.Year + "-" + p.Month + "-" + p.Day
	return day + "T00:00:00Z", day + "T23:59:59Z"
}

// String says the coverage in words, for answer headers.
func (c Coverage) String() string {
	s := "no events"
	if c.Events > 0 {
		s = fmt.Sprintf("%d events from %s to %s", c.Events, c.First, c.Last)
	}
	if c.Scope != "" {
		s += " (" + c.Scope + ")"
	}
	return s
}

// WindowWarnings says where a window [from, to) (and a baseline [baselineFrom, from) before it,
// when baselineFrom is not zero) reaches outside what the lake holds, so that an answer about a
// period the lake does not cover is not read as "nothing happened". partial, when not empty, is
// added to the warning that the window starts before the lake's first event: what that means for
// the answer at hand.
func (c Coverage) WindowWarnings(from, to, baselineFrom time.Time, partial string) []string {
	F, T := from.UTC().Format(eventTimeLayout), to.UTC().Format(eventTimeLayout)
	lakeHolds := "the lake holds " + c.String()
	if c.Events == 0 {
		return []string{lakeHolds + ": the answer is empty because there is nothing to look at"}
	}
	var out []string
	switch {
	case T <= c.First:
		out = append(out, fmt.Sprintf("the window %s to %s ends before the lake's first event (%s): the lake holds nothing in it; %s", F, T, c.First, lakeHolds))
	case c.Last < F:
		out = append(out, fmt.Sprintf("the window %s to %s starts after the lake's last event (%s): the lake holds nothing in it; %s", F, T, c.Last, lakeHolds))
	case F < c.First:
		w := fmt.Sprintf("the window starts at %s, %s before the lake's first event (%s): the answer covers only %s to %s", F, since(from, c.First), c.First, c.First, T)
		if partial != "" {
			w += "; " + partial
		}
		out = append(out, w)
	}
	if !baselineFrom.IsZero() {
		B := baselineFrom.UTC().Format(eventTimeLayout)
		switch {
		case F <= c.First:
			out = append(out, fmt.Sprintf("the baseline %s to %s is empty: the lake's first event is at %s, so every action in the window shows as new", B, F, c.First))
		case B < c.First:
			out = append(out, fmt.Sprintf("the baseline %s to %s is partial: the lake holds only %s to %s of it (%s missing), so actions last used before %s show as new", B, F, c.First, F, since(baselineFrom, c.First), c.First))
		}
	}
	return out
}

// since says the time from t to the eventTime text s in days (or hours, under two days).
func since(t time.Time, s string) string {
	u, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "some time"
	}
	d := u.Sub(t)
	if d < 48*time.Hour {
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}

// Count is a number of events under a name: an account, a region, a day.
type Count struct {
	Name   string `json:"name"`
	Events int64  `json:"events"`
	Files  int    `json:"files"`
}

// Info is what a lake holds, from its ledger alone: `trailsql info`.
type Info struct {
	Root     string   `json:"lake"`
	Coverage Coverage `json:"coverage"`
	Files    int      `json:"files"`
	Bytes    int64    `json:"bytes"`
	// Accounts, Regions and Days count the events of each partition value; the day is the
	// event's UTC day ("unknown" for events whose eventTime is not a time, kept in the NULL
	// partition). Accounts and regions are sorted by name, days by date.
	Accounts []Count `json:"accounts"`
	Regions  []Count `json:"regions"`
	Days     []Count `json:"days"`
	Commits  int     `json:"commits"`
	// LastCommit is the time of the newest commit (an ingest, a compaction, a repair); LastIngest
	// that of the newest commit that read sources (zero when none did).
	LastCommit time.Time `json:"last_commit,omitzero"`
	LastIngest time.Time `json:"last_ingest,omitzero"`
	// Sources counts the inputs the ledger records as read whole, by kind.
	Sources SourceCounts `json:"sources"`
}

// SourceCounts are the inputs a lake was built from.
type SourceCounts struct {
	Files     int   `json:"files"`      // local log files
	S3Objects int   `json:"s3_objects"` // s3://bucket/key
	APIPages  int   `json:"api_pages"`  // LookupEvents pages
	CWLPages  int   `json:"cwl_pages"`  // pages of CloudWatch Logs streams, cwl://…
	Bytes     int64 `json:"bytes"`      // their size
}

// UnknownDay names the partition of events without a valid eventTime in Info.Days.
const UnknownDay = "unknown"

// ReadInfo reads what the lake at root holds from its ledger (no data file is opened). A
// ledger entry that cannot be trusted fails it, as it fails OpenSnapshot.
func ReadInfo(root string) (*Info, error) {
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	snap := l.snapshot(root)
	info := &Info{Root: root, Coverage: snap.Coverage("", ""), Files: len(snap.Files), Bytes: snap.Bytes()}
	accounts, regions, days := map[string]*Count{}, map[string]*Count{}, map[string]*Count{}
	add := func(m map[string]*Count, name string, f File) {
		c := m[name]
		if c == nil {
			c = &Count{Name: name}
			m[name] = c
		}
		c.Events += f.Rows
		c.Files++
	}
	for _, f := range snap.Files {
		p := f.Partition
		add(accounts, orUnknown(p.Account), f)
		add(regions, orUnknown(p.Region), f)
		day := UnknownDay
		if p.Year != "" && p.Month != "" && p.Day != "" {
			day = p.Year + "-" + p.Month + "-" + p.Day
		}
		add(days, day, f)
	}
	info.Accounts, info.Regions, info.Days = sortedCounts(accounts), sortedCounts(regions), sortedCounts(days)
	sources := map[string]Source{}
	for _, m := range l.manifests() {
		info.Commits++
		if m.Time.After(info.LastCommit) {
			info.LastCommit = m.Time
		}
		if len(m.Sources) > 0 && m.Time.After(info.LastIngest) {
			info.LastIngest = m.Time
		}
		for _, s := range m.Sources {
			sources[s.Key()] = s
		}
		for _, s := range m.Forget {
			delete(sources, s.Key())
		}
	}
	for _, s := range sources {
		switch {
		case strings.HasPrefix(s.Name, "s3://"):
			info.Sources.S3Objects++
		case strings.HasPrefix(s.Name, "LookupEvents "):
			info.Sources.APIPages++
		case strings.HasPrefix(s.Name, "cwl://"):
			info.Sources.CWLPages++
		default:
			info.Sources.Files++
		}
		info.Sources.Bytes += s.Size
	}
	return info, nil
}

func orUnknown(s string) string {
	if s == "" {
		return UnknownDay
	}
	return s
}

// sortedCounts lists the counts by name, UnknownDay last.
func sortedCounts(m map[string]*Count) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == UnknownDay) != (out[j].Name == UnknownDay) {
			return out[j].Name == UnknownDay
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ReadSources returns the sources the lake's trusted ledger records as read whose name starts
// with prefix, in commit order, without those a repair forgot (Manifest.Forget). Sources that
// carry a position (a CloudWatch Logs stream's cursor) are read back from here on the next run.
func ReadSources(root, prefix string) ([]Source, error) {
	l, err := loadLedger(root)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	var out []Source
	for _, m := range l.manifests() {
		for _, s := range m.Sources {
			if strings.HasPrefix(s.Name, prefix) {
				out = append(out, s)
			}
		}
		for _, s := range m.Forget {
			if strings.HasPrefix(s.Name, prefix) {
				out = slices.DeleteFunc(out, func(o Source) bool { return o.Key() == s.Key() })
			}
		}
	}
	return out, nil
}
