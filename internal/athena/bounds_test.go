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
			[][]Cond{{eq("eventsource", "iam.amazonaws.com"), eq("eventsource", "lambda.amazonaws.com")}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE errorcode IS NOT NULL OR eventsource = 'signin.amazonaws.com'",
			[][]Cond{{{Column: "errorcode", Op: "is not null"}, eq("eventsource", "signin.amazonaws.com")}}},
		{"SELECT 1 FROM cloudtrail_logs WHERE (x = 1 AND (eventname = 'A' OR eventname = 'B')) OR eventname = 'C'",
			[][]Cond{{eq("eventname", "A"), eq("eventname", "B"), eq("eventname", "C")}}},
		// Nothing certain.
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
