-- filter eventSource = "s3.amazonaws.com" | stats count(*) as calls by bin(5m) | sort calls desc | limit 3
SELECT s1."bin(5m)" AS "bin(5m)", s1."calls" AS "calls"
FROM (SELECT from_unixtime(floor(to_unixtime(from_iso8601_timestamp(eventtime)) / 300e0) * 300e0) AS "bin(5m)", count(*) AS "calls"
  FROM cloudtrail_logs
  WHERE coalesce(eventsource = 's3.amazonaws.com', false)
  GROUP BY from_unixtime(floor(to_unixtime(from_iso8601_timestamp(eventtime)) / 300e0) * 300e0)) AS s1
ORDER BY s1."calls" DESC, s1."bin(5m)" ASC, s1."calls" ASC
LIMIT 3
