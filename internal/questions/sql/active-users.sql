-- title: IAM users active in the window
-- description: IAM users with at least one call (failed ones included) in the window: calls, errors, first and last seen, source IPs. Sign-in attempts with names that do not exist are in failed-console-logins.
-- args: from, to
-- options: account, region
SELECT useridentity.username AS user_name,
       useridentity.arn AS arn,
       count(*) AS calls,
       count_if/*failed*/ AS errors,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen,
       array_join(array_sort(array_agg(DISTINCT sourceipaddress)), ', ') AS source_ips
FROM cloudtrail_logs
WHERE useridentity.type = 'IAMUser'
  AND useridentity.arn IS NOT NULL
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY useridentity.username, useridentity.arn
ORDER BY last_seen DESC, user_name, arn
