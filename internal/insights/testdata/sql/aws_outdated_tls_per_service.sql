-- filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ] | stats count(*) as numOutdatedTlsCalls by eventSource | sort numOutdatedTlsCalls desc
SELECT s1."eventSource" AS "eventSource", s1."numOutdatedTlsCalls" AS "numOutdatedTlsCalls"
FROM (SELECT eventsource AS "eventSource", count(*) AS "numOutdatedTlsCalls"
  FROM cloudtrail_logs
  WHERE (coalesce(tlsdetails.tlsversion IN ('TLSv1', 'TLSv1.1'), false))
  GROUP BY eventsource) AS s1
ORDER BY s1."numOutdatedTlsCalls" DESC, s1."eventSource" ASC, s1."numOutdatedTlsCalls" ASC
LIMIT 10000
