package athena

// settings are the DuckDB settings translated SQL needs, for every connection of a database.
var settings = []string{
	// Trino divides integers as integers (5 / 2 = 2); DuckDB's "/" is a float division unless told.
	`SET GLOBAL integer_division = true`,
}

// setupStatements defines the helpers translated SQL calls. Each comment cites the Trino
// behaviour the macro reproduces (https://trino.io/docs/current/functions/...).
var setupStatements = []string{
	// datetime.html: date_add(unit, value, timestamp). DuckDB's own date_add takes two arguments.
	// An unknown unit fails as a cast rather than through error(), which is volatile and would
	// make TRY(date_add(...)) unbindable. Literal units are checked at translation time.
	`CREATE OR REPLACE TEMP MACRO trino_date_add(unit, n, ts) AS
  ts + CAST(n AS BIGINT) * CASE lower(unit)
    WHEN 'millisecond' THEN INTERVAL 1 MILLISECOND
    WHEN 'second' THEN INTERVAL 1 SECOND
    WHEN 'minute' THEN INTERVAL 1 MINUTE
    WHEN 'hour' THEN INTERVAL 1 HOUR
    WHEN 'day' THEN INTERVAL 1 DAY
    WHEN 'week' THEN INTERVAL 7 DAY
    WHEN 'month' THEN INTERVAL 1 MONTH
    WHEN 'quarter' THEN INTERVAL 3 MONTH
    WHEN 'year' THEN INTERVAL 1 YEAR
    ELSE CAST('invalid unit for date_add: ' || unit AS INTERVAL) END`,

	// datetime.html: date_diff counts whole units (23:00 to 01:00 the next day is 0 days);
	// DuckDB's datesub does, its date_diff counts boundaries crossed.
	`CREATE OR REPLACE TEMP MACRO trino_date_diff(unit, a, b) AS datesub(lower(unit), a, b)`,

	// datetime.html: to_iso8601 gives 2020-01-01T23:00:00.000Z for a timestamp with time zone.
	`CREATE OR REPLACE TEMP MACRO trino_to_iso8601(x) AS
  CASE typeof(x)
    WHEN 'DATE' THEN strftime(x, '%Y-%m-%d')
    WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(x, '%Y-%m-%dT%H:%M:%S.%g') ||
      CASE WHEN date_part('timezone', CAST(x AS TIMESTAMPTZ)) = 0 THEN 'Z'
      ELSE (CASE WHEN date_part('timezone', CAST(x AS TIMESTAMPTZ)) < 0 THEN '-' ELSE '+' END) ||
        lpad(CAST(abs(date_part('timezone', CAST(x AS TIMESTAMPTZ))) // 3600 AS VARCHAR), 2, '0') || ':' ||
        lpad(CAST(abs(date_part('timezone', CAST(x AS TIMESTAMPTZ))) % 3600 // 60 AS VARCHAR), 2, '0') END
    ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END`,

	// json.html: json_extract_scalar is NULL for an object, an array, a missing path and text
	// that is not JSON. The nested CASE keeps invalid rows away from the JSON parser.
	`CREATE OR REPLACE TEMP MACRO trino_json_extract_scalar(j, p) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END
  END`,

	// json.html: json_extract returns the JSON value at the path (here as its JSON text).
	`CREATE OR REPLACE TEMP MACRO trino_json_extract(j, p) AS
  CASE WHEN json_valid(j) THEN CAST(json_extract(j, p) AS VARCHAR) END`,

	// json.html: json_size is the number of members or elements, 0 for a scalar, NULL when missing.
	`CREATE OR REPLACE TEMP MACRO trino_json_size(j, p) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j, p) IS NULL THEN NULL
      WHEN json_type(j, p) = 'ARRAY' THEN CAST(json_array_length(j, p) AS BIGINT)
      WHEN json_type(j, p) = 'OBJECT' THEN CAST(len(json_keys(j, p)) AS BIGINT)
      ELSE CAST(0 AS BIGINT) END
  END`,

	// json.html: json_array_contains(json, value); elements are compared by their text.
	`CREATE OR REPLACE TEMP MACRO trino_json_array_contains(j, v) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j) = 'ARRAY' THEN list_contains(json_extract_string(j, '$[*]'), CAST(v AS VARCHAR)) END
  END`,

	// json.html: json_array_length is NULL when the value is not an array.
	`CREATE OR REPLACE TEMP MACRO trino_json_array_length(j) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j) = 'ARRAY' THEN CAST(json_array_length(j) AS BIGINT) END
  END`,

	// json.html: json_array_get(json_array, index), 0-based, negative from the end.
	`CREATE OR REPLACE TEMP MACRO trino_json_array_get(j, i) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j) = 'ARRAY' THEN CAST(json_extract(j,
      CASE WHEN i >= 0 THEN '$[' || CAST(i AS VARCHAR) || ']' ELSE '$[#' || CAST(i AS VARCHAR) || ']' END) AS VARCHAR) END
  END`,

	// json.html: json_parse checks and normalises JSON text.
	`CREATE OR REPLACE TEMP MACRO trino_json_parse(s) AS CAST(json(s) AS VARCHAR)`,
	// A JSON object as a map with lower-case keys: a cast of JSON to ROW matches names so.
	`CREATE OR REPLACE TEMP MACRO trino_json_lower_keys(j) AS map_from_entries(list_transform(
  map_entries(CAST(j AS MAP(VARCHAR, JSON))), lambda e: {'key': lower(e.key), 'value': e.value}))`,

	// json.html: CAST(json AS VARCHAR) is the scalar's value (a JSON string without its quotes).
	`CREATE OR REPLACE TEMP MACRO trino_json_to_varchar(j) AS
  CASE WHEN json_valid(j) THEN
    CASE WHEN json_type(j) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, '$') END
  END`,

	// regexp.html: regexp_extract is NULL when the pattern does not match (DuckDB gives '').
	`CREATE OR REPLACE TEMP MACRO trino_regexp_extract(s, p, g) AS
  CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END`,

	// regexp.html: regexp_position is the 1-based index of the first match, or -1.
	`CREATE OR REPLACE TEMP MACRO trino_regexp_position(s, p) AS
  CASE WHEN regexp_matches(s, p) THEN CAST(strpos(s, regexp_extract(s, p)) AS BIGINT) ELSE CAST(-1 AS BIGINT) END`,

	// regexp.html: a replacement computed at run time writes groups as $1; RE2 wants \1.
	`CREATE OR REPLACE TEMP MACRO trino_regexp_replacement(r) AS regexp_replace(r, '\$(\d)', '\\\1', 'g')`,

	// string.html: split_part is NULL when the index is past the last field (DuckDB gives '').
	`CREATE OR REPLACE TEMP MACRO trino_split_part(s, d, i) AS
  CASE WHEN i <= len(str_split(s, d)) THEN split_part(s, d, i) END`,

	// conversion.html: typeof names types the Trino way (varchar, array(varchar), row(...));
	// this is a best effort over DuckDB's names (timestamps keep DuckDB's precision).
	`CREATE OR REPLACE TEMP MACRO trino_typeof(x) AS
  regexp_replace(regexp_replace(replace(replace(lower(typeof(x)), 'struct(', 'row('),
    'timestamp with time zone', 'timestamp(3) with time zone'), '^(.*)\[\]$', 'array(\1)'),
    '^(timestamp|time)$', '\1(3)')`,

	// url.html: the parts of an RFC 2396 URL; NULL when the text has no such part.
	`CREATE OR REPLACE TEMP MACRO trino_url_extract_host(u) AS
  nullif(regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)', 1), '')`,
	`CREATE OR REPLACE TEMP MACRO trino_url_extract_protocol(u) AS
  nullif(regexp_extract(u, '^([A-Za-z][A-Za-z0-9+.-]*):', 1), '')`,
	`CREATE OR REPLACE TEMP MACRO trino_url_extract_path(u) AS
  CASE WHEN regexp_matches(u, '^[A-Za-z][A-Za-z0-9+.-]*:') THEN
    regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*:(?://[^/?#]*)?([^?#]*)', 1) END`,
	`CREATE OR REPLACE TEMP MACRO trino_url_extract_query(u) AS
  CASE WHEN regexp_matches(u, '^[^#]*\?') THEN regexp_extract(u, '^[^?#]*\?([^#]*)', 1) END`,
	`CREATE OR REPLACE TEMP MACRO trino_url_extract_parameter(u, name) AS
  list_extract(list_transform(
    list_filter(str_split(trino_url_extract_query(u), '&'), lambda trino_p: split_part(trino_p, '=', 1) = name),
    lambda trino_p: substr(trino_p, length(name) + 2)), 1)`,

	// array.html: cardinality(array).
	`CREATE OR REPLACE TEMP MACRO trino_cardinality(x) AS CAST(len(x) AS BIGINT)`,

	// array.html: array_distinct keeps the first occurrence of each value, in order.
	`CREATE OR REPLACE TEMP MACRO trino_array_distinct(a) AS
  list_filter(a, lambda trino_x, trino_i: list_position(a, trino_x) = trino_i)`,

	// array.html: slice(x, start, length), start negative counts from the end.
	`CREATE OR REPLACE TEMP MACRO trino_slice(a, s, n) AS
  CASE WHEN s > 0 THEN list_slice(a, s, s + n - 1) ELSE list_slice(a, len(a) + s + 1, len(a) + s + n) END`,
}

// Setup returns the DuckDB statements that must run before translated SQL runs on a connection:
// the integer-division setting Trino has (for the whole database: SET GLOBAL) and TEMP macros
// named trino_* (for the connection). Run them in order on a database's one connection; the
// engine, which opens several, runs the setting once and the macros on each (see Dialect).
func Setup() []string {
	return append(append([]string(nil), settings...), macros()...)
}

// macros are the statements of Setup that each connection runs.
func macros() []string {
	out := append([]string(nil), setupStatements...)
	out = append(out, exactChecks...)
	out = append(out, zoneStatements...)
	return append(out, exactStatements...)
}
