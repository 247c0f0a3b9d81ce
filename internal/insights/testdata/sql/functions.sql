-- fields eventID, 2 ^ 3 ^ 2 as p, -2 ^ 2 as q, greatest(1, strlen(eventName)) as g, replace(eventName, "Describe", "List") as r, datefloor(@timestamp, 1h) as hour | filter strcontains(eventName, "Instances")
SELECT eventid AS "eventID", power(2e0, power(3e0, 2e0)) AS "p", (-power(2e0, 2e0)) AS "q", greatest(1e0, length(eventname)) AS "g", replace(eventname, 'Describe', 'List') AS "r", from_unixtime(floor(to_unixtime(from_iso8601_timestamp(eventtime)) / 3600e0) * 3600e0) AS "hour"
FROM cloudtrail_logs
WHERE coalesce((strpos(eventname, 'Instances') > 0), false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
