package principal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
)

// events: a user alice; a role deploy with sessions ci and alice; a role ops in two accounts; a
// user and a role both named both.
const events = `{"eventTime":"2024-03-01T10:00:00Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"1","userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::111122223333:user/alice","accessKeyId":"AKIAAAAAAAAAAAAAAAAA"}}
{"eventTime":"2024-03-01T10:00:01Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"2","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci","sessionContext":{"sessionIssuer":{"type":"Role","userName":"deploy","arn":"arn:aws:iam::111122223333:role/deploy"}}}}
{"eventTime":"2024-03-01T10:00:02Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"3","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/alice","sessionContext":{"sessionIssuer":{"type":"Role","userName":"deploy","arn":"arn:aws:iam::111122223333:role/deploy"}}}}
{"eventTime":"2024-03-01T10:00:03Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"4","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ops/x","sessionContext":{"sessionIssuer":{"type":"Role","userName":"ops","arn":"arn:aws:iam::111122223333:role/ops"}}}}
{"eventTime":"2024-03-01T10:00:04Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"444455556666","eventID":"5","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/ops/y","sessionContext":{"sessionIssuer":{"type":"Role","userName":"ops","arn":"arn:aws:iam::444455556666:role/ops"}}}}
{"eventTime":"2024-03-01T10:00:05Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"6","userIdentity":{"type":"IAMUser","userName":"both","arn":"arn:aws:iam::111122223333:user/both"}}
{"eventTime":"2024-03-01T10:00:06Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"7","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/both/s","sessionContext":{"sessionIssuer":{"type":"Role","userName":"both","arn":"arn:aws:iam::111122223333:role/both"}}}}`

func lakeQuery(t *testing.T) answer.QueryFunc {
	t.Helper()
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	w, err := lake.OpenWriter(ctx, root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudtrail.ReadEvents(strings.NewReader(events), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	e, err := engine.Open(ctx, engine.Options{Lake: root, Dialect: athena.Dialect()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return local.Engine(e)
}

func TestResolve(t *testing.T) {
	q := lakeQuery(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, account string
		value, kind   string
		how           string // a part of How
	}{
		{"alice", "", "arn:aws:iam::111122223333:user/alice", "user", `"alice" is also the session name of arn:aws:sts::111122223333:assumed-role/deploy/alice`},
		{"deploy", "", "arn:aws:iam::111122223333:role/deploy", "role", "all its sessions"},
		{"ci", "", "arn:aws:sts::111122223333:assumed-role/deploy/ci", "session", "role session name"},
		{"ops", "444455556666", "arn:aws:iam::444455556666:role/ops", "role", ""},
		{"AKIAAAAAAAAAAAAAAAAA", "", "AKIAAAAAAAAAAAAAAAAA", "access key", "used by arn:aws:iam::111122223333:user/alice"},
		{"arn:aws:sts::111122223333:assumed-role/deploy/ci", "", "arn:aws:sts::111122223333:assumed-role/deploy/ci", "session", "only"},
		{"arn:aws:iam::111122223333:root", "", "arn:aws:iam::111122223333:root", "root", ""},
	} {
		p, err := Resolve(ctx, q, c.name, c.account)
		if err != nil || p.Value != c.value || p.Kind != c.kind || !strings.Contains(p.How, c.how) {
			t.Errorf("%s: %+v %v, want %s (%s) how ~%q", c.name, p, err, c.value, c.kind, c.how)
		}
	}
	for _, c := range []struct {
		name                string
		notFound, ambiguous bool
		text                string
	}{
		{"Alice", true, false, `principal "Alice": no IAM user, role or role session of that name in the lake (names are case-sensitive`},
		{"ops", false, true, "names roles in 2 accounts"},
		{"both", false, true, "names both IAM user arn:aws:iam::111122223333:user/both and role arn:aws:iam::111122223333:role/both"},
		{"a b", false, false, "not a user, role or session name"},
		{"arn:aws:s3:::bucket", false, false, "not an IAM or STS ARN"},
	} {
		_, err := Resolve(ctx, q, c.name, "")
		var pe *Error
		if !errors.As(err, &pe) || pe.NotFound != c.notFound || pe.Ambiguous != c.ambiguous || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "--") {
			t.Errorf("%s: %v, want an *Error (not found %v, ambiguous %v) saying %q and naming no flag", c.name, err, c.notFound, c.ambiguous, c.text)
		}
	}
}
