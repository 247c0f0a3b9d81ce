package athena

import "strings"

// exactStatements define the macros of the Trino-exact rewrites (decimal.go, binary.go,
// timezone.go, reject.go); Setup runs them after setupStatements.
var exactStatements = []string{
	// language/types.html#decimal, functions/decimal.html: a / b of decimals, scaled to integers
	// by the translator (n = a·10^(s+s2), d = b·10^s2), is n / d rounded HALF_UP, times 10^-s.
	// Division by zero is NULL, a departure from Trino ("Division by zero") kept on purpose: it
	// is what integer division by zero gives here (DuckDB), and queries of the Athena corpus
	// divide by per-account counts minus one, zero for an account seen once in real logs.
	`CREATE OR REPLACE TEMP MACRO trino_round_half_up(n, d) AS
  CASE WHEN d = 0 THEN NULL
    ELSE (abs(n) // abs(d) + CASE WHEN 2 * (abs(n) % abs(d)) >= abs(d) THEN 1 ELSE 0 END) * sign(n) * sign(d) END`,
	`CREATE OR REPLACE TEMP MACRO trino_decimal_divide(a, b, pa, pb, unit) AS
  CAST(trino_round_half_up(CAST(a * pa AS HUGEINT), CAST(b * pb AS HUGEINT)) AS DECIMAL(38, 0)) * unit`,
}

// exactChecks are the macros that fail a statement the way Trino does. trino_check(ok, msg) is 0
// when ok is not false and otherwise fails with msg: the failure is a cast of text to BIGINT,
// which DuckDB evaluates only for the rows that reach it (error() is volatile and would make
// TRY(...) unbindable), and MapError turns DuckDB's "Could not convert string 'trino: msg'"
// back into msg.
var exactChecks = []string{
	`CREATE OR REPLACE TEMP MACRO trino_check(ok, msg) AS
  CAST(CASE WHEN ok IS NOT FALSE THEN '0' ELSE 'trino: ' || msg END AS BIGINT)`,

	// array.html: repeat(element, count) repeats element count times, count in [0, 10000].
	`CREATE OR REPLACE TEMP MACRO trino_repeat(e, n) AS
  list_resize([e], n + trino_check(n >= 0, 'count argument of repeat function must be greater than or equal to 0')
    + trino_check(n <= 10000, 'count argument of repeat function must be less than or equal to 10000'), e)`,

	// array.html: sequence(start, stop) steps by 1, or by -1 when stop < start, and may not have
	// more than 10000 entries; sequence(start, stop, step) needs a step that reaches stop.
	`CREATE OR REPLACE TEMP MACRO trino_sequence(a, b) AS
  generate_series(a + trino_check(abs(b - a) < 10000, 'result of sequence function must not have more than 10000 entries'),
    b, CASE WHEN a <= b THEN 1 ELSE -1 END)`,
	`CREATE OR REPLACE TEMP MACRO trino_sequence_step(a, b, s) AS
  generate_series(a + trino_check(s <> 0, 'step must not be zero')
    + trino_check(s > 0 AND a <= b OR s < 0 AND a >= b OR a = b, 'sequence stop value should be greater than or equal to start value if step is greater than zero otherwise stop should be less than or equal to start')
    + trino_check(s = 0 OR (b - a) // s < 10000, 'result of sequence function must not have more than 10000 entries'), b, s)`,

	// array.html, subscript operator: x[i] fails past the end of the array (element_at gives
	// NULL), at 0 and for a negative i.
	`CREATE OR REPLACE TEMP MACRO trino_subscript(a, i) AS
  a[i + trino_check(a IS NULL OR i IS NULL OR i > 0 AND i <= len(a), CASE
      WHEN i = 0 THEN 'SQL array indices start at 1'
      WHEN i < 0 THEN 'Array subscript is negative: ' || i
      ELSE 'Array subscript must be less than or equal to array length: ' || i || ' > ' || len(a) END)]`,

	// map.html, subscript operator: m[k] fails for a key the map does not have (element_at
	// gives NULL).
	`CREATE OR REPLACE TEMP MACRO trino_map_subscript(m, k) AS
  CASE WHEN trino_check(m IS NULL OR k IS NULL OR list_contains(map_keys(m), k), 'Key not present in map: ' || k) = 0 THEN m[k] END`,
}

// zoneStatements convert values with a time zone (see timezone.go). trino_at_timezone keeps
// the instant and still fails for a zone that does not exist, as Trino does.
var zoneStatements = []string{
	`CREATE OR REPLACE TEMP MACRO trino_at_timezone(x, z) AS
  CASE WHEN timezone(z, CAST(x AS TIMESTAMPTZ)) IS NULL THEN NULL ELSE CAST(x AS TIMESTAMPTZ) END`,
	`CREATE OR REPLACE TEMP MACRO trino_local_time(x, z) AS timezone(z, CAST(x AS TIMESTAMPTZ))`,
	`CREATE OR REPLACE TEMP MACRO trino_zoned_text(x, z) AS
  strftime(timezone(z, CAST(x AS TIMESTAMPTZ)), '%Y-%m-%d %H:%M:%S.%g') || ' ' || z`,
}

// trinoFailure extracts the message of a trino_check failure from a DuckDB error.
func trinoFailure(msg string) (string, bool) {
	const mark = "Could not convert string 'trino: "
	i := strings.Index(msg, mark)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(mark):]
	end := strings.Index(rest, "' to ")
	if end < 0 {
		return "", false
	}
	return strings.ReplaceAll(rest[:end], "''", "'"), true
}

// RuntimeError is a statement that failed while it ran, for a reason Trino reports the same way
// (an array subscript out of range, a division by zero, an unknown time zone); Msg is Trino's
// message.
type RuntimeError struct {
	Msg   string
	cause error
}

func (e *RuntimeError) Error() string { return e.Msg }

// Unwrap returns DuckDB's error.
func (e *RuntimeError) Unwrap() error { return e.cause }

// trinoMessage rewrites the first line of a DuckDB error into what Trino says, where the
// translation knows it: a select alias it qualified in WHERE or HAVING, an unknown time zone.
func (t *Translation) trinoMessage(msg string) string {
	for _, name := range t.qualified {
		if strings.Contains(msg, `does not have a column named "`+name+`"`) ||
			strings.Contains(msg, "column "+name+" must appear in the GROUP BY clause") {
			return "Column '" + name + "' cannot be resolved: a SELECT alias cannot be used in WHERE or HAVING in Athena; " +
				"repeat the expression there, or select it in a subquery and filter outside"
		}
	}
	if i := strings.Index(msg, "Unknown TimeZone '"); i >= 0 {
		rest := msg[i+len("Unknown TimeZone '"):]
		if end := strings.IndexByte(rest, '\''); end >= 0 {
			return "Time zone not supported: " + rest[:end] + " (use a zone name such as 'America/New_York' or 'UTC')"
		}
	}
	return msg
}
