-- title: Failed console sign-ins
-- description: Console sign-ins that failed in the window, by who and from where (names that do not exist show as CloudTrail hides them): failures, first and last seen, reasons.
-- args: from, to
-- options: account, region
SELECT coalesce(useridentity.username, useridentity.sessioncontext.sessionissuer.username, useridentity.arn) AS who,
       useridentity.type AS identity_type,
       useridentity.arn AS arn,
       recipientaccountid AS account,
       sourceipaddress,
       count(*) AS failures,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen,
       array_join(array_sort(array_agg(DISTINCT coalesce(errormessage, 'Failure'))), '; ') AS reasons
FROM cloudtrail_logs
WHERE eventname = 'ConsoleLogin'
  AND /*failed*/
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY 1, 2, 3, 4, 5
ORDER BY failures DESC, last_seen DESC, who, account, arn, sourceipaddress
