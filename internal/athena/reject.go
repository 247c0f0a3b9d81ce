package athena

import (
	"strings"
)

// trinoFunctions are the names of Trino's functions and of the syntax written like a call
// (https://trino.io/docs/current/functions/list.html), the functions Athena engine version 3
// knows. A name outside the list that DuckDB happens to have (json_extract_path, list_value,
// strftime, …) would run here and fail in Athena, so it is refused as Trino refuses it:
// "Function 'x' not registered". Geospatial ST_* names are accepted as a family.
var trinoFunctions = map[string]bool{
	"abs": true, "acos": true, "all_match": true, "any_match": true, "any_value": true,
	"approx_distinct": true, "approx_most_frequent": true, "approx_percentile": true,
	"approx_set": true, "arbitrary": true, "array": true, "array_agg": true, "array_distinct": true,
	"array_except": true, "array_first": true, "array_histogram": true, "array_intersect": true,
	"array_join": true, "array_last": true, "array_max": true, "array_min": true,
	"array_position": true, "array_remove": true, "array_sort": true, "array_union": true,
	"arrays_overlap": true, "asin": true, "at_timezone": true, "atan": true, "atan2": true,
	"avg": true, "bar": true, "beta_cdf": true, "bing_tile": true, "bing_tile_at": true,
	"bing_tile_coordinates": true, "bing_tile_polygon": true, "bing_tile_quadkey": true,
	"bing_tile_zoom_level": true, "bing_tiles_around": true, "bit_count": true, "bitwise_and": true,
	"bitwise_and_agg": true, "bitwise_left_shift": true, "bitwise_not": true, "bitwise_or": true,
	"bitwise_or_agg": true, "bitwise_right_shift": true, "bitwise_right_shift_arithmetic": true,
	"bitwise_xor": true, "bool_and": true, "bool_or": true, "cardinality": true, "cast": true,
	"cbrt": true, "ceil": true, "ceiling": true, "char2hexint": true, "checksum": true, "chr": true,
	"classifier": true, "classify": true, "coalesce": true, "codepoint": true, "collect": true,
	"color": true, "combinations": true, "concat": true, "concat_ws": true, "contains": true,
	"contains_sequence": true, "convex_hull_agg": true, "corr": true, "cos": true, "cosh": true,
	"cosine_distance": true, "cosine_similarity": true, "count": true, "count_if": true,
	"covar_pop": true, "covar_samp": true, "crc32": true, "cube": true, "cume_dist": true,
	"current_date": true, "current_groups": true, "current_time": true, "current_timestamp": true,
	"current_timezone": true, "current_user": true, "date": true, "date_add": true, "date_diff": true,
	"date_format": true, "date_parse": true, "date_trunc": true, "day": true, "day_of_month": true,
	"day_of_week": true, "day_of_year": true, "decimal": true, "degrees": true, "dense_rank": true,
	"dow": true, "doy": true, "e": true, "element": true, "element_at": true,
	"empty_approx_set": true, "ends_with": true, "evaluate_classifier_predictions": true,
	"every": true, "exclude_columns": true, "exp": true, "extract": true, "features": true,
	"filter": true, "first": true, "first_value": true, "flatten": true, "floor": true,
	"format": true, "format_datetime": true, "format_number": true, "from_base": true,
	"from_base32": true, "from_base64": true, "from_base64url": true, "from_big_endian_32": true,
	"from_big_endian_64": true, "from_encoded_polyline": true, "from_geojson_geometry": true,
	"from_hex": true, "from_ieee754_32": true, "from_ieee754_64": true, "from_iso8601_date": true,
	"from_iso8601_timestamp": true, "from_iso8601_timestamp_nanos": true, "from_unixtime": true,
	"from_unixtime_nanos": true, "from_utf8": true, "fusion": true, "geometric_mean": true,
	"geometry_collect_agg": true, "geometry_from_hadoop_shape": true, "geometry_invalid_reason": true,
	"geometry_nearest_points": true, "geometry_to_bing_tiles": true, "geometry_union": true,
	"geometry_union_agg": true, "great_circle_distance": true, "greatest": true, "grouping": true,
	"hamming_distance": true, "hash_counts": true, "histogram": true, "hmac_md5": true,
	"hmac_sha1": true, "hmac_sha256": true, "hmac_sha512": true, "hour": true,
	"human_readable_seconds": true, "if": true, "index": true, "infinity": true, "intersection": true,
	"intersection_cardinality": true, "inverse_beta_cdf": true, "inverse_normal_cdf": true,
	"is_finite": true, "is_infinite": true, "is_json_scalar": true, "is_nan": true,
	"jaccard_index": true, "json": true, "json_array": true, "json_array_contains": true,
	"json_array_get": true, "json_array_length": true, "json_exists": true, "json_extract": true,
	"json_extract_scalar": true, "json_format": true, "json_object": true, "json_parse": true,
	"json_query": true, "json_scalar": true, "json_serialize": true, "json_size": true,
	"json_value": true, "kurtosis": true, "lag": true, "last": true, "last_day_of_month": true,
	"last_value": true, "lead": true, "learn_classifier": true, "learn_libsvm_classifier": true,
	"learn_libsvm_regressor": true, "learn_regressor": true, "least": true, "length": true,
	"levenshtein_distance": true, "line_interpolate_point": true, "line_interpolate_points": true,
	"line_locate_point": true, "listagg": true, "ln": true, "localtime": true, "localtimestamp": true,
	"log": true, "log10": true, "log2": true, "lower": true, "lpad": true, "ltrim": true,
	"luhn_check": true, "make_set_digest": true, "map": true, "map_agg": true, "map_concat": true,
	"map_entries": true, "map_filter": true, "map_from_entries": true, "map_keys": true,
	"map_union": true, "map_values": true, "map_zip_with": true, "match_number": true, "max": true,
	"max_by": true, "md5": true, "merge": true, "merge_set_digest": true, "millisecond": true,
	"min": true, "min_by": true, "minute": true, "mod": true, "month": true, "multimap_agg": true,
	"multimap_from_entries": true, "murmur3": true, "nan": true, "next": true, "ngrams": true,
	"none_match": true, "normal_cdf": true, "normalize": true, "now": true, "nth_value": true,
	"ntile": true, "nullif": true, "numeric_histogram": true, "objectid": true,
	"objectid_timestamp": true, "parse_data_size": true, "parse_datetime": true,
	"parse_duration": true, "percent_rank": true, "permute": true, "pi": true, "position": true,
	"pow": true, "power": true, "prev": true, "qdigest_agg": true, "quarter": true, "radians": true,
	"rand": true, "random": true, "rank": true, "reduce": true, "reduce_agg": true,
	"regexp_count": true, "regexp_extract": true, "regexp_extract_all": true, "regexp_like": true,
	"regexp_position": true, "regexp_replace": true, "regexp_split": true, "regr_intercept": true,
	"regr_slope": true, "regress": true, "render": true, "repeat": true, "replace": true,
	"reverse": true, "rgb": true, "rollup": true, "round": true, "row": true, "row_number": true,
	"rpad": true, "rtrim": true, "second": true, "sequence": true, "set": true, "sha1": true,
	"sha256": true, "sha512": true, "shuffle": true, "sign": true, "simplify_geometry": true,
	"sin": true, "sinh": true, "skewness": true, "slice": true, "soundex": true,
	"spatial_partitioning": true, "spatial_partitions": true, "split": true, "split_part": true,
	"split_to_map": true, "split_to_multimap": true, "spooky_hash_v2_32": true,
	"spooky_hash_v2_64": true, "sqrt": true, "starts_with": true, "stddev": true, "stddev_pop": true,
	"stddev_samp": true, "strpos": true, "substr": true, "substring": true, "sum": true, "tan": true,
	"tanh": true, "tdigest_agg": true, "theta_sketch_cardinality": true, "theta_sketch_union": true,
	"timestamp_objectid": true, "timezone": true, "timezone_hour": true, "timezone_minute": true,
	"title_case": true, "to_base": true, "to_base32": true, "to_base64": true, "to_base64url": true,
	"to_big_endian_32": true, "to_big_endian_64": true, "to_char": true, "to_date": true,
	"to_encoded_polyline": true, "to_geojson_geometry": true, "to_geometry": true, "to_hex": true,
	"to_ieee754_32": true, "to_ieee754_64": true, "to_iso8601": true, "to_milliseconds": true,
	"to_spherical_geography": true, "to_timestamp": true, "to_unixtime": true, "to_utf8": true,
	"transform": true, "transform_keys": true, "transform_values": true, "translate": true,
	"trim": true, "trim_array": true, "truncate": true, "try": true, "try_cast": true, "typeof": true,
	"unnest": true, "upper": true, "url_decode": true, "url_encode": true,
	"url_extract_fragment": true, "url_extract_host": true, "url_extract_parameter": true,
	"url_extract_path": true, "url_extract_port": true, "url_extract_protocol": true,
	"url_extract_query": true, "uuid": true, "value_at_quantile": true, "values_at_quantiles": true,
	"var_pop": true, "var_samp": true, "variance": true, "version": true, "week": true,
	"week_of_year": true, "width_bucket": true, "wilson_interval_lower": true,
	"wilson_interval_upper": true, "with_timezone": true, "word_stem": true, "xxhash64": true,
	"year": true, "year_of_week": true, "yow": true, "zip": true, "zip_with": true,
}

// checkFunction refuses a call to a function Trino does not have.
func (c *call) checkFunction() error {
	if c.notScalar || trinoFunctions[c.fname] || strings.HasPrefix(c.fname, "st_") {
		return nil
	}
	return c.r.errorf(c.name.pos, "Function '%s' not registered: Athena (Trino) has no function of that name; see https://trino.io/docs/current/functions/list.html for the functions it has", c.fname)
}

// statementWords begin DuckDB statements that are not queries (COPY (…) TO, CALL f(), PRAGMA
// f(…)); the engine refuses those statements, with its own message, whatever the translator
// makes of the comments around them.
var statementWords = map[string]bool{
	"copy": true, "call": true, "pragma": true, "attach": true, "detach": true, "export": true,
	"import": true, "install": true, "load": true, "checkpoint": true, "vacuum": true,
	"analyze": true, "use": true, "create": true, "insert": true, "update": true, "delete": true,
	"drop": true, "alter": true,
}

// isCTEName reports whether a word followed by a parenthesised group is the name and column list
// of a WITH query (WITH t (a, b) AS (SELECT …)) rather than a call.
func isCTEName(nodes []node, group int) bool {
	k := nextSig(nodes, group)
	if k < 0 || !isKeyword(&nodes[k], "as") {
		return false
	}
	k = nextSig(nodes, k)
	return k >= 0 && nodes[k].group && nodes[k].tok.kind == tkLParen
}

// checkTrailingCommas refuses a comma that ends a list (VALUES (1), (2), or SELECT a, FROM t):
// DuckDB accepts one, Trino's parser does not.
func checkTrailingCommas(sql string, toks []token) error {
	for i, t := range toks {
		if t.kind != tkComma {
			continue
		}
		var next *token
		for j := i + 1; j < len(toks); j++ {
			if !toks[j].trivia() {
				next = &toks[j]
				break
			}
		}
		switch {
		case next == nil:
			return errorAt(sql, t.pos, "mismatched input '<EOF>': a trailing comma ends the statement; remove the comma")
		case next.kind == tkRParen || next.kind == tkRBracket || next.kind == tkSemicolon:
			return errorAt(sql, next.pos, "mismatched input '%s': a list cannot end with a comma in Athena; remove the comma before it", next.text)
		case next.kind == tkIdent && listEndWords[next.lower()]:
			return errorAt(sql, next.pos, "mismatched input '%s': a list cannot end with a comma in Athena; remove the comma before it", next.text)
		}
	}
	return nil
}

// listEndWords are the keywords that cannot follow a comma.
var listEndWords = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "order": true, "limit": true,
	"union": true, "intersect": true, "except": true, "offset": true, "fetch": true, "window": true,
}
