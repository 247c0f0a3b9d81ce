package generate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

var testEnd = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func gen(t *testing.T, opt Options) (string, *Truth) {
	t.Helper()
	dir := t.TempDir()
	if opt.End.IsZero() {
		opt.End = testEnd
	}
	truth, err := Generate(context.Background(), dir, opt)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return dir, truth
}

// digests returns relative path → SHA-256 of every file under dir.
func digests(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = sha256.Sum256(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	// Enough events that workers share actors' sessions across files (a session's creation
	// date once depended on which of its events was written first).
	a, ta := gen(t, Options{Seed: 7, Events: 20000, Workers: 1})
	b, tb := gen(t, Options{Seed: 7, Events: 20000, Workers: 4})
	c, _ := gen(t, Options{Seed: 8, Events: 3000})
	da, db, dc := digests(t, a), digests(t, b), digests(t, c)
	if !reflect.DeepEqual(da, db) {
		t.Errorf("same seed, different output (%d vs %d files)", len(da), len(db))
	}
	if !reflect.DeepEqual(ta, tb) {
		t.Errorf("same seed, different truth")
	}
	same := 0
	for k, v := range da {
		if dc[k] == v {
			same++
		}
	}
	if same > 0 {
		t.Errorf("different seeds share %d identical files", same)
	}
}

// record is the part of an event the tests look at.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			SessionIssuer struct {
				Type string `json:"type"`
				ARN  string `json:"arn"`
			} `json:"sessionIssuer"`
			Attributes struct {
				MFAAuthenticated string `json:"mfaAuthenticated"`
				CreationDate     string `json:"creationDate"`
			} `json:"attributes"`
			EC2RoleDelivery string `json:"ec2RoleDelivery"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	EventID             string          `json:"eventID"`
	Resources           []struct {
		ARN       string `json:"ARN"`
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
	} `json:"resources"`
	EventType                    string `json:"eventType"`
	RecipientAccountID           string `json:"recipientAccountId"`
	SharedEventID                string `json:"sharedEventID"`
	EventCategory                string `json:"eventCategory"`
	SessionCredentialFromConsole string `json:"sessionCredentialFromConsole"`
}

var (
	logKeyRE = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]{10}/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestRE = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]{10}/)?(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_[A-Za-z0-9-]+_([a-z0-9-]+)_(\d{8}T\d{6}Z)\.json\.gz$`)
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func readGzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}

// reread parses every log file under dir, checks the shape of every event with check, and
// recomputes the truth from the files alone.
func reread(t *testing.T, dir string, check func(key string, deliver time.Time, raw map[string]any, r *record)) (*Truth, int, int) {
	t.Helper()
	truth := newTruth()
	logs, digestFiles := 0, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		key := filepath.ToSlash(rel)
		if strings.Contains(key, "/CloudTrail-Digest/") {
			digestFiles++
			return nil
		}
		m := logKeyRE.FindStringSubmatch(key)
		if m == nil {
			t.Fatalf("log file key %s does not match the CloudTrail layout", key)
		}
		logs++
		deliver, err := time.Parse("20060102T1504Z", m[9])
		if err != nil {
			t.Fatal(err)
		}
		data := readGzip(t, p)
		if bytes.IndexByte(data, '\n') >= 0 {
			t.Errorf("%s: log file is not single-line", key)
		}
		var raw struct{ Records []map[string]any }
		var typed struct{ Records []record }
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if err := json.Unmarshal(data, &typed); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if len(raw.Records) == 0 {
			t.Errorf("%s: no records", key)
		}
		part := Partition{m[2], m[3], m[4], m[5], m[6]}
		for i := range typed.Records {
			r := &typed.Records[i]
			if check != nil {
				check(key, deliver, raw.Records[i], r)
			}
			truth.observe(observationOf(part, r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	truth.finish()
	return truth, logs, digestFiles
}

func observationOf(part Partition, r *record) *observation {
	tm, _ := time.Parse(time.RFC3339, r.EventTime)
	o := &observation{part: part, recipient: r.RecipientAccountID, region: r.AWSRegion, sec: tm.Unix(),
		typ: r.UserIdentity.Type, arn: r.UserIdentity.ARN, invokedBy: r.UserIdentity.InvokedBy,
		acct: r.UserIdentity.AccountID, userName: r.UserIdentity.UserName, accessKey: r.UserIdentity.AccessKeyID,
		source: r.EventSource, name: r.EventName, eventType: r.EventType, category: r.EventCategory,
		errorCode: r.ErrorCode, ip: r.SourceIPAddress, ua: r.UserAgent}
	if sc := r.UserIdentity.SessionContext; sc != nil {
		o.issuerARN = sc.SessionIssuer.ARN
	}
	if r.EventName == "ConsoleLogin" {
		var resp struct{ ConsoleLogin string }
		var extra struct{ MFAUsed string }
		_ = json.Unmarshal(r.ResponseElements, &resp)
		_ = json.Unmarshal(r.AdditionalEventData, &extra)
		o.loginResult, o.mfaUsed = resp.ConsoleLogin, extra.MFAUsed
	}
	return o
}

// eventParts returns the parts of the truth that come from events.
func eventParts(t *Truth) Truth {
	return Truth{Events: t.Events, Oldest: t.Oldest, Newest: t.Newest, ByPartition: t.ByPartition,
		ByEventDay: t.ByEventDay, ByEventType: t.ByEventType, ByErrorCode: t.ByErrorCode, DataEvents: t.DataEvents,
		Principals: t.Principals, Logins: t.Logins, RootTimes: t.RootTimes, Throttles: t.Throttles}
}

func TestFilesAndTruth(t *testing.T) {
	const events = 20000
	opt := Options{Seed: 42, Events: events}
	dir, truth := gen(t, opt)
	regions := map[string]bool{}
	for _, r := range DefaultRegions() {
		regions[r] = true
	}
	accounts := map[string]bool{}
	for _, a := range truth.Accounts {
		accounts[a] = true
	}
	seenIDs := map[string]bool{}
	var delays []time.Duration
	check := func(key string, deliver time.Time, raw map[string]any, r *record) {
		t.Helper()
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s %s %s: "+format, append([]any{key, r.EventName, r.EventID}, args...)...)
		}
		switch r.EventVersion {
		case "1.08", "1.09", "1.10", "1.11":
		default:
			fail("eventVersion %q", r.EventVersion)
		}
		tm, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil || !strings.HasSuffix(r.EventTime, "Z") {
			fail("eventTime %q", r.EventTime)
		}
		if !tm.Before(deliver) {
			fail("eventTime %s not before delivery %s", tm, deliver)
		}
		delays = append(delays, deliver.Sub(tm))
		if tm.After(testEnd) || tm.Before(testEnd.AddDate(0, 0, -defaultDays)) {
			fail("eventTime %s outside the window", tm)
		}
		if !regions[r.AWSRegion] || !strings.Contains(key, "/"+r.AWSRegion+"/") {
			fail("region %q in %s", r.AWSRegion, key)
		}
		if !accounts[r.RecipientAccountID] || !strings.Contains(key, "/"+r.RecipientAccountID+"/") {
			fail("recipientAccountId %q", r.RecipientAccountID)
		}
		if !uuidRE.MatchString(r.EventID) || seenIDs[r.EventID] {
			fail("eventID %q not a fresh UUID", r.EventID)
		}
		seenIDs[r.EventID] = true
		for _, k := range []string{"requestParameters", "responseElements"} {
			if v, ok := raw[k]; !ok {
				fail("no %s", k)
			} else if _, isObj := v.(map[string]any); v != nil && !isObj {
				fail("%s is %T", k, v)
			}
		}
		for _, k := range []string{"readOnly", "managementEvent"} {
			if _, ok := raw[k].(bool); !ok {
				fail("%s is %T, want bool", k, raw[k])
			}
		}
		if r.SourceIPAddress == "" || r.UserAgent == "" || r.EventSource == "" {
			fail("empty sourceIPAddress, userAgent or eventSource")
		}
		switch r.EventType {
		case "AwsApiCall", "AwsServiceEvent", "AwsConsoleSignIn", "AwsConsoleAction":
		default:
			fail("eventType %q", r.EventType)
		}
		data := r.EventCategory == "Data"
		if r.EventCategory != "Management" && !data || raw["managementEvent"] == data {
			fail("eventCategory %q with managementEvent %v", r.EventCategory, raw["managementEvent"])
		}
		ui := r.UserIdentity
		switch ui.Type {
		case "AssumedRole":
			sc := ui.SessionContext
			if sc == nil || sc.SessionIssuer.Type != "Role" || !strings.HasPrefix(sc.SessionIssuer.ARN, "arn:aws:iam::") ||
				!strings.HasPrefix(ui.ARN, "arn:aws:sts::") || !strings.HasPrefix(ui.AccessKeyID, "ASIA") {
				fail("bad AssumedRole identity %+v", ui)
			} else if sc.Attributes.MFAAuthenticated != "true" && sc.Attributes.MFAAuthenticated != "false" {
				fail("mfaAuthenticated %q", sc.Attributes.MFAAuthenticated)
			} else if strings.Contains(ui.PrincipalID, ":i-") != (sc.EC2RoleDelivery != "") {
				fail("instance session %s with ec2RoleDelivery %q", ui.PrincipalID, sc.EC2RoleDelivery)
			}
		case "IAMUser":
			if r.EventName != "ConsoleLogin" && !strings.HasPrefix(ui.AccessKeyID, "AKIA") && r.SessionCredentialFromConsole != "true" {
				fail("IAM user call without AKIA key or console session: %+v", ui)
			}
		case "AWSService":
			if ui.InvokedBy == "" || r.SourceIPAddress != ui.InvokedBy {
				fail("service principal %+v from %s", ui, r.SourceIPAddress)
			}
		case "Root", "AWSAccount":
		case "":
			if r.EventType != "AwsServiceEvent" {
				fail("no userIdentity.type")
			}
		default:
			fail("userIdentity.type %q", ui.Type)
		}
		if r.ErrorCode == "ThrottlingException" && r.ErrorMessage != "Rate exceeded" {
			fail("throttled with %q", r.ErrorMessage)
		}
		if r.EventName == "ConsoleLogin" {
			var resp struct{ ConsoleLogin string }
			var extra struct{ MFAUsed, LoginTo, MobileVersion string }
			_ = json.Unmarshal(r.ResponseElements, &resp)
			_ = json.Unmarshal(r.AdditionalEventData, &extra)
			if resp.ConsoleLogin != "Success" && resp.ConsoleLogin != "Failure" || extra.MFAUsed == "" || extra.LoginTo == "" {
				fail("console login %s %s", r.ResponseElements, r.AdditionalEventData)
			}
			if (resp.ConsoleLogin == "Failure") != (r.ErrorMessage == "Failed authentication") {
				fail("failed login with errorMessage %q", r.ErrorMessage)
			}
		}
		types := map[string]bool{}
		for _, res := range r.Resources {
			types[res.Type] = true
		}
		if data && r.EventSource == "s3.amazonaws.com" && r.EventName != "ListObjects" && (!types["AWS::S3::Object"] || !types["AWS::S3::Bucket"]) {
			fail("S3 data event resources %+v", r.Resources)
		}
		if r.EventName == "AssumeRole" && r.ErrorCode == "" && !types["AWS::IAM::Role"] {
			fail("AssumeRole resources %+v", r.Resources)
		}
		if r.EventSource == "kms.amazonaws.com" && r.EventName != "ListKeys" && !types["AWS::KMS::Key"] {
			fail("KMS resources %+v", r.Resources)
		}
	}
	got, logs, digestFiles := reread(t, dir, check)
	if truth.Events != events || got.Events != events {
		t.Errorf("events: truth %d, files %d, want %d", truth.Events, got.Events, events)
	}
	if logs != truth.LogFiles || digestFiles != truth.DigestFiles || digestFiles == 0 {
		t.Errorf("files: %d logs and %d digests on disk, truth says %d and %d", logs, digestFiles, truth.LogFiles, truth.DigestFiles)
	}
	if want, have := eventParts(got), eventParts(truth); !reflect.DeepEqual(want, have) {
		diffTruth(t, &want, &have)
	}
	if _, err := json.Marshal(truth); err != nil {
		t.Errorf("truth does not encode as JSON: %v", err)
	}
	if !truth.Newest.Equal(testEnd) {
		t.Errorf("newest event %s, want End %s", truth.Newest, testEnd)
	}
	slices.Sort(delays)
	if med := delays[len(delays)/2]; med > 15*time.Minute || med < time.Minute {
		t.Errorf("median delivery delay %s", med)
	}
}

func diffTruth(t *testing.T, want, have *Truth) {
	t.Helper()
	wv, hv := reflect.ValueOf(*want), reflect.ValueOf(*have)
	for i := 0; i < wv.NumField(); i++ {
		if !reflect.DeepEqual(wv.Field(i).Interface(), hv.Field(i).Interface()) {
			t.Errorf("truth field %s differs from the files", wv.Type().Field(i).Name)
		}
	}
	for k, p := range want.Principals {
		q := have.Principals[k]
		if q == nil {
			t.Errorf("principal %s missing from the truth", k)
			continue
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("principal %s: files %+v, truth %+v", k, *p, *q)
		}
	}
}

func TestQuestions(t *testing.T) {
	_, truth := gen(t, Options{Seed: 3, Events: 20000})
	id := truth.Identities
	since30, since7 := testEnd.AddDate(0, 0, -30), testEnd.AddDate(0, 0, -7)
	users := truth.ActiveUsers(since30)
	for _, n := range []string{"alice", "bob", "carol", "ci-deploy"} {
		if !slices.Contains(users, id.Users[n]) {
			t.Errorf("%s not active in the last 30 days: %v", n, users)
		}
	}
	if slices.Contains(users, id.Users["old-admin"]) {
		t.Errorf("old-admin active in the last 30 days")
	}
	if p := truth.Principals[id.Users["old-admin"]]; p == nil || !p.Last.Before(id.InactiveSince) {
		t.Errorf("old-admin has no old activity")
	}
	roles := truth.ActiveRoles(since7)
	for _, n := range []string{"Admin", "MonitoringRole", "app-lambda-role", "ec2-web-role"} {
		if !slices.Contains(roles, id.Roles[n]) {
			t.Errorf("role %s not active in the last 7 days", n)
		}
	}
	if n := truth.RootEvents(since7); n == 0 || n >= truth.RootEvents(since30) {
		t.Errorf("root events: %d in 7 days, %d in 30", n, truth.RootEvents(since30))
	}
	ok, all := truth.RoleActions(id.Roles["MonitoringRole"]), truth.RoleActionsAll(id.Roles["MonitoringRole"])
	if ok["ec2.amazonaws.com:DescribeInstances"] == 0 || ok["ec2.amazonaws.com:DescribeInstances"] >= all["ec2.amazonaws.com:DescribeInstances"] {
		t.Errorf("MonitoringRole DescribeInstances: %d ok of %d", ok["ec2.amazonaws.com:DescribeInstances"], all["ec2.amazonaws.com:DescribeInstances"])
	}
	th := truth.Throttling()
	if len(th) == 0 || th[0].Principal != id.Roles["MonitoringRole"] && !strings.Contains(th[0].Principal, "MonitoringRole") {
		t.Errorf("top throttling group %+v", th)
	}
	logins := truth.ConsoleLogins(since30)
	var fail, mfa, noMFA, root int
	for _, l := range logins {
		switch {
		case !l.Success:
			fail++
		case l.MFA:
			mfa++
		default:
			noMFA++
		}
		if l.Type == "Root" {
			root++
		}
	}
	if fail == 0 || mfa == 0 || noMFA == 0 || root == 0 {
		t.Errorf("console logins: %d failed, %d with MFA, %d without, %d root", fail, mfa, noMFA, root)
	}
	esc := truth.Escalation
	if esc.User != id.Users["carol"] || len(esc.Events) < 8 || esc.Start.Before(since7) {
		t.Errorf("escalation %+v", esc)
	}
	if truth.DataEvents == 0 || truth.ByEventType["AwsServiceEvent"] == 0 || truth.ByEventType["AwsConsoleAction"] == 0 {
		t.Errorf("event mix: %d data events, types %v", truth.DataEvents, truth.ByEventType)
	}
	cross := 0
	for _, p := range truth.Principals {
		for acct := range p.Recipients {
			if p.Type == "IAMUser" && !strings.Contains(p.Key, ":"+acct+":") {
				cross++
			}
		}
	}
	if cross == 0 {
		t.Errorf("no cross-account calls")
	}
}

func TestLayout(t *testing.T) {
	for _, noOrg := range []bool{false, true} {
		dir, truth := gen(t, Options{Seed: 5, Events: 800, NoOrg: noOrg, Accounts: 2, Regions: []string{"eu-central-1", "us-east-1"}})
		if (truth.OrgID == "") != noOrg {
			t.Errorf("noOrg %v: OrgID %q", noOrg, truth.OrgID)
		}
		for key := range digests(t, dir) {
			k := cloudtrail.ParseKey(key)
			if k.OrgID != truth.OrgID || !slices.Contains(truth.Accounts, k.Account) || !slices.Contains(truth.Regions, k.Region) {
				t.Errorf("%s parses as %+v", key, k)
			}
			re, kind := logKeyRE, cloudtrail.KeyLog
			if strings.Contains(key, "CloudTrail-Digest") {
				re, kind = digestRE, cloudtrail.KeyDigest
			}
			m := re.FindStringSubmatch(key)
			if m == nil || k.Kind != kind {
				t.Errorf("%s does not match the layout (kind %v)", key, k.Kind)
				continue
			}
			if (m[1] == "") != noOrg || m[2] != m[7] || m[3] != m[8] || m[4]+m[5]+m[6] != m[len(m)-1][:8] {
				t.Errorf("%s: account, region or date of the name disagree with the path", key)
			}
			if kind == cloudtrail.KeyDigest {
				checkDigest(t, dir, key, truth)
			}
		}
	}
}

func checkDigest(t *testing.T, dir, key string, truth *Truth) {
	t.Helper()
	var d struct {
		AWSAccountID    string  `json:"awsAccountId"`
		DigestStartTime string  `json:"digestStartTime"`
		DigestEndTime   string  `json:"digestEndTime"`
		DigestS3Bucket  string  `json:"digestS3Bucket"`
		DigestS3Object  string  `json:"digestS3Object"`
		NewestEventTime *string `json:"newestEventTime"`
		LogFiles        []struct {
			S3Object  string `json:"s3Object"`
			HashValue string `json:"hashValue"`
		} `json:"logFiles"`
	}
	if err := json.Unmarshal(readGzip(t, filepath.Join(dir, key)), &d); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if d.DigestS3Object != key || !strings.Contains(key, "/"+d.AWSAccountID+"/") || d.DigestS3Bucket == "" {
		t.Errorf("%s: digest names %s in account %s", key, d.DigestS3Object, d.AWSAccountID)
	}
	for _, lf := range d.LogFiles {
		sum := sha256.Sum256(readGzip(t, filepath.Join(dir, lf.S3Object)))
		if hexSum := strings.ToLower(strings.TrimSpace(string(appendHexBytes(sum[:])))); hexSum != lf.HashValue {
			t.Errorf("%s: hash of %s is %s, digest says %s", key, lf.S3Object, hexSum, lf.HashValue)
		}
	}
}

func appendHexBytes(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&15])
	}
	return out
}

func TestOptions(t *testing.T) {
	for _, opt := range []Options{{Events: 0, End: testEnd}, {Events: 10}, {Events: 10, End: testEnd, Days: -1},
		{Events: 10, End: testEnd, Accounts: 1000}, {Events: 10, End: testEnd, OrgID: "bad"}} {
		if _, err := Generate(context.Background(), t.TempDir(), opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
	// Tiny trails still hold exactly the events asked for.
	for _, n := range []int{1, 7, 50, 130} {
		dir, truth := gen(t, Options{Seed: 1, Events: n})
		got, _, _ := reread(t, dir, nil)
		if truth.Events != n || got.Events != n {
			t.Errorf("events %d: truth %d, files %d", n, truth.Events, got.Events)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, t.TempDir(), Options{Events: 5000, End: testEnd})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestApportion(t *testing.T) {
	for _, c := range []struct {
		total int
		w     []float64
		one   bool
	}{{10, []float64{1, 1, 1}, true}, {7, []float64{0.3, 2, 5}, false}, {3, []float64{1, 1, 1}, true}} {
		got := apportion(c.total, c.w, c.one)
		sum := 0
		for _, v := range got {
			sum += v
			if c.one && v < 1 {
				t.Errorf("%v: share below 1: %v", c, got)
			}
		}
		if sum != c.total {
			t.Errorf("%v: sum %d", c, sum)
		}
	}
}
