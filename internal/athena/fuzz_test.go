package athena

import (
	"errors"
	"testing"
)

// FuzzTranslate checks that Translate never panics and that it returns either a translation or
// an *Error positioned inside the input. Run with: go test -fuzz=FuzzTranslate ./internal/athena/
func FuzzTranslate(f *testing.F) {
	seeds := []string{
		"SELECT 1",
		"SELECT DISTINCT (a, b) FROM t WHERE x IN (1, 2)",
		`SELECT "split_part"(x, '/', 2), "concat"(a, b) FROM "db"."t"`,
		"SELECT date_add('day', -7, now()), date_diff('second', a, b), date_parse(s, '%Y-%m-%dT%H:%i:%sZ')",
		`SELECT json_extract_scalar(j, '$["a-b"][0].c'), regexp_replace(s, '(x)', '$1')`,
		"SELECT CAST(x AS row(a array(varchar), b map(varchar, bigint)))",
		"SELECT * FROM t CROSS JOIN UNNEST(r) WITH ORDINALITY AS u(v, n) -- c\n/* d */",
		"SELECT format_datetime(ts, 'yyyy''T''HH'), IF(a, b), ROW(1, 2)",
		"SELECT 'x'; ",
		"SELECT ((a, b), (c)) FROM (VALUES (1, 2)) AS t(a, b)",
		`SELECT count(*), x IS NULL, t.* FROM "default".t, db.u JOIN c.d.e ON 1 = 1`,
		"SELECT extract(year FROM a.b), any_match(r, x -> x.arn LIKE 'a%'), typeof(cardinality(m))",
		"WITH w AS (SELECT 1) SELECT date_trunc('day', current_date), url_extract_host(u) FROM w UNION SELECT 2, 3",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		tr, err := TranslateMapped(sql)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Line < 1 || e.Column < 1 {
				t.Fatalf("bad position in %v", e)
			}
			return
		}
		for off := 0; off <= len(tr.SQL); off++ {
			if line, col := tr.Position(off); line < 1 || col < 1 {
				t.Fatalf("Position(%d) = %d:%d", off, line, col)
			}
		}
	})
}
