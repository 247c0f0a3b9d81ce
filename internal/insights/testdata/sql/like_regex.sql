-- filter eventName like /^(Delete|Put)Bucket/ and not errorCode =~ /Denied$/ | fields eventName
SELECT eventname AS "eventName"
FROM cloudtrail_logs
WHERE ((coalesce(regexp_like(eventname, '^(Delete|Put)Bucket'), false)) AND (NOT (coalesce(regexp_like(errorcode, 'Denied$'), false))))
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
