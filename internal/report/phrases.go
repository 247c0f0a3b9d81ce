package report

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// phrase writes what one kind of event did. ok false falls back to the generic sentence (the
// request lacks what the phrase needs).
type phrase func(e *event) (a action, ok bool)

// phrases are the hand-written sentences, by event source's first label and event name without
// its version suffix: the events the built-in rules look for, and the common ones.
var phrases = map[string]phrase{
	// IAM users, groups, roles, keys and passwords.
	"iam:CreateUser":                    obj("create", "created", "the IAM user %s", "userName"),
	"iam:DeleteUser":                    obj("delete", "deleted", "the IAM user %s", "userName"),
	"iam:CreateRole":                    obj("create", "created", "the IAM role %s", "roleName"),
	"iam:DeleteRole":                    obj("delete", "deleted", "the IAM role %s", "roleName"),
	"iam:CreateGroup":                   obj("create", "created", "the IAM group %s", "groupName"),
	"iam:DeleteGroup":                   obj("delete", "deleted", "the IAM group %s", "groupName"),
	"iam:AddUserToGroup":                obj2("add", "added", "the user %s to the group %s", "userName", "groupName"),
	"iam:RemoveUserFromGroup":           obj2("remove", "removed", "the user %s from the group %s", "userName", "groupName"),
	"iam:CreateAccessKey":               forUser("create", "created", "an access key for %s"),
	"iam:DeleteAccessKey":               keyOf("delete", "deleted"),
	"iam:UpdateAccessKey":               updateAccessKey,
	"iam:CreateLoginProfile":            forUser("give", "gave", "%s a console password"),
	"iam:UpdateLoginProfile":            forUser("change", "changed", "the console password of %s"),
	"iam:DeleteLoginProfile":            forUser("remove", "removed", "the console password of %s"),
	"iam:ChangePassword":                fixed("change", "changed", "their own console password"),
	"iam:AttachUserPolicy":              obj2("attach", "attached", "the policy %s to the user %s", "policyArn", "userName"),
	"iam:AttachRolePolicy":              obj2("attach", "attached", "the policy %s to the role %s", "policyArn", "roleName"),
	"iam:AttachGroupPolicy":             obj2("attach", "attached", "the policy %s to the group %s", "policyArn", "groupName"),
	"iam:DetachUserPolicy":              obj2("detach", "detached", "the policy %s from the user %s", "policyArn", "userName"),
	"iam:DetachRolePolicy":              obj2("detach", "detached", "the policy %s from the role %s", "policyArn", "roleName"),
	"iam:DetachGroupPolicy":             obj2("detach", "detached", "the policy %s from the group %s", "policyArn", "groupName"),
	"iam:PutUserPolicy":                 obj2("add", "added", "the inline policy %s to the user %s", "policyName", "userName"),
	"iam:PutRolePolicy":                 obj2("add", "added", "the inline policy %s to the role %s", "policyName", "roleName"),
	"iam:PutGroupPolicy":                obj2("add", "added", "the inline policy %s to the group %s", "policyName", "groupName"),
	"iam:DeleteUserPolicy":              obj2("delete", "deleted", "the inline policy %s of the user %s", "policyName", "userName"),
	"iam:DeleteRolePolicy":              obj2("delete", "deleted", "the inline policy %s of the role %s", "policyName", "roleName"),
	"iam:DeleteGroupPolicy":             obj2("delete", "deleted", "the inline policy %s of the group %s", "policyName", "groupName"),
	"iam:CreatePolicy":                  obj("create", "created", "the managed policy %s", "policyName"),
	"iam:DeletePolicy":                  obj("delete", "deleted", "the managed policy %s", "policyArn"),
	"iam:CreatePolicyVersion":           createPolicyVersion,
	"iam:DeletePolicyVersion":           obj2("delete", "deleted", "version %s of the policy %s", "versionId", "policyArn"),
	"iam:SetDefaultPolicyVersion":       obj2("make", "made", "version %s the default version of the policy %s", "versionId", "policyArn"),
	"iam:UpdateAssumeRolePolicy":        obj("change", "changed", "the trust policy (who may assume it) of the role %s", "roleName"),
	"iam:PutUserPermissionsBoundary":    obj2("set", "set", "the permissions boundary %s on the user %s", "permissionsBoundary", "userName"),
	"iam:PutRolePermissionsBoundary":    obj2("set", "set", "the permissions boundary %s on the role %s", "permissionsBoundary", "roleName"),
	"iam:DeleteUserPermissionsBoundary": obj("remove", "removed", "the permissions boundary of the user %s", "userName"),
	"iam:DeleteRolePermissionsBoundary": obj("remove", "removed", "the permissions boundary of the role %s", "roleName"),
	"iam:CreateVirtualMFADevice":        obj("create", "created", "the virtual MFA device %s", "virtualMFADeviceName"),
	"iam:EnableMFADevice":               obj2("enable", "enabled", "the MFA device %s for the user %s", "serialNumber", "userName"),
	"iam:DeactivateMFADevice":           obj2("deactivate", "deactivated", "the MFA device %s of the user %s", "serialNumber", "userName"),
	"iam:DeleteVirtualMFADevice":        obj("delete", "deleted", "the virtual MFA device %s", "serialNumber"),
	"iam:CreateServiceLinkedRole":       obj("create", "created", "the service-linked role for %s", "aWSServiceName", "AWSServiceName"),
	"iam:CreateSAMLProvider":            obj("create", "created", "the SAML identity provider %s", "name"),
	"iam:DeleteSAMLProvider":            obj("delete", "deleted", "the SAML identity provider %s", "sAMLProviderArn", "SAMLProviderArn"),
	"iam:CreateInstanceProfile":         obj("create", "created", "the instance profile %s", "instanceProfileName"),
	"iam:AddRoleToInstanceProfile":      obj2("add", "added", "the role %s to the instance profile %s", "roleName", "instanceProfileName"),

	// STS and sign-in.
	"sts:AssumeRole":                   assumeRole(""),
	"sts:AssumeRoleWithSAML":           assumeRole(" through SAML"),
	"sts:AssumeRoleWithWebIdentity":    assumeRole(" with a web identity token"),
	"sts:GetFederationToken":           obj("get", "got", "temporary credentials for the federated user %s", "name"),
	"sts:GetSessionToken":              fixed("get", "got", "temporary session credentials"),
	"sts:GetCallerIdentity":            fixed("check", "checked", "which identity its credentials belong to (GetCallerIdentity)"),
	"sts:GetAccessKeyInfo":             obj("look up", "looked up", "the account of the access key %s", "accessKeyId"),
	"signin:ConsoleLogin":              consoleLogin,
	"signin:SwitchRole":                fixed("switch", "switched", "to another role in the console"),
	"signin:ExitRole":                  fixed("leave", "left", "a switched role in the console"),
	"signin:CheckMfa":                  fixed("pass", "passed", "the console's MFA check"),
	"signin:GetSigninToken":            fixed("get", "got", "a console sign-in token for federated credentials"),
	"signin:PasswordUpdated":           fixed("change", "changed", "their console password at sign-in"),
	"signin:ExternalIdPDirectoryLogin": fixed("sign in", "signed in", "through an external identity provider (IAM Identity Center)"),

	// CloudTrail.
	"cloudtrail:StopLogging":                 trail("stop", "stopped", "logging of the trail %s"),
	"cloudtrail:StartLogging":                trail("start", "started", "logging of the trail %s"),
	"cloudtrail:DeleteTrail":                 trail("delete", "deleted", "the trail %s"),
	"cloudtrail:CreateTrail":                 trail("create", "created", "the trail %s"),
	"cloudtrail:UpdateTrail":                 trail("change", "changed", "the settings of the trail %s"),
	"cloudtrail:PutEventSelectors":           trail("change", "changed", "which events the trail %s records (event selectors)"),
	"cloudtrail:PutInsightSelectors":         trail("change", "changed", "the Insights settings of the trail %s"),
	"cloudtrail:DeleteEventDataStore":        obj("delete", "deleted", "the CloudTrail Lake event data store %s", "eventDataStore"),
	"cloudtrail:StopEventDataStoreIngestion": obj("stop", "stopped", "ingestion into the CloudTrail Lake event data store %s", "eventDataStore"),

	// GuardDuty, Config, Security Hub.
	"guardduty:DeleteDetector":                         obj("delete", "deleted", "the GuardDuty detector %s", "detectorId"),
	"guardduty:UpdateDetector":                         updateDetector,
	"guardduty:DisassociateFromMasterAccount":          fixed("disassociate", "disassociated", "this account from its GuardDuty administrator account"),
	"guardduty:DisassociateFromAdministratorAccount":   fixed("disassociate", "disassociated", "this account from its GuardDuty administrator account"),
	"guardduty:StopMonitoringMembers":                  accounts("stop", "stopped", "GuardDuty monitoring of the member accounts %s"),
	"guardduty:DeleteMembers":                          accounts("remove", "removed", "the member accounts %s from GuardDuty"),
	"guardduty:DisassociateMembers":                    accounts("disassociate", "disassociated", "the member accounts %s from GuardDuty"),
	"guardduty:CreateFilter":                           createFilter,
	"guardduty:DeletePublishingDestination":            obj("delete", "deleted", "the GuardDuty findings export destination %s", "destinationId"),
	"config:StopConfigurationRecorder":                 obj("stop", "stopped", "the AWS Config recorder %s", "configurationRecorderName"),
	"config:DeleteConfigurationRecorder":               obj("delete", "deleted", "the AWS Config recorder %s", "configurationRecorderName"),
	"config:DeleteDeliveryChannel":                     obj("delete", "deleted", "the AWS Config delivery channel %s", "deliveryChannelName"),
	"config:DeleteConfigRule":                          obj("delete", "deleted", "the AWS Config rule %s", "configRuleName"),
	"securityhub:DisableSecurityHub":                   fixed("disable", "disabled", "Security Hub"),
	"securityhub:EnableSecurityHub":                    fixed("enable", "enabled", "Security Hub"),
	"securityhub:BatchDisableStandards":                disableStandards,
	"securityhub:DisableImportFindingsForProduct":      obj("stop", "stopped", "importing Security Hub findings from the product %s", "productSubscriptionArn"),
	"securityhub:DisassociateFromMasterAccount":        fixed("disassociate", "disassociated", "this account from its Security Hub administrator account"),
	"securityhub:DisassociateFromAdministratorAccount": fixed("disassociate", "disassociated", "this account from its Security Hub administrator account"),
	"securityhub:DeleteMembers":                        accounts("remove", "removed", "the member accounts %s from Security Hub"),

	// S3.
	"s3:CreateBucket":                  obj("create", "created", "the S3 bucket %s", "bucketName"),
	"s3:DeleteBucket":                  obj("delete", "deleted", "the S3 bucket %s", "bucketName"),
	"s3:ListBuckets":                   fixed("list", "listed", "the S3 buckets"),
	"s3:ListObjects":                   obj("list", "listed", "the objects of the S3 bucket %s", "bucketName"),
	"s3:ListObjectVersions":            obj("list", "listed", "the object versions of the S3 bucket %s", "bucketName"),
	"s3:GetObject":                     s3Object("read", "read"),
	"s3:HeadObject":                    s3Object("check", "checked"),
	"s3:PutObject":                     s3Object("upload", "uploaded"),
	"s3:DeleteObject":                  s3Object("delete", "deleted"),
	"s3:CopyObject":                    s3Object("copy into", "copied into"),
	"s3:PutBucketAcl":                  putBucketACL,
	"s3:PutBucketPolicy":               putBucketPolicy,
	"s3:DeleteBucketPolicy":            obj("delete", "deleted", "the bucket policy of the S3 bucket %s", "bucketName"),
	"s3:GetBucketPolicy":               obj("read", "read", "the bucket policy of the S3 bucket %s", "bucketName"),
	"s3:GetBucketAcl":                  obj("read", "read", "the ACL of the S3 bucket %s", "bucketName"),
	"s3:DeleteBucketPublicAccessBlock": obj("remove", "removed", "the public access block of the S3 bucket %s (it may now be made public)", "bucketName"),
	"s3:PutBucketPublicAccessBlock":    obj("change", "changed", "the public access block of the S3 bucket %s", "bucketName"),
	"s3:PutBucketVersioning":           bucketVersioning,
	"s3:PutBucketLogging":              obj("change", "changed", "the access logging of the S3 bucket %s", "bucketName"),
	"s3:PutBucketEncryption":           obj("change", "changed", "the default encryption of the S3 bucket %s", "bucketName"),
	"s3:DeleteBucketEncryption":        obj("remove", "removed", "the default encryption of the S3 bucket %s", "bucketName"),
	"s3:PutBucketLifecycle":            obj("change", "changed", "the lifecycle rules of the S3 bucket %s", "bucketName"),
	"s3:DeleteBucketLifecycle":         obj("delete", "deleted", "the lifecycle rules of the S3 bucket %s", "bucketName"),
	"s3:PutBucketReplication":          obj("change", "changed", "the replication of the S3 bucket %s", "bucketName"),
	"s3:DeleteBucketReplication":       obj("delete", "deleted", "the replication of the S3 bucket %s", "bucketName"),
	"s3:PutBucketCors":                 obj("change", "changed", "the CORS rules of the S3 bucket %s", "bucketName"),
	"s3:DeleteBucketCors":              obj("delete", "deleted", "the CORS rules of the S3 bucket %s", "bucketName"),

	// EC2.
	"ec2:AuthorizeSecurityGroupIngress":                  sgRule("open", "opened", "the security group %s to %s", "inbound"),
	"ec2:AuthorizeSecurityGroupEgress":                   sgRule("allow", "allowed", "outbound traffic from the security group %s to %s", "outbound"),
	"ec2:RevokeSecurityGroupIngress":                     sgRule("remove", "removed", "from the security group %s the inbound rule for %s", "inbound"),
	"ec2:RevokeSecurityGroupEgress":                      sgRule("remove", "removed", "from the security group %s the outbound rule for %s", "outbound"),
	"ec2:CreateSecurityGroup":                            obj2("create", "created", "the security group %s in the VPC %s", "groupName", "vpcId"),
	"ec2:DeleteSecurityGroup":                            obj("delete", "deleted", "the security group %s", "groupId", "groupName"),
	"ec2:ModifySnapshotAttribute":                        shareAttribute("EBS snapshot", "snapshotId", "createVolumePermission"),
	"ec2:ModifyImageAttribute":                           shareAttribute("AMI", "imageId", "launchPermission"),
	"ec2:ModifyInstanceAttribute":                        modifyInstanceAttribute,
	"ec2:RunInstances":                                   runInstances,
	"ec2:StartInstances":                                 instances("start", "started"),
	"ec2:StopInstances":                                  instances("stop", "stopped"),
	"ec2:TerminateInstances":                             instances("terminate", "terminated"),
	"ec2:RebootInstances":                                instances("reboot", "rebooted"),
	"ec2:AssociateIamInstanceProfile":                    instanceProfile("attach", "attached", "the instance profile %s to the instance %s", "instanceId"),
	"ec2:ReplaceIamInstanceProfileAssociation":           instanceProfile("replace", "replaced", "the instance profile of the association %[2]s with %[1]s", "associationId"),
	"ec2:DeleteFlowLogs":                                 deleteFlowLogs,
	"ec2:GetPasswordData":                                obj("retrieve", "retrieved", "the encrypted Windows administrator password of the instance %s", "instanceId"),
	"ec2:CreateKeyPair":                                  obj("create", "created", "the SSH key pair %s", "keyName"),
	"ec2:ImportKeyPair":                                  obj("import", "imported", "the SSH key pair %s", "keyName"),
	"ec2:CreateSnapshot":                                 obj("create", "created", "a snapshot of the EBS volume %s", "volumeId"),
	"ec2:GetConsoleScreenshot":                           obj("take", "took", "a screenshot of the console of the instance %s", "instanceId"),
	"ec2:GetConsoleOutput":                               obj("read", "read", "the console output of the instance %s", "instanceId"),
	"ec2-instance-connect:SendSSHPublicKey":              obj2("push", "pushed", "an SSH public key to the instance %s for the OS user %s", "instanceId", "instanceOSUser"),
	"ec2-instance-connect:SendSerialConsoleSSHPublicKey": obj("push", "pushed", "an SSH public key for the serial console of the instance %s", "instanceId"),

	// Systems Manager, Secrets Manager, KMS.
	"ssm:StartSession":                    obj("start", "started", "a Session Manager shell on %s", "target"),
	"ssm:SendCommand":                     sendCommand,
	"ssm:GetParameter":                    parameters,
	"ssm:GetParameters":                   parameters,
	"ssm:GetParametersByPath":             parametersByPath,
	"secretsmanager:GetSecretValue":       obj("read", "read", "the value of the secret %s", "secretId"),
	"secretsmanager:BatchGetSecretValue":  batchSecrets,
	"secretsmanager:DeleteSecret":         obj("delete", "deleted", "the secret %s", "secretId"),
	"kms:DisableKey":                      obj("disable", "disabled", "the KMS key %s (data encrypted with it can no longer be decrypted)", "keyId"),
	"kms:EnableKey":                       obj("enable", "enabled", "the KMS key %s", "keyId"),
	"kms:ScheduleKeyDeletion":             objPlus("schedule", "scheduled", "the KMS key %s for deletion", "keyId", "pendingWindowInDays", " in %s days"),
	"kms:CancelKeyDeletion":               obj("cancel", "cancelled", "the deletion of the KMS key %s", "keyId"),
	"kms:Decrypt":                         withKey("decrypt", "decrypted", "data"),
	"kms:Encrypt":                         withKey("encrypt", "encrypted", "data"),
	"kms:ReEncrypt":                       withKey("re-encrypt", "re-encrypted", "data"),
	"kms:GenerateDataKey":                 withKey("generate", "generated", "a data key"),
	"kms:GenerateDataKeyWithoutPlaintext": withKey("generate", "generated", "a data key (without its plaintext)"),
	"kms:GenerateDataKeyPair":             withKey("generate", "generated", "a data key pair"),
	"kms:CreateGrant":                     withKey("create", "created", "a grant (a delegated permission)"),
	"kms:PutKeyPolicy":                    obj("change", "changed", "the key policy of the KMS key %s", "keyId"),

	// Lambda.
	"lambda:CreateFunction":              objPlus("create", "created", "the Lambda function %s", "functionName", "role", " running as the role %s"),
	"lambda:DeleteFunction":              obj("delete", "deleted", "the Lambda function %s", "functionName"),
	"lambda:UpdateFunctionCode":          obj("change", "changed", "the code of the Lambda function %s", "functionName"),
	"lambda:UpdateFunctionConfiguration": objPlus("change", "changed", "the configuration of the Lambda function %s", "functionName", "role", " (it now runs as the role %s)"),
	"lambda:AddPermission":               lambdaPermission,
	"lambda:RemovePermission":            obj2("remove", "removed", "the permission %s from the Lambda function %s", "statementId", "functionName"),
	"lambda:Invoke":                      obj("invoke", "invoked", "the Lambda function %s", "functionName"),
	"lambda:CreateFunctionUrlConfig":     functionURL,
	"lambda:AddLayerVersionPermission":   obj("share", "shared", "the Lambda layer %s", "layerName"),

	// IAM Roles Anywhere, RDS, Route 53 Resolver, Organizations.
	"rolesanywhere:CreateTrustAnchor":                    obj("create", "created", "the IAM Roles Anywhere trust anchor %s (certificates it trusts can get role credentials)", "name"),
	"rolesanywhere:UpdateTrustAnchor":                    obj("change", "changed", "the IAM Roles Anywhere trust anchor %s", "trustAnchorId"),
	"rolesanywhere:EnableTrustAnchor":                    obj("enable", "enabled", "the IAM Roles Anywhere trust anchor %s", "trustAnchorId"),
	"rolesanywhere:CreateProfile":                        obj("create", "created", "the IAM Roles Anywhere profile %s", "name"),
	"rds:ModifyDBSnapshotAttribute":                      rdsShare("RDS snapshot", "dBSnapshotIdentifier"),
	"rds:ModifyDBClusterSnapshotAttribute":               rdsShare("RDS cluster snapshot", "dBClusterSnapshotIdentifier"),
	"rds:ModifyDBInstance":                               modifyDBInstance,
	"route53resolver:DeleteResolverQueryLogConfig":       obj("delete", "deleted", "the Route 53 Resolver DNS query logging configuration %s", "resolverQueryLogConfigId"),
	"route53resolver:DisassociateResolverQueryLogConfig": obj2("stop", "stopped", "DNS query logging (configuration %s) of %s", "resolverQueryLogConfigId", "resourceId"),
	"organizations:LeaveOrganization":                    fixed("remove", "removed", "this account from its AWS organization"),
}

// param is a request parameter (the first of keys present), an ARN shortened to its name.
func param(e *event, keys ...string) string {
	return display(first(e.req, keys...))
}

func fixed(verb, past, object string) phrase {
	return func(*event) (action, bool) { return action{verb, past, object}, true }
}

// obj is a phrase naming one object from the first of keys in the request.
func obj(verb, past, format string, keys ...string) phrase {
	return func(e *event) (action, bool) {
		v := param(e, keys...)
		if v == "" {
			return action{}, false
		}
		return action{verb, past, fmt.Sprintf(format, v)}, true
	}
}

// objPlus is obj followed by a clause that names a second request parameter when the request
// has it.
func objPlus(verb, past, format, key, extraKey, extraFormat string) phrase {
	return func(e *event) (action, bool) {
		v := param(e, key)
		if v == "" {
			return action{}, false
		}
		o := fmt.Sprintf(format, v)
		if x := param(e, extraKey); x != "" {
			o += fmt.Sprintf(extraFormat, x)
		}
		return action{verb, past, o}, true
	}
}

// obj2 is a phrase naming two objects, each from one request key.
func obj2(verb, past, format, key1, key2 string) phrase {
	return func(e *event) (action, bool) {
		a, b := param(e, key1), param(e, key2)
		if a == "" || b == "" {
			return action{}, false
		}
		return action{verb, past, fmt.Sprintf(format, a, b)}, true
	}
}

// forUser is an IAM phrase about the user named in userName, or the caller's own user when the
// request names none.
func forUser(verb, past, format string) phrase {
	return func(e *event) (action, bool) {
		u := param(e, "userName")
		if u == "" {
			return action{verb, past, fmt.Sprintf(format, "their own user")}, true
		}
		return action{verb, past, fmt.Sprintf(format, "the user "+u)}, true
	}
}

func keyOf(verb, past string) phrase {
	return func(e *event) (action, bool) {
		k := param(e, "accessKeyId")
		if k == "" {
			return action{}, false
		}
		owner := "their own user"
		if u := param(e, "userName"); u != "" {
			owner = "the user " + u
		}
		return action{verb, past, "the access key " + k + " of " + owner}, true
	}
}

func updateAccessKey(e *event) (action, bool) {
	a, ok := keyOf("", "")(e)
	if !ok {
		return a, false
	}
	switch strings.ToLower(param(e, "status")) {
	case "inactive":
		a.verb, a.past = "deactivate", "deactivated"
	case "active":
		a.verb, a.past = "activate", "activated"
	default:
		a.verb, a.past = "update", "updated"
	}
	return a, true
}

func createPolicyVersion(e *event) (action, bool) {
	p := param(e, "policyArn")
	if p == "" {
		return action{}, false
	}
	a := action{"create", "created", "a new version of the policy " + p}
	if strings.EqualFold(param(e, "setAsDefault"), "true") {
		a.object += " and made it the default"
	}
	return a, true
}

func assumeRole(how string) phrase {
	return func(e *event) (action, bool) {
		arn := first(e.req, "roleArn")
		if arn == "" {
			return action{}, false
		}
		obj := "the role " + arnName(arn)
		if acct := arnAccount(arn); acct != "" && acct != e.ui.account && e.ui.account != "" {
			obj += " of account " + FormatAccount(acct)
		}
		if s := first(e.req, "roleSessionName"); s != "" {
			obj += " as the session " + s
		}
		return action{"assume", "assumed", obj + how}, true
	}
}

func consoleLogin(e *event) (action, bool) {
	a := action{"sign in", "signed in", "to the AWS console"}
	if first(e.add, "SamlProviderArn") != "" {
		// The identity provider checks MFA; CloudTrail does not see it.
		a.object += " through SAML (" + arnName(first(e.add, "SamlProviderArn")) + ")"
		return a, true
	} else if e.ui.typ == "AssumedRole" || e.ui.typ == "FederatedUser" {
		a.object += " with federated credentials"
	}
	if failed(e) != "" {
		return a, true
	}
	switch mfa := first(e.add, "MFAUsed"); {
	case mfa == "Yes":
		a.object += " with MFA"
	case mfa == "No" && (e.ui.typ == "IAMUser" || e.ui.typ == "Root"):
		a.object += " without MFA"
	}
	return a, true
}

// trail names the trail of a CloudTrail request (name or trailName, an ARN shortened), "a
// trail" when the request names none.
func trail(verb, past, format string) phrase {
	return func(e *event) (action, bool) {
		t := param(e, "name", "trailName")
		if t == "" {
			return action{verb, past, strings.Replace(format, "the trail %s", "a trail", 1)}, true
		}
		return action{verb, past, fmt.Sprintf(format, t)}, true
	}
}

// withKey is a KMS call with a key: the key named in the request, else in the resources.
func withKey(verb, past, object string) phrase {
	return func(e *event) (action, bool) {
		k := param(e, "keyId")
		if k == "" {
			for _, r := range e.resources {
				if strings.Contains(r.arn, ":key/") || strings.Contains(r.arn, ":alias/") {
					k = arnName(r.arn)
					break
				}
			}
		}
		if k == "" {
			return action{verb, past, object + " with a KMS key"}, true
		}
		return action{verb, past, object + " with the KMS key " + k}, true
	}
}

func updateDetector(e *event) (action, bool) {
	d := param(e, "detectorId")
	if d == "" {
		return action{}, false
	}
	if strings.EqualFold(gets(e.req, "enable"), "false") {
		return action{"disable", "disabled", "the GuardDuty detector " + d}, true
	}
	return action{"update", "updated", "the settings of the GuardDuty detector " + d}, true
}

// accounts is a phrase about the account ids listed in the request.
func accounts(verb, past, format string) phrase {
	return func(e *event) (action, bool) {
		var ids []string
		if l, ok := get(e.req, "accountIds").([]any); ok {
			for _, x := range l {
				if s := str(x); s != "" {
					ids = append(ids, FormatAccount(s))
				}
			}
		}
		if len(ids) == 0 {
			return action{}, false
		}
		return action{verb, past, fmt.Sprintf(format, list(ids))}, true
	}
}

func createFilter(e *event) (action, bool) {
	n := param(e, "name")
	if n == "" {
		return action{}, false
	}
	if strings.EqualFold(param(e, "action"), "ARCHIVE") {
		return action{"create", "created", "the GuardDuty filter " + n + ", which archives (hides) the findings it matches"}, true
	}
	return action{"create", "created", "the GuardDuty findings filter " + n}, true
}

func disableStandards(e *event) (action, bool) {
	var names []string
	if l, ok := get(e.req, "standardsSubscriptionArns").([]any); ok {
		for _, x := range l {
			s := str(x)
			// arn:aws:securityhub:REGION:ACCOUNT:subscription/cis-aws-foundations-benchmark/v/1.2.0
			if _, rest, ok := strings.Cut(s, ":subscription/"); ok {
				s = rest
			}
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return action{"disable", "disabled", "Security Hub standards"}, true
	}
	return action{"disable", "disabled", "the Security Hub standards " + list(names)}, true
}

func s3Object(verb, past string) phrase {
	return func(e *event) (action, bool) {
		b, k := first(e.req, "bucketName"), first(e.req, "key")
		if b == "" {
			return action{}, false
		}
		if k == "" {
			return action{verb, past, "an object of the S3 bucket " + b}, true
		}
		return action{verb, past, "the object s3://" + b + "/" + k}, true
	}
}

// publicGrantee matches the ACL grantees that are everyone.
var publicGrantee = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)`)
})

func putBucketACL(e *event) (action, bool) {
	b := param(e, "bucketName")
	if b == "" {
		return action{}, false
	}
	raw := jsonText(e.req)
	canned := strings.ToLower(first(e.req, "x-amz-acl"))
	if m := publicGrantee().FindStringSubmatch(raw); m != nil || strings.HasPrefix(canned, "public-") || canned == "authenticated-read" {
		who := "everyone on the internet"
		if (m != nil && m[1] == "AuthenticatedUsers") || canned == "authenticated-read" {
			who = "any AWS account"
		}
		return action{"grant", "granted", who + " access to the S3 bucket " + b + " with its ACL (public)"}, true
	}
	return action{"change", "changed", "the ACL of the S3 bucket " + b}, true
}

// anyPrincipal matches a policy statement's Principal "*" or {"AWS": "*"}.
var anyPrincipal = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"(Principal|AWS)"\s*:\s*(\[\s*)?"\*"`) })

func putBucketPolicy(e *event) (action, bool) {
	b := param(e, "bucketName")
	if b == "" {
		return action{}, false
	}
	pol := first(e.req, "bucketPolicy")
	if pol == "" {
		if o, ok := get(e.req, "bucketPolicy").(map[string]any); ok {
			pol = jsonText(o)
		}
	}
	if anyPrincipal().MatchString(pol) {
		return action{"set", "set", "a bucket policy on the S3 bucket " + b + " that names any principal (*): it may be public"}, true
	}
	return action{"change", "changed", "the bucket policy of the S3 bucket " + b}, true
}

func bucketVersioning(e *event) (action, bool) {
	b := param(e, "bucketName")
	if b == "" {
		return action{}, false
	}
	switch gets(e.req, "VersioningConfiguration", "Status") {
	case "Suspended":
		return action{"suspend", "suspended", "versioning of the S3 bucket " + b}, true
	case "Enabled":
		return action{"enable", "enabled", "versioning of the S3 bucket " + b}, true
	}
	return action{"change", "changed", "the versioning of the S3 bucket " + b}, true
}

// sgRule describes the rules of a security group request: "0.0.0.0/0 on port 22".
func sgRule(verb, past, format, _ string) phrase {
	return func(e *event) (action, bool) {
		g := param(e, "groupId", "groupName")
		if g == "" {
			return action{}, false
		}
		perms := rulesText(e.req)
		if perms == "" {
			return action{}, false
		}
		return action{verb, past, fmt.Sprintf(format, g, perms)}, true
	}
}

// rulesText is the sources and ports of an ipPermissions list (or the older top-level form).
func rulesText(req map[string]any) string {
	var parts []string
	add := func(p map[string]any) {
		var srcs []string
		for _, r := range items(p, "ipRanges") {
			if o, ok := r.(map[string]any); ok && gets(o, "cidrIp") != "" {
				srcs = append(srcs, gets(o, "cidrIp"))
			}
		}
		for _, r := range items(p, "ipv6Ranges") {
			if o, ok := r.(map[string]any); ok && gets(o, "cidrIpv6") != "" {
				srcs = append(srcs, gets(o, "cidrIpv6"))
			}
		}
		for _, r := range items(p, "groups") {
			if o, ok := r.(map[string]any); ok && gets(o, "groupId") != "" {
				srcs = append(srcs, "the security group "+gets(o, "groupId"))
			}
		}
		for _, r := range items(p, "prefixListIds") {
			if o, ok := r.(map[string]any); ok && gets(o, "prefixListId") != "" {
				srcs = append(srcs, "the prefix list "+gets(o, "prefixListId"))
			}
		}
		if c := gets(p, "cidrIp"); c != "" {
			srcs = append(srcs, c)
		}
		if len(srcs) == 0 {
			srcs = []string{"(no source given)"}
		}
		parts = append(parts, list(srcs)+" "+ports(gets(p, "ipProtocol"), gets(p, "fromPort"), gets(p, "toPort")))
	}
	for _, p := range items(req, "ipPermissions") {
		if o, ok := p.(map[string]any); ok {
			add(o)
		}
	}
	if len(parts) == 0 && (gets(req, "cidrIp") != "" || gets(req, "sourceSecurityGroupName") != "") {
		add(req)
	}
	return strings.Join(parts, "; and ")
}

// ports is "on port 22", "on TCP ports 80-443", "on all ports".
func ports(proto, from, to string) string {
	pn := map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}[proto]
	if pn == "" {
		pn = strings.ToLower(proto)
	}
	switch {
	case pn == "-1" || pn == "all" || pn == "":
		return "on all ports and protocols"
	case pn == "icmp" || pn == "icmpv6":
		return "for " + strings.ToUpper(pn)
	case from == "" || (from == "0" && to == "65535") || from == "-1":
		return "on all " + strings.ToUpper(pn) + " ports"
	case to == "" || from == to:
		return "on " + strings.ToUpper(pn) + " port " + from
	}
	return "on " + strings.ToUpper(pn) + " ports " + from + "-" + to
}

// shareAttribute is ModifySnapshotAttribute and ModifyImageAttribute: sharing with accounts or
// with everyone.
func shareAttribute(kind, idKey, permKey string) phrase {
	return func(e *event) (action, bool) {
		id := param(e, idKey)
		if id == "" {
			return action{}, false
		}
		addGroups, addUsers := itemValues(items(e.req, permKey, "add"), "group"), itemValues(items(e.req, permKey, "add"), "userId")
		remGroups, remUsers := itemValues(items(e.req, permKey, "remove"), "group"), itemValues(items(e.req, permKey, "remove"), "userId")
		var past, base []string
		add := func(p, b string) { past, base = append(past, p), append(base, b) }
		if slices.Contains(addGroups, "all") {
			add("made the "+kind+" "+id+" public (shared with every AWS account)", "make the "+kind+" "+id+" public (shared with every AWS account)")
		}
		if len(addUsers) > 0 {
			add("shared the "+kind+" "+id+" with "+accountsText(addUsers), "share the "+kind+" "+id+" with "+accountsText(addUsers))
		}
		if slices.Contains(remGroups, "all") {
			add("made the "+kind+" "+id+" private again", "make the "+kind+" "+id+" private again")
		}
		if len(remUsers) > 0 {
			add("stopped sharing the "+kind+" "+id+" with "+accountsText(remUsers), "stop sharing the "+kind+" "+id+" with "+accountsText(remUsers))
		}
		if len(past) == 0 {
			return action{"change", "changed", "an attribute of the " + kind + " " + id}, true
		}
		return action{}.with(strings.Join(base, " and "), strings.Join(past, " and ")), true
	}
}

// with sets an action whose verb and object cannot be told apart (a list of things done).
func (a action) with(base, past string) action { return action{base, past, ""} }

func accountsText(ids []string) string {
	f := make([]string, len(ids))
	for i, id := range ids {
		f[i] = FormatAccount(id)
	}
	if len(f) == 1 {
		return "the account " + f[0]
	}
	return "the accounts " + list(f)
}

func modifyInstanceAttribute(e *event) (action, bool) {
	id := param(e, "instanceId")
	if id == "" {
		return action{}, false
	}
	if get(e.req, "userData") != nil {
		return action{"change", "changed", "the user data (the startup script, run as root at boot) of the instance " + id}, true
	}
	attr := param(e, "attribute")
	if attr == "" {
		for k := range e.req {
			if k != "instanceId" {
				attr = k
				break
			}
		}
	}
	if attr == "" {
		return action{"change", "changed", "an attribute of the instance " + id}, true
	}
	return action{"change", "changed", "the attribute " + attr + " of the instance " + id}, true
}

func runInstances(e *event) (action, bool) {
	ids := itemValues(items(e.resp, "instancesSet"), "instanceId")
	obj := "instances"
	switch {
	case len(ids) == 1:
		obj = "the instance " + ids[0]
	case len(ids) > 1:
		obj = "the instances " + list(ids)
	default:
		if c := itemValues(items(e.req, "instancesSet"), "minCount"); len(c) == 1 && c[0] == "1" {
			obj = "an instance"
		}
	}
	var details []string
	if t := first(e.req, "instanceType"); t != "" {
		details = append(details, t)
	}
	if img := itemValues(items(e.req, "instancesSet"), "imageId"); len(img) > 0 {
		details = append(details, "from "+list(img))
	}
	if p, ok := get(e.req, "iamInstanceProfile").(map[string]any); ok {
		name := display(first(p, "name", "arn"))
		details = append(details, "with the instance profile "+name+" (the role it holds passes to the instance)")
	}
	if len(details) > 0 {
		obj += " (" + strings.Join(details, ", ") + ")"
	}
	return action{"launch", "launched", obj}, true
}

func instances(verb, past string) phrase {
	return func(e *event) (action, bool) {
		ids := itemValues(items(e.req, "instancesSet"), "instanceId")
		switch len(ids) {
		case 0:
			return action{}, false
		case 1:
			return action{verb, past, "the instance " + ids[0]}, true
		}
		return action{verb, past, "the instances " + list(ids)}, true
	}
}

func instanceProfile(verb, past, format, idKey string) phrase {
	return func(e *event) (action, bool) {
		id := param(e, idKey)
		p, _ := get(e.req, "iamInstanceProfile").(map[string]any)
		name := display(first(p, "name", "arn"))
		if id == "" || name == "" {
			return action{}, false
		}
		return action{verb, past, fmt.Sprintf(format, name, id)}, true
	}
}

// flowLogID matches the ids of VPC flow logs.
var flowLogID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`fl-[0-9a-f]+`) })

func deleteFlowLogs(e *event) (action, bool) {
	ids := flowLogID().FindAllString(jsonText(e.req), -1)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return action{"delete", "deleted", "VPC flow logs"}, true
	}
	return action{"delete", "deleted", "the VPC flow logs " + list(ids) + " (network traffic is no longer recorded there)"}, true
}

func sendCommand(e *event) (action, bool) {
	doc := param(e, "documentName")
	if doc == "" {
		return action{}, false
	}
	var targets []string
	if l, ok := get(e.req, "instanceIds").([]any); ok {
		for _, x := range l {
			targets = append(targets, str(x))
		}
	}
	obj := "the SSM document " + doc
	if len(targets) > 0 {
		obj += " on " + list(targets)
	}
	return action{"run", "ran", obj}, true
}

func parameters(e *event) (action, bool) {
	var names []string
	if n := first(e.req, "name"); n != "" {
		names = []string{n}
	} else if l, ok := get(e.req, "names").([]any); ok {
		for _, x := range l {
			names = append(names, str(x))
		}
	}
	if len(names) == 0 {
		return action{}, false
	}
	obj := "the SSM parameter " + list(names)
	if len(names) > 1 {
		obj = "the SSM parameters " + list(names)
	}
	if strings.EqualFold(gets(e.req, "withDecryption"), "true") {
		obj += ", decrypted"
	}
	return action{"read", "read", obj}, true
}

func parametersByPath(e *event) (action, bool) {
	p := param(e, "path")
	if p == "" {
		return action{}, false
	}
	obj := "the SSM parameters under " + p
	if strings.EqualFold(gets(e.req, "withDecryption"), "true") {
		obj += ", decrypted"
	}
	return action{"read", "read", obj}, true
}

func batchSecrets(e *event) (action, bool) {
	var ids []string
	if l, ok := get(e.req, "secretIdList").([]any); ok {
		for _, x := range l {
			ids = append(ids, display(str(x)))
		}
	}
	if len(ids) == 0 {
		return action{"read", "read", "the values of the secrets a filter matches"}, true
	}
	return action{"read", "read", "the values of the secrets " + list(ids)}, true
}

func lambdaPermission(e *event) (action, bool) {
	f, p := param(e, "functionName"), first(e.req, "principal")
	if f == "" || p == "" {
		return action{}, false
	}
	if p == "*" {
		p = "anyone (*)"
	}
	act := first(e.req, "action")
	if act == "" {
		act = "calls"
	}
	return action{"allow", "allowed", p + " " + act + " on the Lambda function " + f}, true
}

func functionURL(e *event) (action, bool) {
	f := param(e, "functionName")
	if f == "" {
		return action{}, false
	}
	if strings.EqualFold(first(e.req, "authType"), "NONE") {
		return action{"create", "created", "a public URL without authentication for the Lambda function " + f}, true
	}
	return action{"create", "created", "a URL for the Lambda function " + f}, true
}

func rdsShare(kind, idKey string) phrase {
	return func(e *event) (action, bool) {
		id := param(e, idKey)
		if id == "" || !strings.EqualFold(first(e.req, "attributeName"), "restore") {
			return action{}, false
		}
		vals := func(k string) []string {
			var out []string
			if l, ok := get(e.req, k).([]any); ok {
				for _, x := range l {
					out = append(out, str(x))
				}
			}
			return out
		}
		add, rem := vals("valuesToAdd"), vals("valuesToRemove")
		var past, base []string
		if slices.Contains(add, "all") {
			past = append(past, "made the "+kind+" "+id+" public (any AWS account can restore it)")
			base = append(base, "make the "+kind+" "+id+" public (any AWS account could restore it)")
			add = slices.DeleteFunc(add, func(s string) bool { return s == "all" })
		}
		if len(add) > 0 {
			past = append(past, "shared the "+kind+" "+id+" with "+accountsText(add))
			base = append(base, "share the "+kind+" "+id+" with "+accountsText(add))
		}
		if len(rem) > 0 {
			past = append(past, "stopped sharing the "+kind+" "+id+" with "+accountsText(rem))
			base = append(base, "stop sharing the "+kind+" "+id+" with "+accountsText(rem))
		}
		if len(past) == 0 {
			return action{"change", "changed", "the sharing of the " + kind + " " + id}, true
		}
		return action{}.with(strings.Join(base, " and "), strings.Join(past, " and ")), true
	}
}

func modifyDBInstance(e *event) (action, bool) {
	id := param(e, "dBInstanceIdentifier")
	if id == "" {
		return action{}, false
	}
	var what []string
	if get(e.req, "masterUserPassword") != nil {
		what = append(what, "reset its master password")
	}
	if strings.EqualFold(gets(e.req, "publiclyAccessible"), "true") {
		what = append(what, "made it publicly accessible")
	}
	if len(what) == 0 {
		return action{"modify", "modified", "the RDS database " + id}, true
	}
	past := "modified the RDS database " + id + ": " + strings.Join(what, " and ")
	return action{}.with("modify the RDS database "+id+" ("+strings.Join(what, " and ")+")", past), true
}

// list joins names: "a", "a and b", "a, b and c"; long lists are cut with a count.
func list(xs []string) string {
	const most = 5
	if len(xs) > most {
		return strings.Join(xs[:most], ", ") + fmt.Sprintf(" and %d more", len(xs)-most)
	}
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
