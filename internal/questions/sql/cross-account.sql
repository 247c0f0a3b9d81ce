-- title: Cross-account activity
-- description: Calls in the window whose caller belongs to another account than the one that received them, by caller, receiving account and action.
-- args: from, to
-- options: account, region, principal
SELECT useridentity.accountid AS caller_account,
       coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.accountid) AS caller,
       useridentity.type AS identity_type,
       recipientaccountid AS recipient_account,
       eventsource,
       eventname,
       count(*) AS calls,
       count_if/*failed*/ AS errors,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE useridentity.accountid IS NOT NULL
  AND recipientaccountid IS NOT NULL
  AND useridentity.accountid <> recipientaccountid
  AND coalesce(useridentity.type, '') <> 'AWSService'
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY calls DESC, caller_account, caller, recipient_account, eventsource, eventname
