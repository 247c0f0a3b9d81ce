package roweval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// handEvent is the event the hand-written cases read, written for them.
const handEvent = `{"eventVersion": "1.08", "eventTime": "2024-03-20T10:00:00Z", "eventSource": "iam.amazonaws.com",
 "eventName": "CreateUser", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
 "userAgent": "aws-cli/2.0 50%_off\\path", "eventID": "11111111-2222-3333-4444-555555555555",
 "requestID": "r-1", "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": "123456789012",
 "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/Alice", "userName": "Alice",
   "accountId": "123456789012", "principalId": "AIDAEXAMPLE",
   "sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2024-03-20T09:00:00Z"},
     "webIdFederationData": {"federatedProvider": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
       "attributes": {"sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com"}}}},
 "requestParameters": {"userName": "Bob", "tags": [{"key": "a", "value": "x"}, {"key": "b", "value": 1.50}],
   "n": 100, "big": 1e21, "flag": true, "nothing": null, "x-amz-acl": "public-read", "a b": "spaced",
   "list": ["one", "two"], "text": "line\nbreak \"quoted\" é"},
 "responseElements": null,
 "resources": [{"ARN": "arn:aws:iam::123456789012:user/Bob", "accountId": "123456789012", "type": "AWS::IAM::User"},
   {"ARN": "arn:aws:s3:::b"}]}`

// handRow is handEvent as the lake stores it, in its partition.
func handRow(t testing.TB) *roweval.Row {
	t.Helper()
	var n cloudtrail.Normalizer
	rec, _, err := n.Normalize([]byte(handEvent))
	if err != nil {
		t.Fatal(err)
	}
	return &roweval.Row{Rec: rec, Part: lake.Partition{Account: "123456789012", Region: "us-east-1", Year: "2024", Month: "03", Day: "20"}}
}

// handCases are expressions over handEvent and the value CAST((expr) AS VARCHAR) has ("NULL":
// none). A condition holds when its value is "true".
var handCases = []struct{ expr, want string }{
	// Three-valued logic.
	{"NULL AND false", "false"},
	{"NULL AND true", "NULL"},
	{"NULL OR true", "true"},
	{"NULL OR false", "NULL"},
	{"NOT (errorcode = 'x')", "NULL"},
	{"NOT (errorcode IS NULL)", "false"},
	{"errorcode <> 'x'", "NULL"},
	{"coalesce(errorcode = 'x', false)", "false"},
	{"errorcode = 'x' OR eventname = 'CreateUser'", "true"},
	{"CASE WHEN NULL THEN 'a' ELSE 'b' END", "b"},
	// IN with NULL.
	{"eventname IN ('CreateUser', NULL)", "true"},
	{"eventname IN ('x', NULL)", "NULL"},
	{"eventname NOT IN ('x', NULL)", "NULL"},
	{"eventname NOT IN ('x', 'y')", "true"},
	{"errorcode IN ('x')", "NULL"},
	// LIKE, with and without ESCAPE.
	{`useragent LIKE '%50\%\_off%' ESCAPE '\'`, "true"},
	{`useragent LIKE '%50\%off%' ESCAPE '\'`, "false"},
	{`useragent LIKE '%\\path' ESCAPE '\'`, "true"},
	{`useragent LIKE '%\path'`, "true"},
	{"useragent LIKE 'aws-cli/_._%'", "true"},
	{`'ab' LIKE 'a\b' ESCAPE '\'`, "true"},
	{`'a%' LIKE 'a\%'`, "false"},
	{"'é' LIKE '_'", "true"},
	{"useragent NOT LIKE '%cli%'", "false"},
	{"errorcode LIKE '%'", "NULL"},
	{"'abcabd' LIKE '%ab_'", "true"},
	// JSON paths, arrays and scalars.
	{"json_extract_scalar(requestparameters, '$.tags[1].value')", "1.5"},
	{"json_extract_scalar(requestparameters, '$.tags[0]')", "NULL"},
	{"json_extract(requestparameters, '$.tags[0]')", `{"key":"a","value":"x"}`},
	{"json_extract_scalar(requestparameters, '$.list[1]')", "two"},
	{"json_extract_scalar(requestparameters, '$.list[5]')", "NULL"},
	{`json_extract_scalar(requestparameters, '$["a b"]')`, "spaced"},
	{"json_extract_scalar(requestparameters, '$.x-amz-acl')", "public-read"},
	{"json_extract_scalar(requestparameters, '$.big')", "1e21"},
	{"json_extract_scalar(requestparameters, '$.n')", "100"},
	{"json_extract_scalar(requestparameters, '$.flag')", "true"},
	{"json_extract_scalar(requestparameters, '$.nothing')", "NULL"},
	{"json_extract_scalar(requestparameters, '$.text')", "line\nbreak \"quoted\" é"},
	{"json_extract(requestparameters, '$.text')", `"line\nbreak \"quoted\" é"`},
	{"json_extract(requestparameters, '$.nothing') IS NULL", "false"},
	{"json_extract(requestparameters, '$.missing') IS NULL", "true"},
	{"json_array_length(json_extract(requestparameters, '$.list'))", "2"},
	{"json_array_length(json_extract(requestparameters, '$.n'))", "NULL"},
	{"any_match(CAST(json_extract(requestparameters, '$.tags') AS ARRAY(JSON)), t -> json_extract_scalar(t, '$.key') = 'b')", "true"},
	{"any_match(CAST(json_extract(requestparameters, '$.missing') AS ARRAY(JSON)), t -> true)", "false"},
	{"json_extract_scalar(useragent, '$.a')", "NULL"},
	{"json_extract_scalar(responseelements, '$.a')", "NULL"},
	// CASE.
	{"CASE eventname WHEN 'x' THEN 'one' WHEN 'CreateUser' THEN 'two' END", "two"},
	{"CASE eventname WHEN 'x' THEN 'one' END", "NULL"},
	{"CASE errorcode WHEN NULL THEN 'a' ELSE 'b' END", "b"},
	{"CASE WHEN errorcode IS NOT NULL THEN ' (refused: ' || errorcode || ')' ELSE '' END", ""},
	// CAST.
	{"CAST(json_array_length(json_extract(requestparameters, '$.list')) AS VARCHAR)", "2"},
	{"CAST(json_extract(requestparameters, '$.tags[1].value') AS VARCHAR)", "1.5"},
	{"CAST(json_extract(requestparameters, '$.list[0]') AS VARCHAR)", "one"},
	{"CAST((json_extract(requestparameters, '$.list[0]')) AS VARCHAR)", `"one"`},
	{"CAST(json_extract(requestparameters, '$.list') AS VARCHAR)", "NULL"},
	{"CAST(json_array_length(json_extract(requestparameters, '$.list')) AS DOUBLE) = 2", "true"},
	{"CAST(json_array_length(json_extract(requestparameters, '$.list')) AS BIGINT) >= 2", "true"},
	{"CAST(true AS VARCHAR)", "true"},
	{"CAST(-7 AS VARCHAR)", "-7"},
	{"TRY_CAST(json_extract(requestparameters, '$.n') AS ARRAY(JSON)) IS NULL", "true"},
	// Numbers: the casts CloudWatch patterns' numeric comparisons compile to.
	{"TRY_CAST(' 5 ' AS DOUBLE) = 5", "true"},
	{"TRY_CAST('+5.' AS DOUBLE) = 5e0", "true"},
	{"TRY_CAST('.5' AS DOUBLE) = 0.5", "true"},
	{"TRY_CAST('1e400' AS DOUBLE) > 1e308", "true"},
	{"TRY_CAST('1e-400' AS DOUBLE) = 0", "true"},
	{"TRY_CAST('nan' AS DOUBLE) > 1e308", "true"},
	{"TRY_CAST('NaN' AS DOUBLE) = TRY_CAST('nan' AS DOUBLE)", "true"},
	{"TRY_CAST('-Infinity' AS DOUBLE) < -1e308", "true"},
	{"TRY_CAST('0x10' AS DOUBLE) IS NULL", "true"},
	{"TRY_CAST('abc' AS DOUBLE) IS NULL", "true"},
	{"TRY_CAST(json_extract_scalar(requestparameters, '$.tags[1].value') AS DOUBLE) = 1.5", "true"},
	{"TRY_CAST(json_extract_scalar(requestparameters, '$.big') AS DOUBLE) >= 1e21", "true"},
	{"-2.5 < 0", "true"},
	{"json_format(json_extract(requestparameters, '$.tags[1]'))", `{"key":"b","value":1.5}`},
	// resources, an array of rows.
	{"cardinality(resources)", "2"},
	{"resources IS NULL", "false"},
	{"any_match(resources, r -> r.type LIKE 'AWS::IAM::%')", "true"},
	{"any_match(resources, r -> r.type = 'x')", "false"},
	{"all_match(resources, r -> r.accountid = '123456789012')", "true"},
	{"element_at(resources, 2).arn", "arn:aws:s3:::b"},
	{"element_at(resources, 2).type", "NULL"},
	{"element_at(resources, 3).arn", "NULL"},
	{"element_at(resources, -2).accountid", "123456789012"},
	// Structs as a whole, maps.
	{"useridentity.sessioncontext IS NOT NULL", "true"},
	{"useridentity.sessioncontext.sessionissuer IS NULL", "true"},
	{"tlsdetails IS NULL", "true"},
	{"element_at(useridentity.sessioncontext.webidfederationdata.attributes, 'sub')", "repo:o/r:ref:refs/heads/main"},
	{"element_at(useridentity.sessioncontext.webidfederationdata.attributes, 'x')", "NULL"},
	{"any_match(map_values(useridentity.sessioncontext.webidfederationdata.attributes), v -> v LIKE 'repo:%')", "true"},
	{"any_match(map_values(TRY_CAST(json_extract(requestparameters, '$.tags[0]') AS MAP(VARCHAR, JSON))), v -> json_extract_scalar(v, '$') = 'x')", "true"},
	{"TRY_CAST(json_extract(requestparameters, '$.list') AS MAP(VARCHAR, JSON)) IS NULL", "true"},
	{"cardinality(map_values(TRY_CAST(json_extract(requestparameters, '$') AS MAP(VARCHAR, JSON))))", "10"},
	{"CAST(element_at(TRY_CAST(json_extract(requestparameters, '$') AS MAP(VARCHAR, JSON)), 'n') AS VARCHAR)", "100"},
	// Columns, partitions, strings.
	{"account || '/' || region || '/' || year || month || day", "123456789012/us-east-1/20240320"},
	{"coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn)", "arn:aws:iam::123456789012:user/Alice"},
	{"json_extract_scalar(requestparameters, '$.userName') <> coalesce(useridentity.username, '')", "true"},
	{"readonly", "false"},
	{"lower('ÀİΣ')", "àiσ"},
	{"'a' < 'B'", "false"},
	{"'é' > 'z'", "true"},
	{"regexp_like(useragent, 'CLI')", "false"},
	{"regexp_like(useragent, '(?i)CLI')", "true"},
	{"regexp_replace('UpdateFunctionCode20150331v2', '[0-9v]+$', '')", "UpdateFunctionCode"},
	{"regexp_replace('a-b-c', '-', '$0$0')", "a--b--c"},
	{"regexp_replace('a-b-c', '(-)', '[$1]')", "a[-]b[-]c"},
	{"replace('abc', '', 'x')", "abc"},
	{"replace('abcb', 'b')", "ac"},
	{"concat('a', NULL)", "NULL"},
	{"concat('a', eventname, '!')", "aCreateUser!"},
	{"length('éa')", "2"},
	{"regexp_extract('abc', 'x(b)?')", "NULL"},
	{"regexp_extract('abc', 'a(x)?', 1)", ""},
	{"starts_with(eventsource, 'iam.')", "true"},
	{"'b' BETWEEN 'a' AND 'c'", "true"},
	{"errorcode BETWEEN 'a' AND 'c'", "NULL"},
	{"'b' NOT BETWEEN 'c' AND 'd'", "true"},
	{"cloudtrail_logs.eventname = 'CreateUser' -- a comment", "true"},
	{`"eventName" = 'CreateUser'`, "true"},
}

func TestHandCases(t *testing.T) {
	row := handRow(t)
	for _, c := range handCases {
		e, err := roweval.Compile(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		s, ok, err := e.Text(row)
		if err != nil {
			t.Errorf("%s: Text: %v", c.expr, err)
			continue
		}
		if !ok {
			s = "NULL"
		}
		if s != c.want {
			t.Errorf("%s = %q, want %q", c.expr, s, c.want)
		}
		if c.want == "true" || c.want == "false" || c.want == "NULL" {
			if h, err := e.Holds(row); err == nil && h != (c.want == "true") {
				t.Errorf("%s: Holds = %v, want %v", c.expr, h, c.want == "true")
			}
		}
	}
}

// TestHandCasesAgreeWithEngine checks the hand-written expectations against the engine, over a
// lake holding handEvent alone.
func TestHandCasesAgreeWithEngine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "trail.json")
	if err := os.WriteFile(file, []byte(`{"Records": [`+handEvent+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "lake")
	if _, err := ingest.Run(context.Background(), ingest.Options{Lake: root}, []string{file}); err != nil {
		t.Fatal(err)
	}
	e, err := local.Open(context.Background(), engine.Options{Lake: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	query := local.Engine(e)
	for _, c := range handCases {
		res, err := query(context.Background(), "SELECT CAST((\n"+c.expr+"\n) AS VARCHAR), account, region, year, month, day FROM cloudtrail_logs")
		if err != nil {
			t.Errorf("%s: engine: %v", c.expr, err)
			continue
		}
		if len(res.Rows) != 1 {
			t.Fatalf("%d rows", len(res.Rows))
		}
		got := "NULL"
		if v := res.Rows[0][0]; v != nil {
			got = answer.String(v)
		}
		if got != c.want {
			t.Errorf("%s: the engine gives %q, the case wants %q", c.expr, got, c.want)
		}
		var part []string
		for _, v := range res.Rows[0][1:] {
			part = append(part, answer.String(v))
		}
		if p := strings.Join(part, "/"); p != "123456789012/us-east-1/2024/03/20" {
			t.Fatalf("the event's partition is %s, handRow's 123456789012/us-east-1/2024/03/20", p)
		}
	}
}

// TestUnsupported lists valid SQL outside the subset (ErrUnsupported) and invalid SQL (another
// error).
func TestUnsupported(t *testing.T) {
	for _, expr := range []string{
		"json_array_length(requestparameters) + 1 > 2",
		"eventname IN (SELECT 1)",
		"contains(resources, 'x')",
		"element_at(resources, 1) IS NULL AND eventname = 'x' OR resources = resources",
		"useridentity = useridentity",
		"cardinality(useridentity.sessioncontext.webidfederationdata.attributes) > 0",
		"regexp_like(eventname, '(?=x)')",
		`regexp_like(eventname, '(a)\1')`,
		"from_iso8601_timestamp(eventtime) > now()",
		"eventname = 1",
		"CAST(1.5 AS VARCHAR) = '1.5'",
		"upper(eventname) = 'X'",
		"CAST(eventname AS BIGINT) = 1",
		"CAST(eventname AS ARRAY(JSON)) IS NULL",
		"eventname IS DISTINCT FROM 'x'",
		"json_extract_scalar(requestparameters, eventname) = 'x'",
		"regexp_like(eventname, eventsource)",
		`regexp_replace(eventname, '\s', '$1') = 'x'`,
		`"$path" LIKE '%x'`,
		"count(*) > 1",
		"eventname = ?",
		"NOT eventname",
	} {
		_, err := roweval.Compile(expr)
		if !errors.Is(err, roweval.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", expr, err)
		}
	}
	for _, expr := range []string{
		"eventname = ",
		"nosuchcolumn = 'x'",
		"json_extract_scalar(requestparameters, 'a.b') = 'x'",
		"eventname LIKE 'x' ESCAPE 'ab'",
		`eventname LIKE 'x\' ESCAPE '\'`,
		"eventname = 'x' extra",
		"'unterminated",
		"lower(eventname, eventsource) = 'x'",
		"(eventname = 'x'",
	} {
		_, err := roweval.Compile(expr)
		if err == nil || errors.Is(err, roweval.ErrUnsupported) {
			t.Errorf("%s: %v, want an error that is not ErrUnsupported", expr, err)
		}
	}
}

// A cast the engine fails on fails at run time, not at Compile: the caller falls back to the scan.
func TestRuntimeError(t *testing.T) {
	for _, expr := range []string{
		"CAST(json_extract(requestparameters, '$.n') AS ARRAY(JSON)) IS NULL",
		"CAST(eventname AS DOUBLE) > 1",
	} {
		e, err := roweval.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Holds(handRow(t)); err == nil {
			t.Errorf("%s: Holds succeeded, want the cast's error", expr)
		}
	}
	// The engine reads "1_000" by rules of its own: Go leaves it to the engine.
	e, err := roweval.Compile("TRY_CAST('1_000' AS DOUBLE) > 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Holds(handRow(t)); !errors.Is(err, roweval.ErrUnsupported) {
		t.Errorf("1_000: %v, want ErrUnsupported", err)
	}
	if _, err := e.Holds(&roweval.Row{}); err == nil {
		t.Error("Holds on a row without a record succeeded")
	}
}

// The operands of AND and OR are evaluated cheapest first: a column compared with a literal
// decides the row before a costlier operand (here one that fails on it) is evaluated.
func TestCheapestOperandFirst(t *testing.T) {
	for expr, want := range map[string]bool{
		"CAST(eventname AS DOUBLE) > 1 AND eventsource = 'ec2.amazonaws.com'":                   false,
		"regexp_like(useragent, 'x') AND CAST(eventname AS DOUBLE) > 1 AND eventname = 'Other'": false,
		"CAST(eventname AS DOUBLE) > 1 OR eventname = 'CreateUser'":                             true,
		// A regular expression that needs a literal is looked for as that literal first.
		"CAST(concat(eventname, 'x') AS DOUBLE) > 1 AND regexp_like(useragent, '.+:no-such/agent:.+')": false,
	} {
		e, err := roweval.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.Holds(handRow(t)); err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", expr, got, err, want)
		}
	}
}

// Without a literal, the same regular expression comes after the cast that fails.
func TestCostlyRegexpLast(t *testing.T) {
	e, err := roweval.Compile("regexp_like(useragent, '^[0-9]+$') AND CAST(concat(eventname, 'x') AS DOUBLE) > 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Holds(handRow(t)); err == nil {
		t.Error("the cast was not evaluated first")
	}
}

func TestColumns(t *testing.T) {
	e, err := roweval.Compile("useridentity.arn = 'x' AND json_extract_scalar(requestparameters, '$.a') IS NULL AND any_match(ARRAY[eventname], v -> v = region)")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(e.Columns(), ","), "eventname,region,requestparameters,useridentity.arn"; got != want {
		t.Errorf("Columns = %s, want %s", got, want)
	}
}

// One Expr serves several goroutines at once (the lake writer's workers).
func TestConcurrentUse(t *testing.T) {
	row := handRow(t)
	e, err := roweval.Compile("any_match(CAST(json_extract(requestparameters, '$.tags') AS ARRAY(JSON)), t -> json_extract_scalar(t, '$.key') = 'b') AND lower(eventname) = 'createuser'")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if h, err := e.Holds(row); err != nil || !h {
					done <- errors.Join(err, errors.New("the condition does not hold"))
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	for pattern, want := range map[string]string{
		`.+:assumed-role/aws:.+`:               ":assumed-role/aws:",
		`"(Principal|AWS)"\s*:\s*(\[\s*)?"\*"`: `"*"`,
		`(?i)assumed-role`:                     "",
		`a|b`:                                  "",
		`x(abc)?y`:                             "x",
		`(abcd){2,3}z`:                         "abcd",
		`(abcd)*z`:                             "z",
		`^arn:aws:iam::\d+:root$`:              "arn:aws:iam::",
		`"add"\s*:\s*\{\s*"items"\s*:\s*\[[^\]]*"(userId|group)"`: `"items"`,
	} {
		if got := roweval.RequiredLiteral(pattern); got != want {
			t.Errorf("RequiredLiteral(%q) = %q, want %q", pattern, got, want)
		}
	}
}
