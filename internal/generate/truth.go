package generate

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Truth is what Generate knows it wrote. It is accumulated from the very values that are
// serialised into each event while the trail is generated (never by reading the files back), so a
// query over the ingested trail can be checked against it exactly.
//
// Principal keys (the keys of Principals and ThrottleKey.Principal) are defined from the event's
// userIdentity as follows:
//
//   - type IAMUser or Root: userIdentity.arn (e.g. arn:aws:iam::111122223333:user/alice,
//     arn:aws:iam::111122223333:root). Failed console sign-ins of names that do not exist carry
//     no arn and are not attributed to any principal (they are still in Logins and counts).
//   - type AssumedRole: userIdentity.sessionContext.sessionIssuer.arn, the role ARN
//     (arn:aws:iam::111122223333:role/Admin), whatever the session.
//   - type AWSService, or no type at all (service events): userIdentity.invokedBy
//     (e.g. lambda.amazonaws.com, AWS Internal).
//   - type AWSAccount (a principal of another account calling in): userIdentity.accountId.
//
// All times are whole seconds in UTC, as eventTime is written; "since" comparisons are inclusive
// (eventTime >= since).
type Truth struct {
	// Seed is the seed the trail was generated from.
	Seed int64
	// OrgID is the organization id in the S3 layout, or "" when Options.NoOrg was set.
	OrgID string
	// Accounts lists the account ids of the trail; Accounts[0] is the one whose root user is used
	// and where the named identities live.
	Accounts []string
	// Regions lists the regions events were written for.
	Regions []string
	// Events is the number of events written (digest files hold no events).
	Events int
	// LogFiles is the number of log files (CloudTrail/…json.gz) written.
	LogFiles int
	// LogBytes and LogGzipBytes are the total uncompressed and compressed sizes of the log files.
	LogBytes, LogGzipBytes int64
	// DigestFiles is the number of digest files (CloudTrail-Digest/…json.gz) written.
	DigestFiles int
	// Oldest and Newest are the smallest and largest eventTime written.
	Oldest, Newest time.Time
	// ByPartition counts events by the partition their file lives in: account, region and
	// YYYY/MM/DD taken from the object key (the file's delivery day, which for events delivered
	// just after midnight is the day after their eventTime).
	ByPartition map[Partition]int
	// ByEventDay counts events by recipientAccountId, awsRegion and the UTC date of eventTime.
	ByEventDay map[Partition]int
	// ByEventType counts events by eventType (AwsApiCall, AwsServiceEvent, AwsConsoleSignIn,
	// AwsConsoleAction).
	ByEventType map[string]int
	// ByErrorCode counts events by errorCode; events without an errorCode are not counted.
	ByErrorCode map[string]int
	// DataEvents counts events with eventCategory Data (managementEvent false).
	DataEvents int
	// Principals holds the activity of every attributed principal, by principal key.
	Principals map[string]*Principal
	// Logins lists every ConsoleLogin event, ordered by time, account and ARN.
	Logins []ConsoleLogin
	// RootTimes lists the eventTime of every event whose userIdentity.type is Root, ascending.
	RootTimes []time.Time
	// Throttles counts events whose errorCode is exactly "ThrottlingException".
	Throttles map[ThrottleKey]int
	// Identities names the fixed identities of the trail, for readable demos and tests.
	Identities Identities
	// Escalation describes the privilege-escalation sequence, if the trail was large enough to
	// hold it.
	Escalation Escalation
}

// Partition is an account, a region and a UTC day, the Hive partition of the lake.
type Partition struct {
	Account, Region, Year, Month, Day string
}

// MarshalText writes "account/region/YYYY/MM/DD", so that maps keyed by partitions encode as
// JSON.
func (p Partition) MarshalText() ([]byte, error) {
	return []byte(p.Account + "/" + p.Region + "/" + p.Year + "/" + p.Month + "/" + p.Day), nil
}

// Action is an (eventSource, eventName) pair.
type Action struct {
	Source, Name string
}

// String returns "eventSource:eventName".
func (a Action) String() string { return a.Source + ":" + a.Name }

// MarshalText writes "eventSource:eventName".
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// ActionCount counts the events of one action of one principal.
type ActionCount struct {
	// Total counts every event; Errors those with an errorCode.
	Total, Errors int
}

// Principal is the activity of one principal (see Truth for how principal keys are defined).
type Principal struct {
	// Key is the principal key.
	Key string
	// Type is userIdentity.type (IAMUser, AssumedRole, Root, AWSService, AWSAccount, or "" for
	// service events without one).
	Type string
	// Events counts the principal's events; Errors those with an errorCode.
	Events, Errors int
	// First and Last are the principal's oldest and newest eventTime.
	First, Last time.Time
	// Actions counts events by (eventSource, eventName).
	Actions map[Action]*ActionCount
	// SourceIPs counts events by sourceIPAddress.
	SourceIPs map[string]int
	// AccessKeys counts events by userIdentity.accessKeyId (events without one are not counted).
	AccessKeys map[string]int
	// Recipients counts events by recipientAccountId.
	Recipients map[string]int
}

// ConsoleLogin is one ConsoleLogin event.
type ConsoleLogin struct {
	// Time is the eventTime.
	Time time.Time
	// Account is recipientAccountId.
	Account string
	// Type, ARN and UserName come from userIdentity; ARN is "" for names that do not exist.
	Type, ARN, UserName string
	// Success is responseElements.ConsoleLogin == "Success".
	Success bool
	// MFA is additionalEventData.MFAUsed == "Yes".
	MFA bool
	// SourceIP is sourceIPAddress.
	SourceIP string
}

// ThrottleKey groups throttled events as the classic "where do throttling errors come from" query
// does, plus the principal key.
type ThrottleKey struct {
	Principal, Source, Name, Region, UserAgent string
}

// MarshalText writes the fields separated by " | ", so that maps keyed by ThrottleKey encode as
// JSON.
func (k ThrottleKey) MarshalText() ([]byte, error) {
	return []byte(strings.Join([]string{k.Principal, k.Source, k.Name, k.Region, k.UserAgent}, " | ")), nil
}

// ThrottleCount is one group of throttled events.
type ThrottleCount struct {
	ThrottleKey
	Count int
}

// Identities are the ARNs of the fixed, named identities of the trail.
type Identities struct {
	// Users maps user name (alice, bob, carol, ci-deploy, old-admin) to user ARN in Accounts[0].
	Users map[string]string
	// Roles maps role name (Admin, ReadOnly, MonitoringRole, app-lambda-role, ec2-web-role) to
	// the role ARN in Accounts[0].
	Roles map[string]string
	// Root is the root ARN of Accounts[0], the only root user that is used.
	Root string
	// Inactive lists the ARNs of users whose events are all older than InactiveSince.
	Inactive []string
	// InactiveSince is the time after which inactive users have no event.
	InactiveSince time.Time
	// ExternalAccount is the account id of the third party assuming MonitoringRole.
	ExternalAccount string
}

// Escalation describes the privilege-escalation sequence written into the trail.
type Escalation struct {
	// User is the ARN of the user escalating; "" if the trail was too small to hold it.
	User string
	// Account is the account it happened in.
	Account string
	// Start and End bound the eventTime of its events.
	Start, End time.Time
	// Events lists the "eventSource:eventName" of its events in order, "!" appended to the ones
	// that failed.
	Events []string
}

// ActiveUsers returns the sorted ARNs of the IAM users (userIdentity.type IAMUser, by
// userIdentity.arn) with any event, failed ones included, whose eventTime >= since. In SQL:
// SELECT DISTINCT useridentity.arn FROM cloudtrail_logs WHERE useridentity.type = 'IAMUser'
// AND useridentity.arn IS NOT NULL AND from_iso8601_timestamp(eventtime) >= since.
func (t *Truth) ActiveUsers(since time.Time) []string {
	return t.active("IAMUser", since)
}

// ActiveUserNames returns the sorted user names (the last segment of the ARN) of ActiveUsers.
func (t *Truth) ActiveUserNames(since time.Time) []string {
	var out []string
	for _, arn := range t.ActiveUsers(since) {
		out = append(out, arn[strings.LastIndexByte(arn, '/')+1:])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ActiveRoles returns the sorted role ARNs (userIdentity.sessionContext.sessionIssuer.arn of
// events whose userIdentity.type is AssumedRole) with any event, failed ones included, whose
// eventTime >= since.
func (t *Truth) ActiveRoles(since time.Time) []string {
	return t.active("AssumedRole", since)
}

func (t *Truth) active(typ string, since time.Time) []string {
	var out []string
	for k, p := range t.Principals {
		if p.Type == typ && !p.Last.Before(since) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// RootEvents counts the events whose userIdentity.type is Root and eventTime >= since, in every
// account, console sign-ins and failed calls included.
func (t *Truth) RootEvents(since time.Time) int {
	i := sort.Search(len(t.RootTimes), func(i int) bool { return !t.RootTimes[i].Before(since) })
	return len(t.RootTimes) - i
}

// RoleActions returns "eventSource:eventName" → count of the successful events (no errorCode) of
// sessions of the role (sessionIssuer.arn = roleARN, userIdentity.type AssumedRole).
func (t *Truth) RoleActions(roleARN string) map[string]int {
	return t.roleActions(roleARN, false)
}

// RoleActionsAll is RoleActions counting failed events as well.
func (t *Truth) RoleActionsAll(roleARN string) map[string]int {
	return t.roleActions(roleARN, true)
}

func (t *Truth) roleActions(roleARN string, all bool) map[string]int {
	out := map[string]int{}
	p := t.Principals[roleARN]
	if p == nil || p.Type != "AssumedRole" {
		return out
	}
	for a, c := range p.Actions {
		n := c.Total
		if !all {
			n -= c.Errors
		}
		if n > 0 {
			out[a.String()] = n
		}
	}
	return out
}

// ConsoleLogins returns the ConsoleLogin events (successful and failed, every identity type)
// whose eventTime >= since, ordered by time.
func (t *Truth) ConsoleLogins(since time.Time) []ConsoleLogin {
	i := sort.Search(len(t.Logins), func(i int) bool { return !t.Logins[i].Time.Before(since) })
	return slices.Clone(t.Logins[i:])
}

// Throttling returns the groups of events whose errorCode is "ThrottlingException", largest
// first (ties ordered by key).
func (t *Truth) Throttling() []ThrottleCount {
	out := make([]ThrottleCount, 0, len(t.Throttles))
	for k, n := range t.Throttles {
		out = append(out, ThrottleCount{k, n})
	}
	slices.SortFunc(out, func(a, b ThrottleCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return compareThrottleKey(a.ThrottleKey, b.ThrottleKey)
	})
	return out
}

func compareThrottleKey(a, b ThrottleKey) int {
	for _, c := range [][2]string{{a.Principal, b.Principal}, {a.Source, b.Source}, {a.Name, b.Name}, {a.Region, b.Region}, {a.UserAgent, b.UserAgent}} {
		if c := strings.Compare(c[0], c[1]); c != 0 {
			return c
		}
	}
	return 0
}

// observation is what the truth needs to know of one event. The generator fills it from the
// values it serialises; the tests fill it from the parsed files.
type observation struct {
	part                                 Partition // from the object key
	recipient, region                    string
	sec                                  int64
	typ, arn, issuerARN, invokedBy, acct string
	userName, accessKey                  string
	source, name, eventType, category    string
	errorCode, ip, ua                    string
	loginResult, mfaUsed                 string
}

// principalKey applies the definition documented on Truth.
func principalKey(o *observation) string {
	switch o.typ {
	case "IAMUser", "Root":
		return o.arn
	case "AssumedRole":
		return o.issuerARN
	case "AWSService", "":
		return o.invokedBy
	case "AWSAccount":
		return o.acct
	}
	return ""
}

func newTruth() *Truth {
	return &Truth{
		ByPartition: map[Partition]int{},
		ByEventDay:  map[Partition]int{},
		ByEventType: map[string]int{},
		ByErrorCode: map[string]int{},
		Principals:  map[string]*Principal{},
		Throttles:   map[ThrottleKey]int{},
	}
}

// observe adds one event.
func (t *Truth) observe(o *observation) {
	tm := time.Unix(o.sec, 0).UTC()
	t.Events++
	if t.Oldest.IsZero() || tm.Before(t.Oldest) {
		t.Oldest = tm
	}
	if tm.After(t.Newest) {
		t.Newest = tm
	}
	t.ByPartition[o.part]++
	y, m, d := tm.Date()
	t.ByEventDay[Partition{o.recipient, o.region, pad(y, 4), pad(int(m), 2), pad(d, 2)}]++
	t.ByEventType[o.eventType]++
	if o.errorCode != "" {
		t.ByErrorCode[o.errorCode]++
	}
	if o.category == "Data" {
		t.DataEvents++
	}
	if o.typ == "Root" {
		t.RootTimes = append(t.RootTimes, tm)
	}
	if o.name == "ConsoleLogin" {
		t.Logins = append(t.Logins, ConsoleLogin{Time: tm, Account: o.recipient, Type: o.typ, ARN: o.arn,
			UserName: o.userName, Success: o.loginResult == "Success", MFA: o.mfaUsed == "Yes", SourceIP: o.ip})
	}
	key := principalKey(o)
	if key == "" {
		return
	}
	if o.errorCode == "ThrottlingException" {
		t.Throttles[ThrottleKey{key, o.source, o.name, o.region, o.ua}]++
	}
	p := t.Principals[key]
	if p == nil {
		p = &Principal{Key: key, Type: o.typ, First: tm, Last: tm, Actions: map[Action]*ActionCount{},
			SourceIPs: map[string]int{}, AccessKeys: map[string]int{}, Recipients: map[string]int{}}
		t.Principals[key] = p
	}
	p.Events++
	if tm.Before(p.First) {
		p.First = tm
	}
	if tm.After(p.Last) {
		p.Last = tm
	}
	ac := p.Actions[Action{o.source, o.name}]
	if ac == nil {
		ac = &ActionCount{}
		p.Actions[Action{o.source, o.name}] = ac
	}
	ac.Total++
	if o.errorCode != "" {
		ac.Errors++
		p.Errors++
	}
	p.SourceIPs[o.ip]++
	if o.accessKey != "" {
		p.AccessKeys[o.accessKey]++
	}
	p.Recipients[o.recipient]++
}

// merge adds the counts of u into t.
func (t *Truth) merge(u *Truth) {
	t.Events += u.Events
	if !u.Oldest.IsZero() && (t.Oldest.IsZero() || u.Oldest.Before(t.Oldest)) {
		t.Oldest = u.Oldest
	}
	if u.Newest.After(t.Newest) {
		t.Newest = u.Newest
	}
	addMap(t.ByPartition, u.ByPartition)
	addMap(t.ByEventDay, u.ByEventDay)
	addMap(t.ByEventType, u.ByEventType)
	addMap(t.ByErrorCode, u.ByErrorCode)
	addMap(t.Throttles, u.Throttles)
	t.DataEvents += u.DataEvents
	t.RootTimes = append(t.RootTimes, u.RootTimes...)
	t.Logins = append(t.Logins, u.Logins...)
	for k, q := range u.Principals {
		p := t.Principals[k]
		if p == nil {
			t.Principals[k] = q
			continue
		}
		p.Events += q.Events
		p.Errors += q.Errors
		if q.First.Before(p.First) {
			p.First = q.First
		}
		if q.Last.After(p.Last) {
			p.Last = q.Last
		}
		for a, c := range q.Actions {
			if pc := p.Actions[a]; pc != nil {
				pc.Total += c.Total
				pc.Errors += c.Errors
			} else {
				p.Actions[a] = c
			}
		}
		addMap(p.SourceIPs, q.SourceIPs)
		addMap(p.AccessKeys, q.AccessKeys)
		addMap(p.Recipients, q.Recipients)
	}
}

// finish puts the slices in their documented order.
func (t *Truth) finish() {
	slices.SortFunc(t.RootTimes, func(a, b time.Time) int { return a.Compare(b) })
	slices.SortFunc(t.Logins, func(a, b ConsoleLogin) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		if c := strings.Compare(a.ARN, b.ARN); c != 0 {
			return c
		}
		if c := strings.Compare(a.UserName, b.UserName); c != 0 {
			return c
		}
		if a.Success != b.Success {
			if a.Success {
				return 1
			}
			return -1
		}
		return strings.Compare(a.SourceIP, b.SourceIP)
	})
}

func addMap[K comparable](dst, src map[K]int) {
	for k, v := range src {
		dst[k] += v
	}
}

func pad(v, width int) string {
	var buf [8]byte
	return string(appendPad(buf[:0], v, width))
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [8]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for n := len(tmp) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}
