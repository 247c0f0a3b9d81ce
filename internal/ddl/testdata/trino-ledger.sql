-- trino table over the trailsql lake copied to s3://bucket/lake (written by trailsql ddl).
-- Copy only the files of the lake's ledger (compaction removes superseded files, and a stale copy would count events twice).
CREATE TABLE IF NOT EXISTS security.cloudtrail_logs (
  eventversion VARCHAR,
  useridentity ROW("type" VARCHAR, "principalid" VARCHAR, "arn" VARCHAR, "accountid" VARCHAR, "invokedby" VARCHAR, "accesskeyid" VARCHAR, "username" VARCHAR, "onbehalfof" ROW("userid" VARCHAR, "identitystorearn" VARCHAR), "sessioncontext" ROW("attributes" ROW("mfaauthenticated" VARCHAR, "creationdate" VARCHAR), "sessionissuer" ROW("type" VARCHAR, "principalid" VARCHAR, "arn" VARCHAR, "accountid" VARCHAR, "username" VARCHAR), "ec2roledelivery" VARCHAR, "webidfederationdata" ROW("federatedprovider" VARCHAR, "attributes" MAP(VARCHAR, VARCHAR)), "sourceidentity" VARCHAR), "inscopeof" VARCHAR, "identityprovider" VARCHAR),
  eventtime VARCHAR,
  eventsource VARCHAR,
  eventname VARCHAR,
  awsregion VARCHAR,
  sourceipaddress VARCHAR,
  useragent VARCHAR,
  errorcode VARCHAR,
  errormessage VARCHAR,
  requestparameters VARCHAR,
  responseelements VARCHAR,
  additionaleventdata VARCHAR,
  requestid VARCHAR,
  eventid VARCHAR,
  readonly VARCHAR,
  resources ARRAY(ROW("arn" VARCHAR, "accountid" VARCHAR, "type" VARCHAR)),
  eventtype VARCHAR,
  apiversion VARCHAR,
  recipientaccountid VARCHAR,
  serviceeventdetails VARCHAR,
  sharedeventid VARCHAR,
  vpcendpointid VARCHAR,
  vpcendpointaccountid VARCHAR,
  eventcategory VARCHAR,
  addendum ROW("reason" VARCHAR, "updatedfields" VARCHAR, "originalrequestid" VARCHAR, "originaleventid" VARCHAR),
  sessioncredentialfromconsole VARCHAR,
  edgedevicedetails VARCHAR,
  tlsdetails ROW("tlsversion" VARCHAR, "ciphersuite" VARCHAR, "clientprovidedhostheader" VARCHAR),
  account VARCHAR,
  region VARCHAR,
  year VARCHAR,
  month VARCHAR,
  day VARCHAR
)
WITH (
  format = 'PARQUET',
  external_location = 's3://bucket/lake/cloudtrail_logs/',
  partitioned_by = ARRAY['account', 'region', 'year', 'month', 'day']
);

-- The 5 partitions the lake's ledger lists.
-- system.register_partition needs hive.allow-register-partition-procedure=true; or run instead:
--   CALL system.sync_partition_metadata('security', 'cloudtrail_logs', 'ADD');
CALL system.register_partition('security', 'cloudtrail_logs', ARRAY['account', 'region', 'year', 'month', 'day'], ARRAY['012345678901', 'us-east-1', '2026', '01', '31'], 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=us-east-1/year=2026/month=01/day=31/');
CALL system.register_partition('security', 'cloudtrail_logs', ARRAY['account', 'region', 'year', 'month', 'day'], ARRAY['012345678901', 'us-east-1', '2026', '02', '01'], 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=us-east-1/year=2026/month=02/day=01/');
CALL system.register_partition('security', 'cloudtrail_logs', ARRAY['account', 'region', 'year', 'month', 'day'], ARRAY['012345678901', 'eu-west-1', '2026', '02', '01'], 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=eu-west-1/year=2026/month=02/day=01/');
CALL system.register_partition('security', 'cloudtrail_logs', ARRAY['account', 'region', 'year', 'month', 'day'], ARRAY['210987654321', 'us-east-1', '2026', '02', '01'], 's3://bucket/lake/cloudtrail_logs/account=210987654321/region=us-east-1/year=2026/month=02/day=01/');
CALL system.register_partition('security', 'cloudtrail_logs', ARRAY['account', 'region', 'year', 'month', 'day'], ARRAY['210987654321', '__HIVE_DEFAULT_PARTITION__', '2026', '02', '01'], 's3://bucket/lake/cloudtrail_logs/account=210987654321/region=__HIVE_DEFAULT_PARTITION__/year=2026/month=02/day=01/');
