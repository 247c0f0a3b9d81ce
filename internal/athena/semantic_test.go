package athena

import (
	"fmt"
	"testing"
)

// TestSemantics runs translated Athena expressions in DuckDB and compares them with the values
// Trino documents. The comment on each group names the page of https://trino.io/docs/current/
// the expectation comes from. Values are compared by their fmt %v rendering.
func TestSemantics(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		sql  string
		want string
	}{
		// functions/json.html: json_extract_scalar returns a scalar as varchar, NULL otherwise.
		{`SELECT json_extract_scalar('{"a":{"b":1}}', '$.a')`, "<nil>"},
		{`SELECT json_extract_scalar('{"a":{"b":1}}', '$.a.b')`, "1"},
		{`SELECT json_extract_scalar('{"a":[1,2]}', '$.a')`, "<nil>"},
		{`SELECT json_extract_scalar('{"a":[1,{"b":"x"}]}', '$.a[1].b')`, "x"},
		{`SELECT json_extract_scalar('{"x-amz-copy-source":"b/k"}', '$["x-amz-copy-source"]')`, "b/k"},
		{`SELECT json_extract_scalar('not json', '$.a')`, "<nil>"},
		{`SELECT json_extract_scalar(NULL, '$.a')`, "<nil>"},
		{`SELECT json_extract_scalar('{"a":"x"}', '$.missing')`, "<nil>"},
		{`SELECT json_extract_scalar(requestparameters, '$.bucketName') FROM cloudtrail_logs WHERE eventid = 'evt-1'`, "example"},
		{`SELECT count(json_extract_scalar(additionaleventdata, '$.SignatureVersion')) FROM cloudtrail_logs`, "1"},
		{`SELECT json_extract('{"a":{"b":1}}', '$.a')`, `{"b":1}`},
		{`SELECT json_extract('{"a":"x"}', '$.a')`, `"x"`},
		{`SELECT json_extract('oops', '$.a')`, "<nil>"},
		{`SELECT CAST(json_extract('{"a":"x"}', '$.a') AS varchar)`, "x"},
		{`SELECT CAST(json_extract('{"a":["x","y"]}', '$.a') AS array(varchar))`, "[x y]"},
		{`SELECT json_size('{"x": {"a": 1, "b": 2}}', '$.x')`, "2"},
		{`SELECT json_size('{"x": [1, 2, 3]}', '$.x')`, "3"},
		{`SELECT json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')`, "0"},
		{`SELECT json_array_contains('[1, 2, 3]', 2)`, "true"},
		{`SELECT json_array_contains('["a", "b"]', 'c')`, "false"},
		{`SELECT json_array_length('[1, 2, 3]')`, "3"},
		{`SELECT json_array_get('["a", [3, 9], "c"]', 1)`, "[3,9]"},
		{`SELECT json_array_get('["a", [3, 9], "c"]', -1)`, `"c"`},
		{`SELECT json_format(json_parse('{"a" : 1}'))`, `{"a":1}`},
		{`SELECT CAST('abc' AS JSON)`, `"abc"`},

		// functions/datetime.html.
		{`SELECT date_diff('day', from_iso8601_timestamp('2020-01-01T23:00:00Z'), from_iso8601_timestamp('2020-01-02T01:00:00Z'))`, "0"},
		{`SELECT date_diff('hour', from_iso8601_timestamp('2020-01-01T23:00:00Z'), from_iso8601_timestamp('2020-01-02T01:00:00Z'))`, "2"},
		{`SELECT date_diff('second', from_iso8601_timestamp('2020-01-01T00:00:00Z'), from_iso8601_timestamp('2020-01-01T00:01:00.5Z'))`, "60"},
		{`SELECT date_diff('month', DATE '2020-01-15', DATE '2020-03-14')`, "1"},
		{`SELECT from_iso8601_timestamp('2020-01-01T23:00:00.123+02:00') = from_iso8601_timestamp('2020-01-01T21:00:00.123Z')`, "true"},
		{`SELECT to_iso8601(from_iso8601_timestamp('2020-05-11'))`, "2020-05-11T00:00:00.000Z"},
		{`SELECT to_iso8601(from_iso8601_timestamp('2020-01-01T23:00:00Z'))`, "2020-01-01T23:00:00.000Z"},
		{`SELECT to_iso8601(from_iso8601_date('2020-05-11'))`, "2020-05-11"},
		{`SELECT to_iso8601(date_add('day', 1, from_iso8601_timestamp('2020-01-31T10:00:00Z')))`, "2020-02-01T10:00:00.000Z"},
		{`SELECT to_iso8601(date_add('month', 1, from_iso8601_timestamp('2020-01-31T10:00:00Z')))`, "2020-02-29T10:00:00.000Z"},
		{`SELECT to_iso8601(date_add('hour', -48, from_iso8601_timestamp('2020-01-03T10:00:00Z')))`, "2020-01-01T10:00:00.000Z"},
		{`SELECT to_iso8601(date_add('millisecond', 5, from_iso8601_timestamp('2020-01-03T10:00:00Z')))`, "2020-01-03T10:00:00.005Z"},
		{`SELECT to_iso8601(date_add('quarter', 1, from_iso8601_timestamp('2020-01-03T10:00:00Z')))`, "2020-04-03T10:00:00.000Z"},
		{`SELECT to_iso8601(date_trunc('hour', from_iso8601_timestamp('2020-01-03T10:35:00Z')))`, "2020-01-03T10:00:00.000Z"},
		{`SELECT to_unixtime(from_iso8601_timestamp('1970-01-01T00:01:00.5Z'))`, "60.5"},
		{`SELECT to_iso8601(from_unixtime(86400))`, "1970-01-02T00:00:00.000Z"},
		{`SELECT date_format(from_iso8601_timestamp('2024-03-05T07:08:09Z'), '%Y-%m-%d %H:%i:%s')`, "2024-03-05 07:08:09"},
		{`SELECT date_format(from_iso8601_timestamp('2024-03-05T13:08:09Z'), '%W %a %b %M %c %e %h %k %l %p %r %T %j %y %%')`, "Tuesday Tue Mar March 3 5 01 13 1 PM 01:08:09 PM 13:08:09 065 24 %"},
		{`SELECT date_format(date_parse('2024-03-05T07:08:09Z', '%Y-%m-%dT%H:%i:%sZ'), '%H:%i:%s')`, "07:08:09"},
		{`SELECT format_datetime(from_iso8601_timestamp('2024-03-05T07:08:09.123Z'), 'yyyy-MM-dd''T''HH:mm:ss.SSS EEE')`, "2024-03-05T07:08:09.123 Tue"},
		{`SELECT to_iso8601(parse_datetime('2024-03-05 07:08', 'yyyy-MM-dd HH:mm'))`, "2024-03-05T07:08:00.000Z"},
		{`SELECT day_of_week(DATE '2024-03-10')`, "7"}, // a Sunday
		{`SELECT from_iso8601_timestamp(eventtime) > date_add('day', -7, now()) FROM cloudtrail_logs WHERE eventid = 'evt-1'`, "false"},

		// functions/regexp.html.
		{`SELECT regexp_like('1a 2b 14m', '\d+b')`, "true"},
		{`SELECT regexp_extract('abc', 'x')`, "<nil>"},
		{`SELECT regexp_extract('1a 2b 14m', '\d+')`, "1"},
		{`SELECT regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)`, "a"},
		{`SELECT regexp_extract_all('1a 2b 14m', '\d+')`, "[1 2 14]"},
		{`SELECT regexp_replace('1a 2b 14m', '\d+[ab] ')`, "14m"},
		{`SELECT regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')`, "3ca 3cb 14m"},
		{`SELECT regexp_replace('a$b', '\$', '\$\$')`, "a$$b"},

		// functions/string.html.
		{`SELECT split_part('a/b/c', '/', 2)`, "b"},
		{`SELECT split_part('a/b/c', '/', 5)`, "<nil>"},
		{`SELECT "split_part"('arn:aws:iam::1:role/x', '/', 2)`, "x"},
		{`SELECT split('a,b,c', ',')`, "[a b c]"},
		{`SELECT strpos('high', 'ig')`, "2"},
		{`SELECT replace('arn:aws:s3:::bucket', 'arn:aws:s3:::')`, "bucket"},
		{`SELECT concat('a', 'b', 'c')`, "abc"},
		{`SELECT concat('a', NULL)`, "<nil>"},
		{`SELECT "concat"('a', '/', 'b')`, "a/b"},
		{`SELECT length('abc'), lower('AbC'), upper('a'), trim('  x '), substr('abcd', 2, 2), reverse('ab'), starts_with('abc', 'ab')`, "3"},
		{`SELECT substr('abcd', -2)`, "cd"},

		// functions/array.html and map.html.
		{`SELECT element_at(ARRAY[1, 2], 5)`, "<nil>"},
		{`SELECT element_at(ARRAY[1, 2, 3], -1)`, "3"},
		{`SELECT element_at(MAP(ARRAY['a'], ARRAY[1]), 'a')`, "1"},
		{`SELECT element_at(MAP(ARRAY['a'], ARRAY[1]), 'b')`, "<nil>"},
		{`SELECT MAP(ARRAY['a'], ARRAY[1])['a']`, "1"},
		{`SELECT cardinality(ARRAY[1, 2, 3])`, "3"},
		{`SELECT cardinality(resources) FROM cloudtrail_logs WHERE eventid = 'evt-1'`, "2"},
		{`SELECT contains(ARRAY['a', 'b'], 'b')`, "true"},
		{`SELECT array_join(ARRAY['a', NULL, 'b'], ',')`, "a,b"},
		{`SELECT array_join(ARRAY['a', NULL, 'b'], ',', 'N')`, "a,N,b"},
		{`SELECT array_distinct(ARRAY[3, 1, 3, 2, 1])`, "[3 1 2]"},
		{`SELECT array_sort(ARRAY[3, NULL, 1])`, "[1 3 <nil>]"},
		{`SELECT array_position(ARRAY[5, 6], 7)`, "0"},
		{`SELECT slice(ARRAY[1, 2, 3, 4], 2, 2)`, "[2 3]"},
		{`SELECT array_agg(eventname ORDER BY eventname) FROM cloudtrail_logs`, "[ConsoleLogin GetObject RestoreDBInstanceFromDBSnapshot]"},
		{`SELECT r.arn FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r) ORDER BY 1 LIMIT 1`, "arn:aws:s3:::example"},
		{`SELECT n FROM UNNEST(ARRAY['a', 'b']) WITH ORDINALITY AS t(v, n) WHERE v = 'b'`, "2"},

		// functions/aggregate.html.
		{`SELECT approx_distinct(useridentity.accountid) FROM cloudtrail_logs`, "2"},
		{`SELECT approx_percentile(x, 0.5) FROM (VALUES (1), (2), (3)) AS t(x)`, "2"},
		{`SELECT count_if(errorcode IS NULL) FROM cloudtrail_logs`, "2"},
		{`SELECT max_by(eventname, eventtime) FROM cloudtrail_logs`, "RestoreDBInstanceFromDBSnapshot"},
		{`SELECT min_by(eventname, eventtime) FROM cloudtrail_logs`, "GetObject"},
		{`SELECT arbitrary(eventversion) FROM cloudtrail_logs`, "1.08"},

		// functions/conditional.html, conversion.html, language/types.html.
		{`SELECT IF(1 = 1, 'a', 'b')`, "a"},
		{`SELECT IF(1 = 2, 'a')`, "<nil>"},
		{`SELECT nullif('', ''), coalesce(NULL, 'x')`, "<nil>"},
		{`SELECT TRY_CAST('x' AS integer)`, "<nil>"},
		{`SELECT TRY(CAST('x' AS bigint))`, "<nil>"},
		{`SELECT CAST(12 AS varchar)`, "12"},
		{`SELECT CAST('1.5' AS double)`, "1.5"},
		{`SELECT 5 / 2`, "2"},
		{`SELECT CAST(MAP(ARRAY['k'], ARRAY[1]) AS map(varchar, bigint))['k']`, "1"},

		// language/types.html#row: an anonymous ROW has fields field0, field1, ….
		{`SELECT (1, 'a')`, "map[field0:1 field1:a]"},
		{`SELECT ROW(1, 'a')`, "map[field0:1 field1:a]"},
		{`SELECT DISTINCT (eventsource, eventname) FROM cloudtrail_logs WHERE eventid = 'evt-2'`, "map[field0:signin.amazonaws.com field1:ConsoleLogin]"},
		{`SELECT 2 IN (1, 2)`, "true"},
		{`SELECT (1 + 2) * 3`, "9"},

		// The Athena table: nested fields, case-insensitive names, LIKE ESCAPE.
		{`SELECT userIdentity.sessionContext.sessionIssuer.userName FROM cloudtrail_logs WHERE eventid = 'evt-1'`, "example"},
		{`SELECT 'a_b' LIKE 'a\_b' ESCAPE '\'`, "true"},
		{`SELECT count(*) FROM cloudtrail_logs WHERE useridentity.type = 'Root'`, "1"},
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
