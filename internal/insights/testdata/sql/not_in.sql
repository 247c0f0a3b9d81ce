-- filter eventName not in ["ConsoleLogin", "GetCallerIdentity"] | stats count_distinct(eventName) as names, min(@timestamp), max(@timestamp)
SELECT s1."names" AS "names", s1."min(@timestamp)" AS "min(@timestamp)", s1."max(@timestamp)" AS "max(@timestamp)"
FROM (SELECT count(DISTINCT eventname) AS "names", min(from_iso8601_timestamp(eventtime)) AS "min(@timestamp)", max(from_iso8601_timestamp(eventtime)) AS "max(@timestamp)"
  FROM cloudtrail_logs
  WHERE (NOT coalesce(eventname IN ('ConsoleLogin', 'GetCallerIdentity'), false))) AS s1
ORDER BY s1."names" ASC, s1."min(@timestamp)" ASC, s1."max(@timestamp)" ASC
LIMIT 10000
