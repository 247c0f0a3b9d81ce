package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Warning is a problem in one event that did not stop it from being stored: the value was
// converted for its column and the original kept in the residual.
type Warning struct {
	Field string // JSON path of the field, e.g. "readOnly"
	Msg   string
}

func (w Warning) String() string { return w.Field + ": " + w.Msg }

// ErrNotObject is returned by Normalize for a record that is not a JSON object.
var ErrNotObject = errors.New("record is not a JSON object")

// Normalizer turns the JSON of one event into a Record. It keeps scratch buffers between calls,
// so use one per goroutine.
type Normalizer struct {
	kbuf   []byte
	warns  []Warning
	intern map[string]string // lower-cased keys seen so far, so that matching allocates nothing

	// Strings and string pointers of records are carved out of shared chunks: one allocation per
	// chunk instead of one per field. A chunk is only appended to, never changed, so the strings
	// stay valid for as long as a record uses them.
	arena []byte
	slab  []string
}

const arenaChunk = 64 << 10

// reserve makes room for n more bytes in the arena.
func (n *Normalizer) reserve(size int) {
	if cap(n.arena)-len(n.arena) < size {
		c := arenaChunk
		if size > c/4 {
			c = size
		}
		n.arena = make([]byte, 0, c)
	}
}

// tail returns the arena's bytes from off as a string, without copying.
func (n *Normalizer) tail(off int) string {
	b := n.arena[off:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// bytesString copies b into the arena.
func (n *Normalizer) bytesString(b []byte) string {
	if !utf8.Valid(b) {
		return string([]rune(string(b)))
	}
	n.reserve(len(b))
	off := len(n.arena)
	n.arena = append(n.arena, b...)
	return n.tail(off)
}

// unquote is the package's unquote, into the arena.
func (n *Normalizer) unquote(lit []byte, esc bool) string {
	if !esc {
		return n.bytesString(lit[1 : len(lit)-1])
	}
	return unquote(lit, esc)
}

// compact returns the compact JSON text of v, in the arena.
func (n *Normalizer) compact(v []byte) string {
	if !utf8.Valid(v) {
		return string(appendCompact(nil, v)) // replacement characters may make it longer
	}
	n.reserve(len(v))
	off := len(n.arena)
	n.arena = appendCompact(n.arena, v) // never longer than v: no reallocation
	return n.tail(off)
}

// sptr returns a pointer to a copy of s, from the slab.
func (n *Normalizer) sptr(s string) *string {
	if len(n.slab) == cap(n.slab) {
		n.slab = make([]string, 0, 1024)
	}
	n.slab = append(n.slab, s)
	return &n.slab[len(n.slab)-1]
}

// Normalize decodes one event. raw must be a complete, valid JSON value (the Decoder guarantees
// it). The returned warnings are valid until the next call.
func (n *Normalizer) Normalize(raw []byte) (*Record, []Warning, error) {
	raw = raw[skipWS(raw, 0):]
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil, fmt.Errorf("%w (found %s)", ErrNotObject, jsonKind(raw))
	}
	n.warns = n.warns[:0]
	m := members{r: &Record{}}
	eachMember(raw, func(key []byte, kesc bool, val []byte) { n.member(&m, key, kesc, val) })
	return m.done(n), n.warns, nil
}

// normalizeSpans is Normalize for an object whose members the decoder has located already.
func (n *Normalizer) normalizeSpans(raw []byte, spans []span) (*Record, []Warning) {
	n.warns = n.warns[:0]
	m := members{r: &Record{}}
	for _, sp := range spans {
		n.member(&m, raw[sp.key:sp.keyEnd], sp.keyEsc, raw[sp.val:sp.valEnd])
	}
	return m.done(n), n.warns
}

// members is the state of Normalize across an event's members.
type members struct {
	r         *Record
	resid     []byte
	timestamp []byte // Logstash's @timestamp, used when eventTime is absent
}

// done finishes the record.
func (m *members) done(n *Normalizer) *Record {
	r := m.r
	if r.EventTime == nil && m.timestamp != nil {
		s := normaliseTimestamp(unquote(m.timestamp, true))
		r.EventTime = &s
	}
	if len(m.resid) > 0 {
		s := "{" + string(m.resid) + "}"
		r.Residual = &s
	}
	return r
}

// member stores one member of an event.
func (n *Normalizer) member(m *members, key []byte, kesc bool, val []byte) {
	r := m.r
	lk := n.lower(key, kesc)
	switch lk {
	case "eventversion":
		m.resid = n.str(&r.EventVersion, "eventVersion", key, val, m.resid, true)
	case "useridentity":
		m.resid = n.userIdentity(r, key, val, m.resid)
	case "eventtime":
		m.resid = n.str(&r.EventTime, "eventTime", key, val, m.resid, true)
	case "eventsource":
		m.resid = n.str(&r.EventSource, "eventSource", key, val, m.resid, true)
	case "eventname":
		m.resid = n.str(&r.EventName, "eventName", key, val, m.resid, true)
	case "awsregion":
		m.resid = n.str(&r.AWSRegion, "awsRegion", key, val, m.resid, true)
	case "sourceipaddress":
		m.resid = n.str(&r.SourceIPAddress, "sourceIPAddress", key, val, m.resid, true)
	case "useragent":
		m.resid = n.str(&r.UserAgent, "userAgent", key, val, m.resid, true)
	case "errorcode":
		m.resid = n.str(&r.ErrorCode, "errorCode", key, val, m.resid, true)
	case "errormessage":
		m.resid = n.str(&r.ErrorMessage, "errorMessage", key, val, m.resid, true)
	case "requestparameters":
		m.resid = n.payload(&r.RequestParameters, key, val, m.resid)
	case "responseelements":
		m.resid = n.payload(&r.ResponseElements, key, val, m.resid)
	case "additionaleventdata":
		m.resid = n.payload(&r.AdditionalEventData, key, val, m.resid)
	case "serviceeventdetails":
		m.resid = n.payload(&r.ServiceEventDetails, key, val, m.resid)
	case "edgedevicedetails":
		m.resid = n.payload(&r.EdgeDeviceDetails, key, val, m.resid)
	case "insightdetails":
		m.resid = n.payload(&r.InsightDetails, key, val, m.resid)
	case "requestid":
		m.resid = n.str(&r.RequestID, "requestID", key, val, m.resid, true)
	case "eventid":
		m.resid = n.str(&r.EventID, "eventID", key, val, m.resid, true)
	case "readonly":
		m.resid = n.boolString(&r.ReadOnly, "readOnly", key, val, m.resid)
	case "managementevent":
		m.resid = n.boolean(&r.ManagementEvent, "managementEvent", key, val, m.resid)
	case "resources":
		m.resid = n.resources(r, key, val, m.resid)
	case "eventtype":
		m.resid = n.str(&r.EventType, "eventType", key, val, m.resid, true)
	case "apiversion":
		m.resid = n.str(&r.APIVersion, "apiVersion", key, val, m.resid, true)
	case "recipientaccountid":
		m.resid = n.str(&r.RecipientAccountID, "recipientAccountId", key, val, m.resid, true)
	case "sharedeventid":
		m.resid = n.str(&r.SharedEventID, "sharedEventID", key, val, m.resid, true)
	case "vpcendpointid":
		m.resid = n.str(&r.VPCEndpointID, "vpcEndpointId", key, val, m.resid, true)
	case "vpcendpointaccountid":
		m.resid = n.str(&r.VPCEndpointAccountID, "vpcEndpointAccountId", key, val, m.resid, true)
	case "eventcategory":
		m.resid = n.str(&r.EventCategory, "eventCategory", key, val, m.resid, true)
	case "sessioncredentialfromconsole":
		m.resid = n.boolString(&r.SessionCredentialFromConsole, "sessionCredentialFromConsole", key, val, m.resid)
	case "addendum":
		m.resid = n.addendum(r, key, val, m.resid)
	case "tlsdetails":
		m.resid = n.tlsDetails(r, key, val, m.resid)
	default:
		if lk == "@timestamp" && len(val) > 0 && val[0] == '"' {
			m.timestamp = val
		}
		m.resid = appendMember(m.resid, key, val)
	}
}

func (n *Normalizer) lower(key []byte, esc bool) string {
	if k := knownKey(key); k != "" {
		return k
	}
	if esc {
		key = []byte(strconv.Quote(unquote(key, true)))
	}
	n.kbuf = lowerKey(n.kbuf, key)
	if s, ok := n.intern[string(n.kbuf)]; ok {
		return s
	}
	s := string(n.kbuf)
	if n.intern == nil {
		n.intern = map[string]string{}
	}
	if len(n.intern) < 4096 {
		n.intern[s] = s
	}
	return s
}

func (n *Normalizer) warn(path string, format string, args ...any) {
	n.warns = append(n.warns, Warning{Field: path, Msg: fmt.Sprintf(format, args...)})
}

// appendMember appends `"key":value` (value compacted) to a residual member list.
func appendMember(resid, key, val []byte) []byte {
	if len(resid) > 0 {
		resid = append(resid, ',')
	}
	resid = append(resid, key...)
	resid = append(resid, ':')
	return appendCompact(resid, val)
}

func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// str stores a string field. Any other JSON type is stored as its JSON text, as Athena's JSON SerDe
// does, and the original value goes to the residual.
func (n *Normalizer) str(dst **string, path string, key, val, resid []byte, warn bool) []byte {
	switch val[0] {
	case '"':
		*dst = n.sptr(n.unquote(val, bytes.IndexByte(val, '\\') >= 0))
		return resid
	case 'n':
		*dst = nil
		return resid
	}
	*dst = n.sptr(n.compact(val))
	if warn {
		n.warn(path, "%s where a string belongs; stored as its JSON text (original kept)", jsonKind(val))
	}
	return appendMember(resid, key, val)
}

// payload stores a JSON payload field (requestParameters, …) as compact JSON text.
func (n *Normalizer) payload(dst **string, key, val, resid []byte) []byte {
	switch val[0] {
	case '{', '[':
		*dst = n.sptr(n.compact(val))
		return resid
	case 'n':
		*dst = nil
		return resid
	case '"':
		// Athena's SerDe gives the string's content; the residual remembers it was a string.
		*dst = n.sptr(n.unquote(val, bytes.IndexByte(val, '\\') >= 0))
		return appendMember(resid, key, val)
	}
	*dst = n.sptr(n.bytesString(val))
	return appendMember(resid, key, val)
}

// boolString stores a JSON boolean as the strings "true"/"false" (Athena's readonly is a STRING).
func (n *Normalizer) boolString(dst **string, path string, key, val, resid []byte) []byte {
	switch val[0] {
	case 't', 'f':
		*dst = n.sptr(n.bytesString(val))
		if path == "sessionCredentialFromConsole" {
			// CloudTrail writes a string here; keep the rare boolean as it was.
			return appendMember(resid, key, val)
		}
		return resid
	case 'n':
		*dst = nil
		return resid
	case '"':
		s := unquote(val, true)
		if path == "sessionCredentialFromConsole" && (s == "true" || s == "false") {
			*dst = n.sptr(s) // CloudTrail writes this one as a string
			return resid
		}
		if ls := strings.ToLower(s); ls == "true" || ls == "false" {
			s = ls
		}
		*dst = n.sptr(s)
		n.warn(path, "the string %q where a boolean belongs; stored as %q (original kept)", unquote(val, true), s)
		return appendMember(resid, key, val)
	}
	*dst = n.sptr(n.compact(val))
	n.warn(path, "%s where a boolean belongs; stored as its JSON text (original kept)", jsonKind(val))
	return appendMember(resid, key, val)
}

func (n *Normalizer) boolean(dst **bool, path string, key, val, resid []byte) []byte {
	t, f := true, false
	switch val[0] {
	case 't':
		*dst = &t
		return resid
	case 'f':
		*dst = &f
		return resid
	case 'n':
		return resid
	case '"':
		switch s := strings.ToLower(unquote(val, true)); s {
		case "true", "false":
			if s == "true" {
				*dst = &t
			} else {
				*dst = &f
			}
			n.warn(path, "the string %q where a boolean belongs; stored as %s (original kept)", unquote(val, true), s)
			return appendMember(resid, key, val)
		}
	}
	n.warn(path, "%s where a boolean belongs; stored as NULL (original kept)", jsonKind(val))
	return appendMember(resid, key, val)
}

// object runs fn over the members of an object value. Anything that is not an object or null
// goes to the residual with a warning. fn returns the member list of the object's own residual.
func (n *Normalizer) object(path string, key, val, resid []byte, fn func(lk string, k, v, sub []byte) []byte) (present bool, out []byte) {
	switch val[0] {
	case 'n':
		return false, resid
	case '{':
	default:
		n.warn(path, "%s where an object belongs; kept in the residual", jsonKind(val))
		return false, appendMember(resid, key, val)
	}
	var sub []byte
	eachMember(val, func(k []byte, kesc bool, v []byte) {
		sub = fn(n.lower(k, kesc), k, v, sub)
	})
	if len(sub) > 0 {
		if len(resid) > 0 {
			resid = append(resid, ',')
		}
		resid = append(resid, key...)
		resid = append(resid, ":{"...)
		resid = append(resid, sub...)
		resid = append(resid, '}')
	}
	return true, resid
}

func (n *Normalizer) userIdentity(r *Record, key, val, resid []byte) []byte {
	u := &UserIdentity{}
	ok, resid := n.object("userIdentity", key, val, resid, func(lk string, k, v, sub []byte) []byte {
		switch lk {
		case "type":
			return n.str(&u.Type, "userIdentity.type", k, v, sub, true)
		case "principalid":
			return n.str(&u.PrincipalID, "userIdentity.principalId", k, v, sub, true)
		case "arn":
			return n.str(&u.ARN, "userIdentity.arn", k, v, sub, true)
		case "accountid":
			return n.str(&u.AccountID, "userIdentity.accountId", k, v, sub, true)
		case "invokedby":
			return n.str(&u.InvokedBy, "userIdentity.invokedBy", k, v, sub, true)
		case "accesskeyid":
			return n.str(&u.AccessKeyID, "userIdentity.accessKeyId", k, v, sub, true)
		case "username":
			return n.str(&u.UserName, "userIdentity.userName", k, v, sub, true)
		case "identityprovider":
			return n.str(&u.IdentityProvider, "userIdentity.identityProvider", k, v, sub, true)
		case "inscopeof":
			return n.payload(&u.InScopeOf, k, v, sub)
		case "onbehalfof":
			o := &OnBehalfOf{}
			present, sub := n.object("userIdentity.onBehalfOf", k, v, sub, func(lk string, k, v, sub []byte) []byte {
				switch lk {
				case "userid":
					return n.str(&o.UserID, "userIdentity.onBehalfOf.userId", k, v, sub, true)
				case "identitystorearn":
					return n.str(&o.IdentityStoreARN, "userIdentity.onBehalfOf.identityStoreArn", k, v, sub, true)
				}
				return appendMember(sub, k, v)
			})
			if present {
				u.OnBehalfOf = o
			}
			return sub
		case "sessioncontext":
			return n.sessionContext(u, k, v, sub)
		}
		return appendMember(sub, k, v)
	})
	if ok {
		r.UserIdentity = u
	}
	return resid
}

func (n *Normalizer) sessionContext(u *UserIdentity, key, val, resid []byte) []byte {
	sc := &SessionContext{}
	ok, resid := n.object("userIdentity.sessionContext", key, val, resid, func(lk string, k, v, sub []byte) []byte {
		switch lk {
		case "attributes":
			a := &SessionAttributes{}
			present, sub := n.object("userIdentity.sessionContext.attributes", k, v, sub, func(lk string, k, v, sub []byte) []byte {
				switch lk {
				case "mfaauthenticated":
					// Early events wrote a JSON boolean here: keep the string Athena shows and
					// remember the original type, without a warning.
					if v[0] == 't' || v[0] == 'f' {
						a.MFAAuthenticated = n.sptr(n.bytesString(v))
						return appendMember(sub, k, v)
					}
					return n.str(&a.MFAAuthenticated, "userIdentity.sessionContext.attributes.mfaAuthenticated", k, v, sub, true)
				case "creationdate":
					return n.str(&a.CreationDate, "userIdentity.sessionContext.attributes.creationDate", k, v, sub, true)
				}
				return appendMember(sub, k, v)
			})
			if present {
				sc.Attributes = a
			}
			return sub
		case "sessionissuer":
			s := &SessionIssuer{}
			present, sub := n.object("userIdentity.sessionContext.sessionIssuer", k, v, sub, func(lk string, k, v, sub []byte) []byte {
				p := "userIdentity.sessionContext.sessionIssuer."
				switch lk {
				case "type":
					return n.str(&s.Type, p+"type", k, v, sub, true)
				case "principalid":
					return n.str(&s.PrincipalID, p+"principalId", k, v, sub, true)
				case "arn":
					return n.str(&s.ARN, p+"arn", k, v, sub, true)
				case "accountid":
					return n.str(&s.AccountID, p+"accountId", k, v, sub, true)
				case "username":
					return n.str(&s.UserName, p+"userName", k, v, sub, true)
				}
				return appendMember(sub, k, v)
			})
			if present {
				sc.SessionIssuer = s
			}
			return sub
		case "ec2roledelivery":
			return n.str(&sc.EC2RoleDelivery, "userIdentity.sessionContext.ec2RoleDelivery", k, v, sub, true)
		case "sourceidentity":
			return n.str(&sc.SourceIdentity, "userIdentity.sessionContext.sourceIdentity", k, v, sub, true)
		case "webidfederationdata":
			w := &WebIDFederationData{}
			present, sub := n.object("userIdentity.sessionContext.webIdFederationData", k, v, sub, func(lk string, k, v, sub []byte) []byte {
				switch lk {
				case "federatedprovider":
					return n.str(&w.FederatedProvider, "userIdentity.sessionContext.webIdFederationData.federatedProvider", k, v, sub, true)
				case "attributes":
					if v[0] != '{' {
						break
					}
					w.Attributes = map[string]string{}
					typed := true
					eachMember(v, func(ak []byte, akesc bool, av []byte) {
						name := unquote(ak, akesc)
						if av[0] == '"' {
							w.Attributes[name] = unquote(av, true)
						} else {
							typed = false
							w.Attributes[name] = string(appendCompact(nil, av))
						}
					})
					if typed {
						return sub
					}
				}
				return appendMember(sub, k, v)
			})
			if present {
				sc.WebIDFederationData = w
			}
			return sub
		}
		return appendMember(sub, k, v)
	})
	if ok {
		u.SessionContext = sc
	}
	return resid
}

// resources stores the resources array. When any element has a field the column does not hold,
// or is not an object, the whole original array is kept in the residual, so it rebuilds exactly.
func (n *Normalizer) resources(r *Record, key, val, resid []byte) []byte {
	switch val[0] {
	case 'n':
		return resid
	case '[':
	default:
		n.warn("resources", "%s where an array belongs; kept in the residual", jsonKind(val))
		return appendMember(resid, key, val)
	}
	exact := true
	out := make([]Resource, 0, 2)
	eachElement(val, func(idx int, v []byte) {
		if v[0] != '{' {
			exact = false
			n.warn(fmt.Sprintf("resources[%d]", idx), "%s where an object belongs; kept in the residual", jsonKind(v))
			return
		}
		var res Resource
		eachMember(v, func(k []byte, kesc bool, fv []byte) {
			var extra []byte
			switch n.lower(k, kesc) {
			case "arn":
				extra = n.str(&res.ARN, "resources.ARN", k, fv, nil, true)
			case "accountid":
				extra = n.str(&res.AccountID, "resources.accountId", k, fv, nil, true)
			case "type":
				extra = n.str(&res.Type, "resources.type", k, fv, nil, true)
			default:
				extra = k
			}
			if ks := string(k); ks != `"ARN"` && ks != `"accountId"` && ks != `"type"` {
				extra = k // another spelling: keep the array as it was written
			}
			if len(extra) > 0 {
				exact = false
			}
		})
		out = append(out, res)
	})
	r.Resources = out
	if exact {
		return resid
	}
	return appendMember(resid, key, val)
}

func (n *Normalizer) addendum(r *Record, key, val, resid []byte) []byte {
	a := &Addendum{}
	ok, resid := n.object("addendum", key, val, resid, func(lk string, k, v, sub []byte) []byte {
		switch lk {
		case "reason":
			return n.str(&a.Reason, "addendum.reason", k, v, sub, true)
		case "updatedfields":
			return n.str(&a.UpdatedFields, "addendum.updatedFields", k, v, sub, true)
		case "originalrequestid":
			return n.str(&a.OriginalRequestID, "addendum.originalRequestID", k, v, sub, true)
		case "originaleventid":
			return n.str(&a.OriginalEventID, "addendum.originalEventID", k, v, sub, true)
		}
		return appendMember(sub, k, v)
	})
	if ok {
		r.Addendum = a
	}
	return resid
}

func (n *Normalizer) tlsDetails(r *Record, key, val, resid []byte) []byte {
	t := &TLSDetails{}
	ok, resid := n.object("tlsDetails", key, val, resid, func(lk string, k, v, sub []byte) []byte {
		switch lk {
		case "tlsversion":
			return n.str(&t.TLSVersion, "tlsDetails.tlsVersion", k, v, sub, true)
		case "ciphersuite":
			return n.str(&t.CipherSuite, "tlsDetails.cipherSuite", k, v, sub, true)
		case "clientprovidedhostheader":
			return n.str(&t.ClientProvidedHostHeader, "tlsDetails.clientProvidedHostHeader", k, v, sub, true)
		}
		return appendMember(sub, k, v)
	})
	if ok {
		r.TLSDetails = t
	}
	return resid
}

// normaliseTimestamp turns Logstash's "2020-09-14T00:44:23.000Z" into CloudTrail's
// "2020-09-14T00:44:23Z" so that string comparisons with CloudTrail times keep working.
func normaliseTimestamp(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format(time.RFC3339Nano)
}

// ParseTime parses the ISO-8601 forms event times come in: RFC 3339 with or without fractions,
// with a space in place of the T (LookupEvents), and dates without a zone (taken as UTC).
func ParseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// knownKey maps CloudTrail's own spelling of a field name (the quoted key literal) to its
// lower-case form without hashing or allocating; other spellings return "".
func knownKey(key []byte) string {
	switch string(key) {
	case `"eventVersion"`:
		return "eventversion"
	case `"userIdentity"`:
		return "useridentity"
	case `"eventTime"`:
		return "eventtime"
	case `"eventSource"`:
		return "eventsource"
	case `"eventName"`:
		return "eventname"
	case `"awsRegion"`:
		return "awsregion"
	case `"sourceIPAddress"`:
		return "sourceipaddress"
	case `"userAgent"`:
		return "useragent"
	case `"errorCode"`:
		return "errorcode"
	case `"errorMessage"`:
		return "errormessage"
	case `"requestParameters"`:
		return "requestparameters"
	case `"responseElements"`:
		return "responseelements"
	case `"additionalEventData"`:
		return "additionaleventdata"
	case `"serviceEventDetails"`:
		return "serviceeventdetails"
	case `"edgeDeviceDetails"`:
		return "edgedevicedetails"
	case `"insightDetails"`:
		return "insightdetails"
	case `"requestID"`:
		return "requestid"
	case `"eventID"`:
		return "eventid"
	case `"readOnly"`:
		return "readonly"
	case `"managementEvent"`:
		return "managementevent"
	case `"resources"`:
		return "resources"
	case `"eventType"`:
		return "eventtype"
	case `"apiVersion"`:
		return "apiversion"
	case `"recipientAccountId"`:
		return "recipientaccountid"
	case `"sharedEventID"`:
		return "sharedeventid"
	case `"vpcEndpointId"`:
		return "vpcendpointid"
	case `"vpcEndpointAccountId"`:
		return "vpcendpointaccountid"
	case `"eventCategory"`:
		return "eventcategory"
	case `"sessionCredentialFromConsole"`:
		return "sessioncredentialfromconsole"
	case `"addendum"`:
		return "addendum"
	case `"tlsDetails"`:
		return "tlsdetails"
	case `"type"`:
		return "type"
	case `"principalId"`:
		return "principalid"
	case `"arn"`:
		return "arn"
	case `"ARN"`:
		return "arn"
	case `"accountId"`:
		return "accountid"
	case `"invokedBy"`:
		return "invokedby"
	case `"accessKeyId"`:
		return "accesskeyid"
	case `"userName"`:
		return "username"
	case `"identityProvider"`:
		return "identityprovider"
	case `"inScopeOf"`:
		return "inscopeof"
	case `"onBehalfOf"`:
		return "onbehalfof"
	case `"userId"`:
		return "userid"
	case `"identityStoreArn"`:
		return "identitystorearn"
	case `"sessionContext"`:
		return "sessioncontext"
	case `"attributes"`:
		return "attributes"
	case `"mfaAuthenticated"`:
		return "mfaauthenticated"
	case `"creationDate"`:
		return "creationdate"
	case `"sessionIssuer"`:
		return "sessionissuer"
	case `"ec2RoleDelivery"`:
		return "ec2roledelivery"
	case `"sourceIdentity"`:
		return "sourceidentity"
	case `"webIdFederationData"`:
		return "webidfederationdata"
	case `"federatedProvider"`:
		return "federatedprovider"
	case `"tlsVersion"`:
		return "tlsversion"
	case `"cipherSuite"`:
		return "ciphersuite"
	case `"clientProvidedHostHeader"`:
		return "clientprovidedhostheader"
	case `"reason"`:
		return "reason"
	case `"updatedFields"`:
		return "updatedfields"
	case `"originalRequestID"`:
		return "originalrequestid"
	case `"originalEventID"`:
		return "originaleventid"
	}
	return ""
}
