-- title: What one access key did, and whose it is
-- description: Every action called with an access key in the window (who used it, counts, errors, regions, source IPs), and the key's lifecycle events (created, updated, deleted: by whom, for which user) at any time.
-- args: principal, from, to, principal, principal
-- options: account, region
WITH used AS (
    SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS identity,
           eventsource,
           eventname,
           count(*) AS calls,
           count_if/*failed*/ AS errors,
           min(eventtime) AS first_seen,
           max(eventtime) AS last_seen,
           array_join(array_sort(array_agg(DISTINCT awsregion)), ', ') || ' from ' || array_join(array_sort(array_agg(DISTINCT sourceipaddress)), ', ') AS detail
    FROM cloudtrail_logs
    WHERE useridentity.accesskeyid = ?
      AND eventtime >= ? AND eventtime < ? /*filters*/
    GROUP BY 1, 2, 3
), lifecycle AS (
    SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS identity,
           eventsource,
           eventname,
           1 AS calls,
           if(/*failed*/, 1, 0) AS errors,
           eventtime AS first_seen,
           eventtime AS last_seen,
           'user ' || coalesce(json_extract_scalar(responseelements, '$.accessKey.userName'), json_extract_scalar(requestparameters, '$.userName'), useridentity.username, 'unknown')
             || coalesce(', status ' || json_extract_scalar(requestparameters, '$.status'), '')
             || coalesce(', error ' || errorcode, '') AS detail
    FROM cloudtrail_logs
    WHERE eventsource = 'iam.amazonaws.com'
      AND eventname IN ('CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey')
      AND (json_extract_scalar(responseelements, '$.accessKey.accessKeyId') = ? OR json_extract_scalar(requestparameters, '$.accessKeyId') = ?)
)
SELECT 'used' AS kind, identity, eventsource, eventname, calls, errors, first_seen, last_seen, detail FROM used
UNION ALL
SELECT 'lifecycle' AS kind, identity, eventsource, eventname, calls, errors, first_seen, last_seen, detail FROM lifecycle
ORDER BY kind DESC, calls DESC, first_seen, identity, eventsource, eventname
