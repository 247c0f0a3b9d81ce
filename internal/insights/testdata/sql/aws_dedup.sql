-- fields @timestamp, eventSource, eventName | sort @timestamp desc | dedup eventSource
SELECT d."@timestamp", d."eventSource", d."eventName"
FROM (SELECT from_iso8601_timestamp(eventtime) AS "@timestamp", eventsource AS "eventSource", eventname AS "eventName", eventsource AS "#dedup0", from_iso8601_timestamp(eventtime) AS "#sort0", eventid AS "#sort1",
  row_number() OVER (PARTITION BY eventsource ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC) AS "#row"
FROM cloudtrail_logs) AS d
WHERE d."#row" = 1 OR d."#dedup0" IS NULL
ORDER BY d."#sort0" DESC, d."#sort1" ASC
LIMIT 10000
