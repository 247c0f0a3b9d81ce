-- fields toMillis(@timestamp) as ms, fromMillis(toMillis(@timestamp) + 1000) as later | filter ms > 1700000000000
SELECT CAST(floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) AS BIGINT) AS "ms", from_unixtime((CAST(floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) AS BIGINT) + 1000e0) / 1000) AS "later"
FROM cloudtrail_logs
WHERE coalesce(CAST(floor(to_unixtime(from_iso8601_timestamp(eventtime)) * 1000) AS BIGINT) > 1.7e+12, false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
