// Package answertest gives the tests of the answer packages (principal, usage, policy) a lake to
// read: CloudTrail files ingested into a lake in a temporary folder, read through the local engine
// speaking Athena's SQL, as the CLI reads it; for a generated trail, the generator's truth and the
// records decoded, to compute what the answers must be without the lake.
package answertest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/trailsql/trailsql/internal/answer/local"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/iam"
	"github.com/trailsql/trailsql/internal/ingest"
)

// Lake is a generated trail and the lake it was ingested into.
type Lake struct {
	Dir     string
	Query   answer.QueryFunc
	Options generate.Options
	Truth   *generate.Truth
	// Records are the trail's records, decoded from its files.
	Records []*cloudtrail.Record
}

// From is the start of a window holding every event of the trail.
func (l *Lake) From() time.Time { return l.Truth.Oldest }

// To is the end of the window From starts.
func (l *Lake) To() time.Time { return l.Truth.Newest.Add(time.Second) }

// Generated generates a trail of about events events from seed, ingests it and opens the lake.
func Generated(t testing.TB, seed int64, events int) *Lake {
	t.Helper()
	dir := t.TempDir()
	trail := filepath.Join(dir, "trail")
	l := &Lake{Dir: filepath.Join(dir, "lake"), Options: generate.Options{Seed: seed, Events: events, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}
	var err error
	if l.Truth, err = generate.Generate(context.Background(), trail, l.Options); err != nil {
		t.Fatal(err)
	}
	l.Query = ingestInto(t, l.Dir, trail)
	l.Records = Decode(t, trail)
	if len(l.Records) != l.Truth.Events {
		t.Fatalf("decoded %d events, the generator wrote %d", len(l.Records), l.Truth.Events)
	}
	return l
}

// Ingested ingests CloudTrail files or folders into a new lake and returns its query function.
func Ingested(t testing.TB, paths ...string) answer.QueryFunc {
	t.Helper()
	return ingestInto(t, filepath.Join(t.TempDir(), "lake"), paths...)
}

func ingestInto(t testing.TB, lake string, paths ...string) answer.QueryFunc {
	t.Helper()
	st, err := ingest.Run(context.Background(), ingest.Options{Lake: lake}, paths)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() {
		t.Fatalf("ingest: %v", st.Problems)
	}
	e, err := local.Open(context.Background(), engine.Options{Lake: lake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return local.Engine(e)
}

// Decode reads every record of the CloudTrail files under the folders or files given (JSON log
// files, gzip-compressed or not, and event-history CSV), digest files aside, each record once as
// the lake keeps them. A file that does not decode whole gives the records before the defect (the
// lake's ingest reports such files; callers compare counts where it matters).
func Decode(t testing.TB, paths ...string) []*cloudtrail.Record {
	t.Helper()
	var out []*cloudtrail.Record
	seen := map[uint64]bool{}
	for _, dir := range paths {
		err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || strings.Contains(p, "CloudTrail-Digest") {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			cloudtrail.ReadEvents(f, strings.HasSuffix(p, ".csv"), func(ev cloudtrail.Event) error {
				if h := cloudtrail.Hash(ev.Record); !seen[h] {
					seen[h] = true
					out = append(out, ev.Record)
				}
				return nil
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Identity is the identity a record's calls count for, as usage groups them: a user's ARN, a
// role's ARN for its sessions; "" for other identities.
func Identity(r *cloudtrail.Record) string {
	u := r.UserIdentity
	if u == nil {
		return ""
	}
	switch Str(u.Type) {
	case "IAMUser":
		return Str(u.ARN)
	case "AssumedRole":
		if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
			return Str(u.SessionContext.SessionIssuer.ARN)
		}
	}
	return ""
}

// deniedCodes are the error codes of refused calls besides *AccessDenied* and
// *UnauthorizedOperation* (questions.DeniedPredicate, written again in Go).
var deniedCodes = map[string]bool{"AuthorizationError": true, "AuthorizationErrorException": true, "Forbidden": true, "ForbiddenException": true, "NotAuthorized": true, "UnauthorizedAccess": true, "UnauthorizedException": true}

// Denied reports whether a call was refused for lack of permission.
func Denied(r *cloudtrail.Record) bool {
	c := Str(r.ErrorCode)
	return r.ErrorCode != nil && (strings.Contains(c, "AccessDenied") || strings.Contains(c, "UnauthorizedOperation") || deniedCodes[c])
}

// UsedActions maps, for every user (by ARN) and role (by role ARN), the IAM actions its calls
// that were not refused needed, iam:PassRole for the calls that passed a role included, computed
// from the records without the lake.
func UsedActions(recs []*cloudtrail.Record) map[string]map[string]bool {
	used := map[string]map[string]bool{}
	for _, r := range recs {
		key := Identity(r)
		if key == "" || Denied(r) {
			continue
		}
		if used[key] == nil {
			used[key] = map[string]bool{}
		}
		for _, a := range iam.Map(Str(r.EventSource), Str(r.EventName), Str(r.EventType)).Actions {
			used[key][a.String()] = true
			if r.RequestParameters != nil && len(iam.PassedRoles(a, *r.RequestParameters, Str(r.RecipientAccountID))) > 0 {
				used[key][iam.PassRole.String()] = true
			}
		}
	}
	return used
}

// Str is a string field's value, "" for a missing one.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// User is a record's userIdentity, empty when the record has none.
func User(r *cloudtrail.Record) *cloudtrail.UserIdentity {
	if r.UserIdentity == nil {
		return &cloudtrail.UserIdentity{}
	}
	return r.UserIdentity
}

// Issuer is the session issuer of a record's identity, empty when it has none.
func Issuer(r *cloudtrail.Record) *cloudtrail.SessionIssuer {
	if u := User(r); u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		return u.SessionContext.SessionIssuer
	}
	return &cloudtrail.SessionIssuer{}
}

// JSONScalar is the top-level scalar key of a JSON payload (requestParameters …) as text, as
// json_extract_scalar gives it; ok is false when the payload or the key is missing or not a scalar.
func JSONScalar(doc *string, key string) (string, bool) {
	if doc == nil {
		return "", false
	}
	var m map[string]any
	if json.Unmarshal([]byte(*doc), &m) != nil {
		return "", false
	}
	switch v := m[key].(type) {
	case string:
		return v, true
	case float64, bool:
		return fmt.Sprint(v), true
	}
	return "", false
}
