package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/questions"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGoldenOutputs")

// goldenNow is the clock of the golden run: the demo's trail ends then, and every window ends then.
var goldenNow = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)

// The CLI's outputs do not change by accident: the demo, every question of the catalogue in
// every output format, policy and unused, on the demo's lake, compared with
// testdata/golden/*.txt (go test ./cmd/trailsql -run TestGoldenOutputs -update rewrites them
// after a change meant to alter an output; review the diff).
func TestGoldenOutputs(t *testing.T) {
	dir := t.TempDir()
	var cases []goldenCase
	demo := goldenRun(t, dir, true, "demo", "--dir", dir, "--seed", "11", "--events", "20000")
	cases = append(cases, goldenCase{"demo", demo})
	lk := filepath.Join(dir, "lake")
	authzFile := filepath.Join(dir, "authz.json")

	// An access key of the lake, for access-key, and an account of the user ci-deploy.
	key := scalar(t, lk, "SELECT min(useridentity.accesskeyid) FROM cloudtrail_logs WHERE useridentity.type = 'IAMUser' AND useridentity.accesskeyid LIKE 'AKIA%'")
	account := scalar(t, lk, "SELECT min(recipientaccountid) FROM cloudtrail_logs WHERE useridentity.username = 'ci-deploy'")
	if !strings.HasPrefix(key, "AKIA") || len(account) != 12 {
		t.Fatalf("the demo lake has no access key (%q) or no user ci-deploy (account %q)", key, account)
	}

	all, err := questions.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		args := []string{"ask", q.Name, "--lake", lk, "--days", "45"}
		switch {
		case q.Name == "access-key":
			args = append(args, "--principal", key)
		case q.Needs("principal"):
			args = append(args, "--principal", "ci-deploy", "--account", account)
		case q.Accepts("principal"):
			args = append(args, "--principal", "carol")
		}
		if q.Needs("inventory") {
			args = append(args, "--authz", authzFile)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "### csv (not a terminal)\n%s", goldenRun(t, dir, false, args...))
		fmt.Fprintf(&b, "### table (a terminal of 120 columns)\n%s", goldenRun(t, dir, true, args...))
		fmt.Fprintf(&b, "### json\n%s", goldenRun(t, dir, false, append(args, "--format", "json")...))
		fmt.Fprintf(&b, "### --sql\n%s", goldenRun(t, dir, false, append(args, "--sql")...))
		cases = append(cases, goldenCase{"ask-" + q.Name, b.String()})
	}
	cases = append(cases,
		goldenCase{"ask-catalogue", goldenRun(t, dir, true, "ask")},
		goldenCase{"policy-carol", goldenRun(t, dir, false, "policy", "--lake", lk, "--principal", "carol", "--days", "45") +
			"### --resources --format table\n" + goldenRun(t, dir, true, "policy", "--lake", lk, "--principal", "carol", "--days", "45", "--resources", "--format", "table")},
		goldenCase{"policy-all", goldenRun(t, dir, false, "policy", "--lake", lk, "--all", "--days", "45", "--authz", authzFile)},
		goldenCase{"unused", goldenRun(t, dir, true, "unused", "--lake", lk, "--authz", authzFile, "--days", "45") +
			"### --by-service --format csv\n" + goldenRun(t, dir, false, "unused", "--lake", lk, "--authz", authzFile, "--days", "45", "--by-service") +
			"### --actions --format csv\n" + digest(goldenRun(t, dir, false, "unused", "--lake", lk, "--authz", authzFile, "--days", "45", "--actions", "--classes", "all"))},
		goldenCase{"info", goldenRun(t, dir, true, "info", "--lake", lk)},
	)

	for _, c := range cases {
		path := filepath.Join("testdata", "golden", c.name+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(c.out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/trailsql -run TestGoldenOutputs -update to write it)", err)
		}
		if string(want) != c.out {
			t.Errorf("%s differs from %s:\n%s", c.name, path, firstDiff(string(want), c.out))
		}
	}
}

type goldenCase struct{ name, out string }

// goldenRun runs trailsql at goldenNow, on a terminal of 120 columns or not, and returns its exit
// status, stdout and stderr as one text, with what varies from run to run (the temporary folder,
// times taken) replaced.
func goldenRun(t *testing.T, dir string, terminal bool, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" },
		IsTerminal: terminal, Now: func() time.Time { return goldenNow }}
	if terminal {
		m.Columns = 120
	}
	code := m.Run(context.Background(), args)
	text := fmt.Sprintf("$ trailsql %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return normalise(text, dir)
}

var (
	secondsRE  = regexp.MustCompile(`\b\d+(\.\d+)?(s|ms|µs)\b`)
	durationRE = regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs)\b`)
	agoRE      = regexp.MustCompile(`\d+ (second|minute|hour)s? ago`)
	// The ledger records when the ingest ran, by the machine's clock.
	ingestRE = regexp.MustCompile(`last ingest: \S+ \([^)]*\)`)
)

func normalise(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	s = durationRE.ReplaceAllString(s, "<time>")
	s = secondsRE.ReplaceAllString(s, "<time>")
	s = ingestRE.ReplaceAllString(s, "last ingest: <when>")
	return agoRE.ReplaceAllString(s, "<ago>")
}

// digest stands for a long output: its line count, its first lines and its SHA-256.
func digest(s string) string {
	lines := strings.Split(s, "\n")
	sum := sha256.Sum256([]byte(s))
	head := lines
	if len(head) > 20 {
		head = head[:20]
	}
	return fmt.Sprintf("%d lines, sha256 %s; the first ones:\n%s\n", len(lines), hex.EncodeToString(sum[:]), strings.Join(head, "\n"))
}

// firstDiff shows the first line where two texts differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, wl, gl)
		}
	}
	return "(equal)"
}
