-- filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ]
-- | stats count(*) as numOutdatedTlsCalls by userIdentity.accountId, recipientAccountId, eventSource, eventName, awsRegion, tlsDetails.tlsVersion, tlsDetails.cipherSuite, userAgent
-- | sort eventSource, eventName, awsRegion, tlsDetails.tlsVersion
SELECT s1."userIdentity.accountId" AS "userIdentity.accountId", s1."recipientAccountId" AS "recipientAccountId", s1."eventSource" AS "eventSource", s1."eventName" AS "eventName", s1."awsRegion" AS "awsRegion", s1."tlsDetails.tlsVersion" AS "tlsDetails.tlsVersion", s1."tlsDetails.cipherSuite" AS "tlsDetails.cipherSuite", s1."userAgent" AS "userAgent", s1."numOutdatedTlsCalls" AS "numOutdatedTlsCalls"
FROM (SELECT useridentity.accountid AS "userIdentity.accountId", recipientaccountid AS "recipientAccountId", eventsource AS "eventSource", eventname AS "eventName", awsregion AS "awsRegion", tlsdetails.tlsversion AS "tlsDetails.tlsVersion", tlsdetails.ciphersuite AS "tlsDetails.cipherSuite", useragent AS "userAgent", count(*) AS "numOutdatedTlsCalls"
  FROM cloudtrail_logs
  WHERE (coalesce(tlsdetails.tlsversion IN ('TLSv1', 'TLSv1.1'), false))
  GROUP BY useridentity.accountid, recipientaccountid, eventsource, eventname, awsregion, tlsdetails.tlsversion, tlsdetails.ciphersuite, useragent) AS s1
ORDER BY s1."eventSource" ASC, s1."eventName" ASC, s1."awsRegion" ASC, s1."tlsDetails.tlsVersion" ASC, s1."userIdentity.accountId" ASC, s1."recipientAccountId" ASC, s1."eventSource" ASC, s1."eventName" ASC, s1."awsRegion" ASC, s1."tlsDetails.tlsVersion" ASC, s1."tlsDetails.cipherSuite" ASC, s1."userAgent" ASC, s1."numOutdatedTlsCalls" ASC
LIMIT 10000
