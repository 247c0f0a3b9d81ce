-- stats count() as n, earliest(eventName), latest(eventName), pct(strlen(eventName), 50), stddev(strlen(eventName)) by userIdentity.userName | sort n desc
SELECT s1."userIdentity.userName" AS "userIdentity.userName", s1."n" AS "n", s1."earliest(eventName)" AS "earliest(eventName)", s1."latest(eventName)" AS "latest(eventName)", s1."pct(strlen(eventName), 50)" AS "pct(strlen(eventName), 50)", s1."stddev(strlen(eventName))" AS "stddev(strlen(eventName))"
FROM (SELECT useridentity.username AS "userIdentity.userName", count(*) AS "n", min_by(eventname, from_iso8601_timestamp(eventtime)) AS "earliest(eventName)", max_by(eventname, from_iso8601_timestamp(eventtime)) AS "latest(eventName)", approx_percentile(length(eventname), 0.5) AS "pct(strlen(eventName), 50)", stddev(length(eventname)) AS "stddev(strlen(eventName))"
  FROM cloudtrail_logs
  GROUP BY useridentity.username) AS s1
ORDER BY s1."n" DESC, s1."userIdentity.userName" ASC, s1."n" ASC, s1."earliest(eventName)" ASC, s1."latest(eventName)" ASC, s1."pct(strlen(eventName), 50)" ASC, s1."stddev(strlen(eventName))" ASC
LIMIT 10000
