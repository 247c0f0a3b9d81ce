package athena

import (
	"reflect"
	"testing"
)

// The conditions on facet columns a statement places on every row: one clause per top-level
// AND, a disjunct that ANDs conditions standing for one of them on a facet column, and nothing
// where a disjunct says nothing of those columns.
func TestFindBoundsFacets(t *testing.T) {
	eq := func(col, v string) Cond { return Cond{Column: col, Op: "=", Values: []string{v}} }
	cases := []struct {
		sql  string
		want [][]Cond
	}{
		{"SELECT eventtime FROM cloudtrail_logs WHERE useridentity.type = 'Root' AND eventtime >= ?",
			[][]Cond{{eq("useridentity.type", "Root")}}},
		{`SELECT 1 FROM cloudtrail_logs t WHERE t."userIdentity"."Type" != 'AWSService' AND t.eventname NOT LIKE 'Get%'`,
			[][]Cond{{{Column: "useridentity.type", Op: "<>", Values: []string{"AWSService"}}}, {{Column: "eventname", Op: "not like", Values: []string{"Get%"}}}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE eventname IN ('A', 'B') AND errorcode NOT IN ('X')",
			[][]Cond{{{Column: "eventname", Op: "in", Values: []string{"A", "B"}}}, {{Column: "errorcode", Op: "not in", Values: []string{"X"}}}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE (errorcode LIKE '%Denied%' OR errorcode IN ('Forbidden')) AND eventtime < '2024'",
			[][]Cond{{{Column: "errorcode", Op: "like", Values: []string{"%Denied%"}}, {Column: "errorcode", Op: "in", Values: []string{"Forbidden"}}}}},
		{`SELECT 1 FROM cloudtrail_logs WHERE ((eventsource = 'iam.amazonaws.com' AND (eventname IN ('A') OR (eventname = 'B' AND json_extract_scalar(requestparameters, '$.x') IS NOT NULL)))
		   OR (eventsource = 'lambda.amazonaws.com' AND regexp_like(eventname, '^Create'))) AND eventtime >= ?`,
			// Per disjunct, the most selective column: event names where it has them.
			[][]Cond{{{Column: "eventname", Op: "in", Values: []string{"A"}}, eq("eventname", "B"), eq("eventsource", "lambda.amazonaws.com")}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE errorcode IS NOT NULL OR eventsource = 'signin.amazonaws.com'",
			[][]Cond{{{Column: "errorcode", Op: "is not null"}, eq("eventsource", "signin.amazonaws.com")}}},
		// A condition that names values leaves fewer rows than one that excludes some, whatever
		// their columns.
		{"SELECT 1 FROM cloudtrail_logs WHERE (eventname <> 'HeadBucket' AND errorcode IS NOT NULL) OR (eventname NOT IN ('A') AND lower(useridentity.type) = 'root')",
			[][]Cond{{{Column: "errorcode", Op: "is not null"}, {Column: "useridentity.type", Op: "lower =", Values: []string{"root"}}}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE (x = 1 AND (eventname = 'A' OR eventname = 'B')) OR eventname = 'C'",
			[][]Cond{{eq("eventname", "A"), eq("eventname", "B"), eq("eventname", "C")}}},
		// What the Sigma and pattern translations write: coalesce(X, false), lower(column),
		// LIKE … ESCAPE '\', CASE WHEN A THEN B ELSE false END.
		{`SELECT 1 FROM cloudtrail_logs WHERE (coalesce(lower(eventname) = 'deleteuser', false) AND coalesce(lower(eventsource) IN ('iam.amazonaws.com'), false))`,
			[][]Cond{{{Column: "eventname", Op: "lower =", Values: []string{"deleteuser"}}}, {{Column: "eventsource", Op: "lower in", Values: []string{"iam.amazonaws.com"}}}}},
		{`SELECT 1 FROM cloudtrail_logs WHERE coalesce(((errorcode LIKE '%UnauthorizedOperation' ESCAPE '\') OR (errorcode LIKE 'AccessDenied%' ESCAPE '\')) AND x = 1, false)`,
			[][]Cond{{{Column: "errorcode", Op: "like escape", Values: []string{"%UnauthorizedOperation"}}, {Column: "errorcode", Op: "like escape", Values: []string{"AccessDenied%"}}}}},
		{`SELECT 1 FROM cloudtrail_logs WHERE CASE WHEN (x = 1 AND coalesce(lower(eventname) LIKE 'updatefunction%' ESCAPE '\', false)) THEN y ELSE false END`,
			[][]Cond{{{Column: "eventname", Op: "lower like escape", Values: []string{"updatefunction%"}}}}},
		{`SELECT 1 FROM cloudtrail_logs WHERE CASE WHEN x = 1 THEN coalesce(lower(useridentity.type) = 'root', false) ELSE false END`,
			[][]Cond{{{Column: "useridentity.type", Op: "lower =", Values: []string{"root"}}}}},
		// Nothing certain.
		{"SELECT 1 FROM cloudtrail_logs WHERE coalesce(eventname = 'A', true)", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE NOT coalesce(lower(eventname) = 'a', false)", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE CASE WHEN eventname = 'A' THEN true ELSE x END", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE lower(eventname || 'x') = 'a'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE errorcode IS NULL OR eventsource = 'x'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE coalesce(useridentity.type, '') <> 'AWSService'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE eventname = 'A' OR 1 = 1", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE eventname = ? AND useridentity.arn = 'x'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE eventname = 'A' || 'B'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE other.eventname = 'A'", nil},
		{"SELECT 1 FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE a.eventname = 'A'", nil},
		{"SELECT 1 FROM cloudtrail_logs WHERE eventname = 'A' GROUP BY 1 HAVING count(*) > 1", [][]Cond{{eq("eventname", "A")}}},
	}
	for _, c := range cases {
		var got [][]Cond
		if b := FindBounds(c.sql, map[string][]string{"cloudtrail_logs": nil}); b != nil {
			got = b.Facets
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.sql, got, c.want)
		}
	}
}
