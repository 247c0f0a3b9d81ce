package iam

import (
	"reflect"
	"testing"
)

// The calls that pass a role are documented actions, and their requests give the role or the
// instance profile.
func TestPassedRoles(t *testing.T) {
	for a, rp := range rolePasses {
		if _, ok := Exists(a.String()); !ok {
			t.Errorf("%s passes a role but is not in the IAM reference", a)
		}
		if rp.service == "" || len(rp.roles)+len(rp.profiles) == 0 {
			t.Errorf("%s: no service or no parameter", a)
		}
	}
	cases := []struct {
		action, params string
		want           []PassedRole
	}{
		{"lambda:CreateFunction", `{"functionName":"f","role":"arn:aws:iam::111122223333:role/service-role/app"}`,
			[]PassedRole{{Service: "lambda.amazonaws.com", Role: "arn:aws:iam::111122223333:role/service-role/app", Param: "requestParameters.role"}}},
		{"ec2:RunInstances", `{"instanceType":"t3.micro","iamInstanceProfile":{"name":"web"}}`,
			[]PassedRole{{Service: "ec2.amazonaws.com", Profile: "web", Param: "requestParameters.iamInstanceProfile.name"}}},
		{"ec2:RunInstances", `{"iamInstanceProfile":{"arn":"arn:aws:iam::111122223333:instance-profile/web","name":"web"}}`,
			[]PassedRole{{Service: "ec2.amazonaws.com", Profile: "arn:aws:iam::111122223333:instance-profile/web", Param: "requestParameters.iamInstanceProfile.arn"}}},
		{"ec2:RunInstances", `{"instanceType":"t3.micro"}`, nil},
		{"glue:CreateJob", `{"role":"etl"}`,
			[]PassedRole{{Service: "glue.amazonaws.com", Role: "arn:aws:iam::111122223333:role/etl", Param: "requestParameters.role"}}},
		{"ecs:RegisterTaskDefinition", `{"taskRoleArn":"arn:aws:iam::111122223333:role/t","executionRoleArn":"arn:aws:iam::111122223333:role/x"}`,
			[]PassedRole{{Service: "ecs-tasks.amazonaws.com", Role: "arn:aws:iam::111122223333:role/t", Param: "requestParameters.taskRoleArn"}, {Service: "ecs-tasks.amazonaws.com", Role: "arn:aws:iam::111122223333:role/x", Param: "requestParameters.executionRoleArn"}}},
		{"lambda:Invoke", `{"role":"arn:aws:iam::111122223333:role/app"}`, nil},
		{"lambda:CreateFunction", `not json`, nil},
	}
	for _, c := range cases {
		a, _ := Exists(c.action)
		if got := PassedRoles(a, c.params, "111122223333"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.action, c.params, got, c.want)
		}
	}
}
