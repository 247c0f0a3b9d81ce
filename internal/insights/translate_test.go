package insights

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/sql")

// translations are queries and the golden SQL they become (testdata/sql/<name>.sql). The ones
// named aws_* are AWS's documented example queries for CloudTrail logs, from the page "Sample
// queries" of the Amazon CloudWatch Logs User Guide (CWL_QuerySyntax-examples, section
// "CloudTrail logs"), and the command pages "limit", "dedup", "filter" and "parse" of the
// CloudWatch Logs Insights language query syntax.
var translations = []struct{ name, query string }{
	{"kc_alice", `fields @timestamp, eventName | filter userIdentity.userName = "Alice" | sort @timestamp desc`},
	{"aws_count_by_service", `stats count(*) by eventSource, eventName, awsRegion`},
	{"aws_ec2_started_stopped", `filter (eventName="StartInstances" or eventName="StopInstances") and awsRegion="us-east-2"`},
	{"aws_new_iam_users", `filter eventName="CreateUser" | fields awsRegion, requestParameters.userName, responseElements.user.arn`},
	{"aws_update_trail_errors", `filter eventName="UpdateTrail" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage`},
	{"aws_outdated_tls", `filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ]
| stats count(*) as numOutdatedTlsCalls by userIdentity.accountId, recipientAccountId, eventSource, eventName, awsRegion, tlsDetails.tlsVersion, tlsDetails.cipherSuite, userAgent
| sort eventSource, eventName, awsRegion, tlsDetails.tlsVersion`},
	{"aws_outdated_tls_per_service", `filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ] | stats count(*) as numOutdatedTlsCalls by eventSource | sort numOutdatedTlsCalls desc`},
	{"aws_limit_25", `fields @timestamp, @message | sort @timestamp desc | limit 25`},
	{"aws_dedup", `fields @timestamp, eventSource, eventName | sort @timestamp desc | dedup eventSource`},
	{"dedup_alias", "fields eventName as `a AS b`, CAST as c | dedup c"},
	{"like_substring", `filter @message like "AccessDenied" | fields eventID`},
	{"like_regex", `filter eventName like /^(Delete|Put)Bucket/ and not errorCode =~ /Denied$/ | fields eventName`},
	{"not_in", `filter eventName not in ["ConsoleLogin", "GetCallerIdentity"] | stats count_distinct(eventName) as names, min(@timestamp), max(@timestamp)`},
	{"bin_5m", `filter eventSource = "s3.amazonaws.com" | stats count(*) as calls by bin(5m) | sort calls desc | limit 3`},
	{"parse_glob", `parse userIdentity.arn "arn:aws:*::*:*" as partition, account, rest | display account, rest`},
	{"parse_regex", `parse userAgent /^(?<tool>[A-Za-z-]+)\/(?<version>[0-9.]+)/ | filter ispresent(tool) | stats count(*) by tool`},
	{"nested_and_payload", `fields userIdentity.sessionContext.sessionIssuer.userName as issuer, requestParameters.bucketName, resources.0.ARN, userIdentity.sessionContext.webIdFederationData.attributes.aud, unknownTopLevel.x | filter readOnly = "false"`},
	{"arithmetic", `fields strlen(eventName) * 2 + 1 as n, tolower(eventName) as lower | filter n > 20 | sort n desc, eventName | limit 5`},
	{"stats_then_filter", `stats count(*) as c by eventName | filter c >= 2 | sort c desc`},
	{"functions", `fields eventID, 2 ^ 3 ^ 2 as p, -2 ^ 2 as q, greatest(1, strlen(eventName)) as g, replace(eventName, "Describe", "List") as r, datefloor(@timestamp, 1h) as hour | filter strcontains(eventName, "Instances")`},
	{"aggregates", `stats count() as n, earliest(eventName), latest(eventName), pct(strlen(eventName), 50), stddev(strlen(eventName)) by userIdentity.userName | sort n desc`},
	{"millis", `fields toMillis(@timestamp) as ms, fromMillis(toMillis(@timestamp) + 1000) as later | filter ms > 1700000000000`},
	{"brackets", `fields resources[1].ARN, requestParameters.instancesSet.items[0].instanceId`},
	{"escapes", `filter errorMessage = "say \"hi\"\tnow\\" or errorMessage = 'it\'s' or requestParameters.key =~ /^logs\/[0-9]+\.gz$/ | fields ` + "`requestParameters.odd-name`" + `, eventName as ` + "`the name`" + ``},
	{"timestamp_compare", `filter @timestamp >= "2026-03-01T00:00:00Z" and recipientAccountId = 123456789012 | fields eventID`},
}

func TestTranslations(t *testing.T) {
	for _, tc := range translations {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.SQL()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "sql", tc.name+".sql")
			text := "-- " + strings.ReplaceAll(tc.query, "\n", "\n-- ") + "\n" + got + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(want) != text {
				t.Errorf("SQL differs from %s (run go test -update if the change is meant):\n%s", golden, text)
			}
		})
	}
}

// TestErrors checks that errors point where the query is wrong: line:column and the caret.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		query     string
		line, col int
		msg       string
	}{
		{`fields eventName | filtr eventName = "x"`, 1, 20, "expected a command"},
		{`filter eventName = "x`, 1, 20, "no closing"},
		{"fields eventName\n| filter eventName like /abc", 2, 25, "no closing /"},
		{`fields eventName eventSource`, 1, 18, "expected | before the next command"},
		{`filter eventName in "a"`, 1, 21, "in takes a list"},
		{`stats count(*) by bin(5x)`, 1, 23, "a period"},
		{`stats count(*) as c | fields eventName`, 1, 30, "no field eventName after stats"},
		{`fields @logStream`, 1, 8, "not a field of CloudTrail events"},
		{`sort @timestamp | dedup eventName | sort eventName`, 1, 37, "only limit may follow dedup"},
		{`parse @message "a*b*" as x`, 1, 16, "the glob has 2 * but 1 names"},
		{`filter eventName =~ /a(/`, 1, 21, "does not compile"},
		{`limit 0`, 1, 7, "limit takes a number"},
		{`pattern @message`, 1, 1, "not translated"},
		{``, 1, 1, "an empty query"},
		{`filter strlen(eventName)`, 1, 8, "not a condition"},
		{`stats eventName`, 1, 7, "stats takes aggregate functions"},
		{`stats count(*) as n, max(eventName) as n`, 1, 22, "two columns named n"},
		{`stats count() as n | sort count(*)`, 1, 27, "count(*) is not a column of the stats before: its columns are n"},
		{`stats pct(eventName, 101)`, 1, 22, "pct takes a percentile"},
		{`fields datefloor(@timestamp, 1y)`, 1, 30, "a period is"},
		{"fields `a\\b`", 1, 8, "cannot be written in a JSON path"},
		{"fields eventName as a" + strings.Repeat(" | fields a+a as a", 20), 1, 249, "more than 256 KiB of SQL"},
	} {
		q, err := Parse(tc.query)
		if err == nil {
			_, err = q.SQL()
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: got %v, want an *Error", tc.query, err)
			continue
		}
		if e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%q: got %d:%d %q, want %d:%d …%s…", tc.query, e.Line, e.Column, e.Msg, tc.line, tc.col, tc.msg)
		}
		lines := strings.Split(e.Error(), "\n")
		if caret := lines[len(lines)-1]; len(caret) != 2+tc.col || !strings.HasSuffix(caret, "^") {
			t.Errorf("%q: the caret line %q does not point at column %d", tc.query, caret, tc.col)
		}
	}
}

// TestMessageFieldsAreTheTable checks that @message's fields are the columns of Athena's table
// and their nested fields, each spelt as the table's column in another case.
func TestMessageFieldsAreTheTable(t *testing.T) {
	s := newSchema()
	seen := map[string]bool{}
	var walk func(fs []spelled, prefix string)
	walk = func(fs []spelled, prefix string) {
		for _, f := range fs {
			path := prefix + strings.ToLower(f.name)
			seen[path] = true
			if _, ok := s[path]; !ok {
				t.Errorf("%s is not a column of cloudtrail_logs", path)
			}
			if typ := s[path]; strings.HasSuffix(typ, "[]") { // resources: ROW(arn, accountid, type)[]
				for _, k := range f.kids {
					if !strings.Contains(typ, strings.ToLower(k.name)+" ") {
						t.Errorf("%s is not a field of %s", k.name, typ)
					}
				}
				continue
			}
			walk(f.kids, path+".")
		}
	}
	walk(messageFields, "")
	for _, c := range cloudtrail.Columns() {
		if c.Athena && !slices.Contains(cloudtrail.PartitionColumns, c.Name) && !seen[c.Name] {
			t.Errorf("the column %s is missing from @message", c.Name)
		}
	}
	for _, f := range cloudtrail.Fields("useridentity") {
		if !seen[f.Name] {
			t.Errorf("the field %s is missing from @message", f.Name)
		}
	}
}
