package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/iam"
)

// AuthzAccount is the IAM inventory of one account of a generated trail: what `aws iam
// get-account-authorization-details` prints for it at the end of the trail, and what its
// policies grant.
type AuthzAccount struct {
	// Account is the account id.
	Account string
	// JSON is the document, as the AWS CLI prints it (policy documents as JSON objects).
	JSON []byte
	// Truth is what the document grants, computed from the statements the generator wrote it
	// from, not by reading it back.
	Truth AuthzTruth
}

// AuthzTruth is what the policies of one generated inventory grant.
//
// The policies fit the trail: every call an identity makes successfully is granted to it, and
// the calls its habits always fail (the ReadOnly role's PutBucketPolicy, RunInstances and
// CreateUser; the EC2 role's DescribeInstances) are not. The inventory is taken at the end of
// the trail, so when the trail holds carol's privilege escalation, carol has AdministratorAccess
// attached and her policy's default version is the one the attacker wrote.
//
// The inventory exercises what a reader must handle: users with inline policies, groups with
// inline and managed policies, roles with trust policies and instance profiles, customer-managed
// policies with several versions (only the default counts), AWS-managed policies (AdministratorAccess,
// PowerUserAccess, ReadOnlyAccess, IAMReadOnlyAccess, AWSLambdaBasicExecutionRole,
// AmazonSSMManagedInstanceCore, AWSConfigServiceRolePolicy; the long ones abridged), wildcards
// ("s3:Get*", "*"), NotAction (PowerUserAccess's Allow, the developers' region guard's Deny),
// unconditional Denies that remove granted actions, conditional Denies that do not, statements
// narrowed by resource or condition, and a permissions boundary (ci-deploy's) that cuts most of
// what its identity policies grant.
type AuthzTruth struct {
	// Account is the account id.
	Account string
	// Escalated is set when carol's escalation is in the trail and so in the inventory.
	Escalated bool
	// Principals holds every user and role of the inventory, by ARN.
	Principals map[string]*AuthzPrincipal
}

// AuthzPrincipal is what one user's or role's policies grant. Action lists hold "prefix:Name"
// in the IAM reference's casing, sorted.
type AuthzPrincipal struct {
	ARN, Name string
	// Type is "user" or "role".
	Type string
	// Groups lists a user's groups.
	Groups []string
	// Boundary is the ARN of the permissions boundary, "" when none.
	Boundary string
	// Granted are the actions granted: named by an Allow statement of an identity policy
	// (whatever its resource or condition), allowed by the boundary if any, and not removed by
	// an unconditional Deny (Resource "*", no Condition).
	Granted []string
	// Denied are actions an identity policy allows (within the boundary) that an unconditional
	// Deny removes.
	Denied []string
	// OutsideBoundary are actions identity policies allow that the boundary does not.
	OutsideBoundary []string
	// PartiallyDenied are granted actions that a Deny limited by resource or condition names.
	PartiallyDenied []string
}

// Authz returns the IAM inventory of every account of the trail Generate writes for opt, in
// Truth.Accounts order. It does not write the trail; it replays only the plan, to know whether
// the escalation is in it. t, when not nil, is the Truth Generate returned for the same options:
// each role's RoleLastUsed is then its last event (in the home region, for the truth does not
// keep regions per principal); without it RoleLastUsed is empty. The same options give the same
// bytes.
func Authz(opt Options, t *Truth) ([]AuthzAccount, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	w := newWorld(opt)
	files := w.plan()
	w.script(files)
	esc := w.escalation(files)
	var out []AuthzAccount
	for _, a := range w.accounts {
		var e *Escalation
		if esc.User != "" && esc.Account == a.id {
			e = &esc
		}
		inv := w.inventory(a, e, t)
		data, err := inv.marshal()
		if err != nil {
			return nil, fmt.Errorf("authorization details of %s: %w", a.id, err)
		}
		out = append(out, AuthzAccount{Account: a.id, JSON: data, Truth: inv.truth()})
	}
	return out, nil
}

// WriteAuthz writes the inventory of Accounts[0] (where the named identities live) to out and
// returns its truth; see Authz.
func WriteAuthz(out io.Writer, opt Options, t *Truth) (*AuthzTruth, error) {
	accts, err := Authz(opt, t)
	if err != nil {
		return nil, err
	}
	if _, err := out.Write(accts[0].JSON); err != nil {
		return nil, fmt.Errorf("write authorization details: %w", err)
	}
	return &accts[0].Truth, nil
}

// stmt is one statement as the generator wrote it: the lists the truth is computed from, and
// the JSON values (a string where the list has one element, as people often write).
type stmt struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Action    any                       `json:"Action,omitempty"`
	NotAction any                       `json:"NotAction,omitempty"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`

	acts, notActs, res []string
}

func one(l []string) any {
	if len(l) == 1 {
		return l[0]
	}
	return l
}

func newStmt(sid, effect string, acts, notActs, res []string, cond map[string]map[string]any) *stmt {
	s := &stmt{Sid: sid, Effect: effect, Condition: cond, acts: acts, notActs: notActs, res: res, Resource: one(res)}
	if len(notActs) > 0 {
		s.NotAction = one(notActs)
	} else {
		s.Action = one(acts)
	}
	return s
}

func allowAll(acts ...string) *stmt { return newStmt("", "Allow", acts, nil, []string{"*"}, nil) }

// doc is a policy document. Statement is written as an object when single is set (both shapes
// occur in real accounts).
type doc struct {
	Version   string `json:"Version"`
	Statement any    `json:"Statement"`
	stmts     []*stmt
}

func newDoc(single bool, ss ...*stmt) *doc {
	d := &doc{Version: "2012-10-17", stmts: ss, Statement: ss}
	if single && len(ss) == 1 {
		d.Statement = ss[0]
	}
	return d
}

type inlinePolicy struct {
	PolicyName     string `json:"PolicyName"`
	PolicyDocument *doc   `json:"PolicyDocument"`
}

type policyVersion struct {
	Document         *doc   `json:"Document"`
	VersionId        string `json:"VersionId"`
	IsDefaultVersion bool   `json:"IsDefaultVersion"`
	CreateDate       string `json:"CreateDate"`
}

// managedPolicy is an entry of Policies.
type managedPolicy struct {
	PolicyName                    string          `json:"PolicyName"`
	PolicyId                      string          `json:"PolicyId"`
	Arn                           string          `json:"Arn"`
	Path                          string          `json:"Path"`
	DefaultVersionId              string          `json:"DefaultVersionId"`
	AttachmentCount               int             `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool            `json:"IsAttachable"`
	CreateDate                    string          `json:"CreateDate"`
	UpdateDate                    string          `json:"UpdateDate"`
	PolicyVersionList             []policyVersion `json:"PolicyVersionList"`
}

func (m *managedPolicy) defaultDoc() *doc {
	for _, v := range m.PolicyVersionList {
		if v.IsDefaultVersion {
			return v.Document
		}
	}
	return nil
}

type attachedPolicy struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

type boundaryRef struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type userDetail struct {
	Path                    string           `json:"Path"`
	UserName                string           `json:"UserName"`
	UserId                  string           `json:"UserId"`
	Arn                     string           `json:"Arn"`
	CreateDate              string           `json:"CreateDate"`
	UserPolicyList          []inlinePolicy   `json:"UserPolicyList"`
	GroupList               []string         `json:"GroupList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundaryRef     `json:"PermissionsBoundary,omitempty"`
	Tags                    []tag            `json:"Tags"`
}

type groupDetail struct {
	Path                    string           `json:"Path"`
	GroupName               string           `json:"GroupName"`
	GroupId                 string           `json:"GroupId"`
	Arn                     string           `json:"Arn"`
	CreateDate              string           `json:"CreateDate"`
	GroupPolicyList         []inlinePolicy   `json:"GroupPolicyList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
}

type roleSummary struct {
	Path                     string    `json:"Path"`
	RoleName                 string    `json:"RoleName"`
	RoleId                   string    `json:"RoleId"`
	Arn                      string    `json:"Arn"`
	CreateDate               string    `json:"CreateDate"`
	AssumeRolePolicyDocument *trustDoc `json:"AssumeRolePolicyDocument"`
}

// trustDoc is a role's trust policy; authorisation readers ignore it.
type trustDoc struct {
	Version   string      `json:"Version"`
	Statement []trustStmt `json:"Statement"`
}

type trustStmt struct {
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal"`
	Action    string                    `json:"Action"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

func trust(kind, who string, cond map[string]map[string]any) *trustDoc {
	return &trustDoc{Version: "2012-10-17", Statement: []trustStmt{{Effect: "Allow", Principal: map[string]string{kind: who},
		Action: "sts:AssumeRole", Condition: cond}}}
}

type instanceProfile struct {
	Path                string        `json:"Path"`
	InstanceProfileName string        `json:"InstanceProfileName"`
	InstanceProfileId   string        `json:"InstanceProfileId"`
	Arn                 string        `json:"Arn"`
	CreateDate          string        `json:"CreateDate"`
	Roles               []roleSummary `json:"Roles"`
}

type roleLastUsed struct {
	LastUsedDate string `json:"LastUsedDate,omitempty"`
	Region       string `json:"Region,omitempty"`
}

type roleDetail struct {
	roleSummary
	InstanceProfileList     []instanceProfile `json:"InstanceProfileList"`
	RolePolicyList          []inlinePolicy    `json:"RolePolicyList"`
	AttachedManagedPolicies []attachedPolicy  `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundaryRef      `json:"PermissionsBoundary,omitempty"`
	Tags                    []tag             `json:"Tags"`
	RoleLastUsed            roleLastUsed      `json:"RoleLastUsed"`
}

// inventory is one account's authorization details while they are built.
type inventory struct {
	acct     string
	esc      bool
	Users    []*userDetail    `json:"UserDetailList"`
	Groups   []*groupDetail   `json:"GroupDetailList"`
	Roles    []*roleDetail    `json:"RoleDetailList"`
	Policies []*managedPolicy `json:"Policies"`
	byARN    map[string]*managedPolicy
}

func (inv *inventory) marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(inv); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// cliTime formats a time as the AWS CLI prints IAM dates.
func cliTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// created is a creation date before the trail, derived from the ARN so that it does not depend
// on the order of construction.
func (w *world) created(arn string, minDays, spread int) time.Time {
	h := hashOf(w.seed, hashString(arn), 0xc4ea7ed)
	t := time.Unix(w.start, 0).UTC().AddDate(0, 0, -minDays-int(h%uint64(spread)))
	return t.Add(time.Duration(h>>32%86400) * time.Second).Truncate(time.Second)
}

func (w *world) uniqueID(prefix, arn string) string {
	return prefix + charsFrom(hashOf(w.seed, hashString(arn), 0x1d), upperAlnum, 17)
}

// awsPolicy is an AWS-managed policy with an abridged document: the real ones list hundreds of
// actions; these keep their shape and the actions the trail uses.
type awsPolicy struct {
	name, path, id, version string
	created, updated        string
	doc                     func(w *world) *doc
}

var awsPolicies = map[string]awsPolicy{
	"AdministratorAccess": {"AdministratorAccess", "/", "ANPAIWMBCKSKIEE64ZLYK", "v1", "2015-02-06T18:39:46+00:00", "2015-02-06T18:39:46+00:00",
		func(*world) *doc { return newDoc(false, allowAll("*")) }},
	"ReadOnlyAccess": {"ReadOnlyAccess", "/", "ANPAILL3HVNFSB6DCOWYQ", "v121", "2015-02-06T18:39:48+00:00", "2025-01-08T19:12:41+00:00",
		func(*world) *doc {
			s := allowAll("acm:Describe*", "acm:Get*", "acm:List*", "cloudformation:Describe*", "cloudformation:Get*",
				"cloudformation:List*", "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*", "cloudtrail:LookupEvents",
				"cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*", "dynamodb:BatchGetItem", "dynamodb:Describe*",
				"dynamodb:GetItem", "dynamodb:List*", "dynamodb:Query", "dynamodb:Scan", "ec2:Describe*", "ec2:Get*",
				"ecr:BatchGetImage", "ecr:Describe*", "ecr:Get*", "ecr:List*", "iam:Generate*", "iam:Get*", "iam:List*",
				"iam:Simulate*", "kms:Describe*", "kms:Get*", "kms:List*", "lambda:Get*", "lambda:List*", "logs:Describe*",
				"logs:FilterLogEvents", "logs:Get*", "logs:ListTagsLogGroup", "logs:StartQuery", "logs:StopQuery",
				"rds:Describe*", "rds:List*", "s3:DescribeJob", "s3:Get*", "s3:List*", "secretsmanager:Describe*",
				"secretsmanager:List*", "sns:Get*", "sns:List*", "sqs:Get*", "sqs:List*", "sqs:ReceiveMessage",
				"ssm:Describe*", "ssm:Get*", "ssm:List*", "sts:GetCallerIdentity", "tag:Get*")
			s.Sid = "ReadOnlyActions"
			return newDoc(false, s)
		}},
	"PowerUserAccess": {"PowerUserAccess", "/", "ANPAJYRXTHIB4FOVS3ZXS", "v5", "2015-02-06T18:39:47+00:00", "2023-07-06T22:04:00+00:00",
		func(*world) *doc {
			return newDoc(false,
				newStmt("", "Allow", nil, []string{"iam:*", "organizations:*", "account:*"}, []string{"*"}, nil),
				allowAll("iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
					"organizations:DescribeOrganization", "account:ListRegions", "account:GetAccountInformation"))
		}},
	"IAMReadOnlyAccess": {"IAMReadOnlyAccess", "/", "ANPAJKSO7NDY4T57MWDSQ", "v4", "2015-02-06T18:39:47+00:00", "2018-01-25T19:11:27+00:00",
		func(*world) *doc {
			return newDoc(false, allowAll("iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
				"iam:Get*", "iam:List*", "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy"))
		}},
	"AWSLambdaBasicExecutionRole": {"AWSLambdaBasicExecutionRole", "/service-role/", "ANPAJNCQGXC42545SKXIK", "v1", "2015-04-09T15:03:43+00:00", "2015-04-09T15:03:43+00:00",
		func(*world) *doc {
			return newDoc(false, allowAll("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"))
		}},
	"AmazonSSMManagedInstanceCore": {"AmazonSSMManagedInstanceCore", "/", "ANPAIXSHM2BNB2D3AXXRU", "v2", "2019-03-15T17:22:12+00:00", "2019-05-23T16:54:21+00:00",
		func(*world) *doc {
			return newDoc(false,
				allowAll("ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
					"ssm:DescribeDocument", "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations",
					"ssm:ListInstanceAssociations", "ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult",
					"ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation"),
				allowAll("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
					"ssmmessages:OpenDataChannel"),
				allowAll("ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
					"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"))
		}},
	"AWSConfigServiceRolePolicy": {"AWSConfigServiceRolePolicy", "/aws-service-role/", "ANPAJUCWFHNZER665LLQQ", "v65", "2018-05-30T23:31:46+00:00", "2025-02-10T18:51:12+00:00",
		func(*world) *doc {
			s := allowAll("cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus",
				"cloudwatch:DescribeAlarms", "config:Put*", "ec2:Describe*", "iam:GetAccountAuthorizationDetails",
				"iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy", "iam:GetUser", "iam:List*",
				"kms:DescribeKey", "kms:GetKeyRotationStatus", "lambda:GetFunction", "lambda:GetPolicy",
				"lambda:ListFunctions", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketLogging",
				"s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListAllMyBuckets")
			s.Sid = "AWSConfigServiceRolePolicyStatementID"
			return newDoc(false, s)
		}},
}

// policy returns the managed policy with that ARN, adding it on first use.
func (inv *inventory) policy(arn string, make func() *managedPolicy) *managedPolicy {
	if p := inv.byARN[arn]; p != nil {
		return p
	}
	p := make()
	inv.byARN[arn] = p
	inv.Policies = append(inv.Policies, p)
	return p
}

func (w *world) awsManaged(inv *inventory, name string) *managedPolicy {
	ap := awsPolicies[name]
	arn := "arn:aws:iam::aws:policy" + ap.path + ap.name
	return inv.policy(arn, func() *managedPolicy {
		return &managedPolicy{PolicyName: ap.name, PolicyId: ap.id, Arn: arn, Path: ap.path, DefaultVersionId: ap.version,
			IsAttachable: true, CreateDate: ap.created, UpdateDate: ap.updated,
			PolicyVersionList: []policyVersion{{Document: ap.doc(w), VersionId: ap.version, IsDefaultVersion: true, CreateDate: ap.updated}}}
	})
}

// customer adds a customer-managed policy with its versions, the last one the default.
func (w *world) customer(inv *inventory, name string, versions ...*doc) *managedPolicy {
	arn := "arn:aws:iam::" + inv.acct + ":policy/" + name
	return inv.policy(arn, func() *managedPolicy {
		c := w.created(arn, 60, 600)
		p := &managedPolicy{PolicyName: name, PolicyId: w.uniqueID("ANPA", arn), Arn: arn, Path: "/",
			DefaultVersionId: fmt.Sprintf("v%d", len(versions)), IsAttachable: true, CreateDate: cliTime(c)}
		for i, d := range versions {
			vt := c.AddDate(0, 0, 40*i)
			p.PolicyVersionList = append(p.PolicyVersionList, policyVersion{Document: d, VersionId: fmt.Sprintf("v%d", i+1),
				IsDefaultVersion: i == len(versions)-1, CreateDate: cliTime(vt)})
			p.UpdateDate = cliTime(vt)
		}
		// The IAM API lists versions newest first.
		slices.Reverse(p.PolicyVersionList)
		return p
	})
}

func attach(ps ...*managedPolicy) []attachedPolicy {
	out := []attachedPolicy{}
	for _, p := range ps {
		p.AttachmentCount++
		out = append(out, attachedPolicy{p.PolicyName, p.Arn})
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// inventory builds the authorization details of one account.
func (w *world) inventory(a *account, esc *Escalation, t *Truth) *inventory {
	escalated := esc != nil
	inv := &inventory{acct: a.id, esc: escalated, byARN: map[string]*managedPolicy{}}
	id := a.id
	regions := slices.Clone(w.opt.Regions)
	bucketARNs := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, "arn:aws:s3:::"+n+"-"+id, "arn:aws:s3:::"+n+"-"+id+"/*")
		}
		return out
	}
	var keyARNs []string
	for _, r := range w.opt.Regions {
		for _, k := range a.kms[r] {
			keyARNs = append(keyARNs, "arn:aws:kms:"+r+":"+id+":key/"+k)
		}
	}
	roleARN := func(name string) string { return a.roles[name].arn }
	inRegions := map[string]map[string]any{"StringEquals": {"aws:RequestedRegion": regions}}

	// Customer-managed policies.
	devAccess := w.customer(inv, "developer-access",
		newDoc(false, newStmt("", "Allow", []string{"s3:*", "ec2:*"}, nil, []string{"*"}, nil)),
		newDoc(false,
			newStmt("ReadOnlyBasics", "Allow", []string{"ec2:Describe*", "s3:ListAllMyBuckets", "s3:GetBucketLocation",
				"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "lambda:ListFunctions", "lambda:GetFunction",
				"cloudformation:DescribeStacks", "cloudformation:List*", "iam:GetUser", "iam:ListAccessKeys", "iam:ListUsers"}, nil, []string{"*"}, nil),
			newStmt("AppData", "Allow", []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket"}, nil, bucketARNs("company-data", "app-uploads"), nil),
			newStmt("AppParams", "Allow", []string{"ssm:GetParameter", "kms:Decrypt"}, nil, []string{"*"}, inRegions)))
	svcPolicy := w.customer(inv, "svc-app-policy", newDoc(false, newStmt("", "Allow", []string{"ec2:DescribeInstances",
		"s3:ListAllMyBuckets", "s3:GetObject", "s3:PutObject", "s3:ListBucket", "iam:GetUser", "iam:ListAccessKeys", "kms:Decrypt",
		"lambda:ListFunctions", "lambda:GetFunction", "cloudformation:DescribeStacks", "ssm:GetParameter", "ssm:GetParametersByPath",
		"sqs:SendMessage", "sqs:ReceiveMessage", "sns:Publish"}, nil, []string{"*"}, nil)))
	ciPolicy := w.customer(inv, "ci-deploy-policy", newDoc(false,
		newStmt("Deploy", "Allow", []string{"lambda:UpdateFunctionCode", "lambda:GetFunction", "lambda:PublishVersion",
			"lambda:UpdateAlias", "cloudformation:*", "ec2:Describe*", "iam:GetRole", "iam:CreateRole", "iam:AttachRolePolicy",
			"kms:GenerateDataKey"}, nil, []string{"*"}, nil),
		newStmt("Artifacts", "Allow", []string{"s3:PutObject", "s3:GetObject"}, nil, bucketARNs("ci-artifacts"), nil),
		newStmt("PassAndAssume", "Allow", []string{"iam:PassRole", "sts:AssumeRole"}, nil, []string{roleARN("Admin"), roleARN("app-lambda-role")}, nil)))
	ciBoundary := w.customer(inv, "ci-deploy-boundary", newDoc(false,
		newStmt("", "Allow", []string{"lambda:*", "s3:*", "cloudformation:*", "ec2:Describe*", "iam:GetRole", "iam:PassRole",
			"kms:GenerateDataKey", "kms:Decrypt", "sts:AssumeRole"}, nil, []string{"*"}, nil),
		newStmt("NoLambdaDeletes", "Deny", []string{"lambda:Delete*"}, nil, []string{"*"}, nil)))
	ciBoundary.PermissionsBoundaryUsageCount++

	devGuard := inlinePolicy{"dev-guardrails", newDoc(false,
		newStmt("ProtectTrail", "Deny", []string{"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
			"cloudtrail:PutEventSelectors"}, nil, []string{"*"}, nil),
		newStmt("DenyOutsideRegions", "Deny", nil, []string{"iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*",
			"support:*"}, []string{"*"}, map[string]map[string]any{"StringNotEquals": {"aws:RequestedRegion": regions}}),
		newStmt("NoBucketDeletes", "Deny", []string{"s3:DeleteBucket"}, nil, bucketARNs("company-data")[:1], nil))}

	// Groups: developers in every account, admins where the named users live.
	var devMembers []string
	for _, name := range sortedNames(a.users) {
		if name != "ci-deploy" && name != "old-admin" && !strings.HasPrefix(name, "svc-") {
			devMembers = append(devMembers, name)
		}
	}
	group := func(name string, inline []inlinePolicy, attached []attachedPolicy) {
		arn := "arn:aws:iam::" + id + ":group/" + name
		inv.Groups = append(inv.Groups, &groupDetail{Path: "/", GroupName: name, GroupId: w.uniqueID("AGPA", arn), Arn: arn,
			CreateDate: cliTime(w.created(arn, 200, 900)), GroupPolicyList: inline, AttachedManagedPolicies: attached})
	}
	if a.users["alice"] != nil {
		group("admins", []inlinePolicy{}, attach(w.awsManaged(inv, "IAMReadOnlyAccess")))
	}
	group("developers", []inlinePolicy{devGuard}, attach(devAccess))

	// Users.
	for _, name := range sortedNames(a.users) {
		p := a.users[name]
		u := &userDetail{Path: "/", UserName: name, UserId: p.id, Arn: p.arn, CreateDate: cliTime(w.created(p.arn, 30, 700)),
			UserPolicyList: []inlinePolicy{}, GroupList: []string{}, AttachedManagedPolicies: []attachedPolicy{}, Tags: []tag{}}
		switch {
		case name == "ci-deploy":
			// PowerUserAccess (Allow NotAction iam:*) plus what it lacks; the boundary keeps
			// what deploying needs.
			u.AttachedManagedPolicies = attach(ciPolicy, w.awsManaged(inv, "PowerUserAccess"))
			u.PermissionsBoundary = &boundaryRef{"Policy", ciBoundary.Arn}
			u.Tags = []tag{{"purpose", "ci"}}
		case name == "old-admin":
			u.AttachedManagedPolicies = attach(w.awsManaged(inv, "AdministratorAccess"))
		case strings.HasPrefix(name, "svc-"):
			u.AttachedManagedPolicies = attach(svcPolicy)
			u.Tags = []tag{{"purpose", "service"}}
		default:
			u.GroupList = []string{"developers"}
		}
		switch name {
		case "alice":
			u.GroupList = []string{"admins", "developers"}
			u.UserPolicyList = []inlinePolicy{{"assume-admin", newDoc(true,
				newStmt("", "Allow", []string{"sts:AssumeRole"}, nil, []string{"arn:aws:iam::*:role/Admin"}, nil))}}
			u.Tags = []tag{{"team", "platform"}}
		case "carol":
			policy := "arn:aws:iam::" + id + ":policy/carol-dev-policy"
			v1 := newDoc(false,
				newStmt("SelfService", "Allow", []string{"iam:ListAttachedUserPolicies", "iam:GetPolicy", "iam:GetPolicyVersion",
					"iam:ListPolicyVersions", "iam:CreatePolicyVersion"}, nil, []string{policy, p.arn}, nil),
				newStmt("ReadOnlyRole", "Allow", []string{"sts:AssumeRole"}, nil, []string{roleARN("ReadOnly")}, nil))
			versions := []*doc{v1}
			if escalated {
				// What the attacker wrote with CreatePolicyVersion --set-as-default.
				versions = append(versions, newDoc(false, allowAll("iam:AttachUserPolicy", "iam:CreatePolicyVersion", "iam:ListAttachedUserPolicies")))
			}
			carolPolicy := w.customer(inv, "carol-dev-policy", versions...)
			if escalated {
				v := &carolPolicy.PolicyVersionList[0] // newest first
				// CreatePolicyVersion is the escalation's fourth step, i*(15+7i) seconds in
				// (see scenarios).
				v.CreateDate = cliTime(esc.Start.Add(3 * (15 + 3*7) * time.Second))
				carolPolicy.UpdateDate = v.CreateDate
			}
			u.AttachedManagedPolicies = attach(carolPolicy)
			if escalated {
				u.AttachedManagedPolicies = append(u.AttachedManagedPolicies, attach(w.awsManaged(inv, "AdministratorAccess"))...)
			}
			u.Tags = []tag{{"team", "data"}}
		}
		inv.Users = append(inv.Users, u)
	}

	// Roles.
	for _, name := range sortedNames(a.roles) {
		p := a.roles[name]
		c := w.created(p.arn, 30, 700)
		r := &roleDetail{roleSummary: roleSummary{Path: p.path, RoleName: name, RoleId: p.id, Arn: p.arn, CreateDate: cliTime(c)},
			InstanceProfileList: []instanceProfile{}, RolePolicyList: []inlinePolicy{}, AttachedManagedPolicies: []attachedPolicy{}, Tags: []tag{}}
		lambdaInline := inlinePolicy{"app-access", newDoc(false,
			newStmt("Objects", "Allow", []string{"s3:GetObject", "s3:PutObject"}, nil, bucketARNs("app-uploads", "company-data"), nil),
			newStmt("Keys", "Allow", []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil, keyARNs, nil),
			newStmt("Config", "Allow", []string{"ssm:GetParameter"}, nil, []string{"arn:aws:ssm:*:" + id + ":parameter/app/*"}, nil),
			newStmt("Secrets", "Allow", []string{"secretsmanager:GetSecretValue"}, nil, []string{"arn:aws:secretsmanager:*:" + id + ":secret:prod/app/*"}, nil))}
		webInline := inlinePolicy{"web-app", newDoc(false,
			newStmt("Objects", "Allow", []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket"}, nil, bucketARNs("app-uploads", "company-data"), nil),
			newStmt("", "Allow", []string{"kms:Decrypt", "ec2:DescribeTags"}, nil, []string{"*"}, nil),
			newStmt("", "Allow", []string{"lambda:InvokeFunction"}, nil, []string{"arn:aws:lambda:*:" + id + ":function:orders-api"}, nil))}
		switch {
		case name == "Admin":
			r.AssumeRolePolicyDocument = trust("AWS", "arn:aws:iam::"+w.accounts[0].id+":root", nil)
			r.AttachedManagedPolicies = attach(w.awsManaged(inv, "AdministratorAccess"))
			r.RolePolicyList = []inlinePolicy{{"deny-trail-tampering", newDoc(true, newStmt("", "Deny", []string{"cloudtrail:StopLogging",
				"cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"}, nil, []string{"*"}, nil))}}
		case name == "ReadOnly":
			r.AssumeRolePolicyDocument = trust("AWS", "arn:aws:iam::"+w.accounts[0].id+":root", nil)
			r.AttachedManagedPolicies = attach(w.awsManaged(inv, "ReadOnlyAccess"))
		case name == "MonitoringRole":
			r.AssumeRolePolicyDocument = trust("AWS", "arn:aws:iam::"+w.ext+":root",
				map[string]map[string]any{"StringEquals": {"sts:ExternalId": "mon-" + charsFrom(hashOf(w.seed, hashString(id)), hexDigits, 12)}})
			r.RolePolicyList = []inlinePolicy{{"monitoring", newDoc(false,
				newStmt("Read", "Allow", []string{"cloudwatch:*", "ec2:Describe*", "lambda:List*", "tag:GetResources"}, nil, []string{"*"}, nil),
				newStmt("NoChanges", "Deny", []string{"cloudwatch:Delete*", "cloudwatch:Put*", "cloudwatch:Set*", "cloudwatch:Disable*",
					"cloudwatch:Enable*"}, nil, []string{"*"}, nil))}}
			r.Tags = []tag{{"vendor", "monitoring"}}
		case name == "AWSServiceRoleForConfig":
			r.AssumeRolePolicyDocument = trust("Service", "config.amazonaws.com", nil)
			r.AttachedManagedPolicies = attach(w.awsManaged(inv, "AWSConfigServiceRolePolicy"))
		case strings.HasSuffix(name, "-lambda-role"):
			r.AssumeRolePolicyDocument = trust("Service", "lambda.amazonaws.com", nil)
			r.AttachedManagedPolicies = attach(w.awsManaged(inv, "AWSLambdaBasicExecutionRole"))
			r.RolePolicyList = []inlinePolicy{lambdaInline}
		case name == "ec2-web-role" || strings.HasSuffix(name, "-ec2-role"):
			r.AssumeRolePolicyDocument = trust("Service", "ec2.amazonaws.com", nil)
			r.AttachedManagedPolicies = attach(w.awsManaged(inv, "AmazonSSMManagedInstanceCore"))
			r.RolePolicyList = []inlinePolicy{webInline}
			ipArn := "arn:aws:iam::" + id + ":instance-profile/" + name
			r.InstanceProfileList = []instanceProfile{{Path: "/", InstanceProfileName: name, InstanceProfileId: w.uniqueID("AIPA", ipArn),
				Arn: ipArn, CreateDate: cliTime(c), Roles: []roleSummary{r.roleSummary}}}
		}
		if t != nil {
			if tp := t.Principals[p.arn]; tp != nil && tp.Type == "AssumedRole" {
				r.RoleLastUsed = roleLastUsed{cliTime(tp.Last), w.home}
			}
		}
		inv.Roles = append(inv.Roles, r)
	}
	// Customer-managed policies first, then AWS-managed ones, each by name.
	slices.SortStableFunc(inv.Policies, func(x, y *managedPolicy) int {
		xa, ya := strings.Contains(x.Arn, ":iam::aws:"), strings.Contains(y.Arn, ":iam::aws:")
		if xa != ya {
			if xa {
				return 1
			}
			return -1
		}
		return strings.Compare(x.PolicyName, y.PolicyName)
	})
	return inv
}

// truth evaluates the statements the inventory was written from, independently of any reader.
func (inv *inventory) truth() AuthzTruth {
	all := iam.Expand("*")
	match := func(pats []string) map[iam.Action]bool {
		out := map[iam.Action]bool{}
		for _, p := range pats {
			for _, a := range matchPattern(all, p) {
				out[a] = true
			}
		}
		return out
	}
	stmtSet := func(s *stmt) map[iam.Action]bool {
		if len(s.notActs) == 0 {
			return match(s.acts)
		}
		not := match(s.notActs)
		out := map[iam.Action]bool{}
		for _, a := range all {
			if !not[a] {
				out[a] = true
			}
		}
		return out
	}
	unconditional := func(s *stmt) bool { return len(s.res) == 1 && s.res[0] == "*" && len(s.Condition) == 0 }
	groups := map[string]*groupDetail{}
	for _, g := range inv.Groups {
		groups[g.GroupName] = g
	}
	docs := func(inline []inlinePolicy, attached []attachedPolicy) []*doc {
		var out []*doc
		for _, ip := range inline {
			out = append(out, ip.PolicyDocument)
		}
		for _, ap := range attached {
			out = append(out, inv.byARN[ap.PolicyArn].defaultDoc())
		}
		return out
	}
	sorted := func(m map[iam.Action]bool) []string {
		var out []string
		for _, a := range all {
			if m[a] {
				out = append(out, a.String())
			}
		}
		return out
	}
	eval := func(p *AuthzPrincipal, ds []*doc, boundary *doc) {
		allow, hard, partial := map[iam.Action]bool{}, map[iam.Action]bool{}, map[iam.Action]bool{}
		collect := func(ds []*doc, allowInto map[iam.Action]bool) {
			for _, d := range ds {
				for _, s := range d.stmts {
					set := stmtSet(s)
					switch {
					case s.Effect == "Allow":
						maps(allowInto, set)
					case unconditional(s):
						maps(hard, set)
					default:
						maps(partial, set)
					}
				}
			}
		}
		collect(ds, allow)
		outside := map[iam.Action]bool{}
		if boundary != nil {
			bAllow := map[iam.Action]bool{}
			collect([]*doc{boundary}, bAllow)
			for a := range allow {
				if !bAllow[a] {
					outside[a] = true
					delete(allow, a)
				}
			}
		}
		denied := map[iam.Action]bool{}
		for a := range allow {
			if hard[a] {
				denied[a] = true
				delete(allow, a)
			}
		}
		part := map[iam.Action]bool{}
		for a := range allow {
			if partial[a] {
				part[a] = true
			}
		}
		p.Granted, p.Denied, p.OutsideBoundary, p.PartiallyDenied = sorted(allow), sorted(denied), sorted(outside), sorted(part)
	}
	t := AuthzTruth{Account: inv.acct, Escalated: inv.esc, Principals: map[string]*AuthzPrincipal{}}
	for _, u := range inv.Users {
		p := &AuthzPrincipal{ARN: u.Arn, Name: u.UserName, Type: "user", Groups: slices.Clone(u.GroupList)}
		ds := docs(u.UserPolicyList, u.AttachedManagedPolicies)
		for _, g := range u.GroupList {
			ds = append(ds, docs(groups[g].GroupPolicyList, groups[g].AttachedManagedPolicies)...)
		}
		var boundary *doc
		if u.PermissionsBoundary != nil {
			p.Boundary = u.PermissionsBoundary.PermissionsBoundaryArn
			boundary = inv.byARN[p.Boundary].defaultDoc()
		}
		eval(p, ds, boundary)
		t.Principals[p.ARN] = p
	}
	for _, r := range inv.Roles {
		p := &AuthzPrincipal{ARN: r.Arn, Name: r.RoleName, Type: "role"}
		eval(p, docs(r.RolePolicyList, r.AttachedManagedPolicies), nil)
		t.Principals[p.ARN] = p
	}
	return t
}

func maps(dst, src map[iam.Action]bool) {
	for a := range src {
		dst[a] = true
	}
}

// matchPattern matches the only pattern shapes the generator writes: "*", "prefix:*",
// "prefix:Start*" and "prefix:Name", ignoring case. It is deliberately not iam.Expand, so that
// the truth does not share the reader's matching.
func matchPattern(all []iam.Action, pattern string) []iam.Action {
	p := strings.ToLower(pattern)
	if p == "*" {
		return all
	}
	prefix, name, ok := strings.Cut(p, ":")
	star := strings.HasSuffix(name, "*")
	stem := strings.TrimSuffix(name, "*")
	if !ok || strings.ContainsAny(stem, "*?") || strings.ContainsAny(prefix, "*?") {
		panic("generate: unsupported action pattern " + pattern)
	}
	var out []iam.Action
	for _, a := range all {
		if strings.ToLower(a.Prefix) != prefix {
			continue
		}
		n := strings.ToLower(a.Name)
		if n == stem || star && strings.HasPrefix(n, stem) {
			out = append(out, a)
		}
	}
	return out
}
