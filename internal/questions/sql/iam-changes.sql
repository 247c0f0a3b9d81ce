-- title: IAM changes
-- description: Changes to IAM in the window (users, roles, groups, policies, access keys, login profiles, MFA devices; deletions included; failed attempts show their error), newest first.
-- args: from, to
-- options: account, region, principal
SELECT eventtime,
       recipientaccountid AS account,
       coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby) AS actor,
       useridentity.arn AS actor_arn,
       eventname,
       coalesce(json_extract_scalar(requestparameters, '$.userName'),
                json_extract_scalar(requestparameters, '$.roleName'),
                json_extract_scalar(requestparameters, '$.groupName'),
                json_extract_scalar(requestparameters, '$.instanceProfileName'),
                json_extract_scalar(requestparameters, '$.serialNumber'),
                json_extract_scalar(requestparameters, '$.samlProviderArn'),
                json_extract_scalar(requestparameters, '$.openIDConnectProviderArn')) AS target,
       coalesce(json_extract_scalar(requestparameters, '$.policyArn'),
                json_extract_scalar(requestparameters, '$.policyName')) AS policy,
       sourceipaddress,
       errorcode
FROM cloudtrail_logs
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname NOT LIKE 'Get%'
  AND eventname NOT LIKE 'List%'
  AND eventname NOT LIKE 'Generate%'
  AND eventname NOT LIKE 'Simulate%'
  AND eventtime >= ? AND eventtime < ? /*filters*/
ORDER BY eventtime DESC, eventname, target, actor_arn, errorcode
