package notify

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// SilencesFile is the file of the silences in the notifier's folder (<lake>/notify).
const SilencesFile = "silences.json"

// Matcher matches one label of a message: Op is = (equal), != (not equal), =~ (matches the
// regular expression, anchored), !~ (does not match).
type Matcher struct {
	Name  string `json:"name" yaml:"name"`
	Op    string `json:"op" yaml:"op"`
	Value string `json:"value" yaml:"value"`
}

// ParseMatcher reads name=value, name!=value, name=~regexp or name!~regexp.
func ParseMatcher(s string) (Matcher, error) {
	for _, op := range []string{"!=", "=~", "!~", "="} {
		if i := strings.Index(s, op); i > 0 {
			m := Matcher{Name: strings.TrimSpace(s[:i]), Op: op, Value: strings.TrimSpace(s[i+len(op):])}
			if err := m.check(); err != nil {
				return Matcher{}, err
			}
			return m, nil
		}
	}
	return Matcher{}, fmt.Errorf("matcher %q: write label=value, label!=value, label=~regexp or label!~regexp (labels: rule, severity, account, region, principal, source_ip, event_name)", s)
}

func (m Matcher) check() error {
	if !labelNameRE().MatchString(m.Name) {
		return fmt.Errorf("matcher %s: %q is not a label name (letters, digits, _)", m, m.Name)
	}
	switch m.Op {
	case "=", "!=":
	case "=~", "!~":
		if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
			return fmt.Errorf("matcher %s: %w", m, err)
		}
	default:
		return fmt.Errorf("matcher %s: op %q: use =, !=, =~ or !~", m, m.Op)
	}
	return nil
}

var labelNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// String writes the matcher as ParseMatcher reads it.
func (m Matcher) String() string { return m.Name + m.Op + m.Value }

// Matches reports whether labels pass the matcher (a missing label is the empty string).
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	switch m.Op {
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	}
	re, err := regexp.Compile("^(?:" + m.Value + ")$")
	if err != nil {
		return false
	}
	return re.MatchString(v) == (m.Op == "=~")
}

// Silence holds back the messages whose labels pass all its matchers, from StartsAt to EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
}

// Active reports whether the silence holds messages back at now.
func (s *Silence) Active(now time.Time) bool { return !now.Before(s.StartsAt) && now.Before(s.EndsAt) }

// Matches reports whether labels pass every matcher.
func (s *Silence) Matches(labels map[string]string) bool {
	for _, m := range s.Matchers {
		if !m.Matches(labels) {
			return false
		}
	}
	return len(s.Matchers) > 0
}

// Silences is the silences file of a notifier's folder, which the CLI edits and running
// notifiers read again when it changes.
type Silences struct {
	path string
	mu   sync.Mutex
	// cache of the file, by its modification time and size
	stamp  string
	cached []Silence
}

// OpenSilences returns the silences kept in dir (<lake>/notify).
func OpenSilences(dir string) *Silences { return &Silences{path: filepath.Join(dir, SilencesFile)} }

// List returns every silence, expired or not, oldest first.
func (s *Silences) List() ([]Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

func (s *Silences) load() ([]Silence, error) {
	st, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the silences: %w", err)
	}
	stamp := fmt.Sprint(st.ModTime().UnixNano(), st.Size())
	if stamp == s.stamp {
		return s.cached, nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("read the silences: %w", err)
	}
	var out []Silence
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("read the silences %s: %w (fix or remove the file)", s.path, err)
	}
	s.stamp, s.cached = stamp, out
	return out, nil
}

func (s *Silences) save(all []Silence) error {
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("save the silences: %w", err)
	}
	if err := lake.WriteFileAtomic(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("save the silences: %w", err)
	}
	s.stamp = ""
	return nil
}

// Add stores a new silence (its ID is made; StartsAt zero: now) and returns it.
func (s *Silences) Add(sil Silence, now time.Time) (Silence, error) {
	if len(sil.Matchers) == 0 {
		return Silence{}, fmt.Errorf("a silence needs at least one matcher (e.g. rule=root-activity)")
	}
	for _, m := range sil.Matchers {
		if err := m.check(); err != nil {
			return Silence{}, err
		}
	}
	if sil.StartsAt.IsZero() {
		sil.StartsAt = now
	}
	if !sil.EndsAt.After(sil.StartsAt) || !sil.EndsAt.After(now) {
		return Silence{}, fmt.Errorf("the silence ends at %s, before it starts or in the past: give a later end", sil.EndsAt.Format(time.RFC3339))
	}
	var b [8]byte
	rand.Read(b[:])
	sil.ID = hex.EncodeToString(b[:])
	sil.StartsAt, sil.EndsAt = sil.StartsAt.UTC(), sil.EndsAt.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return Silence{}, err
	}
	if err := s.save(append(append([]Silence(nil), all...), sil)); err != nil {
		return Silence{}, err
	}
	return sil, nil
}

// Expire ends the silence id (given whole or as a unique prefix) at now.
func (s *Silences) Expire(id string, now time.Time) (Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return Silence{}, err
	}
	all = append([]Silence(nil), all...)
	found := -1
	for i := range all {
		if id != "" && strings.HasPrefix(all[i].ID, id) {
			if found >= 0 {
				return Silence{}, fmt.Errorf("silence %q: more than one silence starts so; give more of the id", id)
			}
			found = i
		}
	}
	if found < 0 {
		return Silence{}, fmt.Errorf("silence %q: no such silence ('trailsql silence list --all' shows them)", id)
	}
	if all[found].EndsAt.After(now) {
		all[found].EndsAt = now.UTC()
		if all[found].StartsAt.After(all[found].EndsAt) {
			all[found].StartsAt = all[found].EndsAt
		}
	}
	if err := s.save(all); err != nil {
		return Silence{}, err
	}
	return all[found], nil
}

// active returns the silences active at now (read again when the file changed).
func (s *Silences) active(now time.Time) ([]Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return nil, err
	}
	var out []Silence
	for _, sil := range all {
		if sil.Active(now) {
			out = append(out, sil)
		}
	}
	return out, nil
}

// LakeDir is the notifier's folder in a lake: outboxes and silences.
const LakeDir = "notify"

// DirOf is the notifier's folder of the lake at root.
func DirOf(root string) string { return filepath.Join(root, LakeDir) }
