-- title: Inactive identities
-- description: Users and roles of an IAM inventory (aws iam get-account-authorization-details) with no call in the window: when the lake last saw them, if ever.
-- args: to, from
-- options: account, region
WITH inventory (kind, name, arn, created) AS (
    VALUES /*inventory*/
), activity AS (
    SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS arn,
           max(eventtime) AS last_seen
    FROM cloudtrail_logs
    WHERE useridentity.type IN ('IAMUser', 'AssumedRole')
      AND eventtime < ? /*filters*/
    GROUP BY 1
)
SELECT i.kind,
       i.name,
       i.arn,
       nullif(i.created, '') AS created,
       a.last_seen
FROM inventory i
LEFT JOIN activity a ON a.arn = i.arn
WHERE a.last_seen IS NULL OR a.last_seen < ?
ORDER BY i.kind DESC, a.last_seen NULLS FIRST, i.name, i.arn
