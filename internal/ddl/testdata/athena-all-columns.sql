-- athena table over the trailsql lake copied to s3://your-bucket/trailsql-lake (written by trailsql ddl).
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
  tlsdetails STRUCT<tlsversion:STRING,ciphersuite:STRING,clientprovidedhostheader:STRING>,
  managementevent BOOLEAN COMMENT 'not in Athena''s CloudTrail DDL',
  insightdetails STRING COMMENT 'not in Athena''s CloudTrail DDL',
  residual STRING COMMENT 'not in Athena''s CloudTrail DDL'
)
PARTITIONED BY (account STRING, region STRING, year STRING, month STRING, day STRING)
STORED AS PARQUET
LOCATION 's3://your-bucket/trailsql-lake/cloudtrail_logs/';
