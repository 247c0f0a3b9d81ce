-- title: Changes made by hand in the console
-- description: Non-read calls made from the AWS Management Console in the window (console sign-ins left out), by who and what: the changes no pipeline made.
-- args: from, to
-- options: account, region, principal
SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS principal,
       useridentity.type AS identity_type,
       recipientaccountid AS account,
       eventsource,
       eventname,
       count(*) AS calls,
       count_if/*failed*/ AS errors,
       min(eventtime) AS first_seen,
       max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE (sessioncredentialfromconsole = 'true'
       OR useragent IN ('console.amazonaws.com', 'signin.amazonaws.com', 'AWS Internal')
       OR useragent LIKE '%.console.aws.amazon.com%'
       OR eventtype = 'AwsConsoleAction')
  AND coalesce(readonly, 'false') = 'false'
  AND eventtype <> 'AwsConsoleSignIn'
  AND useridentity.type IN ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser', 'IdentityCenterUser')
  AND eventtime >= ? AND eventtime < ? /*filters*/
GROUP BY 1, 2, 3, 4, 5
ORDER BY last_seen DESC, principal, account, eventsource, eventname
