package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/trailsql/trailsql/internal/questions"
)

// readInventory reads the users and roles of an 'aws iam get-account-authorization-details' file.
// TODO: replace with internal/authz once it lands.
func readInventory(r io.Reader, name string) ([]questions.Identity, error) {
	var doc struct {
		UserDetailList []struct{ UserName, Arn, CreateDate string }
		RoleDetailList []struct{ RoleName, Arn, CreateDate string }
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("--authz %s: not an authorization-details JSON file: %w", name, err)
	}
	var out []questions.Identity
	for _, u := range doc.UserDetailList {
		out = append(out, questions.Identity{Kind: "user", Name: u.UserName, ARN: u.Arn, Created: u.CreateDate})
	}
	for _, r := range doc.RoleDetailList {
		out = append(out, questions.Identity{Kind: "role", Name: r.RoleName, ARN: r.Arn, Created: r.CreateDate})
	}
	return out, nil
}
