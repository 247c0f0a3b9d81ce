package ddl

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/testshared"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testParts are two accounts' partitions, one of them with an unknown region.
var testParts = []lake.Partition{
	{Account: "012345678901", Region: "us-east-1", Year: "2026", Month: "01", Day: "31"},
	{Account: "012345678901", Region: "us-east-1", Year: "2026", Month: "02", Day: "01"},
	{Account: "012345678901", Region: "eu-west-1", Year: "2026", Month: "02", Day: "01"},
	{Account: "210987654321", Region: "us-east-1", Year: "2026", Month: "02", Day: "01"},
	{Account: "210987654321", Region: "", Year: "2026", Month: "02", Day: "01"},
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"athena-ledger", Options{Engine: "athena", Location: "s3://bucket/lake/"}},
		{"athena-projection", Options{Engine: "athena", Location: "s3://bucket/lake", Partitions: PartitionsProjection}},
		{"athena-all-columns", Options{Engine: "athena", Partitions: PartitionsNone, AllColumns: true}},
		{"trino-ledger", Options{Engine: "trino", Location: "s3://bucket/lake", Schema: "security"}},
		{"spark-ledger", Options{Engine: "spark", Location: "s3a://bucket/lake", Table: "trail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, tc.opt, testParts); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/ddl -update writes it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs from the golden file (go test ./internal/ddl -update rewrites it):\n%s", tc.name, b.String())
			}
		})
	}
}

// TestAthenaReadsItsOwnDDL reads the Athena definition back with the parser the engine uses for
// users' CREATE EXTERNAL TABLE: the name, every column, string partitions and the projection.
func TestAthenaReadsItsOwnDDL(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, Options{Engine: "athena", Partitions: PartitionsProjection}, testParts); err != nil {
		t.Fatal(err)
	}
	stmt, _, _ := strings.Cut(b.String(), ";")
	def, ok, err := athena.ParseCreateTable(stmt)
	if !ok || err != nil {
		t.Fatalf("ParseCreateTable: ok %v, %v", ok, err)
	}
	cols, err := Columns()
	if err != nil {
		t.Fatal(err)
	}
	var athenaCols int
	for _, c := range cols {
		if c.Athena {
			athenaCols++
		}
	}
	if def.Name != "cloudtrail_logs" || len(def.Columns) != athenaCols || len(def.Partitions) != 5 {
		t.Fatalf("parsed %s with %d columns and %d partition columns, want cloudtrail_logs, %d, 5", def.Name, len(def.Columns), len(def.Partitions), athenaCols)
	}
	for _, p := range def.Partitions {
		if p.Type != "string" {
			t.Errorf("partition column %s is %s, want string", p.Name, p.Type)
		}
	}
	for prop, want := range map[string]string{"account.values": "012345678901,210987654321", "region.values": "eu-west-1,us-east-1", "year.range": "2026,2026", "day.digits": "2", "month.digits": "2"} {
		col, p, _ := strings.Cut(prop, ".")
		if got := def.Projection(col, p); got != want {
			t.Errorf("projection.%s = %q, want %q", prop, got, want)
		}
	}
	if !strings.HasPrefix(def.Location, DefaultLocation) {
		t.Errorf("location %q", def.Location)
	}
}

// knownDifferences are where the corpus's DDL (an older revision of Athena's CloudTrail page)
// and the lake's differ, with the reason the lake's is right.
var knownDifferences = map[string]string{
	"useridentity: sessioncontext: webidfederationdata: map<string,string>, not struct<federatedprovider:string,attributes:map<string,string>>": "CloudTrail records webIdFederationData as an object of federatedProvider and attributes, and the current Athena DDL declares that struct; the old map<string,string> fails on such records",
}

// TestAthenaCorpusDDL checks that Athena's own CloudTrail DDL (../shared/athena-corpus/ddl)
// declares nothing the lake's definition does not: each of its columns is ours, with a type
// ours covers (its struct fields a subset of ours, same names in lower case, same kinds), and
// its partition columns are strings as ours are.
func TestAthenaCorpusDDL(t *testing.T) {
	dir := testshared.Dir(t, "athena-corpus/ddl")
	cols, err := Columns()
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]*Type{}
	for _, c := range cols {
		ours[c.Name] = c.Type
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		def, ok, err := athena.ParseCreateTable(string(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !ok {
			continue
		}
		checked++
		for _, c := range def.Columns {
			ct, err := ParseType(c.Type)
			if err != nil {
				t.Errorf("%s: column %s: %v", f, c.Name, err)
				continue
			}
			ot := ours[c.Name]
			if ot == nil {
				t.Errorf("%s: column %s is not in the lake's definition", f, c.Name)
				continue
			}
			if ok, why := ot.Covers(ct); !ok && knownDifferences[c.Name+": "+why] == "" {
				t.Errorf("%s: column %s: %s", f, c.Name, why)
			}
		}
		for _, p := range def.Partitions {
			if p.Type != "string" {
				t.Errorf("%s: partition %s is %s", f, p.Name, p.Type)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no CREATE EXTERNAL TABLE in %s", dir)
	}
}

// TestLowerCaseNames checks that every field name of the lake's schema is lower case: engines
// that match Parquet fields by name case-sensitively (Spark, Trino) find them all.
func TestLowerCaseNames(t *testing.T) {
	cols, err := Columns()
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, ty *Type)
	walk = func(path string, ty *Type) {
		if path != strings.ToLower(path) {
			t.Errorf("%s is not lower case", path)
		}
		for _, f := range ty.Fields {
			walk(path+"."+f.Name, f.Type)
		}
		if ty.Elem != nil {
			walk(path, ty.Elem)
		}
	}
	for _, c := range cols {
		walk(c.Name, c.Type)
	}
}

func TestFitProjection(t *testing.T) {
	for _, tc := range []struct {
		name               string
		parts              []lake.Partition
		present, projected int
		unprojectable      int
		sparse             bool
	}{
		{"test partitions", testParts, 4, 2 * 2 * 2, 1, false},
		{"sparse accounts and regions", []lake.Partition{
			{Account: "111111111111", Region: "us-east-1", Year: "2025", Month: "12", Day: "31"},
			{Account: "222222222222", Region: "eu-west-1", Year: "2026", Month: "01", Day: "01"},
			{Account: "333333333333", Region: "ap-south-1", Year: "2026", Month: "01", Day: "01"},
		}, 3, 3 * 3 * 2, 0, true},
		{"bad date", []lake.Partition{{Account: "111111111111", Region: "us-east-1", Year: "2026", Month: "02", Day: "30"}}, 0, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := FitProjection(tc.parts)
			if f.Present != tc.present || f.Projected != tc.projected || f.Unprojectable != tc.unprojectable || (f.Density() < SparseProjection) != tc.sparse {
				t.Errorf("got present %d projected %d unprojectable %d density %.2f", f.Present, f.Projected, f.Unprojectable, f.Density())
			}
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Engine: "presto"}, `engine "presto"`},
		{Options{Engine: "athena", Location: "/tmp/lake"}, `location "/tmp/lake"`},
		{Options{Engine: "athena", Location: "s3://b/x'y"}, "location"},
		{Options{Engine: "trino", Partitions: PartitionsProjection}, "projection is Athena's"},
		{Options{Engine: "athena", Partitions: "all"}, `partitions "all"`},
		{Options{Engine: "athena", Table: "x; DROP"}, "names are letters"},
	} {
		err := Write(&strings.Builder{}, tc.opt, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error with %q", tc.opt, err, tc.want)
		}
	}
}

func TestParseType(t *testing.T) {
	for _, tc := range []struct{ in, hive, trino string }{
		{"VARCHAR", "STRING", "VARCHAR"},
		{"STRUCT(arn VARCHAR, type VARCHAR)[]", "ARRAY<STRUCT<arn:STRING,type:STRING>>", `ARRAY(ROW("arn" VARCHAR, "type" VARCHAR))`},
		{"struct<userName:string, attrs:map<string,string>>", "STRUCT<username:STRING,attrs:MAP<STRING,STRING>>", `ROW("username" VARCHAR, "attrs" MAP(VARCHAR, VARCHAR))`},
		{"array<boolean>", "ARRAY<BOOLEAN>", "ARRAY(BOOLEAN)"},
	} {
		ty, err := ParseType(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if ty.Hive() != tc.hive || ty.Trino() != tc.trino {
			t.Errorf("%s: hive %s, trino %s", tc.in, ty.Hive(), ty.Trino())
		}
	}
	for _, bad := range []string{"", "int", "struct<a:string", "map<string>", "array<>", "struct<>", "varchar x"} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"VARCHAR", "STRUCT(a VARCHAR)[]", "map<string,array<struct<`x`:string>>>", "struct<>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ty, err := ParseType(s)
		if err != nil {
			return
		}
		// What is read round-trips through both spellings.
		for _, again := range []string{ty.Hive(), ty.Trino()} {
			ty2, err := ParseType(again)
			if err != nil || ty2.Hive() != ty.Hive() {
				t.Fatalf("%q -> %q does not read back: %v", s, again, err)
			}
		}
	})
}
