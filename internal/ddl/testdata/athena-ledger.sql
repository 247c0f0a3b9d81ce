-- athena table over the trailsql lake copied to s3://bucket/lake (written by trailsql ddl).
-- Copy only the files of the lake's ledger (compaction removes superseded files, and a stale copy would count events twice).
CREATE EXTERNAL TABLE IF NOT EXISTS cloudtrail_logs (
  eventversion STRING,
  useridentity STRUCT<type:STRING,principalid:STRING,arn:STRING,accountid:STRING,invokedby:STRING,accesskeyid:STRING,username:STRING,onbehalfof:STRUCT<userid:STRING,identitystorearn:STRING>,sessioncontext:STRUCT<attributes:STRUCT<mfaauthenticated:STRING,creationdate:STRING>,sessionissuer:STRUCT<type:STRING,principalid:STRING,arn:STRING,accountid:STRING,username:STRING>,ec2roledelivery:STRING,webidfederationdata:STRUCT<federatedprovider:STRING,attributes:MAP<STRING,STRING>>,sourceidentity:STRING>,inscopeof:STRING,identityprovider:STRING>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn:STRING,accountid:STRING,type:STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<reason:STRING,updatedfields:STRING,originalrequestid:STRING,originaleventid:STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<tlsversion:STRING,ciphersuite:STRING,clientprovidedhostheader:STRING>
)
PARTITIONED BY (account STRING, region STRING, year STRING, month STRING, day STRING)
STORED AS PARQUET
LOCATION 's3://bucket/lake/cloudtrail_logs/';

-- The 5 partitions the lake's ledger lists.
ALTER TABLE cloudtrail_logs ADD IF NOT EXISTS
  PARTITION (account='012345678901', region='us-east-1', year='2026', month='01', day='31') LOCATION 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=us-east-1/year=2026/month=01/day=31/'
  PARTITION (account='012345678901', region='us-east-1', year='2026', month='02', day='01') LOCATION 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=us-east-1/year=2026/month=02/day=01/'
  PARTITION (account='012345678901', region='eu-west-1', year='2026', month='02', day='01') LOCATION 's3://bucket/lake/cloudtrail_logs/account=012345678901/region=eu-west-1/year=2026/month=02/day=01/'
  PARTITION (account='210987654321', region='us-east-1', year='2026', month='02', day='01') LOCATION 's3://bucket/lake/cloudtrail_logs/account=210987654321/region=us-east-1/year=2026/month=02/day=01/'
  PARTITION (account='210987654321', region='__HIVE_DEFAULT_PARTITION__', year='2026', month='02', day='01') LOCATION 's3://bucket/lake/cloudtrail_logs/account=210987654321/region=__HIVE_DEFAULT_PARTITION__/year=2026/month=02/day=01/';
