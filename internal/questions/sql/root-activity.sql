-- title: Root user activity
-- description: Every call made with the root user's credentials in the window (AWS service events on root's behalf left out), newest first; failed is true for refused calls and failed sign-ins.
-- args: from, to
-- options: account, region
SELECT eventtime,
       recipientaccountid AS account,
       awsregion,
       eventsource,
       eventname,
       sourceipaddress,
       useragent,
       errorcode,
       errormessage,
       coalesce(/*failed*/, false) AS failed
FROM cloudtrail_logs
WHERE useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND coalesce(eventtype, '') <> 'AwsServiceEvent'
  AND eventtime >= ? AND eventtime < ? /*filters*/
ORDER BY eventtime DESC, account, awsregion, eventsource, eventname, sourceipaddress
