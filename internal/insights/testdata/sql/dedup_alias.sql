-- fields eventName as `a AS b`, CAST as c | dedup c
SELECT d."a AS b", d."c"
FROM (SELECT eventname AS "a AS b", json_extract_scalar(residual, '$.CAST') AS "c", json_extract_scalar(residual, '$.CAST') AS "#dedup0", from_iso8601_timestamp(eventtime) AS "#sort0", eventid AS "#sort1",
  row_number() OVER (PARTITION BY json_extract_scalar(residual, '$.CAST') ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC) AS "#row"
FROM cloudtrail_logs) AS d
WHERE d."#row" = 1 OR d."#dedup0" IS NULL
ORDER BY d."#sort0" DESC, d."#sort1" ASC
LIMIT 10000
