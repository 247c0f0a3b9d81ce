package authz

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/trailsql/trailsql/internal/iam"
)

// Visibility says whether CloudTrail can show that a principal used an action.
type Visibility string

// The visibilities of IAM actions, from most to least visible.
const (
	// Management: calls authorised by the action are recorded as management events, which
	// every trail logs by default.
	Management Visibility = "management"
	// DataEvent: calls are data events, recorded only when the trail logs data events for
	// their resource type (DiffOptions.DataEvents).
	DataEvent Visibility = "data"
	// NotRecorded: the calls exist but CloudTrail does not record them as management events.
	NotRecorded Visibility = "not-recorded"
	// PermissionOnly: no call of its own; the action is checked inside other calls
	// (iam:PassRole) or guards console features.
	PermissionOnly Visibility = "permission-only"
	// Unverified: no source says whether CloudTrail records it (see VisibilityOf).
	Unverified Visibility = "unverified"
)

//go:embed zz_recorded.txt.gz
var recordedGz []byte

// recorded is the parsed generated table: action → 'D' or an evidence digit.
var recorded = sync.OnceValue(func() map[iam.Action]byte {
	m, err := parseRecorded(recordedGz)
	if err != nil {
		// The table is generated and embedded; a damaged one is a build defect.
		panic(fmt.Sprintf("authz: embedded CloudTrail table: %v", err))
	}
	return m
})

func parseRecorded(gz []byte) (map[iam.Action]byte, error) {
	out := make(map[iam.Action]byte, 12000)
	err := iam.ReadTable(gz, func(prefix string, code byte, name string) error {
		if !(code == 'D' || code >= '1' && code <= '7') {
			return fmt.Errorf("unknown evidence code %q", code)
		}
		// Actions the reference has dropped since the table was generated are skipped: they
		// cannot be granted.
		if a, ok := iam.Exists(prefix + ":" + name); ok {
			out[a] = code
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no actions")
	}
	return out, nil
}

// rule is a hand-written exception: patterns (package iam's syntax) and why.
type rule struct {
	vis      Visibility
	patterns []string
	why      string
}

// rules are what the generated table cannot know, from the CloudTrail User Guide ("Logging data
// events" lists the data event resource types) and the services' CloudTrail pages. They take
// precedence over the table, first match wins.
var rules = []rule{
	{PermissionOnly, []string{"sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext", "sts:TagGetWebIdentityToken"},
		"checked inside the sts:AssumeRole* call that passes session tags, a source identity or a context; CloudTrail shows that call"},
	{PermissionOnly, []string{"s3:BypassGovernanceRetention", "s3:ObjectOwnerOverrideToBucketOwner"},
		"checked inside S3 object calls; CloudTrail shows those calls (as data events)"},
	{PermissionOnly, []string{"aws-portal:*"},
		"a legacy Billing console permission: console access, not an API call"},

	{NotRecorded, []string{"execute-api:*"},
		"API Gateway invocations and connection calls are not CloudTrail events (API Gateway access logs record them)"},
	{NotRecorded, []string{"iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive", "iot:RetainPublish",
		"iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow", "iot:ListNamedShadowsForThing",
		"iot:GetRetainedMessage", "iot:ListRetainedMessages"},
		"AWS IoT data-plane operations (MQTT, device shadows) are not recorded by CloudTrail (AWS IoT logs record them)"},
	{NotRecorded, []string{"rds-db:connect"},
		"IAM database authentication happens in the database, not in an API call CloudTrail records"},
	{NotRecorded, []string{"elasticfilesystem:Client*"},
		"EFS client access (mount, write, root) is checked when an NFS client mounts, not in an API call CloudTrail records"},
	{NotRecorded, []string{"neptune-db:*"},
		"Neptune data access (queries) is not recorded by CloudTrail (Neptune audit logs record it)"},
	{NotRecorded, []string{"kafka-cluster:*"},
		"Amazon MSK data-plane access (client connections, topics, groups) is not recorded by CloudTrail"},
	{NotRecorded, []string{"es:ESHttp*", "aoss:APIAccessAll", "aoss:DashboardsAccessAll"},
		"OpenSearch requests to a domain or collection are not recorded by CloudTrail (OpenSearch audit logs record them)"},
	{NotRecorded, []string{"logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"},
		"CloudWatch Logs data-plane calls are not recorded as management events"},
	{NotRecorded, []string{"cloudwatch:PutMetricData"},
		"CloudWatch PutMetricData is not recorded as a management event"},
	{NotRecorded, []string{"lambda:InvokeFunctionUrl"},
		"Lambda function URL invocations are not recorded by CloudTrail"},
	{NotRecorded, []string{"firehose:PutRecord", "firehose:PutRecordBatch"},
		"Amazon Data Firehose does not record PutRecord and PutRecordBatch in CloudTrail"},
	{NotRecorded, []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"},
		"X-Ray trace uploads and sampling calls (made by the X-Ray daemon and SDKs) are not recorded as management events"},

	{DataEvent, []string{"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"},
		"AWS::S3::Object (ListObjects, ListObjectVersions and ListMultipartUploads are data events)"},
	{DataEvent, []string{"s3-object-lambda:*"}, "AWS::S3ObjectLambda::AccessPoint"},
	{DataEvent, []string{"s3express:CreateSession"}, "AWS::S3Express::Object"},
	{DataEvent, []string{"lambda:InvokeFunction", "lambda:InvokeAsync"}, "AWS::Lambda::Function"},
	{DataEvent, []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:Scan",
		"dynamodb:ConditionCheckItem", "dynamodb:PartiQL*"}, "AWS::DynamoDB::Table"},
	{DataEvent, []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, "AWS::DynamoDB::Stream"},
	{DataEvent, []string{"sns:Publish"}, "AWS::SNS::Topic"},
	{DataEvent, []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}, "AWS::SQS::Queue"},
	{DataEvent, []string{"kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator",
		"kinesis:SubscribeToShard"}, "AWS::Kinesis::Stream"},
	{DataEvent, []string{"ebs:GetSnapshotBlock", "ebs:ListChangedBlocks", "ebs:ListSnapshotBlocks", "ebs:PutSnapshotBlock"}, "AWS::EC2::Snapshot"},
	{DataEvent, []string{"cloudtrail-data:PutAuditEvents"}, "AWS::CloudTrail::Channel"},
	{DataEvent, []string{"rds-data:*"}, "AWS::RDS::DBCluster"},
	{DataEvent, []string{"sagemaker:InvokeEndpoint*"}, "AWS::SageMaker::Endpoint"},
	{DataEvent, []string{"sagemaker:PutRecord", "sagemaker:GetRecord", "sagemaker:DeleteRecord", "sagemaker:BatchGetRecord"}, "AWS::SageMaker::FeatureGroup"},
	{DataEvent, []string{"bedrock:InvokeAgent", "bedrock:Retrieve", "bedrock:RetrieveAndGenerate", "bedrock:InvokeFlow"},
		"AWS::Bedrock::AgentAlias, KnowledgeBase and FlowAlias"},
	{DataEvent, []string{"cognito-identity:GetId", "cognito-identity:GetCredentialsForIdentity", "cognito-identity:GetOpenIdToken",
		"cognito-identity:GetOpenIdTokenForDeveloperIdentity"}, "AWS::Cognito::IdentityPool"},
	{DataEvent, []string{"appsync:GraphQL"}, "AWS::AppSync::GraphQLApi"},
	{DataEvent, []string{"ssmmessages:*"}, "AWS::SSMMessages::ControlChannel"},
	{DataEvent, []string{"ec2messages:*"}, "AWS::SSM::ManagedNode"},
}

// verdict is a visibility with its reason.
type verdict struct {
	vis Visibility
	why string
}

// ruleFor expands the rules once: action → verdict of the first rule naming it.
var ruleFor = sync.OnceValue(func() map[iam.Action]verdict {
	m := map[iam.Action]verdict{}
	for _, r := range rules {
		v := verdict{r.vis, r.why}
		if r.vis == DataEvent {
			v.why = "data event (" + r.why + "): recorded only when the trail logs data events for it"
		}
		for _, p := range r.patterns {
			for _, a := range iam.Expand(p) {
				if _, ok := m[a]; !ok {
					m[a] = v
				}
			}
		}
	}
	return m
})

const (
	passWhy       = "checked when another call hands a resource to a service (iam:PassRole when ec2:RunInstances or lambda:CreateFunction passes a role); CloudTrail shows that call, not the pass"
	unverifiedWhy = "no source says whether CloudTrail records it (not an operation of the 2022 AWS SDK models, cloudtracker's 2019 list or the saved logs): probably a newer API, possibly a permission-only action"
	objectWhy     = "data event (AWS::S3::Object, an object-level S3 action): recorded only when the trail logs data events for it"
)

// evidenceWhy is the reason of a management event, by evidence bits.
var evidenceWhy = func() [8]string {
	var out [8]string
	for bits := 1; bits < 8; bits++ {
		var ev []string
		if bits&1 != 0 {
			ev = append(ev, "an AWS SDK operation")
		}
		if bits&2 != 0 {
			ev = append(ev, "in cloudtracker's list of CloudTrail-recorded calls")
		}
		if bits&4 != 0 {
			ev = append(ev, "seen in real CloudTrail logs")
		}
		out[bits] = "recorded as a management event (" + strings.Join(ev, "; ") + ")"
	}
	return out
}()

// passes reports whether the action is a Pass permission (iam:PassRole, lambda:PassNetworkConnector,
// quicksight:PassDataSet): checked when a call hands a resource to a service.
func passes(a iam.Action) bool {
	rest, ok := strings.CutPrefix(a.Name, "Pass")
	return ok && rest != "" && unicode.IsUpper(rune(rest[0]))
}

// VisibilityOf says whether CloudTrail can show that a principal used a, and why, for people.
//
// Sources, first match wins: hand-written rules for permission-only actions, calls CloudTrail does
// not record and data events (CloudTrail User Guide); Pass* permissions; S3 object-level actions
// (data events, from the reference's resource types); then evidence of a management event: an
// AWS SDK method whose event maps to the action (iamlive, 2022), cloudtracker's list of calls
// CloudTrail records (2019), or an event in the saved real logs. What none of them covers is
// Unverified: mostly APIs newer than those sources, possibly permission-only actions.
func VisibilityOf(a iam.Action) (Visibility, string) {
	if v, ok := ruleFor()[a]; ok {
		return v.vis, v.why
	}
	if passes(a) {
		return PermissionOnly, passWhy
	}
	code, ok := recorded()[a]
	switch {
	case !ok:
		return Unverified, unverifiedWhy
	case code == 'D':
		return DataEvent, objectWhy
	}
	return Management, evidenceWhy[code-'0']
}
