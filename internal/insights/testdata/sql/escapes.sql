-- filter errorMessage = "say \"hi\"\tnow\\" or errorMessage = 'it\'s' or requestParameters.key =~ /^logs\/[0-9]+\.gz$/ | fields `requestParameters.odd-name`, eventName as `the name`
SELECT json_extract_scalar(requestparameters, '$["odd-name"]') AS "requestParameters.odd-name", eventname AS "the name"
FROM cloudtrail_logs
WHERE ((coalesce(errormessage = 'say "hi"	now\', false) OR coalesce(errormessage = 'it''s', false)) OR (coalesce(regexp_like(json_extract_scalar(requestparameters, '$.key'), '^logs/[0-9]+\.gz$'), false)))
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
