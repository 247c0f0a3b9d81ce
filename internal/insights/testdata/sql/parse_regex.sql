-- parse userAgent /^(?<tool>[A-Za-z-]+)\/(?<version>[0-9.]+)/ | filter ispresent(tool) | stats count(*) by tool
SELECT s1."tool" AS "tool", s1."count(*)" AS "count(*)"
FROM (SELECT regexp_extract(useragent, '^([A-Za-z-]+)/([0-9.]+)', 1) AS "tool", count(*) AS "count(*)"
  FROM cloudtrail_logs
  WHERE coalesce((regexp_extract(useragent, '^([A-Za-z-]+)/([0-9.]+)', 1) IS NOT NULL), false)
  GROUP BY regexp_extract(useragent, '^([A-Za-z-]+)/([0-9.]+)', 1)) AS s1
ORDER BY s1."tool" ASC, s1."count(*)" ASC
LIMIT 10000
