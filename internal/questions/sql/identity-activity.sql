-- title: What one identity called
-- description: The services and actions a user or role called in the window (a role's ARN covers all its sessions), with counts, errors, first and last seen.
-- args: principal, principal, from, to
SELECT eventsource,
       eventname,
       count(*) AS calls,
       count_if(errorcode IS NOT NULL) AS errors,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE (useridentity.arn = ? OR useridentity.sessioncontext.sessionissuer.arn = ?)
  AND eventtime >= ? AND eventtime < ?
GROUP BY eventsource, eventname
ORDER BY calls DESC, eventsource, eventname
