package generate

// actID names one kind of event the generator can write.
type actID uint8

// The events the generator writes. Their JSON shapes follow real events of the same name (see
// appendBody).
const (
	aGetCallerIdentity actID = iota
	aAssumeRole
	aIAMListUsers
	aIAMListRoles
	aIAMGetUser
	aIAMGetRole
	aIAMListAttachedRolePolicies
	aIAMListAttachedUserPolicies
	aIAMListPolicies
	aIAMListAccessKeys
	aIAMGetAccountSummary
	aIAMListMFADevices
	aIAMCreateUser
	aIAMCreatePolicyVersion
	aIAMAttachUserPolicy
	aIAMCreateAccessKey
	aIAMCreateLoginProfile
	aIAMUpdateAssumeRolePolicy
	aEC2DescribeInstances
	aEC2DescribeSecurityGroups
	aEC2DescribeVpcs
	aEC2DescribeRegions
	aEC2DescribeTags
	aEC2DescribeVolumes
	aEC2RunInstances
	aEC2AuthorizeSecurityGroupIngress
	aS3ListBuckets
	aS3GetBucketAcl
	aS3GetBucketPolicy
	aS3GetBucketLocation
	aS3PutBucketPolicy
	aS3GetObject
	aS3PutObject
	aS3ListObjects
	aS3HeadObject
	aS3DeleteObject
	aKMSDecrypt
	aKMSGenerateDataKey
	aKMSEncrypt
	aKMSDescribeKey
	aKMSListKeys
	aKMSRotateKey
	aLambdaListFunctions
	aLambdaGetFunction
	aLambdaUpdateFunctionCode
	aLambdaCreateFunction
	aLambdaInvoke
	aCWGetMetricData
	aCWListMetrics
	aCWDescribeAlarms
	aConsoleLogin
	aConsoleGetContactInformation
	aSSMGetParameter
	aSSMGetParameters
	aSecretsGetSecretValue
	aCFNDescribeStacks
	numActs
)

// action is the static description of one kind of event.
type action struct {
	source, name string
	readOnly     bool
	data         bool   // eventCategory Data, managementEvent false
	global       bool   // recorded in the home region (us-east-1) whatever the caller's region
	eventType    string // "" means AwsApiCall
	version      string // eventVersion
	cli          string // aws-cli command, for the user agent's command/ suffix
}

// actions is a read-only table indexed by actID.
var actions = [numActs]action{
	aGetCallerIdentity:                {"sts.amazonaws.com", "GetCallerIdentity", true, false, false, "", "1.08", "sts.get-caller-identity"},
	aAssumeRole:                       {"sts.amazonaws.com", "AssumeRole", true, false, false, "", "1.08", "sts.assume-role"},
	aIAMListUsers:                     {"iam.amazonaws.com", "ListUsers", true, false, true, "", "1.09", "iam.list-users"},
	aIAMListRoles:                     {"iam.amazonaws.com", "ListRoles", true, false, true, "", "1.09", "iam.list-roles"},
	aIAMGetUser:                       {"iam.amazonaws.com", "GetUser", true, false, true, "", "1.09", "iam.get-user"},
	aIAMGetRole:                       {"iam.amazonaws.com", "GetRole", true, false, true, "", "1.09", "iam.get-role"},
	aIAMListAttachedRolePolicies:      {"iam.amazonaws.com", "ListAttachedRolePolicies", true, false, true, "", "1.09", "iam.list-attached-role-policies"},
	aIAMListAttachedUserPolicies:      {"iam.amazonaws.com", "ListAttachedUserPolicies", true, false, true, "", "1.09", "iam.list-attached-user-policies"},
	aIAMListPolicies:                  {"iam.amazonaws.com", "ListPolicies", true, false, true, "", "1.09", "iam.list-policies"},
	aIAMListAccessKeys:                {"iam.amazonaws.com", "ListAccessKeys", true, false, true, "", "1.09", "iam.list-access-keys"},
	aIAMGetAccountSummary:             {"iam.amazonaws.com", "GetAccountSummary", true, false, true, "", "1.09", "iam.get-account-summary"},
	aIAMListMFADevices:                {"iam.amazonaws.com", "ListMFADevices", true, false, true, "", "1.09", "iam.list-mfa-devices"},
	aIAMCreateUser:                    {"iam.amazonaws.com", "CreateUser", false, false, true, "", "1.09", "iam.create-user"},
	aIAMCreatePolicyVersion:           {"iam.amazonaws.com", "CreatePolicyVersion", false, false, true, "", "1.09", "iam.create-policy-version"},
	aIAMAttachUserPolicy:              {"iam.amazonaws.com", "AttachUserPolicy", false, false, true, "", "1.09", "iam.attach-user-policy"},
	aIAMCreateAccessKey:               {"iam.amazonaws.com", "CreateAccessKey", false, false, true, "", "1.09", "iam.create-access-key"},
	aIAMCreateLoginProfile:            {"iam.amazonaws.com", "CreateLoginProfile", false, false, true, "", "1.09", "iam.create-login-profile"},
	aIAMUpdateAssumeRolePolicy:        {"iam.amazonaws.com", "UpdateAssumeRolePolicy", false, false, true, "", "1.09", "iam.update-assume-role-policy"},
	aEC2DescribeInstances:             {"ec2.amazonaws.com", "DescribeInstances", true, false, false, "", "1.10", "ec2.describe-instances"},
	aEC2DescribeSecurityGroups:        {"ec2.amazonaws.com", "DescribeSecurityGroups", true, false, false, "", "1.10", "ec2.describe-security-groups"},
	aEC2DescribeVpcs:                  {"ec2.amazonaws.com", "DescribeVpcs", true, false, false, "", "1.10", "ec2.describe-vpcs"},
	aEC2DescribeRegions:               {"ec2.amazonaws.com", "DescribeRegions", true, false, false, "", "1.10", "ec2.describe-regions"},
	aEC2DescribeTags:                  {"ec2.amazonaws.com", "DescribeTags", true, false, false, "", "1.10", "ec2.describe-tags"},
	aEC2DescribeVolumes:               {"ec2.amazonaws.com", "DescribeVolumes", true, false, false, "", "1.10", "ec2.describe-volumes"},
	aEC2RunInstances:                  {"ec2.amazonaws.com", "RunInstances", false, false, false, "", "1.10", "ec2.run-instances"},
	aEC2AuthorizeSecurityGroupIngress: {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false, false, false, "", "1.10", "ec2.authorize-security-group-ingress"},
	aS3ListBuckets:                    {"s3.amazonaws.com", "ListBuckets", true, false, false, "", "1.10", "s3.ls"},
	aS3GetBucketAcl:                   {"s3.amazonaws.com", "GetBucketAcl", true, false, false, "", "1.10", "s3api.get-bucket-acl"},
	aS3GetBucketPolicy:                {"s3.amazonaws.com", "GetBucketPolicy", true, false, false, "", "1.10", "s3api.get-bucket-policy"},
	aS3GetBucketLocation:              {"s3.amazonaws.com", "GetBucketLocation", true, false, false, "", "1.10", "s3api.get-bucket-location"},
	aS3PutBucketPolicy:                {"s3.amazonaws.com", "PutBucketPolicy", false, false, false, "", "1.10", "s3api.put-bucket-policy"},
	aS3GetObject:                      {"s3.amazonaws.com", "GetObject", true, true, false, "", "1.10", "s3.cp"},
	aS3PutObject:                      {"s3.amazonaws.com", "PutObject", false, true, false, "", "1.10", "s3.cp"},
	aS3ListObjects:                    {"s3.amazonaws.com", "ListObjects", true, true, false, "", "1.10", "s3.ls"},
	aS3HeadObject:                     {"s3.amazonaws.com", "HeadObject", true, true, false, "", "1.10", "s3api.head-object"},
	aS3DeleteObject:                   {"s3.amazonaws.com", "DeleteObject", false, true, false, "", "1.10", "s3.rm"},
	aKMSDecrypt:                       {"kms.amazonaws.com", "Decrypt", true, false, false, "", "1.08", "kms.decrypt"},
	aKMSGenerateDataKey:               {"kms.amazonaws.com", "GenerateDataKey", true, false, false, "", "1.08", "kms.generate-data-key"},
	aKMSEncrypt:                       {"kms.amazonaws.com", "Encrypt", true, false, false, "", "1.08", "kms.encrypt"},
	aKMSDescribeKey:                   {"kms.amazonaws.com", "DescribeKey", true, false, false, "", "1.08", "kms.describe-key"},
	aKMSListKeys:                      {"kms.amazonaws.com", "ListKeys", true, false, false, "", "1.08", "kms.list-keys"},
	aKMSRotateKey:                     {"kms.amazonaws.com", "RotateKey", false, false, false, "AwsServiceEvent", "1.08", ""},
	aLambdaListFunctions:              {"lambda.amazonaws.com", "ListFunctions20150331", true, false, false, "", "1.08", "lambda.list-functions"},
	aLambdaGetFunction:                {"lambda.amazonaws.com", "GetFunction20150331v2", true, false, false, "", "1.08", "lambda.get-function"},
	aLambdaUpdateFunctionCode:         {"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false, false, false, "", "1.08", "lambda.update-function-code"},
	aLambdaCreateFunction:             {"lambda.amazonaws.com", "CreateFunction20150331", false, false, false, "", "1.08", "lambda.create-function"},
	aLambdaInvoke:                     {"lambda.amazonaws.com", "Invoke", false, true, false, "", "1.09", "lambda.invoke"},
	aCWGetMetricData:                  {"monitoring.amazonaws.com", "GetMetricData", true, false, false, "", "1.09", "cloudwatch.get-metric-data"},
	aCWListMetrics:                    {"monitoring.amazonaws.com", "ListMetrics", true, false, false, "", "1.09", "cloudwatch.list-metrics"},
	aCWDescribeAlarms:                 {"monitoring.amazonaws.com", "DescribeAlarms", true, false, false, "", "1.09", "cloudwatch.describe-alarms"},
	aConsoleLogin:                     {"signin.amazonaws.com", "ConsoleLogin", false, false, true, "AwsConsoleSignIn", "1.08", ""},
	aConsoleGetContactInformation:     {"billingconsole.amazonaws.com", "GetContactInformation", true, false, true, "AwsConsoleAction", "1.08", ""},
	aSSMGetParameter:                  {"ssm.amazonaws.com", "GetParameter", true, false, false, "", "1.08", "ssm.get-parameter"},
	aSSMGetParameters:                 {"ssm.amazonaws.com", "GetParameters", true, false, false, "", "1.08", "ssm.get-parameters"},
	aSecretsGetSecretValue:            {"secretsmanager.amazonaws.com", "GetSecretValue", true, false, false, "", "1.08", "secretsmanager.get-secret-value"},
	aCFNDescribeStacks:                {"cloudformation.amazonaws.com", "DescribeStacks", true, false, false, "", "1.08", "cloudformation.describe-stacks"},
}

// deniedCode is the errorCode a service answers an unauthorised call with.
func deniedCode(a actID) string {
	switch actions[a].source {
	case "ec2.amazonaws.com":
		return "Client.UnauthorizedOperation"
	case "lambda.amazonaws.com", "kms.amazonaws.com", "ssm.amazonaws.com", "secretsmanager.amazonaws.com":
		return "AccessDeniedException"
	}
	return "AccessDenied"
}

// iamPrefix is the IAM service prefix used in authorisation messages.
func iamPrefix(a actID) string {
	switch actions[a].source {
	case "monitoring.amazonaws.com":
		return "cloudwatch"
	}
	s := actions[a].source
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i]
		}
	}
	return s
}

// iamAction is the IAM action name of an event name (Lambda's API version suffixes removed).
func iamAction(a actID) string {
	switch a {
	case aLambdaListFunctions:
		return "ListFunctions"
	case aLambdaGetFunction:
		return "GetFunction"
	case aLambdaUpdateFunctionCode:
		return "UpdateFunctionCode"
	case aLambdaCreateFunction:
		return "CreateFunction"
	case aLambdaInvoke:
		return "InvokeFunction"
	case aS3ListObjects:
		return "ListBucket"
	case aS3HeadObject:
		return "GetObject"
	}
	return actions[a].name
}
