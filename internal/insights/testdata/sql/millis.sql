-- fields toMillis(@timestamp) as ms, fromMillis(toMillis(@timestamp) + 1000) as later | filter ms > 1700000000000
SELECT floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) AS "ms", from_unixtime((floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) + 1000e0) / 1000) AS "later"
FROM cloudtrail_logs
WHERE coalesce(floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) > 1.7e+12, false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
