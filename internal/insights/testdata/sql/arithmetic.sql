-- fields strlen(eventName) * 2 + 1 as n, tolower(eventName) as lower | filter n > 20 | sort n desc, eventName | limit 5
SELECT ((length(eventname) * 2e0) + 1e0) AS "n", lower(eventname) AS "lower"
FROM cloudtrail_logs
WHERE coalesce(((length(eventname) * 2e0) + 1e0) > 20e0, false)
ORDER BY ((length(eventname) * 2e0) + 1e0) DESC, eventname ASC, eventid ASC
LIMIT 5
