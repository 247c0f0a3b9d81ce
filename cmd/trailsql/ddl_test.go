package main

import (
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/lake"
)

// ddl --engine athena writes a definition Athena's DDL parser reads back, and one partition for
// each partition of the lake's ledger; the lake's folders all have a partition.
func TestDDLCommand(t *testing.T) {
	g := generatedLake(t, 3, 2000)
	out := mustRun(t, 0, "ddl", "--lake", g.lake, "--location", "s3://b/lake")
	create, _, _ := strings.Cut(out[strings.Index(out, "CREATE"):], ";")
	def, ok, err := athena.ParseCreateTable(create)
	if !ok || err != nil || def.Location != "s3://b/lake/cloudtrail_logs/" || len(def.Partitions) != 5 {
		t.Fatalf("ParseCreateTable: %v %v %+v", ok, err, def)
	}
	snap, err := lake.OpenSnapshot(g.lake)
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	for _, f := range snap.Files {
		dirs[f.Partition.Dir()] = true
	}
	if n := strings.Count(out, "\n  PARTITION ("); n != len(dirs) || n == 0 {
		t.Errorf("%d partitions added, the lake has %d", n, len(dirs))
	}
	for d := range dirs {
		if !strings.Contains(out, "LOCATION 's3://b/lake/"+d+"/'") {
			t.Errorf("no partition at %s", d)
		}
	}
	if code, _, errOut := run(t, "", "ddl", "--engine", "spark", "--partitions", "projection", "--lake", g.lake); code == 0 || !strings.Contains(errOut, "projection is Athena's") {
		t.Errorf("spark projection: exit %d, %s", code, errOut)
	}
}
