-- filter eventName="CreateUser" | fields awsRegion, requestParameters.userName, responseElements.user.arn
SELECT awsregion AS "awsRegion", json_extract_scalar(requestparameters, '$.userName') AS "requestParameters.userName", json_extract_scalar(responseelements, '$.user.arn') AS "responseElements.user.arn"
FROM cloudtrail_logs
WHERE coalesce(eventname = 'CreateUser', false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
