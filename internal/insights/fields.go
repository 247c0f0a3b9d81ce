package insights

import (
	"strconv"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// kind is what an expression's SQL value holds, which decides how it compares and computes.
type kind int

const (
	kStr  kind = iota // VARCHAR (CloudTrail's fields, JSON payload values)
	kNum              // a number
	kBool             // a boolean
	kTime             // a timestamp (@timestamp, bin())
)

// val is an expression written in SQL.
type val struct {
	sql  string
	kind kind
}

// payloads are the VARCHAR columns that hold JSON text: a path below them is read with
// json_extract_scalar.
var payloads = map[string]bool{
	"requestparameters": true, "responseelements": true, "additionaleventdata": true,
	"serviceeventdetails": true, "edgedevicedetails": true, "insightdetails": true,
	"useridentity.inscopeof": true,
}

// spelled is a field of CloudTrail's record as a record spells it, with the fields of an object
// the lake keeps in a ROW column.
type spelled struct {
	name string
	kids []spelled
}

func leaves(names ...string) []spelled {
	out := make([]spelled, len(names))
	for i, n := range names {
		out[i] = spelled{name: n}
	}
	return out
}

// messageFields are the record's top-level fields, the keys of the JSON text @message stands for
// (the columns of Athena's CloudTrail table, in its order), with the fields of the ROW columns.
var messageFields = append(append(leaves("eventVersion"),
	spelled{"userIdentity", append(leaves("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName"),
		spelled{"onBehalfOf", leaves("userId", "identityStoreArn")},
		spelled{"sessionContext", []spelled{
			{"attributes", leaves("mfaAuthenticated", "creationDate")},
			{"sessionIssuer", leaves("type", "principalId", "arn", "accountId", "userName")},
			{name: "ec2RoleDelivery"}, {name: "sourceIdentity"},
			{"webIdFederationData", leaves("federatedProvider", "attributes")},
		}},
		spelled{name: "inScopeOf"}, spelled{name: "identityProvider"})}),
	append(leaves("eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
		"errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData", "requestID",
		"eventID", "readOnly"),
		spelled{"resources", leaves("ARN", "accountId", "type")},
		spelled{name: "eventType"}, spelled{name: "apiVersion"}, spelled{name: "recipientAccountId"},
		spelled{name: "serviceEventDetails"}, spelled{name: "sharedEventID"}, spelled{name: "vpcEndpointId"},
		spelled{name: "vpcEndpointAccountId"}, spelled{name: "eventCategory"},
		spelled{"addendum", leaves("reason", "updatedFields", "originalRequestID", "originalEventID")},
		spelled{name: "sessionCredentialFromConsole"}, spelled{name: "edgeDeviceDetails"},
		spelled{"tlsDetails", leaves("tlsVersion", "cipherSuite", "clientProvidedHostHeader")})...)

// schema is the table's columns and nested fields by their lower-case dotted path, with their
// types; a struct that holds fields is "STRUCT".
type schema map[string]string

func newSchema() schema {
	s := schema{}
	for _, c := range cloudtrail.Columns() {
		if !strings.HasPrefix(c.Type, "STRUCT(") {
			s[c.Name] = c.Type
			continue
		}
		s[c.Name] = "STRUCT"
		for _, f := range cloudtrail.Fields(c.Name) {
			s[f.Name] = f.Type
			for p := f.Name; strings.Contains(p, "."); {
				p = p[:strings.LastIndexByte(p, '.')]
				if _, ok := s[p]; !ok {
					s[p] = "STRUCT"
				}
			}
		}
	}
	return s
}

// column writes a field path of a CloudTrail event as SQL over cloudtrail_logs: a column or
// nested field (names in any case), a value inside a JSON payload column (the path below it as
// written, JSON keys being case-sensitive), an element of resources (resources.0.ARN), or,
// for a field no column holds, the value in the residual JSON column. ok is false for an @ field
// the lake does not have.
func (s schema) column(path string) (v val, ok bool) {
	switch strings.ToLower(path) {
	case "@timestamp":
		return val{"from_iso8601_timestamp(eventtime)", kTime}, true
	case "@message":
		return val{s.message(), kStr}, true
	}
	if strings.HasPrefix(path, "@") {
		return val{}, false
	}
	segs := strings.Split(path, ".")
	cur := strings.ToLower(segs[0])
	typ, known := s[cur]
	if !known {
		return residual(segs), true
	}
	x := cur
	for i := 1; i < len(segs); i++ {
		seg := segs[i]
		switch {
		case typ == "STRUCT":
			next := cur + "." + strings.ToLower(seg)
			t, ok := s[next]
			if !ok {
				return residual(segs), true
			}
			cur, typ, x = next, t, x+"."+strings.ToLower(seg)
		case strings.HasSuffix(typ, "[]"): // resources: an index, then arn, accountid or type
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n > 1<<20 {
				return residual(segs), true
			}
			x = "element_at(" + x + ", " + strconv.Itoa(n+1) + ")"
			typ = "STRUCT"
			if i+1 < len(segs) {
				name := strings.ToLower(segs[i+1])
				if name != "arn" && name != "accountid" && name != "type" || i+2 < len(segs) {
					return residual(segs), true
				}
				return val{x + "." + name, kStr}, true
			}
		case strings.HasPrefix(typ, "MAP("):
			if i+1 < len(segs) {
				return residual(segs), true
			}
			return val{"element_at(" + x + ", " + lit(seg) + ")", kStr}, true
		case payloads[cur]:
			return val{"json_extract_scalar(" + x + ", " + lit(jsonPath(segs[i:])) + ")", kStr}, true
		default: // below a scalar: only the residual holds an original that had members
			return residual(segs), true
		}
	}
	switch {
	case typ == "STRUCT" || strings.HasSuffix(typ, "[]") || strings.HasPrefix(typ, "MAP("):
		return val{"json_format(CAST(" + x + " AS JSON))", kStr}, true
	case typ == "BOOLEAN":
		return val{x, kBool}, true
	}
	return val{x, kStr}, true
}

// residual reads a field no column holds from the residual JSON column, by its path as written.
func residual(segs []string) val {
	return val{"json_extract_scalar(residual, " + lit(jsonPath(segs)) + ")", kStr}
}

// message is the JSON text @message stands for: an object of the record's fields under
// CloudTrail's names, each with its value as the lake holds it (JSON payloads as their text,
// readOnly as a boolean), absent fields as null.
func (s schema) message() string {
	return object(messageFields, "", "")
}

// object writes the JSON text of an object whose fields fs are held in the ROW expression x (""
// at the top level), whose path in the table is path.
func object(fs []spelled, x, path string) string {
	// One concat of every part: a chain of || copies the text it has built at every step.
	parts := make([]string, 0, 2*len(fs)+1)
	for i, f := range fs {
		col := strings.ToLower(f.name)
		sep := ","
		if i == 0 {
			sep = "{"
		}
		parts = append(parts, lit(sep+strconv.Quote(f.name)+":"), member(f, join(x, col), join(path, col)))
	}
	text := "concat(" + strings.Join(parts, ", ") + ", '}')"
	if x == "" {
		return text
	}
	return "CASE WHEN " + x + " IS NULL THEN 'null' ELSE " + text + " END"
}

// member writes the JSON text of one field held in expression x.
func member(f spelled, x, path string) string {
	switch {
	case path == "resources":
		e := "r"
		return "CASE WHEN " + x + " IS NULL THEN 'null' ELSE '[' || array_join(transform(" + x + ", " + e + " -> " +
			object(f.kids, e, path) + "), ',') || ']' END"
	case f.kids != nil:
		return object(f.kids, x, path)
	case payloads[path]:
		return "coalesce(" + x + ", 'null')"
	case path == "readonly":
		return "CASE WHEN " + x + " IN ('true', 'false') THEN " + x + " ELSE coalesce(json_format(CAST(" + x + " AS JSON)), 'null') END"
	}
	return "coalesce(json_format(CAST(" + x + " AS JSON)), 'null')"
}

func join(x, col string) string {
	if x == "" {
		return col
	}
	return x + "." + col
}

// jsonPath writes field names as a JSONPath: $.a.b, $.a[0], $["a-b"].
func jsonPath(segs []string) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range segs {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			b.WriteString("[" + s + "]")
			continue
		}
		if identifier(s) {
			b.WriteString("." + s)
			continue
		}
		b.WriteString("[" + strconv.Quote(s) + "]")
	}
	return b.String()
}

// identifier reports whether a name can follow a dot in a JSON path.
func identifier(s string) bool {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
	return s != "" && strings.IndexByte(letters, s[0]) >= 0 && strings.Trim(s, letters+"0123456789") == ""
}

// lit writes a SQL string literal; a quote inside is doubled, so a value stays a value.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident writes a SQL quoted identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
