-- title: What one identity called
-- description: The services and actions a user, role, role session or access key called in the window (a role covers all its sessions), with counts, errors, first and last seen.
-- args: principal, principal, principal, from, to
-- options: account, region
SELECT eventsource,
       eventname,
       count(*) AS calls,
       count_if/*failed*/ AS errors,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE (useridentity.arn = ? OR useridentity.sessioncontext.sessionissuer.arn = ? OR useridentity.accesskeyid = ?)
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY eventsource, eventname
ORDER BY calls DESC, eventsource, eventname
