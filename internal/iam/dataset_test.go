package iam

import (
	"github.com/trailsql/trailsql/internal/testshared"

	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

func sharedDatasets(t testing.TB) string { return testshared.Dir(t, "datasets") }

// triple is one distinct kind of event.
type triple struct{ source, name, typ string }

// datasetEvents returns the distinct (eventSource, eventName, eventType) of every CloudTrail event
// under the shared datasets, with the files each was seen in.
func datasetEvents(t *testing.T) map[triple][]string {
	dir := sharedDatasets(t)
	seen := map[triple][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, ".jsonl") && !strings.HasSuffix(p, ".json.gz") {
			return nil
		}
		// The IAM reference data are not events; its trailscraper fixtures are.
		if strings.HasPrefix(rel, "iam"+string(filepath.Separator)) && !strings.Contains(rel, "fixtures") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("read %s: %w", rel, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("read %s: %w", rel, err)
			}
		}
		// Damaged inputs (the processing library's bad-JSON fixture) still yield what came before.
		_, err = cloudtrail.ReadEvents(bytes.NewReader(data), false, func(e cloudtrail.Event) error {
			k := triple{str(e.Record.EventSource), str(e.Record.EventName), str(e.Record.EventType)}
			if fs := seen[k]; len(fs) == 0 || fs[len(fs)-1] != rel {
				seen[k] = append(fs, rel)
			}
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no events found under the shared datasets")
	}
	return seen
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Every action Map emits for every kind of event in the shared datasets is documented.
func TestDatasetActionsDocumented(t *testing.T) {
	for k := range datasetEvents(t) {
		m := Map(k.source, k.name, k.typ)
		for _, a := range m.Actions {
			if _, ok := Exists(a.String()); !ok {
				t.Errorf("%s %s %s: emitted undocumented %s", k.source, k.name, k.typ, a)
			}
		}
		if m.Known != (len(m.Actions) > 0 || m.NoPermission) {
			t.Errorf("%s %s %s: Known=%v with %d actions, NoPermission=%v", k.source, k.name, k.typ, m.Known, len(m.Actions), m.NoPermission)
		}
	}
}

// unmappedExplained says why each (eventSource, eventName) pair of the shared datasets that Map
// cannot map is not a gap in the mapping. TestCoverage fails on a pair missing here, and on one
// listed here that has become mappable.
var unmappedExplained = map[[2]string]string{
	{"", ""}:              "placeholder fixture: every field null (processing library SerializerAllFieldsNull)",
	{"", "CreateAccount"}: "hand-trimmed panther event without eventSource",
	{"", "DeleteBucket"}:  "hand-trimmed panther event without eventSource",
	{"", "DeleteObject"}:  "hand-trimmed panther event without eventSource",

	{"eventSource1", "eventName1"}: "placeholder fixture (processing library)",
	{"eventSource2", "eventName2"}: "placeholder fixture (processing library)",
	{"eventSource3", "eventName3"}: "placeholder fixture (processing library)",
	{"eventSource4", "eventName4"}: "placeholder fixture (processing library)",
	{"eventSource5", "eventName5"}: "placeholder fixture (processing library)",
	{"eventSource6", "eventName6"}: "placeholder fixture (processing library)",

	{"billingconsole.amazonaws.com", "GetAlternateContact"}:   "console action of the Billing console (AwsConsoleAction); billingconsole is no IAM prefix and the event does not name the IAM action behind it",
	{"billingconsole.amazonaws.com", "GetContactInformation"}: "console action of the Billing console (AwsConsoleAction); billingconsole is no IAM prefix and the event does not name the IAM action behind it",

	{"cloudtrail.amazonaws.com", "DescribeTrail"}: "hand-edited panther event: the API is DescribeTrails",
	{"cloudtrail.amazonaws.com", "DeleteRule"}:    "hand-edited panther event: an EventBridge name under cloudtrail",
	{"cloudtrail.amazonaws.com", "EnableRegion"}:  "hand-edited panther event: an Account API name (account:EnableRegion) under cloudtrail",

	{"ec2.amazonaws.com", "DeleteBucketEncryption"}:        "hand-edited panther event: an S3 name under ec2",
	{"ec2.amazonaws.com", "DeleteBucketPublicAccessBlock"}: "hand-edited panther event: an S3 name under ec2",
	{"ec2.amazonaws.com", "DeleteBucketReplication"}:       "hand-edited panther event: an S3 name under ec2",
	{"ec2.amazonaws.com", "PutBucketLogging"}:              "hand-edited panther event: an S3 name under ec2",
	{"ec2.amazonaws.com", "PutBucketVersioning"}:           "hand-edited panther event: an S3 name under ec2",
	{"ec2.amazonaws.com", "RegisterManagedInstance"}:       "hand-edited panther event: no EC2 API of that name (empty request, no user agent)",

	{"iam.amazonaws.com", "DescribePolicy"}:  "hand-edited panther event: no IAM API of that name",
	{"iam.amazonaws.com", "DetachUserGroup"}: "hand-edited panther event: no IAM API of that name (RemoveUserFromGroup)",
	{"iam.amazonaws.com", "NotCreateUser"}:   "hand-edited panther negative test",
	{"iam.amazonaws.com", "PutPolicy"}:       "hand-edited panther event: no IAM API of that name",

	{"s3.amazonaws.com", "CreateServiceLinkedRole"}: "hand-edited panther event: an IAM name under s3",
	{"s3.amazonaws.com", "SetQueueAttributes"}:      "hand-edited panther event: an SQS name under s3",

	{"macie.amazonaws.com", "UpdateMacieSession"}:  "Macie Classic eventSource (retired; prefix macie gone from the reference) with a Macie2 operation name: hand-edited panther event",
	{"ec2messages.amazonaws.com", "SendHeartbeat"}: "SSM agent channel call with no documented ec2messages action (the agent's instance role is not asked for it)",
}

// TestCoverage measures, over the distinct (eventSource, eventName) pairs of the shared datasets,
// the share Map resolves (documented actions, or no permission needed) and lists the rest with
// the reason each is not mapped. Run with -v to see the table.
func TestCoverage(t *testing.T) {
	type pair struct{ source, name string }
	pairs := map[pair][]triple{}
	files := map[pair]string{}
	for k, fs := range datasetEvents(t) {
		p := pair{k.source, k.name}
		pairs[p] = append(pairs[p], k)
		files[p] = fs[0]
	}
	keys := make([]pair, 0, len(pairs))
	for p := range pairs {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].source != keys[j].source {
			return keys[i].source < keys[j].source
		}
		return keys[i].name < keys[j].name
	})
	var actions, noPerm int
	var unmapped []string
	for _, p := range keys {
		// A pair is mapped to actions when any of its event types is (an AwsApiCall and an
		// AwsServiceEvent can share a name); else it needs no permission when all types say so.
		var got, none bool
		var why string
		none = true
		for _, k := range pairs[p] {
			m := Map(k.source, k.name, k.typ)
			got = got || len(m.Actions) > 0
			none = none && m.NoPermission
			if !m.Known {
				why = m.Reason
			}
		}
		switch {
		case got:
			actions++
		case none:
			noPerm++
			t.Logf("no permission: %-32s %-40s %s", p.source, p.name, Map(p.source, p.name, pairs[p][0].typ).Reason)
		default:
			expl, ok := unmappedExplained[[2]string{p.source, p.name}]
			if !ok {
				t.Errorf("unmapped and unexplained: %s %s (%s): %s", p.source, p.name, files[p], why)
			}
			unmapped = append(unmapped, fmt.Sprintf("%-30s %-30s %-16s %s [%s] (%s)", p.source, p.name, pairs[p][0].typ, expl, why, files[p]))
		}
		if _, ok := unmappedExplained[[2]string{p.source, p.name}]; ok && (got || none) {
			t.Errorf("%s %s is mapped now; drop it from unmappedExplained", p.source, p.name)
		}
	}
	for _, u := range unmapped {
		t.Logf("unmapped: %s", u)
	}
	var fixtures int
	for _, u := range unmapped {
		if strings.Contains(u, "placeholder fixture") || strings.Contains(u, "hand-edited") || strings.Contains(u, "hand-trimmed") {
			fixtures++
		}
	}
	n := len(keys)
	t.Logf("%d distinct (eventSource, eventName) pairs: %d (%.1f%%) mapped to documented actions, %d (%.1f%%) need no permission, %d (%.1f%%) unmapped",
		n, actions, pct(actions, n), noPerm, pct(noPerm, n), len(unmapped), pct(len(unmapped), n))
	t.Logf("excluding %d placeholder or hand-edited test events: %d of %d pairs (%.1f%%) resolved",
		fixtures, actions+noPerm, n-fixtures, pct(actions+noPerm, n-fixtures))
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(b) }
