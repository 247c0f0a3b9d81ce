-- title: Console sign-ins
-- description: Who signed in to the AWS console in the window, from where, whether it succeeded and whether MFA was used.
-- args: from, to
-- options: account, region
SELECT eventtime,
       useridentity.type AS identity_type,
       coalesce(useridentity.username, useridentity.sessioncontext.sessionissuer.username, useridentity.arn) AS who,
       useridentity.arn AS arn,
       sourceipaddress,
       json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,
       json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
       errormessage
FROM cloudtrail_logs
WHERE eventname = 'ConsoleLogin'
  AND eventtime >= ? AND eventtime < ? /*filters*/
ORDER BY eventtime DESC, arn, who, sourceipaddress, result
