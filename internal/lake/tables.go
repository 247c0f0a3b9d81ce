package lake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Table definitions: users' own Athena table names (CREATE EXTERNAL TABLE) that the engine
// shows as views of the lake, remembered under _trailsql/tables/<name>.json. A definition is
// signed with the lake's key, as manifests are: SQL over the lake cannot write a valid one, so a
// file dropped there is refused rather than read. Its content is the engine's; the lake only
// keeps it.
const tablesDir = "_trailsql/tables"

// tableMacContext separates a table definition's MAC from a manifest's.
const tableMacContext = "trailsql table v1\n"

var tableName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_]{0,127}$`) })

// ErrNoKey is returned when a table definition is to be stored in a lake that has no key yet.
var ErrNoKey = errors.New("the lake has no key to sign a table definition with (ingest into it once with this version of trailsql)")

func tableMAC(key []byte, name string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tableMacContext + name + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func tablePath(root, name string) (string, error) {
	if !tableName().MatchString(name) {
		return "", fmt.Errorf("table name %q: use lower-case letters, digits and _ (at most 128)", name)
	}
	return filepath.Join(root, filepath.FromSlash(tablesDir), name+".json"), nil
}

// SaveTable stores (or replaces) the definition of table name, atomically and signed.
func SaveTable(root, name string, body []byte) error {
	path, err := tablePath(root, name)
	if err != nil {
		return err
	}
	key, state, err := readKey(root)
	if err != nil {
		return err
	}
	if state != keyFinal {
		return ErrNoKey
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store table %s: %w", name, err)
	}
	data := append(append([]byte(tableMAC(key, name, body)), '\n'), body...)
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("store table %s: %w", name, err)
	}
	return nil
}

// DropTable forgets table name; found is false if it was not defined.
func DropTable(root, name string) (found bool, err error) {
	path, err := tablePath(root, name)
	if err != nil {
		return false, err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("drop table %s: %w", name, err)
	}
	return true, nil
}

// Tables returns the lake's table definitions (name → body) whose signature is valid. A file
// whose name or signature is not valid is reported in bad (path → why) and left out.
func Tables(root string) (defs map[string][]byte, bad map[string]string, err error) {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(tablesDir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read the lake's table definitions: %w", err)
	}
	key, state, err := readKey(root)
	if err != nil {
		return nil, nil, err
	}
	defs, bad = map[string][]byte{}, map[string]string{}
	for _, e := range entries {
		rel := tablesDir + "/" + e.Name()
		name, isJSON := strings.CutSuffix(e.Name(), ".json")
		if !isJSON || !tableName().MatchString(name) || !e.Type().IsRegular() {
			if !strings.HasPrefix(e.Name(), ".") {
				bad[rel] = "not a table definition trailsql wrote"
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			bad[rel] = err.Error()
			continue
		}
		mac, body, ok := strings.Cut(string(data), "\n")
		if !ok || state != keyFinal || !hmac.Equal([]byte(mac), []byte(tableMAC(key, name, []byte(body)))) {
			bad[rel] = "not signed with the lake's key (remove it, and run its CREATE EXTERNAL TABLE again)"
			continue
		}
		defs[name] = []byte(body)
	}
	return defs, bad, nil
}
