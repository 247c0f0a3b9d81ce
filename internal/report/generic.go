package report

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// action is what a call did, as a verb and its object: the verb's base form (for "tried to …")
// and its past (for what was done).
type action struct {
	verb, past, object string
}

func (a action) done() string  { return joinNonEmpty(" ", a.past, a.object) }
func (a action) tried() string { return "tried to " + joinNonEmpty(" ", a.verb, a.object) }

// verbs are the leading words of API names and how they read: base form and past.
var verbs = map[string][2]string{
	"Abort": {"abort", "aborted"}, "Accept": {"accept", "accepted"}, "Activate": {"activate", "activated"},
	"Add": {"add", "added"}, "Allocate": {"allocate", "allocated"}, "Apply": {"apply", "applied"},
	"Assign": {"assign", "assigned"}, "Associate": {"associate", "associated"}, "Assume": {"assume", "assumed"},
	"Attach": {"attach", "attached"}, "Authorize": {"authorize", "authorized"}, "Batch": {"run a batch", "ran a batch"},
	"Cancel": {"cancel", "cancelled"}, "Change": {"change", "changed"}, "Check": {"check", "checked"},
	"Complete": {"complete", "completed"}, "Confirm": {"confirm", "confirmed"}, "Copy": {"copy", "copied"},
	"Create": {"create", "created"}, "Deactivate": {"deactivate", "deactivated"}, "Decrypt": {"decrypt", "decrypted"},
	"Delete": {"delete", "deleted"}, "Deregister": {"deregister", "deregistered"}, "Describe": {"describe", "described"},
	"Detach": {"detach", "detached"}, "Disable": {"disable", "disabled"}, "Disassociate": {"disassociate", "disassociated"},
	"Download": {"download", "downloaded"}, "Enable": {"enable", "enabled"}, "Encrypt": {"encrypt", "encrypted"},
	"Estimate": {"estimate", "estimated"}, "Execute": {"execute", "executed"}, "Export": {"export", "exported"},
	"Filter": {"filter", "filtered"}, "Generate": {"generate", "generated"}, "Get": {"read", "read"},
	"Head": {"check", "checked"}, "Import": {"import", "imported"}, "Initiate": {"initiate", "initiated"},
	"Invoke": {"invoke", "invoked"}, "Issue": {"issue", "issued"}, "Launch": {"launch", "launched"},
	"List": {"list", "listed"}, "Lookup": {"look up", "looked up"}, "Modify": {"modify", "modified"},
	"Monitor": {"monitor", "monitored"}, "Move": {"move", "moved"}, "Open": {"open", "opened"},
	"Preview": {"preview", "previewed"}, "Promote": {"promote", "promoted"}, "Provision": {"provision", "provisioned"},
	"Publish": {"publish", "published"}, "Purchase": {"purchase", "purchased"}, "Put": {"put", "put"},
	"Query": {"query", "queried"}, "Reboot": {"reboot", "rebooted"}, "Receive": {"receive", "received"},
	"Redeem": {"redeem", "redeemed"}, "Refresh": {"refresh", "refreshed"}, "Register": {"register", "registered"},
	"Reject": {"reject", "rejected"}, "Release": {"release", "released"}, "Remove": {"remove", "removed"},
	"Renew": {"renew", "renewed"}, "Replace": {"replace", "replaced"}, "Report": {"report", "reported"},
	"Request": {"request", "requested"}, "Reset": {"reset", "reset"}, "Resolve": {"resolve", "resolved"},
	"Restore": {"restore", "restored"}, "Resume": {"resume", "resumed"}, "Retrieve": {"retrieve", "retrieved"},
	"Revoke": {"revoke", "revoked"}, "Rotate": {"rotate", "rotated"}, "Run": {"run", "ran"},
	"Scan": {"scan", "scanned"}, "Schedule": {"schedule", "scheduled"}, "Search": {"search", "searched"},
	"Select": {"select", "selected"}, "Send": {"send", "sent"}, "Set": {"set", "set"},
	"Share": {"share", "shared"}, "Sign": {"sign", "signed"}, "Simulate": {"simulate", "simulated"},
	"Start": {"start", "started"}, "Stop": {"stop", "stopped"}, "Submit": {"submit", "submitted"},
	"Subscribe": {"subscribe to", "subscribed to"}, "Suspend": {"suspend", "suspended"}, "Tag": {"tag", "tagged"},
	"Terminate": {"terminate", "terminated"}, "Test": {"test", "tested"}, "Transfer": {"transfer", "transferred"},
	"Unassign": {"unassign", "unassigned"}, "Unsubscribe": {"unsubscribe from", "unsubscribed from"},
	"Untag": {"untag", "untagged"}, "Update": {"update", "updated"}, "Upgrade": {"upgrade", "upgraded"},
	"Upload": {"upload", "uploaded"}, "Validate": {"validate", "validated"}, "Verify": {"verify", "verified"},
	"View": {"view", "viewed"},
}

// acronyms are words of API names written in capitals in a sentence.
var acronyms = map[string]string{
	"acl": "ACL", "acls": "ACLs", "ami": "AMI", "api": "API", "apis": "APIs", "arn": "ARN", "aws": "AWS",
	"cors": "CORS", "db": "DB", "dns": "DNS", "ebs": "EBS", "ec2": "EC2", "iam": "IAM", "id": "ID",
	"ids": "IDs", "ip": "IP", "kms": "KMS", "mfa": "MFA", "oidc": "OIDC", "rds": "RDS", "saml": "SAML",
	"sns": "SNS", "sqs": "SQS", "ssh": "SSH", "sso": "SSO", "ssl": "SSL", "ssm": "SSM", "tls": "TLS",
	"url": "URL", "vpc": "VPC", "vpcs": "VPCs", "vpn": "VPN", "nat": "NAT", "amis": "AMIs", "acm": "ACM", "waf": "WAF", "s3": "S3", "sts": "STS", "http": "HTTP", "https": "HTTPS",
}

// services are the display names of event sources' first labels.
var services = map[string]string{
	"s3": "S3", "ec2": "EC2", "iam": "IAM", "sts": "STS", "kms": "KMS", "lambda": "Lambda",
	"cloudtrail": "CloudTrail", "signin": "AWS sign-in", "guardduty": "GuardDuty", "config": "AWS Config",
	"securityhub": "Security Hub", "ssm": "Systems Manager", "secretsmanager": "Secrets Manager",
	"rds": "RDS", "logs": "CloudWatch Logs", "monitoring": "CloudWatch", "cloudformation": "CloudFormation",
	"sns": "SNS", "sqs": "SQS", "dynamodb": "DynamoDB", "elasticloadbalancing": "Elastic Load Balancing",
	"autoscaling": "EC2 Auto Scaling", "organizations": "Organizations", "route53": "Route 53",
	"route53resolver": "Route 53 Resolver", "sso": "IAM Identity Center", "identitystore": "Identity Store",
	"ecr": "ECR", "ecs": "ECS", "eks": "EKS", "bedrock": "Bedrock", "access-analyzer": "IAM Access Analyzer",
	"health": "AWS Health", "cloudshell": "CloudShell", "ec2-instance-connect": "EC2 Instance Connect",
	"rolesanywhere": "IAM Roles Anywhere", "elasticfilesystem": "EFS", "glue": "Glue", "athena": "Athena",
	"apigateway": "API Gateway", "cloudfront": "CloudFront", "events": "EventBridge", "kinesis": "Kinesis",
	"firehose": "Data Firehose", "macie2": "Macie", "inspector2": "Inspector", "acm": "Certificate Manager",
	"backup": "AWS Backup", "elasticache": "ElastiCache", "redshift": "Redshift", "sagemaker": "SageMaker",
	"notifications": "User Notifications", "resource-explorer-2": "Resource Explorer", "tagging": "Resource Groups Tagging",
	"servicecatalog": "Service Catalog", "ce": "Cost Explorer", "account": "AWS Account Management",
	"support": "AWS Support", "trustedadvisor": "Trusted Advisor", "cloudwatch": "CloudWatch", "ses": "SES",
	"cognito-idp": "Cognito user pools", "cognito-identity": "Cognito identity pools", "states": "Step Functions",
	"codebuild": "CodeBuild", "es": "OpenSearch Service", "wafv2": "WAF", "xray": "X-Ray", "billingconsole": "Billing console", "codecommit": "CodeCommit", "codepipeline": "CodePipeline", "servicequotas": "Service Quotas",
}

// serviceName is the display name of an event source (its first label when unknown).
func serviceName(source string) string {
	p, _, _ := strings.Cut(source, ".")
	if n, ok := services[p]; ok {
		return n
	}
	return p
}

// apiSuffix is the date and version Lambda (and a few others) append to API names.
var apiSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d{8}(v\d+)?|V\d+)$`) })

// baseName is an event name without its API version suffix (UpdateFunctionCode20150331v2).
func baseName(name string) string { return apiSuffix().ReplaceAllString(name, "") }

// splitWords splits a CamelCase name into words, keeping runs of capitals together
// (DescribeDBInstances -> Describe DB Instances).
func splitWords(s string) []string {
	var words []string
	rs := []rune(s)
	start := 0
	for i := 1; i < len(rs); i++ {
		prev, cur := rs[i-1], rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		pluralCaps := next == 's' && (i+2 == len(rs) || unicode.IsUpper(rs[i+2]))
		boundary := unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && unicode.IsLower(next) && !pluralCaps))
		if boundary {
			words = append(words, string(rs[start:i]))
			start = i
		}
	}
	if start < len(rs) {
		words = append(words, string(rs[start:]))
	}
	return words
}

// noun writes API name words as a phrase: lower case, acronyms in capitals.
func noun(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		lw := strings.ToLower(w)
		switch {
		case acronyms[lw] != "":
			out[i] = acronyms[lw]
		case len(w) > 1 && strings.ToUpper(w) == w:
			out[i] = w // an acronym not in the list
		default:
			out[i] = lw
		}
	}
	return strings.Join(out, " ")
}

// plural reports whether a noun phrase reads as plural (its last word ends in s).
func plural(words []string) bool {
	if len(words) == 0 {
		return false
	}
	w := strings.ToLower(words[len(words)-1])
	return strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") &&
		!strings.HasSuffix(w, "is") && w != "access" && w != "alias"
}

// prepositions split an API name's object in two: AddRoleToDBCluster is a role, to a cluster.
var prepositions = map[string]bool{"To": true, "From": true, "For": true, "With": true, "On": true, "In": true, "By": true, "Of": true, "Into": true}

// generic is the sentence of an event no phrase was written for: its name read as a verb and an
// object, the object named from the request when a request parameter names it
// ("deleted the bucket logs-123 in S3", "listed buckets in S3", "described instances in EC2").
func generic(e *event) action {
	svc := serviceName(e.source)
	name := baseName(e.name)
	words := splitWords(name)
	in := ""
	if svc != "" {
		in = " in " + svc
	}
	if len(words) == 0 {
		return action{"make", "made", "an unnamed call" + in}
	}
	v, ok := verbs[words[0]]
	if !ok || len(words) == 1 {
		if e.eventType == "AwsServiceEvent" {
			return action{"report", "reported", "the event " + joinNonEmpty(" ", svc, e.name)}
		}
		return action{"call", "called", joinNonEmpty(" ", svc, e.name)}
	}
	verb := words[0]
	objWords := words[1:]
	if verb == "Batch" && len(words) > 2 {
		if v2, ok := verbs[words[1]]; ok {
			v = [2]string{v2[0] + " in a batch", v2[1] + " in a batch"}
			verb, objWords = words[1], words[2:]
		}
	}
	head, prep, tail := objWords, "", []string(nil)
	for i, w := range objWords {
		if i > 0 && prepositions[w] && i < len(objWords)-1 {
			head, prep, tail = objWords[:i], strings.ToLower(w), objWords[i+1:]
			break
		}
	}
	obj := nounPhrase(e, verb, head)
	if prep != "" {
		obj += " " + prep + " " + nounPhrase(e, "", tail)
	}
	return action{v[0], v[1], obj + in}
}

// nounPhrase writes the words of an object, named when the request names it: "the user bob",
// "the value of the secret s1", "buckets", "a network ACL entry". verb (the API name's first
// word, "" for the object of a preposition) chooses the article.
func nounPhrase(e *event, verb string, words []string) string {
	obj := noun(words)
	if id, whole, owner := namedObject(e, words); id != "" {
		if whole {
			return "the " + obj + " " + id
		}
		return "the " + obj + " of the " + owner + " " + id
	}
	switch verb {
	case "Enable", "Disable", "": // "" is the object of a preposition: "by default", "for model access"
		return obj
	case "Get", "Describe", "Head", "Lookup", "Update", "Put", "Set", "Modify", "Reset", "Change":
		if !plural(words) {
			return "the " + obj
		}
	}
	if plural(words) {
		return obj
	}
	return article(obj) + " " + obj
}

func article(s string) string {
	if s == "" {
		return "a"
	}
	for _, p := range []string{"S3", "SNS", "SQS", "SSM", "SSH", "MFA", "RDS", "EBS", "EC2", "ACL", "AMI", "API", "ARN", "IAM", "IP", "OIDC", "SSO", "SSL", "HTTP"} {
		if strings.HasPrefix(s, p) {
			return "an"
		}
	}
	for _, p := range []string{"us", "uni", "eu", "one"} {
		if strings.HasPrefix(s, p) {
			return "a"
		}
	}
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

// namedObject finds in the request the name of the object an API name is about: a parameter
// named for the whole object (userName for DeleteUser, groupId for DeleteSecurityGroup: whole)
// or for its first word (secretId for GetSecretValue: the secret owns the value).
func namedObject(e *event, objWords []string) (id string, whole bool, owner string) {
	if e.req == nil || len(objWords) == 0 || plural(objWords) {
		return "", false, ""
	}
	lower := func(ws []string) string {
		var b strings.Builder
		for i, w := range ws {
			if i == 0 {
				b.WriteString(strings.ToLower(w[:1]) + w[1:])
			} else {
				b.WriteString(w)
			}
		}
		return b.String()
	}
	try := func(stem string) string {
		for _, suf := range []string{"Name", "Id", "Arn", "Identifier"} {
			if s := gets(e.req, stem+suf); s != "" && len(s) <= 200 {
				return s
			}
		}
		return ""
	}
	if s := try(lower(objWords)); s != "" {
		return display(s), true, ""
	}
	if len(objWords) > 1 {
		f := objWords[0]
		if s := try(lower(objWords[:1])); s != "" && !ambiguousOwner[strings.ToLower(f)] {
			return display(s), false, noun(objWords[:1])
		}
	}
	return "", false, ""
}

// ambiguousOwner are first words whose parameter does not name an owner (GetAccountSummary has
// no accountId, and PutUserPolicy's userName is the user's, handled apart).
var ambiguousOwner = map[string]bool{"account": true}

// display shortens an ARN given as a name to its resource name.
func display(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return arnName(s)
	}
	return s
}
