package generate

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// evSpec is one event to write: who, what, when, and any scripted detail.
type evSpec struct {
	ac         *actor
	act        actID
	sec        int64
	errCode    string // forced error ("" = decided by the actor's habits, "-" = none)
	errMsg     string
	target     *actor // role assumed by AssumeRole
	targetUser string // user acted upon by IAM calls
	policyARN  string
	shared     uint64 // non-zero: sharedEventID and requestID derived from it (both copies agree)
	ip, ua     string // overrides
	loginFail  bool
	noSuchUser bool // a failed console sign-in with a user name that does not exist
	recipient  *account
}

// builder writes the events of one file. It belongs to one worker.
type builder struct {
	w      *world
	r      *rand.Rand
	b      []byte
	truth  *Truth
	o      observation
	f      *logFile
	sess   map[[2]int64]session
	region string
	res    resource // what the body named, for the resources array and the host header
}

func newBuilder(w *world) *builder {
	return &builder{w: w, truth: newTruth(), sess: map[[2]int64]session{}, b: make([]byte, 0, 1<<17)}
}

func (b *builder) session(ac *actor, sec int64) session {
	k := [2]int64{int64(ac.idx), b.w.sessionWindow(ac, sec)}
	s, ok := b.sess[k]
	if !ok {
		if len(b.sess) > 4096 {
			clear(b.sess)
		}
		s = b.w.session(ac, sec)
		b.sess[k] = s
	}
	return s
}

// --- JSON appending ---

func (b *builder) sep() {
	if c := b.b[len(b.b)-1]; c != '{' && c != '[' {
		b.b = append(b.b, ',')
	}
}

func (b *builder) key(k string) {
	b.sep()
	b.b = append(b.b, '"')
	b.b = append(b.b, k...)
	b.b = append(b.b, '"', ':')
}

func (b *builder) str(k, v string) {
	b.key(k)
	b.b = cloudtrail.AppendJSONString(b.b, v)
}

func (b *builder) num(k string, v int64) {
	b.key(k)
	b.b = strconv.AppendInt(b.b, v, 10)
}

func (b *builder) boolean(k string, v bool) {
	b.key(k)
	b.b = strconv.AppendBool(b.b, v)
}

func (b *builder) raw(k, v string) {
	b.key(k)
	b.b = append(b.b, v...)
}

func (b *builder) obj(k string) {
	b.key(k)
	b.b = append(b.b, '{')
}

func (b *builder) arr(k string) {
	b.key(k)
	b.b = append(b.b, '[')
}

func (b *builder) elem() {
	b.sep()
	b.b = append(b.b, '{')
}

func (b *builder) end(c byte) { b.b = append(b.b, c) }

func (b *builder) timeStr(k string, sec int64) {
	b.key(k)
	b.b = append(b.b, '"')
	b.b = appendTime(b.b, sec)
	b.b = append(b.b, '"')
}

func appendTime(b []byte, sec int64) []byte {
	t := time.Unix(sec, 0).UTC()
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(m), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, hh, 2)
	b = append(b, ':')
	b = appendPad(b, mm, 2)
	b = append(b, ':')
	b = appendPad(b, ss, 2)
	return append(b, 'Z')
}

// --- choosing random events ---

func pick(cum []float64, r *rand.Rand) int {
	x := r.Float64() * cum[len(cum)-1]
	return sort.Search(len(cum), func(i int) bool { return cum[i] > x })
}

// randomSpec chooses a regular event of the file's account and region at sec.
func (b *builder) randomSpec(sec int64) evSpec {
	a, r := b.f.acct, b.r
	home := b.region == b.w.home
	cum := a.cumOther
	if home {
		cum = a.cumHome
	}
	var ac *actor
	for try := 0; try < 12; try++ {
		c := a.actors[pick(cum, r)]
		if c.activeAt(sec, r) {
			ac = c
			break
		}
	}
	if ac == nil {
		ac = a.monitor // polls day and night
	}
	acum := ac.cumRegion
	if home {
		acum = ac.cumAll
	}
	wa := ac.acts[pick(acum, r)]
	e := evSpec{ac: ac, act: wa.a, sec: sec}
	if wa.a == aAssumeRole {
		if len(ac.targets) == 0 {
			e.act = aGetCallerIdentity
		} else {
			e.target = ac.targets[r.IntN(len(ac.targets))]
			if e.target.p.kind == pRole && ac.p.kind == pAccount || ac.p.kind == pService {
				e.shared = r.Uint64() | 1
			}
		}
	}
	switch x := r.Float64(); {
	case x < wa.throttle:
		e.errCode, e.errMsg = "ThrottlingException", "Rate exceeded"
	case x < wa.throttle+wa.deny:
		e.errCode = deniedCode(e.act)
	}
	if e.act == aConsoleLogin && r.IntN(20) == 0 {
		e.loginFail = true
	}
	if e.errCode == "" {
		e.errCode = "-"
		switch {
		case e.act == aS3GetObject && r.IntN(100) == 0:
			e.errCode, e.errMsg = "NoSuchKey", "The specified key does not exist."
		case e.act == aIAMGetUser && r.IntN(50) == 0:
			e.targetUser = "temp-" + strconv.Itoa(r.IntN(100))
			e.errCode, e.errMsg = "NoSuchEntityException", "The user with name "+e.targetUser+" cannot be found."
		}
	}
	return e
}

// --- writing one event ---

// identity describes userIdentity of one event.
type identity struct {
	typ, principalID, arn, accountID, accessKey, userName, invokedBy string
	issuer                                                           *principal
	sess                                                             session
	hasSession, console, mfa                                         bool
}

func (b *builder) identity(e *evSpec) identity {
	ac := e.ac
	p := ac.p
	id := identity{accountID: p.acct.id}
	if e.act == aConsoleLogin {
		id.typ, id.principalID, id.arn, id.userName = "IAMUser", p.id, p.arn, p.name
		if p.kind == pRoot {
			id.typ, id.userName = "Root", ""
		}
		if e.noSuchUser {
			id.principalID, id.arn, id.userName = "", "", "HIDDEN_DUE_TO_SECURITY_REASONS"
		}
		return id
	}
	switch ac.mode {
	case mKey:
		id.typ, id.principalID, id.arn, id.accessKey, id.userName = "IAMUser", p.id, p.arn, p.key, p.name
	case mConsole, mRootConsole:
		id.typ, id.principalID, id.arn, id.userName = "IAMUser", p.id, p.arn, p.name
		if ac.mode == mRootConsole {
			id.typ, id.userName = "Root", ""
		}
		id.sess = b.session(ac, e.sec)
		id.accessKey, id.hasSession, id.console, id.mfa = id.sess.key, true, true, ac.mfa
	case mSession, mConsoleRole, mEC2, mLambda, mSLR, mExtSession:
		id.sess = b.session(ac, e.sec)
		id.typ, id.issuer, id.hasSession = "AssumedRole", p, true
		id.principalID = p.id + ":" + id.sess.name
		id.arn = "arn:aws:sts::" + p.acct.id + ":assumed-role/" + p.name + "/" + id.sess.name
		id.accessKey = id.sess.key
		id.console, id.mfa = ac.mode == mConsoleRole, ac.mfa
		if ac.mode == mSLR {
			id.invokedBy = ac.uas[0].base
		}
	case mService:
		id.typ, id.invokedBy, id.accountID = "AWSService", p.name, ""
	case mServiceEvent:
		id.invokedBy = p.name
	case mAccount:
		id.typ, id.principalID, id.accountID = "AWSAccount", p.id, p.name
	}
	return id
}

func (b *builder) writeIdentity(id *identity, ac *actor) {
	b.obj("userIdentity")
	if id.typ != "" {
		b.str("type", id.typ)
	}
	if id.typ != "" && id.typ != "AWSService" {
		b.str("principalId", id.principalID)
	}
	if id.arn != "" {
		b.str("arn", id.arn)
	}
	if id.accountID != "" {
		b.str("accountId", id.accountID)
	}
	if id.accessKey != "" || id.typ == "Root" || id.userName == "HIDDEN_DUE_TO_SECURITY_REASONS" {
		b.str("accessKeyId", id.accessKey)
	}
	if id.userName != "" {
		b.str("userName", id.userName)
	}
	if id.hasSession {
		b.obj("sessionContext")
		if id.issuer != nil {
			b.obj("sessionIssuer")
			b.str("type", "Role")
			b.str("principalId", id.issuer.id)
			b.str("arn", id.issuer.arn)
			b.str("accountId", id.issuer.acct.id)
			b.str("userName", id.issuer.name)
			b.end('}')
		} else {
			b.raw("sessionIssuer", "{}")
		}
		b.raw("webIdFederationData", "{}")
		b.obj("attributes")
		b.timeStr("creationDate", id.sess.created)
		b.str("mfaAuthenticated", strconv.FormatBool(id.mfa))
		b.end('}')
		if ac.mode == mEC2 {
			b.str("ec2RoleDelivery", "2.0")
		}
		b.end('}')
	}
	if id.invokedBy != "" {
		b.str("invokedBy", id.invokedBy)
	}
	b.end('}')
}

func (b *builder) userAgent(e *evSpec, id *identity) string {
	if e.ua != "" {
		return e.ua
	}
	ac := e.ac
	switch ac.mode {
	case mService, mServiceEvent:
		return ac.p.name
	}
	if e.act == aConsoleLogin || ac.mode == mConsole || ac.mode == mConsoleRole || ac.mode == mRootConsole {
		if e.act == aConsoleLogin || actions[e.act].eventType != "" {
			return ac.uas[0].base
		}
	}
	u := ac.uas[0]
	if len(ac.uas) > 1 && b.r.IntN(3) == 0 {
		u = ac.uas[1]
	}
	switch u.kind {
	case uaCLI:
		return u.base + " command/" + actions[e.act].cli
	case uaGoV2:
		svc := iamPrefix(e.act)
		return u.base + " api/" + svc + "#1." + strconv.Itoa(int(hashString(svc)%180)+20) + ".0"
	}
	return u.base
}

func (b *builder) sourceIP(e *evSpec) string {
	if e.ip != "" {
		return e.ip
	}
	switch e.ac.mode {
	case mService, mServiceEvent:
		return e.ac.p.name
	case mSLR:
		return e.ac.uas[0].base
	}
	return e.ac.ips[b.r.IntN(len(e.ac.ips))]
}

func hostHeader(a actID, region, bucket string) string {
	src := actions[a].source
	switch src {
	case "iam.amazonaws.com":
		return "iam.amazonaws.com"
	case "signin.amazonaws.com":
		return "signin.aws.amazon.com"
	case "billingconsole.amazonaws.com":
		return "us-east-1.console.aws.amazon.com"
	case "s3.amazonaws.com":
		if bucket == "" {
			return "s3." + region + ".amazonaws.com"
		}
		return bucket + ".s3." + region + ".amazonaws.com"
	}
	return src[:strings.IndexByte(src, '.')] + "." + region + ".amazonaws.com"
}

// emit appends one event (with its leading comma when needed) and records it in the truth.
func (b *builder) emit(e *evSpec) {
	r := b.r
	a := actions[e.act]
	rec := b.f.acct
	if e.recipient != nil {
		rec = e.recipient
	}
	id := b.identity(e)
	ua := b.userAgent(e, &id)
	ip := b.sourceIP(e)
	if e.errCode == "-" {
		e.errCode = ""
	}
	if e.loginFail {
		e.errCode, e.errMsg = "", "Failed authentication"
	}
	if e.errCode != "" && e.errMsg == "" {
		e.errMsg = deniedMessage(e, &id, b.region, rec.id, r)
	}
	eventType := a.eventType
	if eventType == "" {
		eventType = "AwsApiCall"
	}
	version := a.version
	if e.act == aS3GetObject || e.act == aS3PutObject {
		version = "1.11"
	}

	if len(b.b) > 0 && b.b[len(b.b)-1] == '}' {
		b.b = append(b.b, ',')
	}
	b.b = append(b.b, '{')
	b.str("eventVersion", version)
	b.writeIdentity(&id, e.ac)
	b.timeStr("eventTime", e.sec)
	b.str("eventSource", a.source)
	b.str("eventName", a.name)
	b.str("awsRegion", b.region)
	b.str("sourceIPAddress", ip)
	b.str("userAgent", ua)
	if e.errCode != "" {
		b.str("errorCode", e.errCode)
	}
	if e.errMsg != "" {
		b.str("errorMessage", e.errMsg)
	}
	bucket := b.appendBody(e, &id, rec)
	if e.act != aConsoleLogin && e.ac.mode != mServiceEvent {
		b.key("requestID")
		switch {
		case e.shared != 0:
			b.b = append(b.b, '"')
			b.b = appendUUIDFrom(b.b, mix(e.shared), mix(e.shared+7))
			b.b = append(b.b, '"')
		case a.source == "s3.amazonaws.com":
			b.b = append(b.b, '"')
			b.b = appendChars(b.b, r, upperAlnum, 16)
			b.b = append(b.b, '"')
		default:
			b.b = append(b.b, '"')
			b.b = appendUUID(b.b, r)
			b.b = append(b.b, '"')
		}
	}
	b.key("eventID")
	b.b = append(b.b, '"')
	b.b = appendUUID(b.b, r)
	b.b = append(b.b, '"')
	b.boolean("readOnly", a.readOnly)
	b.appendResources(e, rec)
	b.str("eventType", eventType)
	b.boolean("managementEvent", !a.data)
	b.str("recipientAccountId", rec.id)
	if e.shared != 0 {
		b.key("sharedEventID")
		b.b = append(b.b, '"')
		b.b = appendUUIDFrom(b.b, mix(e.shared+3), mix(e.shared+5))
		b.b = append(b.b, '"')
	}
	if e.act == aKMSRotateKey {
		b.obj("serviceEventDetails")
		b.str("keyId", rec.kms[b.region][0])
		b.end('}')
	}
	category := "Management"
	if a.data {
		category = "Data"
	}
	b.str("eventCategory", category)
	if ua != uaInternal && e.ac.mode != mService && e.ac.mode != mServiceEvent && e.ac.mode != mSLR {
		b.obj("tlsDetails")
		if ua[0] == 'M' || hashString(ua)%4 == 0 {
			b.str("tlsVersion", "TLSv1.2")
			b.str("cipherSuite", "ECDHE-RSA-AES128-GCM-SHA256")
		} else {
			b.str("tlsVersion", "TLSv1.3")
			b.str("cipherSuite", "TLS_AES_128_GCM_SHA256")
		}
		b.str("clientProvidedHostHeader", hostHeader(e.act, b.region, bucket))
		b.end('}')
	}
	if id.console && e.act != aConsoleLogin {
		b.str("sessionCredentialFromConsole", "true")
	}
	b.end('}')

	// The truth, from the same values.
	o := &b.o
	*o = observation{part: b.f.part, recipient: rec.id, region: b.region, sec: e.sec, typ: id.typ, arn: id.arn,
		invokedBy: id.invokedBy, acct: id.accountID, userName: id.userName, accessKey: id.accessKey,
		source: a.source, name: a.name, eventType: eventType, category: category, errorCode: e.errCode, ip: ip, ua: ua}
	if id.issuer != nil {
		o.issuerARN = id.issuer.arn
	}
	if e.act == aConsoleLogin {
		o.loginResult, o.mfaUsed = "Success", "No"
		if e.loginFail {
			o.loginResult = "Failure"
		} else if e.ac.mfa {
			o.mfaUsed = "Yes"
		}
	}
	b.truth.observe(o)
	if e.sec < b.f.oldest || b.f.oldest == 0 {
		b.f.oldest = e.sec
	}
	if e.sec > b.f.newest {
		b.f.newest = e.sec
	}
}

func deniedMessage(e *evSpec, id *identity, region, acct string, r *rand.Rand) string {
	who := id.arn
	act := iamPrefix(e.act) + ":" + iamAction(e.act)
	switch e.errCode {
	case "AccessDenied":
		if actions[e.act].source == "s3.amazonaws.com" {
			return "Access Denied"
		}
	case "Client.UnauthorizedOperation":
		enc := string(appendChars(nil, r, mixedAlnum+"-_", 180))
		return "You are not authorized to perform this operation. User: " + who + " is not authorized to perform: " + act +
			" on resource: arn:aws:ec2:" + region + ":" + acct + ":instance/* because no identity-based policy allows the " + act +
			" action. Encoded authorization failure message: " + enc
	}
	res := "*"
	if e.act == aIAMCreateUser || e.act == aIAMCreateAccessKey {
		u := e.targetUser
		if u == "" {
			u = "ci-deploy"
		}
		res = "arn:aws:iam::" + acct + ":user/" + u
	}
	return "User: " + who + " is not authorized to perform: " + act + " on resource: " + res +
		" because no identity-based policy allows the " + act + " action"
}
