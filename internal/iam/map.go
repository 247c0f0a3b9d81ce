package iam

import (
	"regexp"
	"strings"
	"sync"
)

// Mapping explains how an event was mapped.
type Mapping struct {
	// Actions are the IAM actions the call needed, each documented in the reference; empty when
	// the event needs no permission or could not be mapped. For a few calls whose permission
	// depends on the request (DynamoDB PartiQL and transactions) they are every action the call
	// may need, and Reason says so.
	Actions []Action
	// NoPermission is set for events no IAM policy authorises: sts:GetCallerIdentity, console
	// sign-in, IAM Identity Center portal and OIDC calls, events AWS records about its own work.
	NoPermission bool
	// Reason is a short explanation for people ("S3 ListObjects is authorised by s3:ListBucket").
	// It starts with "unknown:" when the event could not be mapped.
	Reason string
	// Known reports that the mapping is settled: the actions are documented in the reference, or
	// the event needs no permission.
	Known bool
}

// Event types (CloudTrail's eventType) that are not calls a principal made with IAM credentials.
var noPermissionTypes = map[string]string{
	"AwsServiceEvent":      "AWS acting on its own",
	"AwsConsoleSignIn":     "console sign-in",
	"AwsCloudTrailInsight": "CloudTrail Insights event",
}

// sourceOverrides are eventSource → prefix exceptions known from real logs that the generated
// table (from the SDK models) does not hold or gets wrong.
var sourceOverrides = map[string]string{
	"ses.amazonaws.com":        "ses",
	"ecr.amazonaws.com":        "ecr",
	"s3-control.amazonaws.com": "s3",
	"oidc.amazonaws.com":       "sso-oauth", // iamlive says sso-directory; CreateTokenWithIAM is sso-oauth
	// The IoT Jobs data plane has its own prefix; iamlive's 2022 map still says iot, whose
	// DescribeJobExecution is the control-plane action.
	"data.jobs.iot.amazonaws.com": "iotjobsdata",
	"iot-jobs-data.amazonaws.com": "iotjobsdata",
}

// noPermissionSources record calls authorised by something other than IAM policy.
var noPermissionSources = map[string]string{
	"signin.amazonaws.com":       "console sign-in, authorised by the user's credentials",
	"portal.sso.amazonaws.com":   "IAM Identity Center portal call, authorised by the user's token",
	"awsssoportal.amazonaws.com": "IAM Identity Center portal call, authorised by the user's token",
}

// ssoTokenCalls are the IAM Identity Center portal, OIDC and sign-in calls recorded under
// sso.amazonaws.com or oidc.amazonaws.com; the user's bearer token, not IAM policy, authorises
// them.
var ssoTokenCalls = map[string]bool{
	"Authenticate": true, "CreateToken": true, "RegisterClient": true, "StartDeviceAuthorization": true,
	"GetRoleCredentials": true, "ListAccountRoles": true, "ListAccounts": true, "Logout": true,
	"Federate": true, "CredentialChallenge": true, "CredentialVerification": true,
	"UserAuthentication": true, "ListProfilesForApplication": true,
}

// special is a per-event exception: the actions an eventName needs when they are not
// prefix:eventName, and why.
type special struct {
	actions []string
	why     string
}

// specials is keyed by "prefix:eventName". Every action named here is checked against the
// reference by TestSpecialsDocumented, and again by Map.
var specials = map[string]special{
	// S3: trailscraper's table (Apache-2.0) except PutBucketReplication, which it maps to the
	// nonexistent s3:DeleteReplicationConfiguration (as it does DeleteBucketReplication); AWS
	// documents s3:PutReplicationConfiguration for both.
	"s3:CompleteMultipartUpload":            {[]string{"s3:PutObject"}, ""},
	"s3:CreateMultipartUpload":              {[]string{"s3:PutObject"}, ""},
	"s3:UploadPart":                         {[]string{"s3:PutObject"}, ""},
	"s3:CopyObject":                         {[]string{"s3:PutObject", "s3:GetObject"}, "S3 CopyObject is authorised by s3:PutObject on the target and s3:GetObject on the source"},
	"s3:UploadPartCopy":                     {[]string{"s3:PutObject", "s3:GetObject"}, "S3 UploadPartCopy is authorised by s3:PutObject on the target and s3:GetObject on the source"},
	"s3:DeleteObjects":                      {[]string{"s3:DeleteObject"}, ""},
	"s3:HeadObject":                         {[]string{"s3:GetObject"}, ""},
	"s3:SelectObjectContent":                {[]string{"s3:GetObject"}, ""},
	"s3:HeadBucket":                         {[]string{"s3:ListBucket"}, ""},
	"s3:ListObjects":                        {[]string{"s3:ListBucket"}, ""},
	"s3:ListObjectsV2":                      {[]string{"s3:ListBucket"}, ""},
	"s3:ListObjectVersions":                 {[]string{"s3:ListBucketVersions"}, ""},
	"s3:ListBuckets":                        {[]string{"s3:ListAllMyBuckets"}, ""},
	"s3:ListMultipartUploads":               {[]string{"s3:ListBucketMultipartUploads"}, ""},
	"s3:ListParts":                          {[]string{"s3:ListMultipartUploadParts"}, ""},
	"s3:DeleteBucketCors":                   {[]string{"s3:PutBucketCORS"}, ""},
	"s3:DeleteBucketAnalyticsConfiguration": {[]string{"s3:PutAnalyticsConfiguration"}, ""},
	"s3:GetBucketAnalyticsConfiguration":    {[]string{"s3:GetAnalyticsConfiguration"}, ""},
	"s3:ListBucketAnalyticsConfigurations":  {[]string{"s3:GetAnalyticsConfiguration"}, ""},
	"s3:PutBucketAnalyticsConfiguration":    {[]string{"s3:PutAnalyticsConfiguration"}, ""},
	"s3:DeleteBucketEncryption":             {[]string{"s3:PutEncryptionConfiguration"}, ""},
	"s3:GetBucketEncryption":                {[]string{"s3:GetEncryptionConfiguration"}, ""},
	"s3:PutBucketEncryption":                {[]string{"s3:PutEncryptionConfiguration"}, ""},
	"s3:DeleteBucketInventoryConfiguration": {[]string{"s3:PutInventoryConfiguration"}, ""},
	"s3:GetBucketInventoryConfiguration":    {[]string{"s3:GetInventoryConfiguration"}, ""},
	"s3:ListBucketInventoryConfigurations":  {[]string{"s3:GetInventoryConfiguration"}, ""},
	"s3:PutBucketInventoryConfiguration":    {[]string{"s3:PutInventoryConfiguration"}, ""},
	"s3:DeleteBucketLifecycle":              {[]string{"s3:PutLifecycleConfiguration"}, ""},
	"s3:GetBucketLifecycle":                 {[]string{"s3:GetLifecycleConfiguration"}, ""},
	"s3:GetBucketLifecycleConfiguration":    {[]string{"s3:GetLifecycleConfiguration"}, ""},
	"s3:PutBucketLifecycle":                 {[]string{"s3:PutLifecycleConfiguration"}, ""},
	"s3:PutBucketLifecycleConfiguration":    {[]string{"s3:PutLifecycleConfiguration"}, ""},
	"s3:DeleteBucketMetricsConfiguration":   {[]string{"s3:PutMetricsConfiguration"}, ""},
	"s3:GetBucketMetricsConfiguration":      {[]string{"s3:GetMetricsConfiguration"}, ""},
	"s3:ListBucketMetricsConfigurations":    {[]string{"s3:GetMetricsConfiguration"}, ""},
	"s3:PutBucketMetricsConfiguration":      {[]string{"s3:PutMetricsConfiguration"}, ""},
	"s3:DeleteBucketReplication":            {[]string{"s3:PutReplicationConfiguration"}, ""},
	"s3:GetBucketReplication":               {[]string{"s3:GetReplicationConfiguration"}, ""},
	"s3:PutBucketReplication":               {[]string{"s3:PutReplicationConfiguration"}, ""},
	"s3:DeleteBucketTagging":                {[]string{"s3:PutBucketTagging"}, ""},
	"s3:GetBucketAccelerateConfiguration":   {[]string{"s3:GetAccelerateConfiguration"}, ""},
	"s3:PutBucketAccelerateConfiguration":   {[]string{"s3:PutAccelerateConfiguration"}, ""},
	"s3:GetBucketNotificationConfiguration": {[]string{"s3:GetBucketNotification"}, ""},
	"s3:PutBucketNotificationConfiguration": {[]string{"s3:PutBucketNotification"}, ""},
	// S3 beyond trailscraper's table, from AWS's "Required permissions for Amazon S3 API operations".
	"s3:DeleteBucketIntelligentTieringConfiguration": {[]string{"s3:PutIntelligentTieringConfiguration"}, ""},
	"s3:GetBucketIntelligentTieringConfiguration":    {[]string{"s3:GetIntelligentTieringConfiguration"}, ""},
	"s3:ListBucketIntelligentTieringConfigurations":  {[]string{"s3:GetIntelligentTieringConfiguration"}, ""},
	"s3:PutBucketIntelligentTieringConfiguration":    {[]string{"s3:PutIntelligentTieringConfiguration"}, ""},
	"s3:DeleteBucketOwnershipControls":               {[]string{"s3:PutBucketOwnershipControls"}, ""},
	"s3:DeleteBucketPublicAccessBlock":               {[]string{"s3:PutBucketPublicAccessBlock"}, ""},
	"s3:DeleteAccountPublicAccessBlock":              {[]string{"s3:PutAccountPublicAccessBlock"}, ""},
	"s3:GetObjectLockConfiguration":                  {[]string{"s3:GetBucketObjectLockConfiguration"}, ""},
	"s3:PutObjectLockConfiguration":                  {[]string{"s3:PutBucketObjectLockConfiguration"}, ""},
	"s3:WriteGetObjectResponse":                      {[]string{"s3-object-lambda:WriteGetObjectResponse"}, ""},

	"kms:ReEncrypt": {[]string{"kms:ReEncryptFrom", "kms:ReEncryptTo"}, "KMS ReEncrypt is authorised by kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key"},

	"lambda:Invoke":                   {[]string{"lambda:InvokeFunction"}, ""},
	"lambda:InvokeWithResponseStream": {[]string{"lambda:InvokeFunction"}, ""},

	// DynamoDB transactions need the item-level action of each item in the request; the event
	// alone does not say which were present, so all are listed.
	"dynamodb:TransactGetItems":   {[]string{"dynamodb:GetItem"}, ""},
	"dynamodb:TransactWriteItems": {[]string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}, "DynamoDB TransactWriteItems needs the action of each item it writes or checks (Put, Update, Delete, ConditionCheck); the request decides which, all are listed"},
	// PartiQL: the statement's verb decides the action (PartiQLAction maps one statement).
	"dynamodb:ExecuteStatement":      {partiQL, partiQLWhy("ExecuteStatement")},
	"dynamodb:BatchExecuteStatement": {partiQL, partiQLWhy("BatchExecuteStatement")},
	"dynamodb:ExecuteTransaction":    {partiQL, partiQLWhy("ExecuteTransaction")},
}

var partiQL = []string{"dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}

func partiQLWhy(name string) string {
	return "DynamoDB " + name + " is authorised by the PartiQL action of each statement's verb (see PartiQLAction); the statement decides which, all are listed"
}

// PartiQLAction returns the DynamoDB action a PartiQL statement (requestParameters.statement of an
// ExecuteStatement event, or one statement of a batch or transaction) needs, from its verb.
func PartiQLAction(statement string) (Action, bool) {
	verb, _, _ := strings.Cut(strings.TrimSpace(statement), " ")
	verb, _, _ = strings.Cut(verb, "(")
	var name string
	switch strings.ToUpper(verb) {
	case "SELECT", "EXISTS": // EXISTS is a transaction's condition check, a read
		name = "PartiQLSelect"
	case "INSERT":
		name = "PartiQLInsert"
	case "UPDATE":
		name = "PartiQLUpdate"
	case "DELETE":
		name = "PartiQLDelete"
	default:
		return Action{}, false
	}
	return Action{"dynamodb", name}, true
}

// versionSuffix matches the API-version suffixes Lambda and CloudFront append to eventName
// (ListVersionsByFunction20150331, UpdateFunctionCode20150331v2, UpdateDistribution2016_11_25).
var versionSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z]+)(?:20\d{6}(?:v\d+)?|20\d\d_\d\d_\d\d)$`) })

// SourcePrefix returns the IAM prefix of an eventSource: the exception tables, else its first
// label ("ec2.amazonaws.com" → "ec2").
func SourcePrefix(eventSource string) string {
	s := strings.ToLower(eventSource)
	if p, ok := sourceOverrides[s]; ok {
		return p
	}
	if p, ok := generatedSources[s]; ok {
		return p
	}
	first, _, _ := strings.Cut(s, ".")
	return first
}

// Map maps one event, given its eventSource, eventName and eventType (AwsApiCall,
// AwsServiceEvent, AwsConsoleSignIn, …), to the IAM actions that authorised it.
func Map(eventSource, eventName, eventType string) Mapping {
	if why, ok := noPermissionTypes[eventType]; ok {
		return Mapping{NoPermission: true, Known: true, Reason: "not an IAM-authorised call: " + eventType + " (" + why + ")"}
	}
	source := strings.ToLower(eventSource)
	prefix := SourcePrefix(eventSource)
	r := ref()

	// A documented action on a no-permission source (signin:Authenticate) is still an action.
	if why, ok := noPermissionSources[source]; ok {
		if e, ok := r.lookup(prefix, eventName); ok {
			return Mapping{Actions: []Action{e.Action}, Known: true, Reason: "documented action " + e.String()}
		}
		return Mapping{NoPermission: true, Known: true, Reason: "not an IAM-authorised call: " + why}
	}
	if (source == "sso.amazonaws.com" || source == "oidc.amazonaws.com") && ssoTokenCalls[eventName] {
		return Mapping{NoPermission: true, Known: true, Reason: "not an IAM-authorised call: IAM Identity Center portal/OIDC call, authorised by the user's token"}
	}
	if prefix == "sts" && eventName == "GetCallerIdentity" {
		return Mapping{NoPermission: true, Known: true, Reason: "not an IAM-authorised call: sts:GetCallerIdentity is always allowed"}
	}

	if sp, ok := specials[prefix+":"+eventName]; ok {
		m := Mapping{Known: true, Reason: sp.why}
		for _, s := range sp.actions {
			a, ok := Exists(s)
			if !ok { // guarded by TestSpecialsDocumented; never emit an undocumented action
				return Mapping{Reason: "unknown: no documented action " + s}
			}
			m.Actions = append(m.Actions, a)
		}
		if m.Reason == "" {
			m.Reason = describe(prefix, eventName, m.Actions)
		}
		return m
	}

	if e, ok := r.lookup(prefix, eventName); ok {
		return Mapping{Actions: []Action{e.Action}, Known: true, Reason: "documented action " + e.String()}
	}
	// Strip an API-version suffix only when that yields a documented action: trailscraper strips
	// every trailing digit, which invents actions.
	if sm := versionSuffix().FindStringSubmatch(eventName); sm != nil {
		if e, ok := r.lookup(prefix, sm[1]); ok {
			return Mapping{Actions: []Action{e.Action}, Known: true,
				Reason: "API-version suffix of " + eventName + " dropped: " + e.String()}
		}
	}
	if prefix == "apigateway" {
		if verb := apiGatewayVerb(eventName); verb != "" {
			if e, ok := r.lookup("apigateway", verb); ok {
				return Mapping{Actions: []Action{e.Action}, Known: true,
					Reason: "API Gateway authorises management calls by HTTP verb: " + eventName + " is " + e.String()}
			}
		}
	}

	if eventSource == "" {
		return Mapping{Reason: "unknown: event has no eventSource"}
	}
	if !r.hasPrefix(prefix) {
		return Mapping{Reason: "unknown: eventSource " + eventSource + " has no IAM prefix " + prefix}
	}
	return Mapping{Reason: "unknown: no documented action " + prefix + ":" + eventName}
}

func describe(prefix, eventName string, as []Action) string {
	service, ok := serviceNames[prefix]
	if !ok {
		service = prefix
	}
	var b strings.Builder
	b.WriteString(service + " " + eventName + " is authorised by ")
	for i, a := range as {
		if i > 0 {
			b.WriteString(" + ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}

var serviceNames = map[string]string{"s3": "S3", "kms": "KMS", "lambda": "Lambda", "dynamodb": "DynamoDB"}

// apiGatewayVerb returns the HTTP verb of an API Gateway (v1 or v2) management operation, whose
// IAM actions are apigateway:GET, POST, PUT, PATCH and DELETE on resource paths.
func apiGatewayVerb(name string) string {
	switch name {
	case "ImportDocumentationParts", "ImportApi", "ReimportApi", "TagResource":
		return "PUT"
	case "ImportRestApi", "ImportApiKeys":
		return "POST"
	case "UntagResource":
		return "DELETE"
	}
	for _, v := range []struct{ op, verb string }{
		{"Get", "GET"}, {"Export", "GET"}, {"Create", "POST"}, {"Generate", "POST"}, {"Test", "POST"},
		{"Update", "PATCH"}, {"Put", "PUT"}, {"Delete", "DELETE"}, {"Flush", "DELETE"}, {"Reset", "DELETE"},
	} {
		if rest, ok := strings.CutPrefix(name, v.op); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
			return v.verb
		}
	}
	return ""
}
