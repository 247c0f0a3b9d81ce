package iam

import (
	"encoding/json"
	"strings"
)

// PassRole is the action a caller needs to hand a role to a service (a Lambda function's
// execution role, an EC2 instance's profile). CloudTrail never records it: it is checked as part
// of the call that passes the role, which is recorded under its own name.
var PassRole = Action{"iam", "PassRole"}

// rolePass says where the request of a call names the role it passes, and to which service.
// The IAM reference lists no dependent actions for these calls, so the table is kept here, from
// the services' API references.
type rolePass struct {
	service  string   // the iam:PassedToService value
	roles    []string // requestParameters paths holding a role ARN (or, for Glue, a name)
	profiles []string // paths holding an EC2 instance profile (an ARN or a name)
}

var rolePasses = map[Action]rolePass{
	{"lambda", "CreateFunction"}:                    {service: "lambda.amazonaws.com", roles: []string{"role"}},
	{"lambda", "UpdateFunctionConfiguration"}:       {service: "lambda.amazonaws.com", roles: []string{"role"}},
	{"ec2", "RunInstances"}:                         {service: "ec2.amazonaws.com", profiles: []string{"iamInstanceProfile.arn", "iamInstanceProfile.name"}},
	{"ec2", "AssociateIamInstanceProfile"}:          {service: "ec2.amazonaws.com", profiles: []string{"iamInstanceProfile.arn", "iamInstanceProfile.name", "IamInstanceProfile.Arn", "IamInstanceProfile.Name"}},
	{"ec2", "ReplaceIamInstanceProfileAssociation"}: {service: "ec2.amazonaws.com", profiles: []string{"iamInstanceProfile.arn", "iamInstanceProfile.name", "IamInstanceProfile.Arn", "IamInstanceProfile.Name"}},
	{"cloudformation", "CreateStack"}:               {service: "cloudformation.amazonaws.com", roles: []string{"roleARN"}},
	{"cloudformation", "UpdateStack"}:               {service: "cloudformation.amazonaws.com", roles: []string{"roleARN"}},
	{"cloudformation", "CreateStackSet"}:            {service: "cloudformation.amazonaws.com", roles: []string{"administrationRoleARN"}},
	{"cloudformation", "UpdateStackSet"}:            {service: "cloudformation.amazonaws.com", roles: []string{"administrationRoleARN"}},
	{"ecs", "RegisterTaskDefinition"}:               {service: "ecs-tasks.amazonaws.com", roles: []string{"taskRoleArn", "executionRoleArn"}},
	{"glue", "CreateJob"}:                           {service: "glue.amazonaws.com", roles: []string{"role"}},
	{"glue", "CreateDevEndpoint"}:                   {service: "glue.amazonaws.com", roles: []string{"roleArn"}},
	{"glue", "CreateCrawler"}:                       {service: "glue.amazonaws.com", roles: []string{"role"}},
	{"sagemaker", "CreateNotebookInstance"}:         {service: "sagemaker.amazonaws.com", roles: []string{"roleArn"}},
	{"sagemaker", "CreateTrainingJob"}:              {service: "sagemaker.amazonaws.com", roles: []string{"roleArn"}},
	{"sagemaker", "CreateProcessingJob"}:            {service: "sagemaker.amazonaws.com", roles: []string{"roleArn"}},
	{"codebuild", "CreateProject"}:                  {service: "codebuild.amazonaws.com", roles: []string{"serviceRole"}},
	{"codebuild", "UpdateProject"}:                  {service: "codebuild.amazonaws.com", roles: []string{"serviceRole"}},
	{"states", "CreateStateMachine"}:                {service: "states.amazonaws.com", roles: []string{"roleArn"}},
	{"states", "UpdateStateMachine"}:                {service: "states.amazonaws.com", roles: []string{"roleArn"}},
	{"datapipeline", "PutPipelineDefinition"}:       {service: "datapipeline.amazonaws.com", roles: []string{"role"}},
}

// PassesRole reports whether the action can pass a role to a service, and which service.
func PassesRole(a Action) (service string, ok bool) {
	rp, ok := rolePasses[a]
	return rp.service, ok
}

// PassedRole is a role one call passed, as its request named it.
type PassedRole struct {
	// Service is the service the role was passed to (iam:PassedToService).
	Service string
	// Role is the role's ARN; "" when the request named an instance profile instead.
	Role string
	// Profile is the EC2 instance profile the request named (an ARN or a name), whose role
	// CloudTrail does not record.
	Profile string
	// Param is the requestParameters field that named it.
	Param string
}

// PassedRoles returns the roles the request of a call of action a passes, read from its
// requestParameters (JSON text); account completes role names into ARNs (Glue takes either).
func PassedRoles(a Action, requestParameters, account string) []PassedRole {
	rp, ok := rolePasses[a]
	if !ok {
		return nil
	}
	var doc map[string]any
	if json.Unmarshal([]byte(requestParameters), &doc) != nil {
		return nil
	}
	var out []PassedRole
	for _, p := range rp.roles {
		v := lookupPath(doc, p)
		if v == "" {
			continue
		}
		if !strings.HasPrefix(v, "arn:") {
			if account == "" {
				continue
			}
			v = "arn:aws:iam::" + account + ":role/" + strings.TrimPrefix(v, "/")
		}
		out = append(out, PassedRole{Service: rp.service, Role: v, Param: "requestParameters." + p})
	}
	for _, p := range rp.profiles {
		if v := lookupPath(doc, p); v != "" {
			out = append(out, PassedRole{Service: rp.service, Profile: v, Param: "requestParameters." + p})
			break // the ARN, else the name: one profile
		}
	}
	return out
}

// lookupPath returns the string at a dotted path of a JSON object, or "".
func lookupPath(doc map[string]any, path string) string {
	var v any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}
