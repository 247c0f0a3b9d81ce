-- title: Where throttling comes from
-- description: Throttled calls in the window by principal (a role's ARN for its sessions, with its account), service, action, region and user agent, most throttled first.
-- args: from, to
-- options: account, region
SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby, useridentity.principalid) AS principal,
       coalesce(useridentity.sessioncontext.sessionissuer.accountid, useridentity.accountid) AS principal_account,
       eventsource,
       eventname,
       awsregion,
       useragent,
       count(*) AS count,
       count(DISTINCT useridentity.principalid) AS sessions,
       array_join(array_sort(array_agg(DISTINCT useridentity.principalid)), ', ') AS principal_ids
FROM cloudtrail_logs
WHERE errorcode IN ('ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'Client.RequestLimitExceeded', 'TooManyRequestsException', 'ThrottledException')
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY count DESC, principal, eventsource, eventname, awsregion, useragent
