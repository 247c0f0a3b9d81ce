package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
	"syscall"
	"time"

	"github.com/trailsql/trailsql/internal/lake"
)

// Roles a token grants.
const (
	// RoleRead runs queries and reads answers, rules and alerts.
	RoleRead = "read"
	// RoleAdmin also acknowledges alerts, defines tables and manages tokens.
	RoleAdmin = "admin"
)

// tokenPrefix starts every token, so that a leaked one is recognised by secret scanners.
const tokenPrefix = "tsql_"

// Token is a stored token: never the token itself, only its SHA-256 hash.
type Token struct {
	// ID names the token in lists and for revocation (not secret).
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	// Hash is the hex SHA-256 of the token.
	Hash string `json:"hash"`
}

// Tokens are the bearer tokens of a lake, kept in <lake>/_trailsql/tokens (mode 0600, its
// folder 0700): a JSON list of Token. The file is read again whenever it changes, so tokens
// created or revoked by the CLI take effect in a running server.
type Tokens struct {
	path string
	mu   sync.Mutex
	// the file as last read: its size and modification time, and its tokens
	size  int64
	mtime time.Time
	list  []Token
}

// OpenTokens returns the tokens of the lake at root (the file is made by the first Create).
func OpenTokens(root string) *Tokens {
	return &Tokens{path: filepath.Join(root, "_trailsql", "tokens")}
}

var tokenNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.@:-]{0,63}$`) })

// Create makes a token of role and returns it: the only time the token is seen, since only its
// hash is stored.
func (t *Tokens) Create(role, name string) (secret string, tok Token, err error) {
	if role != RoleRead && role != RoleAdmin {
		return "", tok, fmt.Errorf("role %q: give read (queries and answers) or admin (also alerts' acknowledgements, tables and tokens)", role)
	}
	if name != "" && !tokenNameRE().MatchString(name) {
		return "", tok, fmt.Errorf("token name %q: use up to 64 letters, digits, spaces and _.@:-", name)
	}
	var raw [32]byte
	rand.Read(raw[:])
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var id [6]byte
	rand.Read(id[:])
	tok = Token{ID: hex.EncodeToString(id[:]), Name: name, Role: role, Created: time.Now().UTC().Truncate(time.Second), Hash: hashToken(secret)}
	err = t.update(func(list []Token) ([]Token, error) { return append(list, tok), nil })
	return secret, tok, err
}

// Revoke removes the token of this id (or name, when one token has it).
func (t *Tokens) Revoke(idOrName string) (Token, error) {
	var gone Token
	err := t.update(func(list []Token) ([]Token, error) {
		i := slices.IndexFunc(list, func(k Token) bool { return k.ID == idOrName })
		if i < 0 {
			var named []int
			for j, k := range list {
				if k.Name == idOrName && k.Name != "" {
					named = append(named, j)
				}
			}
			if len(named) > 1 {
				return nil, fmt.Errorf("token %q: %d tokens have that name; give the id (trailsql token list)", idOrName, len(named))
			}
			if len(named) == 0 {
				return nil, &notFound{fmt.Sprintf("no token %q (trailsql token list shows their ids)", idOrName)}
			}
			i = named[0]
		}
		gone = list[i]
		return slices.Delete(list, i, i+1), nil
	})
	return gone, err
}

// List returns the tokens (their hashes included: callers show the other fields).
func (t *Tokens) List() ([]Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.load(); err != nil {
		return nil, err
	}
	return slices.Clone(t.list), nil
}

// Check returns the token whose hash is the secret's; ok is false for none.
func (t *Tokens) Check(secret string) (tok Token, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.load(); err != nil {
		return tok, false, err
	}
	h := []byte(hashToken(secret))
	for _, k := range t.list {
		if subtle.ConstantTimeCompare(h, []byte(k.Hash)) == 1 {
			return k, true, nil
		}
	}
	return tok, false, nil
}

// byID returns the token of this id.
func (t *Tokens) byID(id string) (Token, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.load(); err != nil {
		return Token{}, false
	}
	i := slices.IndexFunc(t.list, func(k Token) bool { return k.ID == id })
	if i < 0 {
		return Token{}, false
	}
	return t.list[i], true
}

func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// load reads the file again when it changed since it was last read; t.mu is held.
func (t *Tokens) load() error {
	st, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		t.list, t.size, t.mtime = nil, 0, time.Time{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read tokens %s: %w", t.path, err)
	}
	if st.Size() == t.size && st.ModTime().Equal(t.mtime) && t.list != nil {
		return nil
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("tokens %s: mode %v lets other users read the hashes: chmod 600 it", t.path, st.Mode().Perm())
	}
	data, err := os.ReadFile(t.path)
	if err != nil {
		return fmt.Errorf("read tokens %s: %w", t.path, err)
	}
	var list []Token
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("read tokens %s: %w (revoke them all by removing the file, then create new ones)", t.path, err)
	}
	for i, k := range list {
		if k.ID == "" || len(k.Hash) != 64 || k.Role != RoleRead && k.Role != RoleAdmin {
			return fmt.Errorf("tokens %s: entry %d is not a token trailsql wrote (remove it)", t.path, i+1)
		}
	}
	if list == nil {
		list = []Token{}
	}
	t.list, t.size, t.mtime = list, st.Size(), st.ModTime()
	return nil
}

// update changes the list under a lock held across processes, and writes it atomically.
func (t *Tokens) update(fn func([]Token) ([]Token, error)) error {
	dir := filepath.Dir(t.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store tokens: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, ".tokens.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock tokens: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock tokens: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.size = -1 // read it whatever the clock's resolution
	if err := t.load(); err != nil {
		return err
	}
	list, err := fn(slices.Clone(t.list))
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := lake.WriteFileAtomicMode(t.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("store tokens %s: %w", t.path, err)
	}
	t.size = -1
	return t.load()
}

// bearer returns the token of an Authorization: Bearer header, "" for none.
func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
