package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// HashVersion is the version of Hash that the lake records beside the hashes it stores. Version
// 1 (HashV1) hashed the JSON payloads and the residual with their keys in the order delivered, so
// one event delivered twice with its requestParameters' keys in another order was stored twice;
// version 2 (Hash) sorts the keys of every object inside them first.
const HashVersion = 2

// Hash identifies a record by its content: two deliveries of the same event (pretty or compact,
// from an S3 log file or LookupEvents, with the keys of its objects in any order) hash alike,
// while different events that share an eventID do not. It is the xxhash of the record's canonical
// JSON (AppendCanonical, whose column order is fixed) in which every object of the JSON payloads
// and of the residual has its members sorted by key and every string is escaped as
// AppendJSONString escapes it. A record whose nested keys are sorted already hashes as HashV1.
func Hash(r *Record) uint64 {
	var h Hasher
	return h.Sum(r)
}

// HashV1 is the content hash of lakes written before HashVersion 2: the same canonical JSON, but
// the payloads and the residual as delivered. Writers still compute it for lakes that hold
// version-1 hashes, so that a record stored then is recognised now.
func HashV1(r *Record) uint64 {
	var h Hasher
	return h.SumV1(r)
}

// Hasher computes Hash and HashV1 reusing its buffers; one per goroutine.
type Hasher struct {
	buf     []byte
	members []member // objects being sorted, innermost last
}

// Sum returns Hash(r).
func (h *Hasher) Sum(r *Record) uint64 {
	b := appendCanonical(h.buf[:0], r, h)
	if r.Residual != nil {
		b = append(b, 0)
		b = h.appendSorted(b, readOnlyBytes(*r.Residual))
	}
	h.buf = b
	return xxhash.Sum64(b)
}

// SumV1 returns HashV1(r).
func (h *Hasher) SumV1(r *Record) uint64 {
	b := AppendCanonical(h.buf[:0], r)
	if r.Residual != nil {
		b = append(b, 0)
		b = append(b, *r.Residual...)
	}
	h.buf = b
	return xxhash.Sum64(b)
}

// member is one member of an object being sorted.
type member struct{ key, val []byte }

// appendSorted appends the compact JSON value v with the members of every object sorted by key
// (byte order of the escaped key, keys with escapes rewritten as AppendJSONString writes them)
// and strings with escapes rewritten likewise. Members with equal keys keep their order.
func (h *Hasher) appendSorted(dst, v []byte) []byte {
	if len(v) == 0 {
		return dst
	}
	switch v[0] {
	case '{':
		start := len(h.members)
		eachMember(v, func(k []byte, kesc bool, val []byte) {
			if kesc {
				k = AppendJSONString(nil, unquote(k, true))
			}
			h.members = append(h.members, member{k, val})
		})
		ms := h.members[start:]
		if !slices.IsSortedFunc(ms, compareMembers) {
			slices.SortStableFunc(ms, compareMembers)
		}
		dst = append(dst, '{')
		for i := range ms {
			if i > 0 {
				dst = append(dst, ',')
			}
			m := h.members[start+i] // the slice may move as nested objects are sorted
			dst = append(dst, m.key...)
			dst = append(dst, ':')
			dst = h.appendSorted(dst, m.val)
		}
		clear(h.members[start:])
		h.members = h.members[:start]
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		eachElement(v, func(i int, el []byte) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = h.appendSorted(dst, el)
		})
		return append(dst, ']')
	case '"':
		if bytes.IndexByte(v, '\\') >= 0 {
			return AppendJSONString(dst, unquote(v, true))
		}
	}
	return append(dst, v...)
}

func compareMembers(a, b member) int { return bytes.Compare(a.key, b.key) }

// readOnlyBytes returns the bytes of s without copying them; they must not be written to.
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// AppendCanonical appends the JSON of the record's columns with CloudTrail's field names, NULL
// columns left out. Merged with the residual (see Rebuild) it is the original event.
func AppendCanonical(b []byte, r *Record) []byte { return appendCanonical(b, r, nil) }

// appendCanonical is AppendCanonical; with a Hasher, the JSON payloads are written with their
// keys sorted (see Hasher.appendSorted).
func appendCanonical(b []byte, r *Record, h *Hasher) []byte {
	w := objWriter{b: append(b, '{'), h: h}
	w.str("eventVersion", r.EventVersion)
	if u := r.UserIdentity; u != nil {
		w.open("userIdentity")
		w.str("type", u.Type)
		w.str("principalId", u.PrincipalID)
		w.str("arn", u.ARN)
		w.str("accountId", u.AccountID)
		w.str("invokedBy", u.InvokedBy)
		w.str("accessKeyId", u.AccessKeyID)
		w.str("userName", u.UserName)
		w.str("identityProvider", u.IdentityProvider)
		w.raw("inScopeOf", u.InScopeOf)
		if o := u.OnBehalfOf; o != nil {
			w.open("onBehalfOf")
			w.str("userId", o.UserID)
			w.str("identityStoreArn", o.IdentityStoreARN)
			w.close()
		}
		if sc := u.SessionContext; sc != nil {
			w.open("sessionContext")
			if s := sc.SessionIssuer; s != nil {
				w.open("sessionIssuer")
				w.str("type", s.Type)
				w.str("principalId", s.PrincipalID)
				w.str("arn", s.ARN)
				w.str("accountId", s.AccountID)
				w.str("userName", s.UserName)
				w.close()
			}
			if wf := sc.WebIDFederationData; wf != nil {
				w.open("webIdFederationData")
				w.str("federatedProvider", wf.FederatedProvider)
				if wf.Attributes != nil {
					w.open("attributes")
					keys := make([]string, 0, len(wf.Attributes))
					for k := range wf.Attributes {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						w.key(k) // a map key: may need escaping
						w.b = AppendJSONString(w.b, wf.Attributes[k])
					}
					w.close()
				}
				w.close()
			}
			if a := sc.Attributes; a != nil {
				w.open("attributes")
				w.str("creationDate", a.CreationDate)
				w.str("mfaAuthenticated", a.MFAAuthenticated)
				w.close()
			}
			w.str("sourceIdentity", sc.SourceIdentity)
			w.str("ec2RoleDelivery", sc.EC2RoleDelivery)
			w.close()
		}
		w.close()
	}
	w.str("eventTime", r.EventTime)
	w.str("eventSource", r.EventSource)
	w.str("eventName", r.EventName)
	w.str("awsRegion", r.AWSRegion)
	w.str("sourceIPAddress", r.SourceIPAddress)
	w.str("userAgent", r.UserAgent)
	w.str("errorCode", r.ErrorCode)
	w.str("errorMessage", r.ErrorMessage)
	w.raw("requestParameters", r.RequestParameters)
	w.raw("responseElements", r.ResponseElements)
	w.raw("additionalEventData", r.AdditionalEventData)
	w.str("requestID", r.RequestID)
	w.str("eventID", r.EventID)
	w.boolStr("readOnly", r.ReadOnly)
	if r.Resources != nil {
		w.name("resources")
		w.b = append(w.b, '[')
		for i := range r.Resources {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			res := &r.Resources[i]
			w.b = append(w.b, '{')
			w.str("accountId", res.AccountID)
			w.str("type", res.Type)
			w.str("ARN", res.ARN)
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	}
	w.str("eventType", r.EventType)
	w.str("apiVersion", r.APIVersion)
	if r.ManagementEvent != nil {
		w.name("managementEvent")
		w.b = strconv.AppendBool(w.b, *r.ManagementEvent)
	}
	w.str("recipientAccountId", r.RecipientAccountID)
	w.raw("serviceEventDetails", r.ServiceEventDetails)
	w.str("sharedEventID", r.SharedEventID)
	w.str("vpcEndpointId", r.VPCEndpointID)
	w.str("vpcEndpointAccountId", r.VPCEndpointAccountID)
	w.str("eventCategory", r.EventCategory)
	if a := r.Addendum; a != nil {
		w.open("addendum")
		w.str("reason", a.Reason)
		w.str("updatedFields", a.UpdatedFields)
		w.str("originalRequestID", a.OriginalRequestID)
		w.str("originalEventID", a.OriginalEventID)
		w.close()
	}
	w.str("sessionCredentialFromConsole", r.SessionCredentialFromConsole)
	w.raw("edgeDeviceDetails", r.EdgeDeviceDetails)
	if t := r.TLSDetails; t != nil {
		w.open("tlsDetails")
		w.str("tlsVersion", t.TLSVersion)
		w.str("cipherSuite", t.CipherSuite)
		w.str("clientProvidedHostHeader", t.ClientProvidedHostHeader)
		w.close()
	}
	w.raw("insightDetails", r.InsightDetails)
	return append(w.b, '}')
}

// objWriter appends JSON object members, tracking whether a comma is due.
type objWriter struct {
	b []byte
	h *Hasher // sorts the payloads' keys when set
}

func (w *objWriter) key(k string) {
	if len(w.b) > 0 && w.b[len(w.b)-1] != '{' && w.b[len(w.b)-1] != '[' {
		w.b = append(w.b, ',')
	}
	w.b = AppendJSONString(w.b, k)
	w.b = append(w.b, ':')
}

// name writes the key of a member named by one of CloudTrail's field names, which are ASCII
// letters and need no escaping (map keys go through key).
func (w *objWriter) name(k string) {
	if len(w.b) > 0 && w.b[len(w.b)-1] != '{' && w.b[len(w.b)-1] != '[' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) open(k string) {
	w.name(k)
	w.b = append(w.b, '{')
}

func (w *objWriter) close() { w.b = append(w.b, '}') }

func (w *objWriter) str(k string, v *string) {
	if v == nil {
		return
	}
	w.name(k)
	w.b = AppendJSONString(w.b, *v)
}

// raw writes a payload column: its text is JSON already (the residual records the rare payload
// that was a JSON string or scalar, and overrides this on rebuild).
func (w *objWriter) raw(k string, v *string) {
	if v == nil {
		return
	}
	w.name(k)
	if s := *v; len(s) > 0 && (s[0] == '{' || s[0] == '[') {
		if w.h != nil {
			w.b = w.h.appendSorted(w.b, readOnlyBytes(s))
			return
		}
		w.b = append(w.b, s...)
		return
	}
	w.b = AppendJSONString(w.b, *v)
}

// boolStr writes "true"/"false" columns back as the JSON booleans CloudTrail wrote.
func (w *objWriter) boolStr(k string, v *string) {
	if v == nil {
		return
	}
	w.name(k)
	if *v == "true" || *v == "false" {
		w.b = append(w.b, *v...)
		return
	}
	w.b = AppendJSONString(w.b, *v)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal, escaping as encoding/json does (without
// HTML escaping).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	sb := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	for i := 0; i < len(s); i++ {
		// Most strings need no escape: look at eight bytes at a time.
		for i+8 <= len(s) {
			if m := stringStops(binary.LittleEndian.Uint64(sb[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Rebuild returns the original event as JSON: the columns, with the residual merged over them.
// Fields that were JSON null come back absent; everything else is as delivered (key order may
// differ).
func Rebuild(r *Record) []byte {
	b := AppendCanonical(nil, r)
	if r.Residual == nil {
		return b
	}
	return mergeJSON(nil, b, []byte(*r.Residual))
}

// mergeJSON appends the union of two JSON objects; b's members win, objects merge recursively.
func mergeJSON(dst, a, b []byte) []byte {
	type member struct{ key, val []byte }
	var bm []member
	eachMember(b, func(k []byte, _ bool, v []byte) { bm = append(bm, member{k, v}) })
	used := make([]bool, len(bm))
	find := func(k []byte) int {
		for i, m := range bm {
			if string(m.key) == string(k) {
				return i
			}
		}
		return -1
	}
	dst = append(dst, '{')
	first := true
	add := func(k, v []byte, merge []byte) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, k...)
		dst = append(dst, ':')
		if merge != nil {
			dst = mergeJSON(dst, v, merge)
		} else {
			dst = append(dst, v...)
		}
	}
	eachMember(a, func(k []byte, _ bool, v []byte) {
		i := find(k)
		switch {
		case i < 0:
			add(k, v, nil)
		case v[0] == '{' && bm[i].val[0] == '{':
			used[i] = true
			add(k, v, bm[i].val)
		default:
			used[i] = true
			add(k, bm[i].val, nil)
		}
	})
	for i, m := range bm {
		if !used[i] {
			add(m.key, m.val, nil)
		}
	}
	return append(dst, '}')
}

// RebuildRow returns the original event of a lake row given as the JSON of its record (the
// columns and the residual, as the engine hands a whole row over): what 'query --original' prints.
func RebuildRow(row string) ([]byte, error) {
	var rec Record
	if err := json.Unmarshal([]byte(row), &rec); err != nil {
		return nil, fmt.Errorf("rebuild record: %w", err)
	}
	return Rebuild(&rec), nil
}
