-- title: IAM roles active in the window
-- description: Roles whose sessions made at least one call in the window (by the role's ARN, not the session name): calls, sessions, last seen, source IPs.
-- args: from, to
-- options: account, region
SELECT useridentity.sessioncontext.sessionissuer.arn AS role_arn,
       count(*) AS calls,
       count(DISTINCT useridentity.principalid) AS sessions,
       count_if/*failed*/ AS errors,
       max(eventtime) AS last_seen,
       array_join(array_sort(array_agg(DISTINCT sourceipaddress)), ', ') AS source_ips
FROM cloudtrail_logs
WHERE useridentity.type = 'AssumedRole'
  AND useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY useridentity.sessioncontext.sessionissuer.arn
ORDER BY calls DESC, role_arn
