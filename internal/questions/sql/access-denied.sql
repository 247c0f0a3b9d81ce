-- title: Access denied
-- description: Calls refused for lack of permission in the window, by principal (a role stands for all its sessions) and action: count, first and last seen, a sample message.
-- args: from, to
-- options: account, region, principal
SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby, useridentity.accountid) AS principal,
       useridentity.type AS identity_type,
       eventsource,
       eventname,
       errorcode,
       count(*) AS denied,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen,
       min(errormessage) AS sample_message
FROM cloudtrail_logs
WHERE /*denied*/
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY 1, 2, 3, 4, 5
ORDER BY denied DESC, principal, eventsource, eventname, errorcode
