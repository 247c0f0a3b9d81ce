package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/lookup/lookuptest"
	"github.com/trailsql/trailsql/internal/versitygw"
	"github.com/trailsql/trailsql/internal/versitygw/vgwtest"
)

// noAWSCredentials leaves the SDK's standard chain nothing to find: no keys in the environment,
// shared files that do not exist, no web identity, no container endpoint, the instance role
// switched off (no network call to 169.254.169.254 from a test).
func noAWSCredentials(t *testing.T) {
	home := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Without credentials, ingest from S3 and from LookupEvents says so in one line, naming where
// credentials are looked for, before any request: no SDK log lines, no summary, no "run again".
func TestIngestNoCredentials(t *testing.T) {
	noAWSCredentials(t)
	srv := vgwtest.StartWith(t, versitygw.Options{})
	fake := lookuptest.New()
	defer fake.Close()
	for _, args := range [][]string{
		{"ingest", "--lake", t.TempDir(), "--endpoint-url", srv.URL, "s3://trail"},
		{"ingest", "--lake", t.TempDir(), "--endpoint-url", fake.URL, "--lookup-events", "--regions", "us-east-1"},
	} {
		code, out, errOut := run(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 1 || out != "" || len(lines) != 1 {
			t.Errorf("%v: exit %d, want 1 and one line on stderr; stdout:\n%s\nstderr:\n%s", args, code, out, errOut)
			continue
		}
		for _, want := range []string{"trailsql: no AWS credentials found: looked in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
			filepath.Join(os.Getenv("HOME"), "credentials"), `profile "default"`, "SSO", "(ECS)", "(EC2 IMDS)", "aws configure", "--profile"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: %q lacks %q", args, errOut, want)
			}
		}
		for _, not := range []string{"WARN", "run again", "operation error"} {
			if strings.Contains(errOut, not) {
				t.Errorf("%v: %q says %q", args, errOut, not)
			}
		}
	}
}
