-- fields userIdentity.sessionContext.sessionIssuer.userName as issuer, requestParameters.bucketName, resources.0.ARN, userIdentity.sessionContext.webIdFederationData.attributes.aud, unknownTopLevel.x | filter readOnly = "false"
SELECT useridentity.sessioncontext.sessionissuer.username AS "issuer", json_extract_scalar(requestparameters, '$.bucketName') AS "requestParameters.bucketName", element_at(resources, 1).arn AS "resources.0.ARN", element_at(useridentity.sessioncontext.webidfederationdata.attributes, 'aud') AS "userIdentity.sessionContext.webIdFederationData.attributes.aud", json_extract_scalar(residual, '$.unknownTopLevel.x') AS "unknownTopLevel.x"
FROM cloudtrail_logs
WHERE coalesce(readonly = 'false', false)
ORDER BY from_iso8601_timestamp(eventtime) DESC, eventid ASC
LIMIT 10000
