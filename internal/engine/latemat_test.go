package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// "The last few things this access key did": ORDER BY … LIMIT of a few rows, filtered on a field
// deep in a struct, over a lake of many files. DuckDB 1.4's late materialization turned such a
// statement into two scans joined by row number, and mapped the filter to the wrong child of the
// struct in the one that filters: a segfault in about one run in ten, in DuckDB's worker threads,
// so the whole process (a 'serve' too) went down with it. Each round opens a new engine, as each
// CLI run does. Without the fix, the rounds crash the test binary (most runs).
func TestTopFewByStructField(t *testing.T) {
	var lines []string
	for day := 1; day <= 20; day++ {
		for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
			for h := 0; h < 24; h += 3 {
				key, user := fmt.Sprintf("ASIA%02d", h), "Dev"
				if h%9 == 0 {
					user = "Admin"
				}
				lines = append(lines, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-03-%02dT%02d:00:00Z","eventName":"E%d-%s","awsRegion":"%s","recipientAccountId":"111122223333","eventID":"%d-%s-%d",`+
					`"userIdentity":{"type":"AssumedRole","principalId":"AROA:x","arn":"arn:aws:sts::111122223333:assumed-role/%s/x","accountId":"111122223333","accessKeyId":"%s",`+
					`"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::111122223333:role/%s","accountId":"111122223333","userName":"%s"},"attributes":{"creationDate":"2024-03-01T00:00:00Z","mfaAuthenticated":"false"}}}}`,
					day, h, h, region, region, day, region, h, user, key, user, user))
			}
		}
	}
	root := writeLake(t, strings.Join(lines, "\n"))
	cases := []struct{ sql, want string }{
		{"SELECT eventname, region FROM cloudtrail_logs WHERE useridentity.accesskeyid = 'ASIA06' ORDER BY eventtime DESC, region LIMIT 2",
			"[[E6-ap-southeast-2 ap-southeast-2] [E6-eu-west-1 eu-west-1]]"},
		{"SELECT eventid FROM cloudtrail_logs WHERE useridentity.sessioncontext.sessionissuer.username = 'Admin' ORDER BY eventtime DESC, eventid LIMIT 3",
			"[[20-ap-southeast-2-18] [20-eu-west-1-18] [20-us-east-1-18]]"},
	}
	for round := 0; round < 12; round++ {
		e, err := Open(context.Background(), testOptions(root, true))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			res, err := e.Query(context.Background(), c.sql)
			if err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
			if got := fmt.Sprint(res.Rows); got != c.want {
				t.Fatalf("%s: %s, want %s", c.sql, got, c.want)
			}
		}
		e.Close()
	}
}
