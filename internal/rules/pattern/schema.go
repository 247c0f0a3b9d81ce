package pattern

// kind says how the lake stores a CloudTrail field, which decides how SQL reads the event's
// original value back (see internal/cloudtrail's Normalizer): what a column holds as it was, and
// what goes to the residual JSON column instead.
type kind int

const (
	// kStr is a VARCHAR column holding a string's value; a number or boolean is held as its JSON
	// text, an object or array as its JSON text too, each also kept as it was in the residual. A
	// null is stored as NULL, like an absent field.
	kStr kind = iota
	// kStrKept is a VARCHAR column that holds the event's string when the residual holds nothing
	// at its path; otherwise the residual holds the original (sessionCredentialFromConsole).
	kStrKept
	// kBoolText is a VARCHAR column holding 'true' or 'false' for a JSON boolean when the
	// residual holds nothing at its path; otherwise the residual holds the original (readOnly).
	kBoolText
	// kBool is a BOOLEAN column holding a JSON boolean when the residual holds nothing at its
	// path (managementEvent).
	kBool
	// kPayload is a VARCHAR column holding the JSON text of an object or array; a string, number
	// or boolean is kept as it was in the residual (requestParameters, …).
	kPayload
	// kStruct is a ROW column holding an object's known members; other members, and a value that
	// is not an object, are in the residual.
	kStruct
	// kResources is the resources column, an array of ROW(arn, accountid, type); when any element
	// has another member, another spelling, a value that is not a string or is not an object, the
	// whole array is in the residual as it was.
	kResources
	// kMap is a MAP(VARCHAR, VARCHAR) of an object whose values are all strings; otherwise the
	// whole object is in the residual as it was (webIdFederationData.attributes).
	kMap
)

// field is one of CloudTrail's fields as the lake stores it.
type field struct {
	name string // CloudTrail's spelling
	col  string // the column, or the ROW field
	kind kind
	kids []*field
}

func str(name string) *field { return &field{name: name, col: lower(name), kind: kStr} }
func payload(name string) *field {
	return &field{name: name, col: lower(name), kind: kPayload}
}
func object(name string, kids ...*field) *field {
	return &field{name: name, col: lower(name), kind: kStruct, kids: kids}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// resourceFields are the members of a resources element the column holds, spelt as CloudTrail
// spells them; another spelling puts the whole array in the residual.
var resourceFields = []*field{{name: "ARN", col: "arn", kind: kStr}, {name: "accountId", col: "accountid", kind: kStr}, {name: "type", col: "type", kind: kStr}}

// schema is the record's top level as the table cloudtrail_logs holds it (internal/cloudtrail's
// Record; its test checks that every column is here).
var schema = []*field{
	str("eventVersion"),
	object("userIdentity",
		str("type"), str("principalId"), str("arn"), str("accountId"), str("invokedBy"),
		str("accessKeyId"), str("userName"), str("identityProvider"), payload("inScopeOf"),
		object("onBehalfOf", str("userId"), str("identityStoreArn")),
		object("sessionContext",
			object("attributes", str("mfaAuthenticated"), str("creationDate")),
			object("sessionIssuer", str("type"), str("principalId"), str("arn"), str("accountId"), str("userName")),
			str("ec2RoleDelivery"), str("sourceIdentity"),
			object("webIdFederationData", str("federatedProvider"), &field{name: "attributes", col: "attributes", kind: kMap}),
		),
	),
	str("eventTime"), str("eventSource"), str("eventName"), str("awsRegion"), str("sourceIPAddress"),
	str("userAgent"), str("errorCode"), str("errorMessage"),
	payload("requestParameters"), payload("responseElements"), payload("additionalEventData"),
	str("requestID"), str("eventID"),
	{name: "readOnly", col: "readonly", kind: kBoolText},
	{name: "resources", col: "resources", kind: kResources, kids: resourceFields},
	str("eventType"), str("apiVersion"), str("recipientAccountId"),
	payload("serviceEventDetails"),
	str("sharedEventID"), str("vpcEndpointId"), str("vpcEndpointAccountId"), str("eventCategory"),
	object("addendum", str("reason"), str("updatedFields"), str("originalRequestID"), str("originalEventID")),
	{name: "sessionCredentialFromConsole", col: "sessioncredentialfromconsole", kind: kStrKept},
	payload("edgeDeviceDetails"),
	object("tlsDetails", str("tlsVersion"), str("cipherSuite"), str("clientProvidedHostHeader")),
	{name: "managementEvent", col: "managementevent", kind: kBool},
	payload("insightDetails"),
}
