-- filter eventName="UpdateTrail" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage
SELECT s1."errorCode" AS "errorCode", s1."errorMessage" AS "errorMessage", s1."count(*)" AS "count(*)"
FROM (SELECT errorcode AS "errorCode", errormessage AS "errorMessage", count(*) AS "count(*)"
  FROM cloudtrail_logs
  WHERE (coalesce(eventname = 'UpdateTrail', false) AND coalesce((errorcode IS NOT NULL), false))
  GROUP BY errorcode, errormessage) AS s1
ORDER BY s1."errorCode" ASC, s1."errorMessage" ASC, s1."count(*)" ASC
LIMIT 10000
