package insights_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/insights"
	"github.com/trailsql/trailsql/internal/rules/pattern"
)

// equivalences are Insights queries run over a lake of testdata/events.json (15 events written
// for these tests) next to the Athena SQL a person would write for the same question; both must
// return the same rows in the same order, and rows many. Where a CloudWatch filter pattern asks
// the same, the events it selects (query --pattern) must be those the Insights query returns.
//
// kc_*: the AWS Knowledge Center examples quoted in issue 17 ("fields @timestamp, eventName |
// filter userIdentity.userName = "Alice" | sort @timestamp desc" and the filter pattern
// { ($.eventName = "DescribeInstances") && ($.requestParameters.userName = "Alice") }, here on
// userIdentity.userName, which the events hold).
// aws_*: the CloudTrail examples of the page "Sample queries" (CloudWatch Logs User Guide) and
// the examples of the command pages "limit", "dedup", "filter" and "parse".
var equivalences = []struct {
	name, insights, sql, pattern string
	rows                         int
}{
	{
		name:     "kc_alice",
		insights: `fields @timestamp, eventName | filter userIdentity.userName = "Alice" | sort @timestamp desc`,
		sql:      `SELECT from_iso8601_timestamp(eventtime), eventname FROM cloudtrail_logs WHERE useridentity.username = 'Alice' ORDER BY eventtime DESC, eventid`,
		rows:     7,
	},
	{
		name:     "kc_alice_describe_instances",
		insights: `fields eventID | filter eventName = "DescribeInstances" and userIdentity.userName = "Alice" | sort @timestamp desc`,
		sql:      `SELECT eventid FROM cloudtrail_logs WHERE eventname = 'DescribeInstances' AND useridentity.username = 'Alice' ORDER BY eventtime DESC`,
		pattern:  `{ ($.eventName = "DescribeInstances") && ($.userIdentity.userName = "Alice") }`,
		rows:     2,
	},
	{
		name:     "kc_console_login_failures",
		insights: `filter eventName = "ConsoleLogin" and errorMessage = "Failed authentication" | fields eventID, userIdentity.userName`,
		sql:      `SELECT eventid, useridentity.username FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication'`,
		pattern:  `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`,
		rows:     1,
	},
	{
		name:     "kc_unauthorized",
		insights: `filter errorCode like /UnauthorizedOperation$/ or errorCode like /^AccessDenied/ | fields eventID`,
		sql:      `SELECT eventid FROM cloudtrail_logs WHERE errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%' ORDER BY eventtime DESC, eventid`,
		pattern:  `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
		rows:     1,
	},
	{
		name:     "aws_count_by_service",
		insights: `stats count(*) by eventSource, eventName, awsRegion`,
		sql:      `SELECT eventsource, eventname, awsregion, count(*) AS n FROM cloudtrail_logs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		rows:     12,
	},
	{
		name:     "aws_ec2_started_stopped",
		insights: `filter (eventName="StartInstances" or eventName="StopInstances") and awsRegion="us-east-2" | fields eventID, eventName`,
		sql:      `SELECT eventid, eventname FROM cloudtrail_logs WHERE eventname IN ('StartInstances', 'StopInstances') AND awsregion = 'us-east-2' ORDER BY eventtime DESC`,
		pattern:  `{ (($.eventName = "StartInstances") || ($.eventName = "StopInstances")) && ($.awsRegion = "us-east-2") }`,
		rows:     2,
	},
	{
		name:     "aws_new_iam_users",
		insights: `filter eventName="CreateUser" | fields awsRegion, requestParameters.userName, responseElements.user.arn`,
		sql:      `SELECT awsregion, json_extract_scalar(requestparameters, '$.userName'), json_extract_scalar(responseelements, '$.user.arn') FROM cloudtrail_logs WHERE eventname = 'CreateUser'`,
		rows:     1,
	},
	{
		name:     "aws_update_trail_errors",
		insights: `filter eventName="UpdateTrail" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage`,
		sql:      `SELECT errorcode, errormessage, count(*) FROM cloudtrail_logs WHERE eventname = 'UpdateTrail' AND errorcode IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
		rows:     2,
	},
	{
		name: "aws_outdated_tls",
		insights: `filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ]
| stats count(*) as numOutdatedTlsCalls by userIdentity.accountId, recipientAccountId, eventSource, eventName, awsRegion, tlsDetails.tlsVersion, tlsDetails.cipherSuite, userAgent
| sort eventSource, eventName, awsRegion, tlsDetails.tlsVersion`,
		sql: `SELECT useridentity.accountid, recipientaccountid, eventsource, eventname, awsregion, tlsdetails.tlsversion, tlsdetails.ciphersuite, useragent, count(*)
FROM cloudtrail_logs WHERE tlsdetails.tlsversion IN ('TLSv1', 'TLSv1.1') GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 3, 4, 5, 6`,
		rows: 4,
	},
	{
		name:     "aws_outdated_tls_per_service",
		insights: `filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ] | stats count(*) as numOutdatedTlsCalls by eventSource | sort numOutdatedTlsCalls desc`,
		sql:      `SELECT eventsource, count(*) FROM cloudtrail_logs WHERE tlsdetails.tlsversion IN ('TLSv1', 'TLSv1.1') GROUP BY 1 ORDER BY 2 DESC, 1`,
		rows:     2,
	},
	{
		name:     "aws_limit_25",
		insights: `fields @timestamp, eventID | sort @timestamp desc | limit 3`,
		sql:      `SELECT from_iso8601_timestamp(eventtime), eventid FROM cloudtrail_logs ORDER BY eventtime DESC, eventid LIMIT 3`,
		rows:     3,
	},
	{
		name:     "aws_dedup",
		insights: `fields @timestamp, eventSource, eventName | sort @timestamp desc | dedup eventSource`,
		sql: `SELECT t, eventsource, eventname FROM (SELECT from_iso8601_timestamp(eventtime) AS t, eventsource, eventname, eventid,
  rank() OVER (PARTITION BY eventsource ORDER BY eventtime DESC, eventid) AS r FROM cloudtrail_logs) WHERE r = 1 ORDER BY t DESC, eventid`,
		rows: 6,
	},
	{
		name:     "message_like",
		insights: `filter @message like "old-logs" or @message like /"MFAUsed":"No"/ | fields eventID`,
		sql:      `SELECT eventid FROM cloudtrail_logs WHERE requestparameters LIKE '%old-logs%' OR additionaleventdata LIKE '%"MFAUsed":"No"%' ORDER BY eventtime DESC, eventid`,
		rows:     2,
	},
	{
		name:     "not_in_and_count_distinct",
		insights: `filter eventName not in ["ConsoleLogin", "GetCallerIdentity"] and userIdentity.type = "IAMUser" | stats count_distinct(eventName) as names, count(errorCode) as errors by userIdentity.userName`,
		sql:      `SELECT useridentity.username, count(DISTINCT eventname), count(errorcode) FROM cloudtrail_logs WHERE eventname NOT IN ('ConsoleLogin', 'GetCallerIdentity') AND useridentity.type = 'IAMUser' GROUP BY 1 ORDER BY 1`,
		rows:     2,
	},
	{
		name:     "bin_5m",
		insights: `stats count(*) as calls by bin(5m) | sort calls desc`,
		sql:      `SELECT date_trunc('hour', from_iso8601_timestamp(eventtime)) + (minute(from_iso8601_timestamp(eventtime)) / 5) * INTERVAL '5' MINUTE AS b, count(*) AS c FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC, 1`,
		rows:     5,
	},
	{
		name:     "parse_glob",
		insights: `filter ispresent(userIdentity.arn) | parse userIdentity.arn "arn:aws:*::*:*" as service, account, resource | stats count(*) by resource`,
		sql:      `SELECT split_part(useridentity.arn, ':', 6), count(*) FROM cloudtrail_logs WHERE useridentity.arn IS NOT NULL GROUP BY 1 ORDER BY 1`,
		rows:     3,
	},
	{
		name:     "parse_regex",
		insights: `parse userAgent /^(?<tool>[A-Za-z0-9-]+)\/(?<version>[0-9.]+)/ | filter ispresent(tool) | stats count(*) as n by tool, version`,
		sql:      `SELECT regexp_extract(useragent, '^([A-Za-z0-9-]+)/', 1), regexp_extract(useragent, '/([0-9.]+)', 1), count(*) FROM cloudtrail_logs WHERE regexp_like(useragent, '^[A-Za-z0-9-]+/[0-9]') GROUP BY 1, 2 ORDER BY 1, 2`,
		rows:     3,
	},
	{
		name:     "nested_payload_resources_residual",
		insights: `filter ispresent(requestParameters.bucketName) | fields eventID, userIdentity.sessionContext.sessionIssuer.userName, resources.1.ARN, unknownTopLevel.x, requestParameters.bucketName`,
		sql: `SELECT eventid, useridentity.sessioncontext.sessionissuer.username, resources[2].arn, json_extract_scalar(residual, '$.unknownTopLevel.x'), json_extract_scalar(requestparameters, '$.bucketName')
FROM cloudtrail_logs WHERE json_extract_scalar(requestparameters, '$.bucketName') IS NOT NULL ORDER BY eventtime DESC, eventid`,
		rows: 3,
	},
	{
		name:     "arithmetic_and_stats_filter",
		insights: `fields strlen(eventName) * 2 as n | filter n > 30 | stats count(*) as c by eventName | filter c >= 2`,
		sql:      `SELECT eventname, count(*) FROM cloudtrail_logs WHERE length(eventname) * 2 > 30 GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1`,
		rows:     1,
	},
	{
		name:     "earliest_latest_sort_by_count",
		insights: `filter ispresent(userIdentity.userName) | stats count(*), earliest(eventName) as first, latest(eventName) as last by userIdentity.userName | sort count(*) desc`,
		sql: `SELECT useridentity.username, count(*), min_by(eventname, eventtime || eventid), max_by(eventname, eventtime || eventid) FROM cloudtrail_logs
WHERE useridentity.username IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1`,
		rows: 2,
	},
	{
		name:     "brackets_power_datefloor",
		insights: `filter ispresent(resources[0].ARN) or strcontains(eventName, "Instances") | fields eventID, resources[1].ARN, requestParameters.instancesSet.items[0].instanceId, strlen(eventName) ^ 2 as sq, datefloor(@timestamp, 10m) as t`,
		sql: `SELECT eventid, element_at(resources, 2).arn, json_extract_scalar(requestparameters, '$.instancesSet.items[0].instanceId'), power(length(eventname), 2),
  date_trunc('hour', from_iso8601_timestamp(eventtime)) + (minute(from_iso8601_timestamp(eventtime)) / 10) * INTERVAL '10' MINUTE
FROM cloudtrail_logs WHERE resources IS NOT NULL OR strpos(eventname, 'Instances') > 0 ORDER BY eventtime DESC, eventid`,
		rows: 7,
	},
	{
		name:     "kc_request_parameters",
		insights: `filter eventName = "CreateUser" and requestParameters.userName = "carol" | fields eventID`,
		sql:      `SELECT eventid FROM cloudtrail_logs WHERE eventname = 'CreateUser' AND json_extract_scalar(requestparameters, '$.userName') = 'carol'`,
		pattern:  `{ ($.eventName = "CreateUser") && ($.requestParameters.userName = "carol") }`,
		rows:     1,
	},
	{
		name:     "dedup_keeps_null_keys",
		insights: `filter eventSource != "s3.amazonaws.com" | fields eventID, userIdentity.userName | dedup userIdentity.userName`,
		sql: `SELECT eventid, u FROM (SELECT eventid, eventtime, useridentity.username AS u,
  row_number() OVER (PARTITION BY useridentity.username ORDER BY eventtime DESC, eventid) AS r
  FROM cloudtrail_logs WHERE eventsource <> 's3.amazonaws.com') WHERE r = 1 OR u IS NULL ORDER BY eventtime DESC, eventid`,
		rows: 5,
	},
	{
		name:     "stats_of_stats",
		insights: `stats count(*) as n by eventSource | stats max(n) as most, sum(n) as total, count(*) as sources`,
		sql:      `SELECT max(n), sum(n), count(*) FROM (SELECT eventsource, count(*) AS n FROM cloudtrail_logs GROUP BY 1)`,
		rows:     1,
	},
	{
		name:     "timestamp_and_number",
		insights: `filter @timestamp >= "2025-03-01T10:15:00Z" and recipientAccountId = 123456789012 and not ispresent(errorCode) | fields eventID`,
		sql:      `SELECT eventid FROM cloudtrail_logs WHERE eventtime >= '2025-03-01T10:15:00Z' AND errorcode IS NULL ORDER BY eventtime DESC, eventid`,
		rows:     6,
	},
}

// TestEquivalences runs each query of equivalences and its SQL over one lake.
func TestEquivalences(t *testing.T) {
	query := answertest.Ingested(t, "testdata/events.json")
	ctx := context.Background()
	for _, tc := range equivalences {
		t.Run(tc.name, func(t *testing.T) {
			q, err := insights.Parse(tc.insights)
			if err != nil {
				t.Fatal(err)
			}
			s, err := q.SQL()
			if err != nil {
				t.Fatal(err)
			}
			got, err := query(ctx, s)
			if err != nil {
				t.Fatalf("%v\n%s", err, s)
			}
			want, err := query(ctx, tc.sql)
			if err != nil {
				t.Fatalf("the hand-written SQL: %v", err)
			}
			if g, w := rows(got), rows(want); !slices.Equal(g, w) {
				t.Errorf("the Insights query returns\n%s\nthe SQL\n%s\n(its SQL: %s)", strings.Join(g, "\n"), strings.Join(w, "\n"), s)
			}
			if len(got.Rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(got.Rows), tc.rows)
			}
			if tc.pattern == "" {
				return
			}
			p, err := pattern.Parse(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			cond, err := p.SQL()
			if err != nil {
				t.Fatal(err)
			}
			byPattern, err := answer.Strings(ctx, query, "SELECT eventid FROM cloudtrail_logs WHERE "+cond+" ORDER BY eventid")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got.Rows {
				ids = append(ids, answer.String(r[0]))
			}
			slices.Sort(ids)
			if !slices.Equal(ids, byPattern) {
				t.Errorf("the pattern selects %v, the Insights query %v", byPattern, ids)
			}
		})
	}
}

// rows writes a result's rows as text, values joined by |, for comparing.
func rows(r *answer.Result) []string {
	var out []string
	for _, row := range r.Rows {
		vals := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				vals[i] = "NULL"
				continue
			}
			vals[i] = answer.String(v)
		}
		out = append(out, strings.Join(vals, "|"))
	}
	return out
}

// TestEventsSQL checks that EventsSQL selects the events SQL does, as whole rows, and refuses
// queries whose results are no events.
func TestEventsSQL(t *testing.T) {
	query := answertest.Ingested(t, "testdata/events.json")
	q, err := insights.Parse(`fields eventName | filter eventSource = "ec2.amazonaws.com" | display eventName | sort awsRegion | limit 4`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := q.EventsSQL()
	if err != nil {
		t.Fatal(err)
	}
	got, err := query(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := query(context.Background(), `SELECT * FROM cloudtrail_logs WHERE eventsource = 'ec2.amazonaws.com' ORDER BY awsregion, eventid LIMIT 4`)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := rows(got), rows(want); !slices.Equal(g, w) || len(g) != 4 || !slices.Equal(got.Columns, want.Columns) {
		t.Errorf("EventsSQL returns\n%s\nSQL\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	for _, bad := range []string{`stats count(*)`, `sort eventName | dedup eventName`} {
		q, err := insights.Parse(bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.EventsSQL(); err == nil || !strings.Contains(err.Error(), "leave out --original") {
			t.Errorf("%s: got %v, want an error", bad, err)
		}
	}
}

// TestMessage checks @message against the records it stands for: for every event of
// testdata/events.json, the JSON text @message gives holds the record's fields of Athena's table,
// under CloudTrail's names and with their values (nulls and empty objects aside, which the lake
// does not tell from absent fields).
func TestMessage(t *testing.T) {
	query := answertest.Ingested(t, "testdata/events.json")
	q, err := insights.Parse(`fields eventID, @message`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := q.SQL()
	if err != nil {
		t.Fatal(err)
	}
	res, err := query(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/events.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Records []map[string]any }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, r := range file.Records {
		byID[r["eventID"].(string)] = r
	}
	if len(res.Rows) != len(byID) {
		t.Fatalf("%d rows, %d events", len(res.Rows), len(byID))
	}
	for _, row := range res.Rows {
		var msg map[string]any
		if err := json.Unmarshal([]byte(answer.String(row[1])), &msg); err != nil {
			t.Fatalf("%s: @message is not JSON: %v\n%s", row[0], err, row[1])
		}
		want := byID[answer.String(row[0])]
		for k := range want {
			if _, ok := msg[k]; !ok {
				delete(want, k) // a field outside Athena's table: managementEvent, unknownTopLevel
			}
		}
		if g, w := compact(msg), compact(want); !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s: @message is\n%s\nthe record\n%s", row[0], gj, wj)
		}
	}
}

// compact drops nulls and empty objects from a JSON value.
func compact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x = compact(x); x != nil {
				out[k] = x
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = compact(x)
		}
		return out
	}
	return v
}
