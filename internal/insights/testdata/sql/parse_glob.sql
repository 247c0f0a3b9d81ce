-- parse userIdentity.arn "arn:aws:*::*:*" as partition, account, rest | display account, rest
SELECT regexp_extract(useridentity.arn, 'arn:aws:(.*?)::(.*?):(.*)', 2) AS "account", regexp_extract(useridentity.arn, 'arn:aws:(.*?)::(.*?):(.*)', 3) AS "rest"
FROM cloudtrail_logs
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
