package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/testshared"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Every event of every CloudTrail-bearing file of the shared datasets, as its sentence: one
// golden file per dataset, one line per event ("file#index: sentence"). Read them after -update.
func TestGoldenSharedDatasets(t *testing.T) {
	dir := testshared.Dir(t, "datasets")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json*"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(dir, "iam", "trailscraper", "fixtures", "*.json"))
	files = append(files, more...)
	byDataset := map[string]*bytes.Buffer{}
	total := 0
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		dataset := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		_, err = cloudtrail.ReadEvents(f, false, func(ev cloudtrail.Event) error {
			s := Summarize(RecordRow(ev.Record), Options{})
			checkSummary(t, fmt.Sprintf("%s#%d", rel, ev.Index), ev.Record, s)
			lines = append(lines, fmt.Sprintf("%s#%d: %s\n", filepath.Base(p), ev.Index, s.Sentence))
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(lines) == 0 {
			continue
		}
		if byDataset[dataset] == nil {
			byDataset[dataset] = &bytes.Buffer{}
		}
		for _, l := range lines {
			byDataset[dataset].WriteString(l)
		}
		total += len(lines)
	}
	if total < 1000 {
		t.Fatalf("only %d events summarised: are the shared datasets complete?", total)
	}
	for name, buf := range byDataset {
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGoldenSharedDatasets -update)", err)
		}
		if !bytes.Equal(want, buf.Bytes()) {
			wl, gl := strings.Split(string(want), "\n"), strings.Split(buf.String(), "\n")
			for i := range max(len(wl), len(gl)) {
				var w, g string
				if i < len(wl) {
					w = wl[i]
				}
				if i < len(gl) {
					g = gl[i]
				}
				if w != g {
					t.Errorf("%s line %d:\nwant %s\ngot  %s", golden, i+1, w, g)
					break
				}
			}
		}
	}
}

// checkSummary holds the rules every sentence keeps, whatever the event.
func checkSummary(t *testing.T, where string, r *cloudtrail.Record, s Summary) {
	t.Helper()
	nonEmpty := func(p *string) bool { return p != nil && *p != "" }
	failed := nonEmpty(r.ErrorCode) || nonEmpty(r.ErrorMessage) ||
		(r.ResponseElements != nil && strings.Contains(*r.ResponseElements, `"Failure"`))
	if failed != s.Failed {
		t.Errorf("%s: failed %v, summary says %v: %s", where, failed, s.Failed, s.Sentence)
	}
	if s.Failed && !strings.Contains(s.Sentence, "tried to") {
		t.Errorf("%s: a failed call reads as done: %s", where, s.Sentence)
	}
	if !s.Failed && strings.Contains(s.Sentence, "tried to") {
		t.Errorf("%s: a call that succeeded reads as tried: %s", where, s.Sentence)
	}
	if nonEmpty(r.ErrorCode) && !strings.Contains(s.Sentence, *r.ErrorCode) {
		t.Errorf("%s: the sentence does not give the error code %s: %s", where, *r.ErrorCode, s.Sentence)
	}
	if strings.Contains(s.Sentence, "  ") || strings.Contains(s.Sentence, " .") || !strings.HasSuffix(s.Sentence, ".") {
		t.Errorf("%s: badly formed sentence: %q", where, s.Sentence)
	}
	for _, f := range s.Fields() {
		if f.Name == "Event ID" && r.EventID != nil && f.Value != *r.EventID {
			t.Errorf("%s: Event ID field %q, want %q", where, f.Value, *r.EventID)
		}
	}
}
