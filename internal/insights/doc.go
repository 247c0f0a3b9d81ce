// Package insights translates CloudWatch Logs Insights queries (the Logs Insights QL, "CloudWatch
// Logs Insights language query syntax" in the CloudWatch Logs User Guide) into one Athena (Trino)
// SELECT over trailsql's table cloudtrail_logs, so that the queries people keep for CloudTrail
// logs in CloudWatch run on the lake: Parse reads a query, Query.SQL writes its SQL.
//
// # Grammar
//
//	query    = command { "|" command }                 # starts a comment to the end of the line
//	command  = "fields" item { "," item }               item = expr [ "as" name ]
//	         | "display" field { "," field }
//	         | ( "filter" | "where" ) expr
//	         | "stats" item { "," item } [ "by" item { "," item } ]
//	         | "sort" expr [ "asc" | "desc" ] { "," … }
//	         | "limit" number
//	         | "dedup" field { "," field }
//	         | "parse" field ( string "as" name { "," name } | regex )
//	expr     = or: and { "or" and }; and: not { "and" not }; not: "not" not | comparison
//	comparison = sum [ ( "=" | "!=" | "<" | "<=" | ">" | ">=" ) sum | "=~" regex
//	         | [ "not" ] "like" ( string | regex ) | [ "not" ] "in" "[" sum { "," sum } "]" ]
//	sum      = product { ( "+" | "-" ) product }; product = unary { ( "*" | "/" | "%" ) unary }
//	unary    = "-" unary | power;  power = primary [ "^" unary ]
//	primary  = number | string | field | function "(" [ args | "*" ] ")" | "(" expr ")"
//
// Keywords and function names are read in any case. Strings are "…" or '…' (\ escapes the next
// character); regexes are /…/ (\/ for a slash); names with other characters go between backticks.
// A list index after a name, resources[0].ARN, is the path resources.0.ARN. Functions:
// ispresent, isempty, isblank, tolower, toupper, trim, ltrim, rtrim, strlen, strcontains, replace,
// concat, coalesce, abs, floor, ceil, log, sqrt, greatest, least, bin(period) and
// datefloor/dateceil(time, period) (units ms, s, m, h, d, w); in stats: count(*) or count(),
// count(x), count_distinct, sum, avg, min, max, stddev, pct(x, percentile), earliest(x) and
// latest(x) (the value of the oldest and newest event; of events in the same second, any). Other commands (pattern, diff, anomaly, unmask,
// filterIndex, …) and functions give an error naming them. Every error is an *Error pointing at
// the line and column of the query it is about, with a caret under it.
//
// # Fields
//
// A field path names CloudTrail's fields as an event spells them; the lake's columns are matched
// in any case, as Athena matches them (userIdentity.sessionContext.sessionIssuer.userName is the
// column useridentity.sessioncontext.sessionissuer.username). Below a JSON payload column
// (requestParameters, responseElements, additionalEventData, serviceEventDetails, …) the rest of
// the path is a JSON path, case-sensitive as JSON keys are (requestParameters.bucketName →
// json_extract_scalar(requestparameters, '$.bucketName')); a number in a path is an array index
// (resources.0.ARN, requestParameters.items.0.id), as Insights flattens arrays. A field no column
// holds is read from the residual JSON column by its path as written. Names made by fields … as,
// parse and stats are matched as written and hide CloudTrail's fields of the same name.
//
// @timestamp is from_iso8601_timestamp(eventtime). @message, the event's text in CloudWatch, is
// here the JSON text of the record written from the row: an object of the fields of Athena's
// table under CloudTrail's names, nested ones included (userIdentity.sessionContext.sessionIssuer,
// resources as an array of objects), JSON payloads as their text, readOnly as a boolean, absent
// fields as null. like, regexes and parse on it find what the event holds, though not byte for
// byte as CloudTrail wrote it: keys in the table's order, nulls written out, fields outside Athena's
// table (managementEvent, the residual's) left out. query --original prints the record itself.
// Other @ fields (@logStream, @log, @ingestionTime) do not exist in the lake and are an error.
//
// # Semantics
//
// As in Logs Insights: string comparisons and like are case-sensitive ((?i) in a regex makes it
// not); like "text" matches a substring and like /re/ a regular expression anywhere in the value,
// as =~ does; a comparison with a missing field is false (and so is its negation with !=, but not
// with not); a number compared with a field compares the field's value as a number
// (recipientAccountId = 123456789012); a string compared with @timestamp is read as an ISO 8601
// time. Results without sort are the newest events first (ties by eventID, so that limit cuts them
// one way), and after stats ordered by their columns; sort orders by its keys, then the same way.
// Text sorts as SQL sorts it, by code point, not by Insights' natural order (where "i-9" comes
// before "i-10" and numbers after text); numbers (stats' results, arithmetic) sort as numbers.
// dedup keeps the first event of each key in the sort order, and every event whose key has a null,
// as Insights does; only limit may follow it. Without limit a query returns at most DefaultLimit
// rows (10,000, Insights' default), and a limit is at most MaxLimit (100,000). The columns shown
// are those of the last display, else those of fields and parse (with @timestamp and @message
// first when there is no fields command), else after stats the by columns and the aggregates, each
// named as the query writes it (userIdentity.userName, count(*)) or by its alias.
// count_distinct is exact here, where Insights estimates it; sum, avg, min and max read text
// fields as numbers. parse's glob matches its * parts lazily, the last one greedily when it ends
// the glob; its regex's named groups, (?<name>…), become fields (NULL where it does not match).
// A second stats aggregates the rows of the first. Commands after limit, and stats after sort or
// display, are an error rather than a silent reordering.
package insights
