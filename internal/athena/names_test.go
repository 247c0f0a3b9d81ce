package athena

import (
	"fmt"
	"strings"
	"testing"
)

// TestOutputNames checks the Athena names of unnamed output columns: Trino names them _col
// followed by the column's 0-based position (https://trino.io/docs/current/sql/select.html,
// "_col0" in the output of SELECT without aliases), and only in the outermost select list.
func TestOutputNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT eventname, count(*) FROM t GROUP BY 1", "SELECT eventname, count(*) AS _col1 FROM t GROUP BY 1"},
		{"SELECT count(*) AS n, count(*) c, max(x) \"m\" FROM t", "SELECT count(*) AS n, count(*) c, max(x) \"m\" FROM t"},
		{"SELECT DISTINCT 1, 'a', x IS NULL, CASE WHEN a THEN 1 END FROM t",
			"SELECT DISTINCT 1 AS _col0, 'a' AS _col1, x IS NULL AS _col2, CASE WHEN a THEN 1 END AS _col3 FROM t"},
		{"SELECT a.b.c, t.x, current_date FROM t", "SELECT a.b.c, t.x, current_date AS _col2 FROM t"},
		{"SELECT a + b, x AND y, NOT z, a || \"b\", 'x' y, x AS \"end\", INTERVAL '1' DAY FROM t",
			"SELECT a + b AS _col0, x AND y AS _col1, NOT z AS _col2, a || \"b\" AS _col3, 'x' y, x AS \"end\", INTERVAL '1' DAY FROM t"},
		{"SELECT lower(a), *, lower(b) FROM t", "SELECT lower(a) AS _col0, *, lower(b) FROM t"},
		{"SELECT t.*, lower(b) FROM t", "SELECT t.*, lower(b) FROM t"},
		{"WITH w AS (SELECT count(*) FROM t) SELECT (SELECT max(x) FROM w), arr[1] FROM w",
			"WITH w AS (SELECT count(*) FROM t) SELECT (SELECT max(x) FROM w) AS _col0, trino_subscript(arr, 1) AS _col1 FROM w"},
		{"SELECT x FROM (SELECT count(*) FROM t)", "SELECT x FROM (SELECT count(*) FROM t)"},
		{"SELECT 1 UNION ALL SELECT 2", "SELECT 1 AS _col0 UNION ALL SELECT 2"},
		{"SELECT count(*) -- total\nFROM t", "SELECT count(*) AS _col0 -- total\nFROM t"},
		{"SELECT count(*);", "SELECT count(*) AS _col0"},
		{"VALUES (1, 2)", "VALUES (1, 2)"},
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

// TestOutputNamesRun checks the column names DuckDB reports for translated statements.
func TestOutputNamesRun(t *testing.T) {
	db := openDB(t)
	tests := []struct{ in, want string }{
		{"SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1", "eventname,_col1"},
		{"SELECT useridentity.arn, json_extract_scalar(requestparameters, '$.key') FROM cloudtrail_logs", "arn,_col1"},
		{"SELECT DISTINCT (eventsource, eventname) FROM cloudtrail_logs", "_col0"},
		{"SELECT count(*) AS total FROM cloudtrail_logs ORDER BY count(*) DESC", "total"},
		// select.html: a field of a computed row is named after the field (DuckDB named it
		// after the whole rewritten expression).
		{"SELECT CAST(ROW(1, 'a') AS ROW(x integer, y varchar)).y, (CAST(ROW(1, 'a') AS ROW(x integer, y varchar))).X FROM cloudtrail_logs", "y,x"},
	}
	for _, tc := range tests {
		q, err := Translate(tc.in)
		if err != nil {
			t.Fatalf("translate %q: %v", tc.in, err)
		}
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("run %s: %v", q, err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cols, ","); got != tc.want {
			t.Errorf("%s: columns %s, want %s", q, got, tc.want)
		}
	}
}

// TestSemanticsMore adds expectations from the Trino documentation (functions/*.html) for the
// functions whose translation depends on the argument's type or on TRY.
func TestSemanticsMore(t *testing.T) {
	db := openDB(t)
	tests := []struct{ sql, want string }{
		// conversion.html: typeof.
		{`SELECT typeof(CAST(1 AS bigint))`, "bigint"},
		{`SELECT typeof(ARRAY['a'])`, "array(varchar)"},
		{`SELECT typeof(from_iso8601_timestamp('2024-03-05T07:08:09Z'))`, "timestamp(3) with time zone"},
		{`SELECT typeof(CAST(1.5 AS double))`, "double"},
		// datetime.html: date_add and date_trunc keep a date a date.
		{`SELECT typeof(date_add('day', 1, DATE '2024-01-05'))`, "date"},
		{`SELECT CAST(date_add('day', 1, DATE '2024-01-31') AS varchar)`, "2024-02-01"},
		{`SELECT typeof(date_trunc('month', current_date))`, "date"},
		{`SELECT typeof(date_trunc('hour', now()))`, "timestamp(3) with time zone"},
		// array.html, map.html: cardinality of an array and of a map.
		{`SELECT cardinality(ARRAY[1, 2, 3])`, "3"},
		{`SELECT cardinality(MAP(ARRAY['a', 'b'], ARRAY[1, 2]))`, "2"},
		// conditional.html: TRY gives NULL where the expression fails.
		{`SELECT TRY(CAST('x' AS integer))`, "<nil>"},
		{`SELECT TRY(date_add('day', 1, from_iso8601_timestamp('2024-03-05T00:00:00Z'))) IS NOT NULL`, "true"},
		{`SELECT TRY(json_parse('not json'))`, "<nil>"},
		// datetime.html: week and quarter units of date_diff count whole units.
		{`SELECT date_diff('week', DATE '2024-01-01', DATE '2024-01-14')`, "1"},
		{`SELECT date_diff('quarter', DATE '2024-01-02', DATE '2024-04-01')`, "0"},
		{`SELECT date_diff('millisecond', from_iso8601_timestamp('2024-01-01T00:00:00Z'), from_iso8601_timestamp('2024-01-01T00:00:01.5Z'))`, "1500"},
		// url.html.
		{`SELECT url_extract_host('http://user@www.example.com:80/stuff/index.html?a=1&b=x%20y#frag')`, "www.example.com"},
		{`SELECT url_extract_path('http://www.example.com:80/stuff/index.html?a=1#f')`, "/stuff/index.html"},
		{`SELECT url_extract_protocol('https://www.example.com/')`, "https"},
		{`SELECT url_extract_query('http://www.example.com/p?a=1&b=2#f')`, "a=1&b=2"},
		{`SELECT url_extract_parameter('http://www.example.com/p?a=1&b=2#f', 'b')`, "2"},
		{`SELECT url_extract_parameter('http://www.example.com/p?a=1', 'c')`, "<nil>"},
		{`SELECT url_extract_host('not a url')`, "<nil>"},
		// array.html: any_match, all_match, none_match.
		{`SELECT any_match(ARRAY[1, 2], x -> x > 1)`, "true"},
		{`SELECT all_match(ARRAY[1, 2], x -> x > 1)`, "false"},
		{`SELECT none_match(ARRAY[1, 2], x -> x > 5)`, "true"},
		{`SELECT any_match(resources, r -> r.type = 'AWS::S3::Bucket') FROM cloudtrail_logs WHERE eventid = 'evt-1'`, "true"},
		// string.html: starts_with, strpos not found.
		{`SELECT starts_with('abc', 'b')`, "false"},
		{`SELECT strpos('abc', 'x')`, "0"},
		// regexp.html: regexp_extract_all with a group, regexp_like partial match.
		{`SELECT regexp_extract_all('1a 2b 14m', '(\d+)([a-z]+)', 2)`, "[a b m]"},
		{`SELECT regexp_like('abc', 'b')`, "true"},
		// json.html: invalid JSON text in a column gives NULL, not an error.
		{`SELECT count(*) FROM cloudtrail_logs WHERE json_extract(additionaleventdata, '$.x') IS NULL`, "3"},
		{`SELECT json_size(additionaleventdata, '$') FROM cloudtrail_logs WHERE eventid = 'evt-2'`, "<nil>"},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			q, err := Translate(tc.sql)
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			rows, err := queryAll(db, q)
			if err != nil {
				t.Fatalf("run %s: %v", q, err)
			}
			if len(rows) == 0 {
				t.Fatalf("%s: no rows", q)
			}
			if got := fmt.Sprintf("%v", rows[0][0]); got != tc.want {
				t.Errorf("%s\n got %q\nwant %q", q, got, tc.want)
			}
		})
	}
}

// TestQualifiedTables checks that Athena's database and catalog qualifiers on table names are
// dropped (the lake is one database) and that nothing else that looks like them is.
func TestQualifiedTables(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT x FROM "default"."cloudtrail_logs" WHERE y = 1`, `SELECT x FROM "cloudtrail_logs" WHERE y = 1`},
		{"SELECT x FROM awsdatacatalog.mydb.cloudtrail_logs t", "SELECT x FROM cloudtrail_logs t"},
		{"SELECT x FROM db.a, db.b JOIN db.c ON a.k = c.k", "SELECT x FROM a, b JOIN c ON a.k = c.k"},
		{"SELECT x FROM (SELECT y FROM db.t) s", "SELECT x FROM (SELECT y FROM t) s"},
		{"SELECT extract(year FROM t.x), substring(t.s FROM 2) FROM t", "SELECT extract(year FROM t.x) AS _col0, substring(t.s FROM 2) AS _col1 FROM t"},
		{"SELECT column_name FROM information_schema.columns", "SELECT column_name FROM information_schema.columns"},
		{"SELECT a.b FROM t WHERE a.b IN (SELECT c.d FROM u)", "SELECT a.b FROM t WHERE a.b IN (SELECT c.d FROM u)"},
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
	db := openDB(t)
	q, err := Translate(`SELECT count(*) FROM "default".cloudtrail_logs c CROSS JOIN UNNEST(c.resources) AS u(r)`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := queryAll(db, q)
	if err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != "2" {
		t.Errorf("%s: %v %v", q, rows, err)
	}
}
