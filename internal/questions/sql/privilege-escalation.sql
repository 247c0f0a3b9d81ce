-- title: Privilege escalation
-- description: Calls that can raise privileges (new or default policy versions, policies attached or put, keys or passwords made for another user, trust policies changed, group memberships, services created with a role to pass), newest first, failed attempts included.
-- args: from, to
-- options: account, region, principal
SELECT eventtime,
       recipientaccountid AS account,
       coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS actor,
       useridentity.arn AS actor_arn,
       eventsource,
       eventname,
       CASE
           WHEN eventname IN ('CreatePolicyVersion', 'SetDefaultPolicyVersion') THEN 'changes what a managed policy grants'
           WHEN eventname IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy') THEN 'attaches a managed policy'
           WHEN eventname IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy') THEN 'writes an inline policy'
           WHEN eventname IN ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary') THEN 'removes a permissions boundary'
           WHEN eventname = 'CreateAccessKey' THEN 'creates an access key for another user'
           WHEN eventname IN ('CreateLoginProfile', 'UpdateLoginProfile') THEN 'sets the console password of another user'
           WHEN eventname = 'UpdateAssumeRolePolicy' THEN 'changes who may assume a role'
           WHEN eventname = 'AddUserToGroup' THEN 'adds a user to a group'
           ELSE 'creates a resource that runs with a passed role'
       END AS technique,
       coalesce(json_extract_scalar(requestparameters, '$.userName'),
                json_extract_scalar(requestparameters, '$.roleName'),
                json_extract_scalar(requestparameters, '$.groupName'),
                json_extract_scalar(requestparameters, '$.policyArn'),
                json_extract_scalar(requestparameters, '$.role'),
                json_extract_scalar(requestparameters, '$.roleArn'),
                json_extract_scalar(requestparameters, '$.roleARN'),
                json_extract_scalar(requestparameters, '$.iamInstanceProfile.arn'),
                json_extract_scalar(requestparameters, '$.iamInstanceProfile.name'),
                json_extract_scalar(requestparameters, '$.taskRoleArn'),
                json_extract_scalar(requestparameters, '$.serviceRole')) AS target,
       json_extract_scalar(requestparameters, '$.policyArn') AS policy,
       sourceipaddress,
       errorcode
FROM cloudtrail_logs
WHERE (
        (eventsource = 'iam.amazonaws.com' AND (
            eventname IN ('CreatePolicyVersion', 'SetDefaultPolicyVersion',
                          'AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy',
                          'PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy',
                          'DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary',
                          'UpdateAssumeRolePolicy', 'AddUserToGroup')
            OR (eventname IN ('CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')
                AND json_extract_scalar(requestparameters, '$.userName') IS NOT NULL
                AND json_extract_scalar(requestparameters, '$.userName') <> coalesce(useridentity.username, ''))))
     OR (eventsource = 'lambda.amazonaws.com' AND regexp_like(eventname, '^CreateFunction'))
     OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'RunInstances' AND json_extract(requestparameters, '$.iamInstanceProfile') IS NOT NULL)
     OR (eventsource = 'ec2.amazonaws.com' AND eventname IN ('AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation'))
     OR (eventsource = 'glue.amazonaws.com' AND eventname IN ('CreateDevEndpoint', 'CreateJob'))
     OR (eventsource = 'cloudformation.amazonaws.com' AND eventname IN ('CreateStack', 'CreateStackSet') AND json_extract_scalar(requestparameters, '$.roleARN') IS NOT NULL)
     OR (eventsource = 'datapipeline.amazonaws.com' AND eventname = 'CreatePipeline')
     OR (eventsource = 'sagemaker.amazonaws.com' AND eventname IN ('CreateNotebookInstance', 'CreateTrainingJob', 'CreateProcessingJob'))
     OR (eventsource = 'codebuild.amazonaws.com' AND eventname = 'CreateProject')
     OR (eventsource = 'ecs.amazonaws.com' AND eventname = 'RegisterTaskDefinition' AND json_extract_scalar(requestparameters, '$.taskRoleArn') IS NOT NULL)
      )
  AND eventtime >= ? AND eventtime < ? /*filters*/
ORDER BY eventtime DESC, eventname, actor_arn, target
