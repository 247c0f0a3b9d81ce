-- fields resources[1].ARN, requestParameters.instancesSet.items[0].instanceId
SELECT element_at(resources, 2).arn AS "resources[1].ARN", json_extract_scalar(requestparameters, '$.instancesSet.items[0].instanceId') AS "requestParameters.instancesSet.items[0].instanceId"
FROM cloudtrail_logs
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
