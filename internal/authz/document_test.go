package authz

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
)

// One type reads every shape IAM accepts and writes IAM's canonical form: Action a list,
// Resource "*" alone as a string, keys in IAM's order, Condition as written.
func TestDocumentJSON(t *testing.T) {
	const canonical = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "S3",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::b/*"
      ]
    },
    {
      "Effect": "Deny",
      "NotAction": [
        "iam:*"
      ],
      "Resource": "*",
      "Condition": {
        "Bool": {
          "aws:MultiFactorAuthPresent": "false"
        }
      }
    }
  ]
}`
	shapes := []string{
		canonical,
		// A single string for a list, other element names' case, the Statement an object list.
		`{"version":"2012-10-17","statement":[{"Sid":"S3","Effect":"allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
		  {"Effect":"Deny","NotAction":"iam:*","Resource":["*"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`,
		// URL-encoded, as the IAM API returns documents.
		url.PathEscape(canonical),
	}
	for _, s := range shapes {
		doc, err := ParseDocument([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil || string(out) != canonical {
			t.Errorf("%.40s…: wrote\n%s\n%v", s, out, err)
		}
		var back Document
		if err := json.Unmarshal(out, &back); err != nil || len(back.Statements) != 2 || !slices.Equal(back.Statements[1].NotActions, []string{"iam:*"}) {
			t.Errorf("json.Unmarshal: %+v, %v", back, err)
		}
	}
	if _, err := ParseDocument([]byte(`{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*"}]}`)); err == nil {
		t.Error("Action and NotAction together accepted")
	}
	empty, _ := json.Marshal(&Document{Version: "2012-10-17"})
	if string(empty) != `{"Version":"2012-10-17","Statement":[]}` {
		t.Errorf("no statement: %s", empty)
	}
}
