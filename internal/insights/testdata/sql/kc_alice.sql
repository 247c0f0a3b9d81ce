-- fields @timestamp, eventName | filter userIdentity.userName = "Alice" | sort @timestamp desc
SELECT from_iso8601_timestamp(eventtime) AS "@timestamp", eventname AS "eventName"
FROM cloudtrail_logs
WHERE coalesce(useridentity.username = 'Alice', false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
