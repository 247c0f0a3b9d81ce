package athena

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// exactCase is one statement and what Trino gives for it: the first row rendered with %v
// (values separated by " | "), or, when wantErr is set, a text its error contains.
type exactCase struct {
	sql, want, wantErr string
}

// runExact checks exact cases against the fixture database.
func runExact(t *testing.T, cases []exactCase) {
	t.Helper()
	db := openDB(t)
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			tr, err := TranslateMapped(tc.sql)
			if err == nil {
				var rows [][]any
				rows, err = queryAll(db, tr.SQL)
				err = tr.MapError(err)
				if err == nil && tc.wantErr == "" {
					if len(rows) == 0 {
						t.Fatalf("no rows\n%s", tr.SQL)
					}
					var vals []string
					for _, v := range rows[0] {
						vals = append(vals, render(v))
					}
					if got := strings.Join(vals, " | "); got != tc.want {
						t.Fatalf("got  %q\nwant %q\n%s", got, tc.want, tr.SQL)
					}
					return
				}
			}
			switch {
			case tc.wantErr == "":
				t.Fatalf("unexpected error: %v", err)
			case err == nil:
				t.Fatalf("no error, want one containing %q", tc.wantErr)
			case !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q\nwant one containing %q", err, tc.wantErr)
			}
		})
	}
}

// render prints a value; a DECIMAL with all the digits of its scale, as Athena prints it.
func render(v any) string {
	if d, ok := v.(duckdb.Decimal); ok {
		s := fmt.Sprintf("%0*s", int(d.Scale)+1, new(big.Int).Abs(d.Value).String())
		if d.Scale > 0 {
			s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
		}
		if d.Value.Sign() < 0 {
			s = "-" + s
		}
		return s
	}
	return fmt.Sprintf("%v", v)
}

// TestDecimalArithmetic: a literal with a point is a DECIMAL and division of decimals keeps a
// decimal of scale max(s1, s2), rounded HALF_UP.
// https://trino.io/docs/current/language/types.html#decimal (literal types),
// https://trino.io/docs/current/functions/decimal.html (result precision and scale; source:
// io.trino.type.DecimalOperators, r_scale = max(a_scale, b_scale), HALF_UP),
// https://trino.io/docs/current/functions/math.html#round (round keeps the input type).
func TestDecimalArithmetic(t *testing.T) {
	runExact(t, []exactCase{
		{sql: `SELECT 100.0/3`, want: "33.3"},
		{sql: `SELECT typeof(100.0/3)`, want: "decimal(4,1)"},
		{sql: `SELECT 5 * 100.0 / 79`, want: "6.3"},
		{sql: `SELECT count(*) * 100.0 / 7 FROM cloudtrail_logs`, want: "42.9"},
		{sql: `SELECT round(count(*) * 100.0 / 7, 2) FROM cloudtrail_logs`, want: "42.9"},
		{sql: `SELECT 10.00 / 3.0, 1 / 3.000, 2.5 / 1 / 2, -7.5 / 2`, want: "3.33 | 0.333 | 1.3 | -3.8"},
		{sql: `SELECT eventname, count(*) * 100.0 / sum(count(*)) OVER () AS pct FROM cloudtrail_logs GROUP BY eventname ORDER BY eventname`, want: "ConsoleLogin | 33.3"},
		{sql: `WITH t AS (SELECT count(*) AS total FROM cloudtrail_logs) SELECT 1 * 100.0 / total FROM t`, want: "33.3"},
		{sql: `SELECT 100.0 / (SELECT count(*) FROM cloudtrail_logs WHERE account = '111111111111') * 1`, want: "50.0"},
		{sql: `SELECT CAST(1 AS DECIMAL(10,4)) / 3`, want: "0.3333"},
		// DECIMAL '1.10' is decimal(3,2): types.html#decimal.
		{sql: `SELECT DECIMAL '1.10', typeof(DECIMAL '1.10'), DECIMAL '-12', DECIMAL '1.10' / 3`, want: "1.10 | decimal(3,2) | -12 | 0.37"},
		{sql: `SELECT round(CAST(6.329 AS DECIMAL(4,3)), 2), typeof(round(CAST(6.329 AS DECIMAL(4,3)), 2))`, want: "6.330 | decimal(4,3)"},
		// Integers still divide as integers, doubles as doubles.
		{sql: `SELECT 7 / 2, 7e0 / 2`, want: "3 | 3.5"},
		// A departure: division by zero is NULL, as DuckDB's integer division by zero is here,
		// where Trino fails ("Division by zero"); see exact.go.
		{sql: `SELECT 1.0 / 0 IS NULL`, want: "true"},
	})
}

// TestBinaryFunctions: https://trino.io/docs/current/functions/binary.html.
func TestBinaryFunctions(t *testing.T) {
	runExact(t, []exactCase{
		{sql: `SELECT to_hex(md5(to_utf8('abc')))`, want: "900150983CD24FB0D6963F7D28E17F72"},
		{sql: `SELECT to_hex(sha1(to_utf8('abc')))`, want: "A9993E364706816ABA3E25717850C26C9CD0D89D"},
		{sql: `SELECT to_hex(sha256(to_utf8('abc')))`, want: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"},
		{sql: `SELECT from_utf8(from_hex('616263')), length(to_utf8('ÿ')), to_base64(to_utf8('abc')), from_utf8(from_base64('YWJj'))`, want: "abc | 2 | YWJj | abc"},
		{sql: `SELECT typeof(md5(to_utf8('a')))`, want: "blob"},
		{sql: `SELECT md5('abc')`, wantErr: "Unexpected parameters (varchar(3)) for function md5. Expected: md5(varbinary)"},
		{sql: `SELECT sha512(to_utf8('abc'))`, wantErr: "sha512 is not supported"},
		{sql: `SELECT md5(eventname) FROM cloudtrail_logs`, wantErr: "Unexpected parameters (varchar) for function md5. Expected: md5(varbinary); write md5(to_utf8(eventname))"},
		{sql: `SELECT count(*) FROM cloudtrail_logs c CROSS JOIN UNNEST(c.resources) AS u (r) WHERE sha256(c.eventid) IS NULL`, wantErr: "Unexpected parameters (varchar) for function sha256"},
		{sql: `SELECT to_hex(md5(to_utf8(eventid))) FROM cloudtrail_logs WHERE eventid = 'evt-1'`, want: "EF205F13777DAD5A0047EC2A523D3F1C"}, // coreutils md5sum of "evt-1"
	})
}

// TestArrayRepeatSequence: repeat(element, count) is an array, count at most 10000; sequence has
// at most 10000 entries and steps down when stop < start.
// https://trino.io/docs/current/functions/array.html#repeat,
// https://trino.io/docs/current/functions/array.html#sequence.
func TestArrayRepeatSequence(t *testing.T) {
	runExact(t, []exactCase{
		{sql: `SELECT repeat('ab', 3), cardinality(repeat(1, 0))`, want: "[ab ab ab] | 0"},
		{sql: `SELECT cardinality(repeat('x', 10000))`, want: "10000"},
		{sql: `SELECT repeat('x', 10001)`, wantErr: "count argument of repeat function must be less than or equal to 10000"},
		{sql: `SELECT repeat('x', -1)`, wantErr: "count argument of repeat function must be greater than or equal to 0"},
		{sql: `SELECT sequence(1, 5), sequence(5, 1), sequence(1, 10, 3), sequence(10, 1, -4)`, want: "[1 2 3 4 5] | [5 4 3 2 1] | [1 4 7 10] | [10 6 2]"},
		{sql: `SELECT cardinality(sequence(1, 10000))`, want: "10000"},
		{sql: `SELECT sequence(1, 10001)`, wantErr: "result of sequence function must not have more than 10000 entries"},
		{sql: `SELECT sequence(1, 100000, 2)`, wantErr: "result of sequence function must not have more than 10000 entries"},
		{sql: `SELECT sequence(1, 5, 0)`, wantErr: "step must not be zero"},
		{sql: `SELECT sequence(1, 5, -1)`, wantErr: "sequence stop value should be greater than or equal to start value"},
	})
}

// TestTimeZones: AT TIME ZONE, at_timezone and with_timezone keep the instant and carry the zone;
// wall-clock functions read the local time, comparisons and date_diff the instant, and the value
// prints as "2024-03-05 02:08:09.000 America/New_York".
// https://trino.io/docs/current/functions/datetime.html#time-zone-conversion,
// https://trino.io/docs/current/functions/datetime.html#at_timezone,
// https://trino.io/docs/current/functions/datetime.html#with_timezone.
func TestTimeZones(t *testing.T) {
	const ny = `from_iso8601_timestamp(eventtime) AT TIME ZONE 'America/New_York'`
	const where = ` FROM cloudtrail_logs WHERE eventid = 'evt-2'` // 2024-03-06T23:00:00Z, 18:00 in New York
	runExact(t, []exactCase{
		{sql: `SELECT ` + ny + where, want: "2024-03-06 18:00:00.000 America/New_York"},
		{sql: `SELECT hour(` + ny + `), day(` + ny + `), day(from_iso8601_timestamp(eventtime) AT TIME ZONE 'Asia/Tokyo')` + where, want: "18 | 6 | 7"},
		{sql: `SELECT date_format(` + ny + `, '%Y-%m-%d %H:%i'), format_datetime(at_timezone(from_iso8601_timestamp(eventtime), 'America/New_York'), 'HH:mm')` + where, want: "2024-03-06 18:00 | 18:00"},
		{sql: `SELECT CAST(` + ny + ` AS DATE) = DATE '2024-03-06', CAST(` + ny + ` AS VARCHAR)` + where, want: "true | 2024-03-06 18:00:00.000 America/New_York"},
		{sql: `SELECT date_trunc('day', ` + ny + `)` + where, want: "2024-03-06 00:00:00.000 America/New_York"},
		{sql: `SELECT to_unixtime(date_trunc('day', ` + ny + `)) = to_unixtime(from_iso8601_timestamp('2024-03-06T05:00:00Z'))` + where, want: "true"},
		{sql: `SELECT ` + ny + ` = from_iso8601_timestamp(eventtime), date_diff('hour', ` + ny + `, from_iso8601_timestamp(eventtime))` + where, want: "true | 0"},
		{sql: `SELECT count(*) FROM cloudtrail_logs WHERE ` + ny + ` > from_iso8601_timestamp('2024-03-06T22:00:00Z')`, want: "2"},
		{sql: `SELECT at_timezone(from_iso8601_timestamp('2024-03-05T07:08:09Z'), 'America/New_York')`, want: "2024-03-05 02:08:09.000 America/New_York"},
		{sql: `SELECT with_timezone(TIMESTAMP '2024-03-05 02:08:09', 'America/New_York'), to_unixtime(with_timezone(TIMESTAMP '2024-03-05 02:08:09', 'America/New_York')) = to_unixtime(from_iso8601_timestamp('2024-03-05T07:08:09Z'))`, want: "2024-03-05 02:08:09.000 America/New_York | true"},
		{sql: `SELECT hour(from_iso8601_timestamp('2024-03-05T07:08:09Z') AT TIME ZONE 'Not/AZone')`, wantErr: "Time zone not supported: Not/AZone"},
	})
}

// TestSubscript: x[i] fails outside the array, element_at gives NULL.
// https://trino.io/docs/current/functions/array.html#subscript-operator,
// https://trino.io/docs/current/functions/array.html#element_at.
func TestSubscript(t *testing.T) {
	const where = ` FROM cloudtrail_logs WHERE eventid = 'evt-1'` // two resources
	runExact(t, []exactCase{
		{sql: `SELECT resources[2].type, element_at(resources, 3) IS NULL, split('a/b', '/')[2]` + where, want: "AWS::S3::Bucket | true | b"},
		{sql: `SELECT resources[3].arn` + where, wantErr: "Array subscript must be less than or equal to array length: 3 > 2"},
		{sql: `SELECT ARRAY[1, 2][0]`, wantErr: "SQL array indices start at 1"},
		{sql: `SELECT split('a/b', '/')[-1]`, wantErr: "Array subscript is negative: -1"},
		{sql: `SELECT resources[1].arn FROM cloudtrail_logs WHERE eventid = 'evt-2'`, want: "<nil>"}, // a NULL array
	})
}

// TestMapSubscript: m[k] fails for a missing key, element_at gives NULL.
// https://trino.io/docs/current/functions/map.html#subscript-operator,
// https://trino.io/docs/current/functions/map.html#element_at.
func TestMapSubscript(t *testing.T) {
	const m = `MAP(ARRAY['a', 'b'], ARRAY[1, 2])`
	runExact(t, []exactCase{
		{sql: `SELECT ` + m + `['b'], element_at(` + m + `, 'c') IS NULL`, want: "2 | true"},
		{sql: `SELECT ` + m + `['c']`, wantErr: "Key not present in map: c"},
		{sql: `SELECT useridentity.sessioncontext.webidfederationdata.attributes['x'] FROM cloudtrail_logs WHERE eventid = 'evt-2'`, want: "<nil>"}, // a NULL map
		{sql: `SELECT CAST(json_parse('{"a": 1}') AS MAP(VARCHAR, INTEGER))['z']`, wantErr: "Key not present in map: z"},
	})
}

// TestRejections: what Trino refuses is refused, with Trino's message and what to write instead.
// https://trino.io/docs/current/sql/select.html (select-list aliases are not visible in WHERE and
// HAVING), https://trino.io/docs/current/functions/comparison.html (no implicit varchar/number
// comparison), https://trino.io/docs/current/functions/list.html.
func TestRejections(t *testing.T) {
	runExact(t, []exactCase{
		{sql: `SELECT eventname AS e FROM cloudtrail_logs WHERE e = 'GetObject'`, wantErr: "line 1:50: Column 'e' cannot be resolved"},
		{sql: `SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY eventname HAVING n > 0`, wantErr: "Column 'n' cannot be resolved"},
		{sql: `SELECT count(*) FROM cloudtrail_logs c WHERE year = 2024`, wantErr: "line 1:51: Cannot apply operator: varchar = integer"},
		{sql: `SELECT count(*) FROM cloudtrail_logs WHERE 3 < month`, wantErr: "Cannot apply operator: integer < varchar"},
		{sql: `SELECT count(*) FROM cloudtrail_logs WHERE month IN ('03', 4)`, wantErr: "IN value and list items must be the same type: varchar"},
		{sql: `SELECT json_extract_path(requestparameters, 'a') FROM cloudtrail_logs`, wantErr: "Function 'json_extract_path' not registered"},
		{sql: `SELECT * FROM (VALUES (1), (2),) t(x)`, wantErr: "mismatched input ')'"},
		// string.html#concatenation-operator: || is concat, of strings (or arrays, varbinary).
		{sql: `SELECT count(*) || '/' FROM cloudtrail_logs`, wantErr: "line 1:17: Unexpected parameters (bigint, varchar(1)) for function concat"},
		{sql: `SELECT 'n=' || 2.5`, wantErr: "Unexpected parameters (varchar(2), decimal(2,1)) for function concat"},
		// Still accepted: an alias that is also a column names the column, as in Trino; a cast
		// partition compares as a number; an alias in ORDER BY.
		{sql: `SELECT upper(eventname) AS eventname FROM cloudtrail_logs WHERE eventname = 'GetObject'`, want: "GETOBJECT"},
		{sql: `SELECT count(*) FROM cloudtrail_logs WHERE CAST(year AS integer) = 2024 AND year = '2024'`, want: "3"},
		{sql: `SELECT eventname AS e FROM cloudtrail_logs ORDER BY e LIMIT 1`, want: "ConsoleLogin"},
		{sql: `SELECT CAST(count(*) AS varchar) || '/' || eventname FROM cloudtrail_logs GROUP BY eventname ORDER BY 1 LIMIT 1`, want: "1/ConsoleLogin"},
	})
}

// TestRejectionsJoins: the alias and varchar checks of TestRejections with several relations:
// the column is resolved against the relation it belongs to (https://trino.io/docs/current/sql/select.html,
// "Column 'a' cannot be resolved"; https://trino.io/docs/current/functions/comparison.html), and
// where the relation cannot be told the statement is not refused.
func TestRejectionsJoins(t *testing.T) {
	const unnest = ` FROM cloudtrail_logs t CROSS JOIN UNNEST(t.resources) AS u (r)`
	runExact(t, []exactCase{
		{sql: `SELECT r.arn AS a` + unnest + ` WHERE a = 'x'`, wantErr: "Column 'a' cannot be resolved"},
		{sql: `SELECT count(*) AS n` + unnest + ` GROUP BY eventname HAVING n > 1`, wantErr: "Column 'n' cannot be resolved"},
		{sql: `SELECT count(*)` + unnest + ` WHERE year = 2024`, wantErr: "Cannot apply operator: varchar = integer"},
		{sql: `SELECT count(*)` + unnest + ` WHERE t.month IN ('03', 4)`, wantErr: "IN value and list items must be the same type: varchar"},
		{sql: `SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE b.day > 5`, wantErr: "Cannot apply operator: varchar > integer"},
		{sql: `SELECT x.n AS m FROM (SELECT 1 AS n) x CROSS JOIN cloudtrail_logs WHERE m = 1`, wantErr: "Column 'm' cannot be resolved"},
		// Still accepted: a name that is a column of one of the relations; a column of a
		// subquery compared with a number; a name two unknown relations could hold.
		{sql: `SELECT upper(eventname) AS eventname, r.type AS r` + unnest + ` WHERE eventname = 'GetObject' AND r.type = 'AWS::S3::Bucket'`, want: "GETOBJECT | AWS::S3::Bucket"},
		{sql: `SELECT count(*) AS r` + unnest + ` WHERE r.type LIKE 'AWS::S3::%'`, want: "2"},
		{sql: `SELECT eventname AS m FROM (SELECT 1 AS m) x CROSS JOIN cloudtrail_logs WHERE m = 1 ORDER BY 1 LIMIT 1`, want: "ConsoleLogin"},
		{sql: `SELECT count(*) FROM cloudtrail_logs c JOIN (SELECT 2024 AS year) y ON true WHERE y.year = 2024`, want: "3"},
		{sql: `SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE a.year = '2024'`, want: "3"},
	})
}

// TestRowCasts: a row casts to a row by position; JSON casts to a row from an array by position
// and from an object by field name, case-insensitively, other keys ignored; JSON casts to a map
// and an array. https://trino.io/docs/current/language/types.html#row,
// https://trino.io/docs/current/functions/json.html#cast-from-json.
func TestRowCasts(t *testing.T) {
	runExact(t, []exactCase{
		{sql: `SELECT CAST(ROW(1, 'x') AS ROW(b INTEGER, a VARCHAR)).a, CAST(ROW(1, 'x') AS ROW(b INTEGER, a VARCHAR)).b`, want: "x | 1"},
		{sql: `SELECT CAST(CAST(NULL AS ROW(x INTEGER)) AS ROW(y BIGINT)) IS NULL`, want: "true"},
		{sql: `SELECT CAST(useridentity AS ROW(t VARCHAR, p VARCHAR)).t FROM cloudtrail_logs WHERE eventid = 'evt-1'`, want: "AssumedRole"},
		{sql: `SELECT CAST(json_parse(requestparameters) AS ROW(bucketname VARCHAR, "KEY" VARCHAR)).key FROM cloudtrail_logs WHERE eventid = 'evt-1'`, want: "datafile.txt"},
		{sql: `SELECT CAST(json_parse('[1, "x"]') AS ROW(b INTEGER, a VARCHAR)).a, CAST(json_parse('{"A": 2}') AS ROW(a BIGINT, b VARCHAR)).b IS NULL`, want: "x | true"},
		{sql: `SELECT CAST(json_parse('{"a": 1, "b": 2}') AS MAP(VARCHAR, INTEGER))['b'], CAST(json_parse('[1, 2]') AS ARRAY(INTEGER))[2]`, want: "2 | 2"},
	})
}

// TestQuestionsTranslate: the engine's own questions go through the translator too; the
// rejections above (function list, aliases, varchar comparisons, trailing commas) must leave
// every one of them translatable. (They run over a real lake in the questions and cmd tests.)
func TestQuestionsTranslate(t *testing.T) {
	files, err := filepath.Glob("../questions/sql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no question files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Translate(string(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
