-- stats count(*) by eventSource, eventName, awsRegion
SELECT s1."eventSource" AS "eventSource", s1."eventName" AS "eventName", s1."awsRegion" AS "awsRegion", s1."count(*)" AS "count(*)"
FROM (SELECT eventsource AS "eventSource", eventname AS "eventName", awsregion AS "awsRegion", count(*) AS "count(*)"
  FROM cloudtrail_logs
  GROUP BY eventsource, eventname, awsregion) AS s1
ORDER BY s1."eventSource" ASC, s1."eventName" ASC, s1."awsRegion" ASC, s1."count(*)" ASC
LIMIT 10000
