// Package iam maps CloudTrail events to the IAM actions that authorised them, against AWS's
// Service Authorization Reference (every action of every service with its access level).
//
// The reference and the eventSource → prefix exceptions are generated from the team's shared
// datasets by `go generate` (see gen.go and ATTRIBUTION.md) and embedded, so nothing here reads
// files at run time. Every action this package returns exists in that reference.
package iam

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
)

// Action is an IAM action such as "s3:GetObject".
type Action struct{ Prefix, Name string }

// String returns the action as it is written in a policy: "prefix:Name".
func (a Action) String() string { return a.Prefix + ":" + a.Name }

// Access levels of IAM actions, as AWS's Service Authorization Reference names them.
const (
	List                  = "List"
	Read                  = "Read"
	Write                 = "Write"
	PermissionsManagement = "Permissions management"
	Tagging               = "Tagging"
)

//go:embed zz_actions.txt.gz
var actionsGz []byte

// reference is the parsed action table. The reference gives "Permissions management, Write" and
// "Tagging, Write"; the generator keeps the first level, the one AWS's documentation tables show.
type reference struct {
	actions []entry          // sorted by prefix, then name
	index   map[string]int32 // lower-case "prefix:name" → position in actions
}

type entry struct {
	Action
	level string
}

// ref parses the embedded table once, on first use; it is never modified afterwards.
var ref = sync.OnceValue(func() *reference {
	r, err := parseReference(actionsGz)
	if err != nil {
		// The table is generated and embedded; a damaged one is a build defect, not an input error.
		panic(fmt.Sprintf("iam: embedded action reference: %v", err))
	}
	return r
})

var levelNames = map[byte]string{'L': List, 'R': Read, 'W': Write, 'P': PermissionsManagement, 'T': Tagging}

func parseReference(gz []byte) (*reference, error) {
	r := &reference{index: make(map[string]int32, 22000)}
	err := ReadTable(gz, func(prefix string, code byte, name string) error {
		lvl, ok := levelNames[code]
		if !ok {
			return fmt.Errorf("unknown access level %q", code)
		}
		a := Action{prefix, name}
		r.index[strings.ToLower(a.String())] = int32(len(r.actions))
		r.actions = append(r.actions, entry{a, lvl})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ReadTable reads a generated action table: gzip text where "=prefix" starts a service and
// each following line is a one-byte code and an action name ("#" lines are comments). fn is
// called for every action in order; a table with none is an error.
func ReadTable(gz []byte, fn func(prefix string, code byte, name string) error) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	prefix, n := "", 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		switch {
		case l == "" || l[0] == '#':
		case l[0] == '=':
			prefix = l[1:]
		default:
			if prefix == "" || len(l) < 2 {
				return fmt.Errorf("line %d: bad entry %q", line, l)
			}
			if err := fn(prefix, l[0], l[1:]); err != nil {
				return fmt.Errorf("line %d: %q: %w", line, l, err)
			}
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no actions")
	}
	return nil
}

func (r *reference) lookup(prefix, name string) (entry, bool) {
	i, ok := r.index[strings.ToLower(prefix+":"+name)]
	if !ok {
		return entry{}, false
	}
	return r.actions[i], true
}

func (r *reference) hasPrefix(prefix string) bool {
	p := strings.ToLower(prefix)
	i := sort.Search(len(r.actions), func(i int) bool { return r.actions[i].Prefix >= p })
	return i < len(r.actions) && r.actions[i].Prefix == p
}

// Exists reports whether a ("prefix:Name") is a documented IAM action. The match ignores case; the
// returned action has the reference's casing.
func Exists(a string) (Action, bool) {
	prefix, name, ok := strings.Cut(a, ":")
	if !ok {
		return Action{}, false
	}
	e, ok := ref().lookup(prefix, name)
	return e.Action, ok
}

// AccessLevel returns the access level of a documented action (List, Read, Write, Permissions
// management or Tagging), or "" when the action is not in the reference.
func AccessLevel(a Action) string {
	e, _ := ref().lookup(a.Prefix, a.Name)
	return e.level
}

// Expand returns the documented actions an IAM action pattern matches, as a policy's Action
// element would: "*" and "?" are wildcards, case is ignored ("s3:Get*", "*", "iam:*User*"). The
// actions come sorted by prefix, then name; a pattern without a colon (other than "*") matches
// nothing.
func Expand(pattern string) []Action {
	r := ref()
	pattern = strings.ToLower(pattern)
	if pattern == "*" {
		pattern = "*:*"
	}
	pp, np, ok := strings.Cut(pattern, ":")
	if !ok {
		return nil
	}
	// path.Match treats '[' and '\' specially; IAM patterns do not, and names never contain them.
	if strings.ContainsAny(pattern, `[]\`) {
		return nil
	}
	var out []Action
	for i := 0; i < len(r.actions); {
		p := r.actions[i].Prefix
		j := i
		for j < len(r.actions) && r.actions[j].Prefix == p {
			j++
		}
		if m, _ := path.Match(pp, p); m {
			for _, e := range r.actions[i:j] {
				if np == "*" {
					out = append(out, e.Action)
				} else if m, _ := path.Match(np, strings.ToLower(e.Name)); m {
					out = append(out, e.Action)
				}
			}
		}
		i = j
	}
	return out
}
