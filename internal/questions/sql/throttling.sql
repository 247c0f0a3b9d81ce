-- title: Where throttling comes from
-- description: Throttled calls in the window by principal, service, action, region and user agent, most throttled first.
-- args: from, to
-- options: account, region
SELECT useridentity.principalid AS principal_id,
       eventsource,
       eventname,
       awsregion,
       useragent,
       count(*) AS count
FROM cloudtrail_logs
WHERE errorcode IN ('ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'Client.RequestLimitExceeded', 'TooManyRequestsException', 'ThrottledException')
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY useridentity.principalid, eventsource, eventname, awsregion, useragent
ORDER BY count DESC, principal_id, eventsource, eventname, awsregion, useragent
