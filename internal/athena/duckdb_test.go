package athena

import (
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// fixtureStatements create a small cloudtrail_logs table with the Athena CloudTrail column
// shapes (see ../shared/athena-corpus/ddl): JSON payloads and eventtime as VARCHAR, useridentity
// a nested STRUCT, resources a LIST of STRUCT and the partition columns as VARCHAR.
var fixtureStatements = []string{
	`SET TimeZone = 'UTC'`,
	`CREATE TABLE cloudtrail_logs (
  eventversion VARCHAR,
  useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR,
    invokedby VARCHAR, accesskeyid VARCHAR, username VARCHAR,
    sessioncontext STRUCT(attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR),
      sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR),
      ec2roledelivery VARCHAR,
      webidfederationdata STRUCT(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR)))),
  eventtime VARCHAR, eventsource VARCHAR, eventname VARCHAR, awsregion VARCHAR,
  sourceipaddress VARCHAR, useragent VARCHAR, errorcode VARCHAR, errormessage VARCHAR,
  requestparameters VARCHAR, responseelements VARCHAR, additionaleventdata VARCHAR,
  requestid VARCHAR, eventid VARCHAR,
  resources STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[],
  eventtype VARCHAR, apiversion VARCHAR, readonly VARCHAR, recipientaccountid VARCHAR,
  serviceeventdetails VARCHAR, sharedeventid VARCHAR, vpcendpointid VARCHAR,
  tlsdetails STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR),
  account VARCHAR, region VARCHAR, year VARCHAR, month VARCHAR, day VARCHAR)`,
	`INSERT INTO cloudtrail_logs VALUES
 ('1.08',
  {'type': 'AssumedRole', 'principalid': 'AROAEXAMPLE:alice', 'arn': 'arn:aws:sts::111111111111:assumed-role/example/alice',
   'accountid': '111111111111', 'invokedby': NULL, 'accesskeyid': 'ASIAEXAMPLE', 'username': NULL,
   'sessioncontext': {'attributes': {'mfaauthenticated': 'false', 'creationdate': '2024-03-05T06:00:00Z'},
     'sessionissuer': {'type': 'Role', 'principalid': 'AROAEXAMPLE', 'arn': 'arn:aws:iam::111111111111:role/example',
       'accountid': '111111111111', 'username': 'example'},
     'ec2roledelivery': NULL, 'webidfederationdata': NULL}},
  '2024-03-05T07:08:09Z', 's3.amazonaws.com', 'GetObject', 'us-east-1', '1.2.3.4', 'aws-cli/2.0',
  NULL, NULL,
  '{"bucketName":"example","key":"datafile.txt","x-amz-copy-source":"src/key"}',
  NULL, '{"SignatureVersion":"SigV2","bytesTransferredOut":42}',
  'req-1', 'evt-1',
  [{'arn': 'arn:aws:s3:::example/datafile.txt', 'accountid': '111111111111', 'type': 'AWS::S3::Object'},
   {'arn': 'arn:aws:s3:::example', 'accountid': '111111111111', 'type': 'AWS::S3::Bucket'}],
  'AwsApiCall', NULL, 'true', '111111111111', NULL, NULL, NULL,
  {'tlsversion': 'TLSv1.2', 'ciphersuite': 'ECDHE', 'clientprovidedhostheader': 'example.s3.amazonaws.com'},
  '111111111111', 'us-east-1', '2024', '03', '05'),
 ('1.08',
  {'type': 'Root', 'principalid': '111111111111', 'arn': 'arn:aws:iam::111111111111:root',
   'accountid': '111111111111', 'invokedby': NULL, 'accesskeyid': NULL, 'username': NULL,
   'sessioncontext': NULL},
  '2024-03-06T23:00:00Z', 'signin.amazonaws.com', 'ConsoleLogin', 'us-east-1', '5.6.7.8', 'Mozilla/5.0',
  NULL, NULL, NULL, '{"ConsoleLogin":"Success"}', 'not json {', 'req-2', 'evt-2', NULL,
  'AwsConsoleSignIn', NULL, 'false', '111111111111', NULL, NULL, NULL, NULL,
  '111111111111', 'us-east-1', '2024', '03', '06'),
 ('1.08',
  {'type': 'IAMUser', 'principalid': 'AIDAEXAMPLE', 'arn': 'arn:aws:iam::222222222222:user/bob',
   'accountid': '222222222222', 'invokedby': NULL, 'accesskeyid': 'AKIAIOSFODNN7EXAMPLE', 'username': 'bob',
   'sessioncontext': NULL},
  '2024-03-07T01:00:00.123Z', 'rds.amazonaws.com', 'RestoreDBInstanceFromDBSnapshot', 'eu-west-1', '9.9.9.9',
  'Boto3/1.0', 'ThrottlingException', 'Rate exceeded', '{"dBInstanceIdentifier":"db1"}',
  '{"publiclyAccessible":"true"}', NULL, 'req-3', 'evt-3', [], 'AwsApiCall', NULL, 'false',
  '222222222222', '{"dashboardName":"x","dashboardId":"arn:aws:quicksight:dashboard/abc"}', NULL, NULL, NULL,
  '222222222222', 'eu-west-1', '2024', '03', '07')`,
}

// openDB opens an in-memory DuckDB with Setup run and the fixture table created, on a single
// connection (TEMP macros and settings belong to a connection).
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, s := range append(Setup(), fixtureStatements...) {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return db
}

// queryAll runs a query and returns its rows as scanned values.
func queryAll(db *sql.DB, q string) ([][]any, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
