-- title: New behaviour
-- description: Actions each identity (a role stands for all its sessions) performed in the window but never in the baseline before it, with new_identity true when it had no call at all in the baseline.
-- args: from, to, baseline_from, from
-- options: account, region, principal
WITH recent AS (
    SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS principal,
           eventsource,
           eventname,
           count(*) AS calls,
           count_if/*failed*/ AS errors,
           min(eventtime) AS first_seen,
           max(eventtime) AS last_seen,
           array_join(array_sort(array_agg(DISTINCT sourceipaddress)), ', ') AS source_ips
    FROM cloudtrail_logs
    WHERE useridentity.type IN ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
      AND eventtime >= ? AND eventtime < ? /*filters*/
    GROUP BY 1, 2, 3
), baseline AS (
    SELECT DISTINCT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS principal,
           eventsource,
           eventname
    FROM cloudtrail_logs
    WHERE useridentity.type IN ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
      AND eventtime >= ? AND eventtime < ? /*filters*/
), known AS (
    SELECT DISTINCT principal FROM baseline
)
SELECT r.principal,
       r.eventsource,
       r.eventname,
       r.calls,
       r.errors,
       r.first_seen,
       r.last_seen,
       r.source_ips,
       k.principal IS NULL AS new_identity
FROM recent r
LEFT JOIN baseline b ON b.principal = r.principal AND b.eventsource = r.eventsource AND b.eventname = r.eventname
LEFT JOIN known k ON k.principal = r.principal
WHERE b.principal IS NULL
ORDER BY new_identity, r.principal, r.first_seen, r.eventsource, r.eventname
