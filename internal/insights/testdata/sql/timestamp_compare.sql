-- filter @timestamp >= "2026-03-01T00:00:00Z" and recipientAccountId = 123456789012 | fields eventID
SELECT eventid AS "eventID"
FROM cloudtrail_logs
WHERE (coalesce(from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp('2026-03-01T00:00:00Z'), false) AND coalesce(TRY_CAST(recipientaccountid AS DOUBLE) = 1.23456789012e+11, false))
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
