package rules_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/rules/roweval"
	"github.com/trailsql/trailsql/internal/testshared"
)

// localRules are rules written for TestLocalEqualsScan: one roweval does not compile (left to
// the engine), one it compiles but cannot decide on a row (text the engine casts by rules of its
// own: the rule goes back to the engine), a threshold with a title over two columns, and the
// dedupRules.
const localRules = `rules:
  - id: local-not-in-go
    title: "{{ eventname }} by {{ useridentity.arn }}"
    severity: low
    condition: strpos(eventname, 'Delete') = 1
  - id: local-undecided-in-go
    title: "{{ eventid }}"
    severity: low
    condition: TRY_CAST(regexp_replace(eventid, '[^0-9]', '_') AS DOUBLE) IS NULL AND eventname LIKE 'Get%'
  - id: local-burst
    title: "{{ eventname }} burst from {{ sourceipaddress }}"
    severity: low
    condition: errorcode IS NOT NULL
    threshold: {count: 3, window: 10m, group_by: [sourceipaddress]}
` + dedupRules

// dedupRules have dedup keys, one that holds the event's id and time as the default key does,
// one that does not: the rules evaluated in Go hold most alerts packed, by the shape of their
// key (see packed).
const dedupRules = `  - id: dedup-by-caller
    title: "{{ requestid }} by {{ useridentity.arn }}"
    severity: low
    condition: eventname LIKE 'Describe%'
    dedup: [useridentity.arn, eventname]
  - id: dedup-as-default
    title: "{{ eventname }}"
    severity: medium
    condition: readonly = 'false'
    dedup: [eventid, eventtime, eventsource]
`

// The backtest over a local lake (Scope.Lake: the rules roweval evaluates are evaluated in Go
// over the rows decoded from the lake's files) finds exactly the alerts the engine's scan finds,
// every field: the built-in, Sigma and local rules, threshold rules among them, over a generated
// trail ingested in runs and every folder of real events in ../shared/datasets, for a whole
// lake, a window cutting days in two, one account, some of the files, and the facet values.
func TestLocalEqualsScan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "local.yml")
	writeFile(t, ruleFile, localRules)
	loaded, err := rules.Load(rules.Sources{Files: []string{ruleFile}, Sigma: []string{testshared.Dir(t, "datasets/sigma-aws-cloudtrail/rules")}})
	if err != nil || len(loaded.Errors) > 0 {
		t.Fatal(err, loaded.Errors)
	}
	trail := filepath.Join(dir, "trail")
	if _, err := generate.Generate(ctx, trail, generate.Options{Seed: 23, Events: 8000, EventsPerFile: 50, Days: 4, Accounts: 2,
		End: time.Date(2024, 5, 2, 7, 30, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	files := trailFiles(t, trail)
	runs := [][]string{files[:len(files)/2], files[len(files)/2:]}
	shared := testshared.Dir(t, "datasets")
	for _, d := range []string{"aws-cloudtrail-processing-library", "awsdocs-cloudtrail-user-guide", "opensearch-observability-samples",
		"otrf-security-datasets", "panther-analysis", "plaso-lookup-events", "stratus-red-team"} {
		runs = append(runs, []string{filepath.Join(shared, d)})
	}
	root := filepath.Join(dir, "lake")
	for _, run := range runs {
		if _, err := ingest.Run(ctx, ingest.Options{Lake: root, Workers: 2, CompactFiles: -1}, run); err != nil {
			t.Fatal(err)
		}
	}
	e, err := local.Open(ctx, engine.Options{Lake: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	query := local.Engine(e)
	ok, problems := rules.Validate(ctx, query, loaded.Rules)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	// The local rules are what the test says they are.
	live := rules.NewLive(ok)
	if why := live.Why["local-not-in-go"]; !errors.Is(why, roweval.ErrUnsupported) {
		t.Fatalf("local-not-in-go: %v, want it left to the engine", why)
	}
	if !slices.Contains(live.Covers(), "local-undecided-in-go") || !slices.Contains(live.Covers(), "local-burst") {
		t.Fatalf("the local rules roweval should compile: %v", live.Why)
	}
	if _, err := query(ctx, "SELECT 1"); err != nil { // the engine reads the lake's snapshot
		t.Fatal(err)
	}
	snap := e.Snapshot()
	lk := &rules.Local{Snap: snap, PathOf: e.PathOf}
	var some []string
	for i, f := range snap.Files {
		if i%3 != 0 {
			some = append(some, e.PathOf(f))
		}
	}
	scopes := map[string]rules.Scope{
		"whole lake":  {},
		"window":      {From: time.Date(2024, 4, 29, 13, 0, 0, 0, time.UTC), To: time.Date(2024, 5, 1, 2, 30, 0, 0, time.UTC)},
		"one account": {Account: snap.Files[0].Partition.Account},
		"some files":  {Files: some},
		"no file":     {Files: []string{}},
		"values":      {Values: rules.FacetValues(snap.Files)},
	}
	byRule := map[string]int{}
	for name, scope := range scopes {
		want, err := rules.Evaluate(ctx, query, ok, scope)
		if err != nil {
			t.Fatal(name, err)
		}
		scope.Lake = lk
		got, err := rules.Evaluate(ctx, query, ok, scope)
		if err != nil {
			t.Fatal(name, err)
		}
		g, w := everyField(values(got)), everyField(values(want))
		if !slices.Equal(g, w) {
			t.Errorf("%s: in Go %d alerts, the engine's scan %d:\n%s", name, len(g), len(w), diff(g, w))
		}
		if name == "whole lake" {
			for _, a := range want {
				byRule[a.Rule]++
			}
			if len(want) < 1000 {
				t.Fatalf("%s: %d alerts: the test proves little", name, len(want))
			}
		}
		t.Logf("%s: %d alerts", name, len(want))
	}
	for _, id := range []string{"local-not-in-go", "local-undecided-in-go", "local-burst", "dedup-by-caller", "dedup-as-default"} {
		if byRule[id] == 0 {
			t.Errorf("rule %s fired on nothing: the test proves little for it", id)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
