package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
)

// A statement gets the macros it names and those they call, and nothing else: a macro's name
// inside a longer name is not it.
func TestPlanSetup(t *testing.T) {
	plan := planSetup(athena.Dialect().Setup)
	if len(plan.macros) < 30 || len(plan.eager) != 0 {
		t.Fatalf("%d macros, %d other statements", len(plan.macros), len(plan.eager))
	}
	cases := []struct {
		sql  string
		want []string
	}{
		{"SELECT 1", nil},
		{"SELECT trino_json_extract_scalar(x, '$.a') FROM t", []string{"trino_json_extract_scalar"}},
		{"SELECT TRINO_JSON_EXTRACT(x, '$.a')", []string{"trino_json_extract"}},
		{"SELECT trino_url_extract_parameter(u, 'a')", []string{"trino_url_extract_query", "trino_url_extract_parameter"}},
		{"SELECT my_trino_slice(1), trino_slice_2(2)", nil},
		{"SELECT trino_cardinality(a), trino_date_add('day', 1, t)", []string{"trino_date_add", "trino_cardinality"}},
	}
	for _, c := range cases {
		var got []string
		for i, named := range plan.named(c.sql) {
			if named {
				for _, k := range plan.macros[i].needs {
					if !slices.Contains(got, plan.macros[k].name) {
						got = append(got, plan.macros[k].name)
					}
				}
			}
		}
		slices.SortFunc(got, func(a, b string) int { return index(plan, a) - index(plan, b) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: macros %v, want %v", c.sql, got, c.want)
		}
	}

	mixed := planSetup([]string{"SET x = 1", "create temporary macro f(a) AS a + 1", "CREATE OR REPLACE TEMP MACRO g(a) AS f(a) * 2"})
	if !slices.Equal(mixed.eager, []string{"SET x = 1"}) || len(mixed.macros) != 2 || !slices.Equal(mixed.macros[1].needs, []int{0, 1}) {
		t.Fatalf("%+v", mixed)
	}
}

func index(p setupPlan, name string) int {
	return slices.IndexFunc(p.macros, func(m setupMacro) bool { return m.name == name })
}

// A connection defines a macro when a statement first names it, keeps it for the statements
// after, and never has the macros no statement named.
func TestMacrosDefinedWhenNamed(t *testing.T) {
	e := openTestEngine(t, writeLake(t, twoDays), true)
	ctx := context.Background()
	macros := func() []string {
		var out []string
		withSession(t, e, func(s *session) {
			rows, err := s.cn.c.QueryContext(ctx, "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name LIKE 'trino%' ORDER BY 1")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var n string
				rows.Scan(&n)
				out = append(out, n)
			}
		})
		return out
	}
	if got := macros(); len(got) != 0 {
		t.Fatalf("a new connection has macros %v", got)
	}
	res, err := e.Query(ctx, "SELECT json_extract_scalar('{\"a\": 1}', '$.a'), cardinality(ARRAY[1, 2])")
	if err != nil || res.Rows[0][0] != "1" || res.Rows[0][1] != int64(2) {
		t.Fatalf("%v %v", err, res)
	}
	if got := macros(); !slices.Equal(got, []string{"trino_cardinality", "trino_json_extract_scalar"}) {
		t.Fatalf("macros %v", got)
	}
	if res, err := e.Query(ctx, "SELECT url_extract_parameter('http://x/?a=1&b=2', 'b')"); err != nil || res.Rows[0][0] != "2" {
		t.Fatalf("%v %v", err, res)
	}
	if got := macros(); len(got) != 4 {
		t.Fatalf("macros %v", got)
	}
}

// allowedPaths gives DuckDB exactly the paths, whatever characters they hold.
func TestAllowedPaths(t *testing.T) {
	cases := [][]string{
		{"/lake/a.parquet"},
		{"/lake/a.parquet", "/lake/it's b.parquet"},
		{"/lake/a\nb.parquet", "/lake/c.parquet"},
		{"/lake/a\nb|c\td,e.parquet", "/lake/f.parquet"},
	}
	ctx := context.Background()
	for _, paths := range cases {
		st := startDuckDB(ctx)
		if st.err != nil {
			t.Fatal(st.err)
		}
		var got []any
		_, err := st.cn.ExecContext(ctx, allowedPaths(paths))
		if err == nil {
			err = st.cn.QueryRowContext(ctx, "SELECT current_setting('allowed_paths')").Scan(&got)
		}
		st.cn.Close()
		st.db.Close()
		var want []any
		for _, p := range paths {
			want = append(want, p)
		}
		slices.SortFunc(got, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		slices.SortFunc(want, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v, allowed %q", paths, err, got)
		}
	}
}
