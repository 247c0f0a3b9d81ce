-- stats count(*) as c by eventName | filter c >= 2 | sort c desc
SELECT s1."eventName" AS "eventName", s1."c" AS "c"
FROM (SELECT eventname AS "eventName", count(*) AS "c"
  FROM cloudtrail_logs
  GROUP BY eventname) AS s1
WHERE coalesce(s1."c" >= 2e0, false)
ORDER BY s1."c" DESC, s1."eventName" ASC, s1."c" ASC
LIMIT 10000
