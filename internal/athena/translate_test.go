package athena

import (
	"errors"
	"strings"
	"testing"
)

// TestTranslate checks the text of translations.
func TestTranslate(t *testing.T) {
	tests := []struct{ in, want string }{
		// Untouched SQL keeps its comments and spacing.
		{"SELECT a, /* c */ b -- x\nFROM t", "SELECT a, /* c */ b -- x\nFROM t"},
		{`SELECT "t"."x" FROM "tbl" "t"`, `SELECT "t"."x" FROM "tbl" "t"`},
		{"SELECT 'it''s (', \"a\"\"b\" FROM db.cloudtrail_logs", `SELECT 'it''s (' AS _col0, "a""b" FROM cloudtrail_logs`},
		{"SELECT 1;", `SELECT 1 AS _col0`},
		{"SELECT 1; -- done\n", `SELECT 1 AS _col0 -- done
`},
		// Quoted function names.
		{`SELECT "split_part"(x, '/', 2), "lower"(y)`, `SELECT trino_split_part(x, '/', 2) AS _col0, lower(y) AS _col1`},
		// Date and time.
		{"SELECT date_add('day', -7, now())", `SELECT trino_date_add('day', -7, now()) AS _col0`},
		{"SELECT date_parse(s, '%Y-%m-%dT%H:%i:%sZ')", `SELECT strptime(s, '%Y-%m-%dT%H:%M:%SZ') AS _col0`},
		{"SELECT format_datetime(ts, 'yyyy-MM-dd HH:mm')", `SELECT strftime(ts, '%Y-%m-%d %H:%M') AS _col0`},
		{"SELECT from_iso8601_timestamp(eventtime)", `SELECT TRY_CAST(eventtime AS TIMESTAMPTZ) AS _col0`},
		// JSON paths.
		{`SELECT json_extract_scalar(j, '$["x-amz-copy-source"]')`, `SELECT trino_json_extract_scalar(j, '$."x-amz-copy-source"') AS _col0`},
		{`SELECT json_extract_scalar(j, '$.a[0].b')`, `SELECT trino_json_extract_scalar(j, '$.a[0].b') AS _col0`},
		// Regular expressions.
		{`SELECT regexp_replace(s, '(a)', '<$1>')`, `SELECT regexp_replace(s, '(a)', '<\1>', 'g') AS _col0`},
		{`SELECT regexp_like(s, 'x')`, `SELECT regexp_matches(s, 'x') AS _col0`},
		// Aggregates keep DISTINCT, ORDER BY and FILTER.
		{"SELECT arbitrary(x), approx_distinct(y), count(*) FILTER (WHERE z > 1) FROM t",
			`SELECT any_value(x) AS _col0, count(DISTINCT y) AS _col1, count(*) FILTER (WHERE z > 1) AS _col2 FROM t`},
		// ROW values and what is not one.
		{"SELECT DISTINCT (a, b) FROM t", `SELECT DISTINCT struct_pack( field0 := a, field1 :=  b) AS _col0 FROM t`},
		{"SELECT ROW(a, b)", `SELECT struct_pack( field0 := a, field1 :=  b) AS _col0`},
		{"SELECT x FROM t WHERE x IN (1, 2) AND (y) = 1", "SELECT x FROM t WHERE x IN (1, 2) AND (y) = 1"},
		{"SELECT * FROM (VALUES (1, 2), (3, 4)) AS t(a, b)", "SELECT * FROM (VALUES (1, 2), (3, 4)) AS t(a, b)"},
		{"SELECT * FROM t CROSS JOIN UNNEST(x) u(c)", "SELECT * FROM t CROSS JOIN UNNEST(x) u(c)"},
		{"SELECT * FROM UNNEST(x) WITH ORDINALITY AS t(v, n)", "SELECT * FROM UNNEST(x) WITH ORDINALITY AS t(v, n)"},
		{"SELECT x FROM t GROUP BY GROUPING SETS ((a, b), (c))", "SELECT x FROM t GROUP BY GROUPING SETS ((a, b), (c))"},
		{"SELECT transform(a, (x, y) -> x)", `SELECT list_transform(a, (x, y) -> x) AS _col0`},
		{"SELECT count(*) OVER (PARTITION BY a, b) FROM t", `SELECT count(*) OVER (PARTITION BY a, b) AS _col0 FROM t`},
		// Types.
		{"SELECT CAST(x AS array(varchar)), TRY_CAST(y AS timestamp with time zone)", `SELECT CAST(x AS VARCHAR[]) AS _col0, TRY_CAST(y AS TIMESTAMPTZ) AS _col1`},
		{"SELECT CAST(x AS row(a bigint, b map(varchar, double)))", `SELECT (list_transform([x], lambda trino_r: CASE WHEN trino_r IS NULL THEN NULL ELSE struct_pack(a := CAST(struct_extract_at(trino_r, 1) AS BIGINT), b := CAST(struct_extract_at(trino_r, 2) AS MAP(VARCHAR, DOUBLE))) END)[1]) AS _col0`},
		// Misc.
		{"SELECT IF(a, b)", `SELECT (CASE WHEN a THEN  b END) AS _col0`},
		{"SELECT replace(s, 'x')", `SELECT replace(s, 'x', '') AS _col0`},
		{"SELECT concat(a, b)", `SELECT ((a) || ( b)) AS _col0`},
	}
	for _, tc := range tests {
		got, err := Translate(tc.in)
		if err != nil {
			t.Errorf("Translate(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Translate(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestTranslateErrors checks that untranslatable SQL is reported at the right place.
func TestTranslateErrors(t *testing.T) {
	tests := []struct {
		in         string
		line, col  int
		msgContain string
	}{
		{"SELECT 'abc", 1, 8, "unterminated string"},
		{"SELECT \"abc", 1, 8, "unterminated quoted identifier"},
		{"SELECT /* x", 1, 8, "unterminated comment"},
		{"SELECT (1", 1, 8, "missing ')'"},
		{"SELECT 1)", 1, 9, "mismatched input ')'"},
		{"SELECT 1; SELECT 2", 1, 11, "one statement"},
		// functions/list.html: a name Trino does not have is refused as Trino refuses it, DuckDB's
		// own functions included.
		{"SELECT unknown_fn(a)", 1, 8, "Function 'unknown_fn' not registered"},
		{`SELECT "my fn"(z)`, 1, 8, "Function 'my fn' not registered"},
		{"SELECT json_extract_path(requestparameters, 'a') FROM t", 1, 8, "Function 'json_extract_path' not registered"},
		{"SELECT x FROM t WHERE\n list_contains(a, 1)", 2, 2, "Function 'list_contains' not registered"},
		// Trino's grammar has no trailing comma in a list (DuckDB accepts one).
		{"SELECT * FROM (VALUES (1), (2),) t(x)", 1, 32, "mismatched input ')'"},
		{"SELECT a, b, FROM t", 1, 14, "mismatched input 'FROM'"},
		{"SELECT f(a,)", 1, 12, "mismatched input ')'"},
		{"SELECT\n  date_add('fortnight', 1, now())", 2, 12, "not a valid unit"},
		{"SELECT date_add(1, now())", 1, 8, "unexpected parameters for function date_add"},
		{"SELECT date_format(ts, '%Y %D')", 1, 28, "'%D' is not supported"},
		{"SELECT date_format(ts, fmt)", 1, 24, "must be a string literal"},
		{"SELECT json_extract_scalar(j, 'a.b')", 1, 32, "must start with '$'"},
		{"SELECT CAST(x AS blob_type)", 1, 18, "unknown type"},
		{"SELECT approx_percentile(x, w, 0.5)", 1, 8, "not supported"},
	}
	for _, tc := range tests {
		_, err := Translate(tc.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Translate(%q): got %v, want an *Error", tc.in, err)
			continue
		}
		if e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Msg, tc.msgContain) {
			t.Errorf("Translate(%q): got %v, want line %d:%d: …%s…", tc.in, e, tc.line, tc.col, tc.msgContain)
		}
		if !strings.HasPrefix(e.Error(), "line ") {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}

// TestPosition checks that offsets in the translated SQL map back to the original.
func TestPosition(t *testing.T) {
	in := "SELECT json_extract_scalar(j, '$.a'),\n  bogus_col FROM t"
	tr, err := TranslateMapped(in)
	if err != nil {
		t.Fatal(err)
	}
	off := strings.Index(tr.SQL, "bogus_col")
	if line, col := tr.Position(off); line != 2 || col != 3 {
		t.Errorf("bogus_col maps to %d:%d, want 2:3", line, col)
	}
	off = strings.Index(tr.SQL, "trino_json_extract_scalar")
	if line, col := tr.Position(off); line != 1 || col != 8 {
		t.Errorf("the macro maps to %d:%d, want 1:8", line, col)
	}
}

// TestMapError checks that a DuckDB error about the translated SQL points at the original.
func TestMapError(t *testing.T) {
	db := openDB(t)
	in := "SELECT json_extract_scalar(requestparameters, '$.a'),\n  date_add('day', 1, now()),\n  no_such_column\nFROM cloudtrail_logs"
	tr, err := TranslateMapped(in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = queryAll(db, tr.SQL)
	if err == nil {
		t.Fatal("query unexpectedly succeeded")
	}
	var e *Error
	if !errors.As(tr.MapError(err), &e) {
		t.Fatalf("MapError(%v) is not an *Error", err)
	}
	if e.Line != 3 || e.Column != 3 || !strings.Contains(e.Msg, "no_such_column") {
		t.Errorf("got %v (from %v)", e, err)
	}
}
