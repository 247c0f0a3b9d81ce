package athena

import (
	"strings"
)

// call is one function call in the user's SQL: name, the trivia between the name and "(",
// the parenthesised group and its arguments split at top-level commas.
type call struct {
	r       *rewriter
	name    token
	fname   string // lower-case, unquoted
	between []node
	g       *node
	args    [][]node

	notScalar bool // in a table function's or a statement's position (see checkFunction)
}

// Trino semantics referenced below are from the Trino documentation, functions chapter
// (https://trino.io/docs/current/functions/*.html): datetime.html, json.html, regexp.html,
// string.html, array.html, aggregate.html, conditional.html, conversion.html.

// renamed are the functions that only change name: Trino's name → DuckDB's function or trino_
// macro (see Setup), with the argument counts Trino accepts.
var renamed = map[string]struct {
	to    string
	arity []int
}{
	"to_iso8601":           {"trino_to_iso8601", []int{1}},
	"to_unixtime":          {"epoch", []int{1}},
	"day_of_year":          {"dayofyear", []int{1}},
	"doy":                  {"dayofyear", []int{1}},
	"day_of_month":         {"day", []int{1}},
	"year_of_week":         {"isoyear", []int{1}},
	"yow":                  {"isoyear", []int{1}},
	"week_of_year":         {"week", []int{1}},
	"json_array_contains":  {"trino_json_array_contains", []int{2}},
	"json_array_length":    {"trino_json_array_length", []int{1}},
	"json_array_get":       {"trino_json_array_get", []int{2}},
	"json_parse":           {"trino_json_parse", []int{1}},
	"regexp_like":          {"regexp_matches", []int{2}},
	"regexp_extract_all":   {"regexp_extract_all", []int{2, 3}},
	"regexp_position":      {"trino_regexp_position", []int{2}},
	"regexp_split":         {"regexp_split_to_array", []int{2}},
	"split_part":           {"trino_split_part", []int{3}},
	"levenshtein_distance": {"levenshtein", []int{2}},
	"codepoint":            {"unicode", []int{1}},
	// URLs (url.html): NULL when the text is not a URL with that part.
	"url_extract_host":      {"trino_url_extract_host", []int{1}},
	"url_extract_path":      {"trino_url_extract_path", []int{1}},
	"url_extract_protocol":  {"trino_url_extract_protocol", []int{1}},
	"url_extract_query":     {"trino_url_extract_query", []int{1}},
	"url_extract_parameter": {"trino_url_extract_parameter", []int{2}},
	"typeof":                {"trino_typeof", []int{1}},
	"contains":              {"list_contains", []int{2}},
	"array_distinct":        {"trino_array_distinct", []int{1}},
	"array_max":             {"list_max", []int{1}},
	"array_min":             {"list_min", []int{1}},
	"slice":                 {"trino_slice", []int{3}},
	"sequence":              {"generate_series", []int{2, 3}},
	"transform":             {"list_transform", []int{2}},
	"filter":                {"list_filter", []int{2}},
}

// translate writes the DuckDB form of the call. Functions not listed pass through unchanged
// (with a double-quoted name unquoted), so DuckDB reports the ones it does not know.
func (c *call) translate() error {
	if done, err := c.exact(); done || err != nil {
		return err
	}
	if r, ok := renamed[c.fname]; ok {
		return c.macro(r.to, r.arity...)
	}
	switch c.fname {
	// Date and time (datetime.html).
	case "from_iso8601_timestamp", "from_iso8601_timestamp_nanos":
		// Trino returns timestamp(3) with time zone; DuckDB's cast accepts 'Z', offsets,
		// fractional seconds and date-only text, using the session time zone when none is given.
		// Departure from Trino, on purpose: text that is not ISO-8601 gives NULL instead of failing
		// the whole query. Real exports hold placeholders ("...", "redacted") in eventTime, and a
		// query over a year of logs should not die on one of them; such rows match no time
		// predicate, as rows with a NULL eventTime do.
		return c.wrap(1, "TRY_CAST(", " AS TIMESTAMPTZ)")
	case "from_iso8601_date":
		return c.wrap(1, "TRY_CAST(", " AS DATE)")
	case "from_unixtime":
		// from_unixtime(n, zone) names the zone the value is shown in; DuckDB keeps instants only.
		if err := c.want(1, 2); err != nil {
			return err
		}
		return c.emit("to_timestamp(", 0, ")")
	case "from_unixtime_nanos":
		return c.wrap(1, "make_timestamp_ns(CAST(", " AS BIGINT))")
	case "date_add":
		if err := c.want(3); err != nil {
			return err
		}
		if err := c.checkUnit(0); err != nil {
			return err
		}
		if looksLikeDate(c.args[2]) {
			// Trino keeps a DATE a DATE; DuckDB's DATE + INTERVAL is a TIMESTAMP.
			return c.emit("CAST(trino_date_add(", 0, ",", 1, ",", 2, ") AS DATE)")
		}
		return c.macro("trino_date_add", 3)
	case "date_diff":
		if err := c.want(3); err != nil {
			return err
		}
		if err := c.checkUnit(0); err != nil {
			return err
		}
		return c.macro("trino_date_diff", 3)
	case "date_trunc":
		if err := c.want(2); err != nil {
			return err
		}
		if err := c.checkUnit(0); err != nil {
			return err
		}
		if looksLikeDate(c.args[1]) {
			return c.emit("CAST(date_trunc(", 0, ",", 1, ") AS DATE)")
		}
		return c.passthrough("date_trunc")
	case "date_parse":
		return c.format("strptime", mysqlToStrftime, false)
	case "date_format":
		return c.format("strftime", mysqlToStrftime, false)
	case "parse_datetime":
		return c.format("strptime", jodaToStrftime, true)
	case "format_datetime":
		return c.format("strftime", jodaToStrftime, false)
	case "date":
		return c.wrap(1, "CAST(", " AS DATE)")
	case "day_of_week", "dow":
		return c.macro("isodow", 1) // Trino: 1 = Monday … 7 = Sunday (ISO); DuckDB's dow is 0 = Sunday.
	case "current_timezone":
		if err := c.want(0); err != nil {
			return err
		}
		c.lit("current_setting('TimeZone')")
		return nil

	// JSON (json.html). The payload columns are VARCHAR holding JSON text; JSON values produced
	// here are VARCHAR too, so the Go driver returns them as text as Athena does.
	case "json_extract_scalar":
		return c.jsonPath("trino_json_extract_scalar")
	case "json_extract":
		return c.jsonPath("trino_json_extract")
	case "json_size":
		return c.jsonPath("trino_json_size")
	case "json_format":
		return c.wrap(1, "CAST(", " AS VARCHAR)")

	// Regular expressions (regexp.html). Trino uses Java patterns, DuckDB RE2; the common
	// subset behaves the same.
	case "regexp_extract":
		if err := c.want(2, 3); err != nil {
			return err
		}
		if len(c.args) == 2 {
			return c.emit("trino_regexp_extract(", 0, ",", 1, ", 0)")
		}
		return c.macro("trino_regexp_extract", 3)
	case "regexp_replace":
		return c.regexpReplace()
	case "regexp_count":
		return c.emit("len(regexp_extract_all(", 0, ",", 1, "))")

	// Strings (string.html).
	case "split":
		if len(c.args) == 3 {
			return c.unsupported("split with a limit")
		}
		return c.macro("str_split", 2)
	case "strpos":
		if len(c.args) == 3 {
			return c.unsupported("strpos with an instance argument")
		}
		return c.macro("strpos", 2)
	case "replace":
		if err := c.want(2, 3); err != nil {
			return err
		}
		if len(c.args) == 2 {
			return c.emit("replace(", 0, ",", 1, ", '')")
		}
		return c.passthrough("replace")
	case "concat":
		return c.concat()
	case "format":
		return c.passthrough("printf")

	// Arrays and maps (array.html, map.html).
	case "any_match":
		// Trino: true if an element matches, false for an empty array or when none does.
		if err := c.want(2); err != nil {
			return err
		}
		return c.emit("coalesce(list_bool_or(list_transform(", 0, ",", 1, ")), false)")
	case "all_match":
		if err := c.want(2); err != nil {
			return err
		}
		return c.emit("coalesce(list_bool_and(list_transform(", 0, ",", 1, ")), true)")
	case "none_match":
		if err := c.want(2); err != nil {
			return err
		}
		return c.emit("NOT coalesce(list_bool_or(list_transform(", 0, ",", 1, ")), false)")
	case "element_at":
		// A subscript is 1-based, counts from the end when negative and is NULL out of range,
		// for lists; for maps it is the value or NULL, as element_at is in Trino.
		return c.emit("(", 0, ")[", 1, "]")
	case "cardinality":
		// DuckDB's len takes lists and its cardinality maps, and the argument's type is unknown
		// here: an argument that visibly is a map takes cardinality, anything else len.
		if len(c.args) == 1 && looksLikeMap(c.args[0]) {
			return c.macro("cardinality", 1)
		}
		return c.macro("trino_cardinality", 1)
	case "array_join":
		if err := c.want(2, 3); err != nil {
			return err
		}
		if len(c.args) == 3 {
			return c.emit("array_to_string(list_transform(", 0, ", lambda trino_x: coalesce(CAST(trino_x AS VARCHAR),", 2, ")),", 1, ")")
		}
		return c.macro("array_to_string", 2)
	case "array_sort":
		if len(c.args) == 2 {
			return c.unsupported("array_sort with a comparator")
		}
		return c.emit("list_sort(", 0, ", 'ASC', 'NULLS LAST')")
	case "array_position":
		return c.emit("coalesce(list_position(", 0, ",", 1, "), 0)")
	case "array_remove":
		return c.emit("list_filter(", 0, ", lambda trino_x: trino_x IS DISTINCT FROM ", 1, ")")
	case "array_union":
		return c.emit("list_distinct(list_concat(", 0, ",", 1, "))")

	// Aggregates (aggregate.html).
	case "approx_distinct":
		if err := c.want(1, 2); err != nil {
			return err
		}
		return c.emit("count(DISTINCT ", 0, ")") // exact; Trino's is an estimate with 2.3% standard error
	case "approx_percentile":
		if len(c.args) != 2 {
			return c.unsupported("approx_percentile with a weight or accuracy")
		}
		return c.passthrough("quantile_disc")
	case "arbitrary":
		return c.passthrough("any_value")
	case "every":
		return c.passthrough("bool_and")
	case "approx_set", "merge", "qdigest_agg", "tdigest_agg", "numeric_histogram":
		return c.unsupported(c.fname)

	// Conditional (conditional.html).
	case "try":
		// DuckDB has TRY(expr) too: NULL where evaluating expr fails. Best effort only: DuckDB
		// refuses TRY around volatile functions (random(), uuid()), and an error DuckDB raises
		// while planning (an unknown column, a type mismatch) is not caught, as in Trino.
		if err := c.want(1); err != nil {
			return err
		}
		return c.passthrough("TRY")
	case "if":
		if err := c.want(2, 3); err != nil {
			return err
		}
		if len(c.args) == 2 {
			return c.emit("(CASE WHEN ", 0, " THEN ", 1, " END)")
		}
		return c.emit("(CASE WHEN ", 0, " THEN ", 1, " ELSE ", 2, " END)")

	// Conversion (conversion.html) and row construction.
	case "rollup", "cube":
		// Grouping elements: (a, b) inside is a set of columns, not a ROW value.
		c.r.tok(c.name)
		c.r.verbatim(c.between)
		return c.r.group(c.g, true)
	case "cast", "try_cast":
		return c.cast()
	case "row":
		if len(c.args) == 0 {
			return c.unsupported("an empty ROW")
		}
		return c.r.structPack(c.name.pos, c.args, c.g.close)
	}
	return c.passthrough("")
}

// passthrough writes the call under newName (or its own name, unquoted when it is a plain word)
// with its argument list translated.
func (c *call) passthrough(newName string) error {
	if newName == "" {
		newName = c.name.text
		if c.name.kind == tkQuoted && plainWord(c.name.name()) {
			newName = c.name.name()
		}
	}
	if newName == c.name.text {
		c.r.tok(c.name)
	} else {
		c.r.synth(newName, c.name.pos)
	}
	c.r.verbatim(c.between)
	return c.r.group(c.g, false)
}

// plainWord reports whether s can be written as an unquoted identifier.
func plainWord(s string) bool {
	if s == "" || reserved[strings.ToLower(s)] {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// want checks the number of arguments.
func (c *call) want(counts ...int) error {
	for _, n := range counts {
		if len(c.args) == n {
			return nil
		}
	}
	var alts []string
	for _, n := range counts {
		alts = append(alts, itoa(n))
	}
	return c.r.errorf(c.name.pos, "unexpected parameters for function %s: expected %s argument(s), got %d",
		c.fname, strings.Join(alts, " or "), len(c.args))
}

// unsupported reports a Trino feature the translation does not provide.
func (c *call) unsupported(what string) error {
	return c.r.errorf(c.name.pos, "%s is not supported by trailsql's Athena translation", what)
}

// lit writes synthesized text attributed to the call's name.
func (c *call) lit(s string) { c.r.synth(s, c.name.pos) }

// emit writes a sequence of literal strings (string parts) and argument indexes (int parts).
func (c *call) emit(parts ...any) error {
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			c.lit(p)
		case int:
			if p >= len(c.args) {
				return c.r.errorf(c.name.pos, "function %s needs more arguments", c.fname)
			}
			if err := c.r.seq(c.args[p], false); err != nil {
				return err
			}
		}
	}
	if len(parts) > 0 {
		if s, ok := parts[len(parts)-1].(string); ok && strings.HasSuffix(s, ")") {
			// Attribute the closing parenthesis to the user's ")" for error positions.
			c.r.spans[len(c.r.spans)-1].orig = c.g.close.pos
		}
	}
	return nil
}

// wrap writes before + the only argument + after.
func (c *call) wrap(n int, before, after string) error {
	if err := c.want(n); err != nil {
		return err
	}
	return c.emit(before, 0, after)
}

// macro writes newName(args...) after checking the argument count against counts.
func (c *call) macro(newName string, counts ...int) error {
	if err := c.want(counts...); err != nil {
		return err
	}
	c.lit(newName + "(")
	for i := range c.args {
		if i > 0 {
			c.lit(",")
		}
		if err := c.r.seq(c.args[i], false); err != nil {
			return err
		}
	}
	c.r.tok(c.g.close)
	return nil
}

// stringArg returns argument i when it is a single string literal.
func (c *call) stringArg(i int) (token, bool) {
	if i >= len(c.args) {
		return token{}, false
	}
	s := sigNodes(c.args[i])
	if len(s) == 1 && !s[0].group && s[0].tok.kind == tkString {
		return s[0].tok, true
	}
	return token{}, false
}

// units lists the units of Trino's date_add, date_diff and date_trunc.
var units = map[string]bool{
	"millisecond": true, "second": true, "minute": true, "hour": true, "day": true,
	"week": true, "month": true, "quarter": true, "year": true,
}

// checkUnit rejects a literal unit Trino does not know.
func (c *call) checkUnit(i int) error {
	t, ok := c.stringArg(i)
	if !ok {
		return nil
	}
	if !units[strings.ToLower(t.stringValue())] {
		return c.r.errorf(t.pos, "'%s' is not a valid unit for %s: use millisecond, second, minute, hour, day, week, month, quarter or year", t.stringValue(), c.fname)
	}
	return nil
}

// format translates a call whose second argument is a date/time format, converted at
// translation time; toTZ makes the result a TIMESTAMP WITH TIME ZONE.
func (c *call) format(fn string, conv func(string) (string, int, error), toTZ bool) error {
	if err := c.want(2); err != nil {
		return err
	}
	t, ok := c.stringArg(1)
	if !ok {
		return c.r.errorf(firstPos(c.args[1], c.name.pos), "the format of %s must be a string literal in trailsql", c.fname)
	}
	f, at, err := conv(t.stringValue())
	if err != nil {
		return c.r.errorf(t.pos+1+at, "%s: %v", c.fname, err)
	}
	if toTZ {
		c.lit("CAST(")
	}
	c.lit(fn + "(")
	if err := c.r.seq(c.args[0], false); err != nil {
		return err
	}
	c.lit(", ")
	c.r.synth(quoteString(f), t.pos)
	c.r.tok(c.g.close)
	if toTZ {
		c.lit(" AS TIMESTAMPTZ)")
	}
	return nil
}

// quoteString writes s as a SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// jsonPath writes a JSON function whose second argument is a JSONPath, converting a literal path
// to DuckDB's syntax ($["a-b"] becomes $."a-b").
func (c *call) jsonPath(macro string) error {
	if err := c.want(2); err != nil {
		return err
	}
	t, ok := c.stringArg(1)
	if !ok {
		return c.macro(macro, 2)
	}
	p, at, err := convertJSONPath(t.stringValue())
	if err != nil {
		return c.r.errorf(t.pos+1+at, "invalid JSON path: %v", err)
	}
	c.lit(macro + "(")
	if err := c.r.seq(c.args[0], false); err != nil {
		return err
	}
	c.lit(", ")
	c.r.synth(quoteString(p), t.pos)
	c.r.tok(c.g.close)
	return nil
}

// regexpReplace translates regexp_replace: Trino replaces every match and writes groups as $n.
func (c *call) regexpReplace() error {
	if err := c.want(2, 3); err != nil {
		return err
	}
	if len(c.args) == 2 {
		return c.emit("regexp_replace(", 0, ",", 1, ", '', 'g')")
	}
	for _, n := range sigNodes(c.args[2]) {
		if !n.group && n.tok.text == "->" {
			return c.unsupported("regexp_replace with a lambda")
		}
	}
	t, ok := c.stringArg(2)
	if !ok {
		return c.emit("regexp_replace(", 0, ",", 1, ", trino_regexp_replacement(", 2, "), 'g')")
	}
	rep, at, err := convertReplacement(t.stringValue())
	if err != nil {
		return c.r.errorf(t.pos+1+at, "regexp_replace: %v", err)
	}
	if err := c.emit("regexp_replace(", 0, ",", 1, ", "); err != nil {
		return err
	}
	c.r.synth(quoteString(rep), t.pos)
	c.lit(", 'g')")
	return nil
}

// convertReplacement turns a Java replacement string ($1, ${name}, \$) into an RE2 one (\1).
func convertReplacement(s string) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			if i+1 >= len(s) {
				return "", i, errorString("trailing backslash in the replacement")
			}
			i++
			if s[i] == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteByte(s[i])
			}
		case '$':
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i++
				if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
					return "", i, errorString("group numbers above 9 are not supported")
				}
				continue
			}
			return "", i, errorString("named groups and a bare '$' are not supported in the replacement")
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), 0, nil
}

// errorString is a constant error message.
type errorString string

func (e errorString) Error() string { return string(e) }

// concat writes Trino's concat, which is NULL when any argument is NULL, as DuckDB's ||
// (DuckDB's concat skips NULLs). || also concatenates lists.
func (c *call) concat() error {
	if len(c.args) == 0 {
		return c.want(1)
	}
	c.lit("(")
	for i := range c.args {
		if i > 0 {
			c.lit(" || ")
		}
		c.lit("(")
		if err := c.r.seq(c.args[i], false); err != nil {
			return err
		}
		c.lit(")")
	}
	c.r.tok(c.g.close)
	return nil
}

// mapMakers are the functions whose result is a map.
var mapMakers = map[string]bool{
	"map": true, "map_from_entries": true, "map_agg": true, "histogram": true, "multimap_agg": true,
	"map_concat": true, "map_filter": true, "transform_values": true, "transform_keys": true,
}

// looksLikeMap reports whether an argument is visibly a map: a map-making call, a CAST to a map
// type, or the one map column of the CloudTrail table (...webidfederationdata.attributes).
func looksLikeMap(arg []node) bool {
	s := sigNodes(arg)
	if len(s) == 0 {
		return false
	}
	if len(s) == 2 && isWord(&s[0]) && s[1].group {
		name := strings.ToLower(s[0].tok.name())
		if mapMakers[name] {
			return true
		}
		if name == "cast" || name == "try_cast" {
			k := sigNodes(s[1].kids)
			for i := 0; i+1 < len(k); i++ {
				if isKeyword(&k[i], "as") && isKeyword(&k[i+1], "map") {
					return true
				}
			}
		}
		return false
	}
	for i := 0; i+2 < len(s); i++ {
		if isWord(&s[i]) && strings.EqualFold(s[i].tok.name(), "webidfederationdata") &&
			!s[i+1].group && s[i+1].tok.text == "." && isWord(&s[i+2]) && strings.EqualFold(s[i+2].tok.name(), "attributes") && i+3 == len(s) {
			return true
		}
	}
	return false
}

// looksLikeDate reports whether an argument is visibly a DATE (current_date, DATE '…', a cast to
// date, date(…), from_iso8601_date(…), or date_add/date_trunc of one), for the functions whose
// DuckDB counterparts turn a DATE into a TIMESTAMP where Trino keeps it a DATE.
func looksLikeDate(arg []node) bool {
	s := sigNodes(arg)
	switch {
	case len(s) == 1:
		return isKeyword(&s[0], "current_date")
	case len(s) == 2 && isKeyword(&s[0], "date") && !s[1].group && s[1].tok.kind == tkString:
		return true
	case len(s) == 2 && isWord(&s[0]) && s[1].group && s[1].tok.kind == tkLParen:
		switch strings.ToLower(s[0].tok.name()) {
		case "date", "from_iso8601_date":
			return true
		case "cast", "try_cast":
			k := sigNodes(s[1].kids)
			return len(k) >= 2 && isKeyword(&k[len(k)-2], "as") && isKeyword(&k[len(k)-1], "date")
		case "date_add", "date_trunc":
			args := splitArgs(s[1].kids)
			return len(args) > 0 && looksLikeDate(args[len(args)-1])
		}
	}
	return false
}
