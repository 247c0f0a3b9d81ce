package roweval

import (
	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// column is a column of cloudtrail_logs (or a field of one of its structs) that expressions
// can read: its getter and type.
type column struct {
	get func(r *Row) value
	t   vtype
	// text, for a VARCHAR column, is its string, without a value built around it (false: NULL), for
	// the conditions compiled to typed functions (fast.go).
	text func(r *Row) (string, bool)
}

func str(f func(r *cloudtrail.Record) *string) column {
	return column{get: func(r *Row) value { return strPtr(f(r.Rec)) }, t: yStr,
		text: func(r *Row) (string, bool) {
			if p := f(r.Rec); p != nil {
				return *p, true
			}
			return "", false
		}}
}

func part(f func(r *Row) string) column {
	// An empty partition value is Hive's default partition: NULL when read.
	text := func(r *Row) (string, bool) {
		s := f(r)
		return s, s != ""
	}
	return column{get: func(r *Row) value {
		if s, ok := text(r); ok {
			return strVal(s)
		}
		return null
	}, t: yStr, text: text}
}

// The nested structs of a record, nil when absent.
func ui(r *cloudtrail.Record) *cloudtrail.UserIdentity { return r.UserIdentity }
func sc(r *cloudtrail.Record) *cloudtrail.SessionContext {
	if r.UserIdentity == nil {
		return nil
	}
	return r.UserIdentity.SessionContext
}
func issuer(r *cloudtrail.Record) *cloudtrail.SessionIssuer {
	if s := sc(r); s != nil {
		return s.SessionIssuer
	}
	return nil
}
func attrs(r *cloudtrail.Record) *cloudtrail.SessionAttributes {
	if s := sc(r); s != nil {
		return s.Attributes
	}
	return nil
}
func webID(r *cloudtrail.Record) *cloudtrail.WebIDFederationData {
	if s := sc(r); s != nil {
		return s.WebIDFederationData
	}
	return nil
}
func onBehalf(r *cloudtrail.Record) *cloudtrail.OnBehalfOf {
	if u := ui(r); u != nil {
		return u.OnBehalfOf
	}
	return nil
}

// columns are the scalar columns and struct fields expressions can read, by their dotted path
// in lower case. Whole structs, the resources array and the attributes map are not among them:
// an expression reading them is not evaluated here.
var columns = map[string]column{
	"eventversion":         str(func(r *cloudtrail.Record) *string { return r.EventVersion }),
	"eventtime":            str(func(r *cloudtrail.Record) *string { return r.EventTime }),
	"eventsource":          str(func(r *cloudtrail.Record) *string { return r.EventSource }),
	"eventname":            str(func(r *cloudtrail.Record) *string { return r.EventName }),
	"awsregion":            str(func(r *cloudtrail.Record) *string { return r.AWSRegion }),
	"sourceipaddress":      str(func(r *cloudtrail.Record) *string { return r.SourceIPAddress }),
	"useragent":            str(func(r *cloudtrail.Record) *string { return r.UserAgent }),
	"errorcode":            str(func(r *cloudtrail.Record) *string { return r.ErrorCode }),
	"errormessage":         str(func(r *cloudtrail.Record) *string { return r.ErrorMessage }),
	"requestparameters":    str(func(r *cloudtrail.Record) *string { return r.RequestParameters }),
	"responseelements":     str(func(r *cloudtrail.Record) *string { return r.ResponseElements }),
	"additionaleventdata":  str(func(r *cloudtrail.Record) *string { return r.AdditionalEventData }),
	"requestid":            str(func(r *cloudtrail.Record) *string { return r.RequestID }),
	"eventid":              str(func(r *cloudtrail.Record) *string { return r.EventID }),
	"readonly":             str(func(r *cloudtrail.Record) *string { return r.ReadOnly }),
	"eventtype":            str(func(r *cloudtrail.Record) *string { return r.EventType }),
	"apiversion":           str(func(r *cloudtrail.Record) *string { return r.APIVersion }),
	"recipientaccountid":   str(func(r *cloudtrail.Record) *string { return r.RecipientAccountID }),
	"serviceeventdetails":  str(func(r *cloudtrail.Record) *string { return r.ServiceEventDetails }),
	"sharedeventid":        str(func(r *cloudtrail.Record) *string { return r.SharedEventID }),
	"vpcendpointid":        str(func(r *cloudtrail.Record) *string { return r.VPCEndpointID }),
	"vpcendpointaccountid": str(func(r *cloudtrail.Record) *string { return r.VPCEndpointAccountID }),
	"eventcategory":        str(func(r *cloudtrail.Record) *string { return r.EventCategory }),
	"sessioncredentialfromconsole": str(func(r *cloudtrail.Record) *string {
		return r.SessionCredentialFromConsole
	}),
	"edgedevicedetails": str(func(r *cloudtrail.Record) *string { return r.EdgeDeviceDetails }),
	"insightdetails":    str(func(r *cloudtrail.Record) *string { return r.InsightDetails }),
	"residual":          str(func(r *cloudtrail.Record) *string { return r.Residual }),
	"managementevent": {get: func(r *Row) value {
		if b := r.Rec.ManagementEvent; b != nil {
			return boolVal(*b)
		}
		return null
	}, t: yBool},

	"useridentity.type": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.Type })
	}),
	"useridentity.principalid": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.PrincipalID })
	}),
	"useridentity.arn": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.ARN })
	}),
	"useridentity.accountid": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.AccountID })
	}),
	"useridentity.invokedby": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.InvokedBy })
	}),
	"useridentity.accesskeyid": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.AccessKeyID })
	}),
	"useridentity.username": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.UserName })
	}),
	"useridentity.inscopeof": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.InScopeOf })
	}),
	"useridentity.identityprovider": str(func(r *cloudtrail.Record) *string {
		return field(ui(r), func(u *cloudtrail.UserIdentity) *string { return u.IdentityProvider })
	}),
	"useridentity.onbehalfof.userid": str(func(r *cloudtrail.Record) *string {
		return field(onBehalf(r), func(o *cloudtrail.OnBehalfOf) *string { return o.UserID })
	}),
	"useridentity.onbehalfof.identitystorearn": str(func(r *cloudtrail.Record) *string {
		return field(onBehalf(r), func(o *cloudtrail.OnBehalfOf) *string { return o.IdentityStoreARN })
	}),
	"useridentity.sessioncontext.ec2roledelivery": str(func(r *cloudtrail.Record) *string {
		return field(sc(r), func(s *cloudtrail.SessionContext) *string { return s.EC2RoleDelivery })
	}),
	"useridentity.sessioncontext.sourceidentity": str(func(r *cloudtrail.Record) *string {
		return field(sc(r), func(s *cloudtrail.SessionContext) *string { return s.SourceIdentity })
	}),
	"useridentity.sessioncontext.attributes.mfaauthenticated": str(func(r *cloudtrail.Record) *string {
		return field(attrs(r), func(a *cloudtrail.SessionAttributes) *string { return a.MFAAuthenticated })
	}),
	"useridentity.sessioncontext.attributes.creationdate": str(func(r *cloudtrail.Record) *string {
		return field(attrs(r), func(a *cloudtrail.SessionAttributes) *string { return a.CreationDate })
	}),
	"useridentity.sessioncontext.sessionissuer.type": str(func(r *cloudtrail.Record) *string {
		return field(issuer(r), func(s *cloudtrail.SessionIssuer) *string { return s.Type })
	}),
	"useridentity.sessioncontext.sessionissuer.principalid": str(func(r *cloudtrail.Record) *string {
		return field(issuer(r), func(s *cloudtrail.SessionIssuer) *string { return s.PrincipalID })
	}),
	"useridentity.sessioncontext.sessionissuer.arn": str(func(r *cloudtrail.Record) *string {
		return field(issuer(r), func(s *cloudtrail.SessionIssuer) *string { return s.ARN })
	}),
	"useridentity.sessioncontext.sessionissuer.accountid": str(func(r *cloudtrail.Record) *string {
		return field(issuer(r), func(s *cloudtrail.SessionIssuer) *string { return s.AccountID })
	}),
	"useridentity.sessioncontext.sessionissuer.username": str(func(r *cloudtrail.Record) *string {
		return field(issuer(r), func(s *cloudtrail.SessionIssuer) *string { return s.UserName })
	}),
	"useridentity.sessioncontext.webidfederationdata.federatedprovider": str(func(r *cloudtrail.Record) *string {
		return field(webID(r), func(w *cloudtrail.WebIDFederationData) *string { return w.FederatedProvider })
	}),

	"addendum.reason": str(func(r *cloudtrail.Record) *string {
		return field(r.Addendum, func(a *cloudtrail.Addendum) *string { return a.Reason })
	}),
	"addendum.updatedfields": str(func(r *cloudtrail.Record) *string {
		return field(r.Addendum, func(a *cloudtrail.Addendum) *string { return a.UpdatedFields })
	}),
	"addendum.originalrequestid": str(func(r *cloudtrail.Record) *string {
		return field(r.Addendum, func(a *cloudtrail.Addendum) *string { return a.OriginalRequestID })
	}),
	"addendum.originaleventid": str(func(r *cloudtrail.Record) *string {
		return field(r.Addendum, func(a *cloudtrail.Addendum) *string { return a.OriginalEventID })
	}),

	"tlsdetails.tlsversion": str(func(r *cloudtrail.Record) *string {
		return field(r.TLSDetails, func(t *cloudtrail.TLSDetails) *string { return t.TLSVersion })
	}),
	"tlsdetails.ciphersuite": str(func(r *cloudtrail.Record) *string {
		return field(r.TLSDetails, func(t *cloudtrail.TLSDetails) *string { return t.CipherSuite })
	}),
	"tlsdetails.clientprovidedhostheader": str(func(r *cloudtrail.Record) *string {
		return field(r.TLSDetails, func(t *cloudtrail.TLSDetails) *string { return t.ClientProvidedHostHeader })
	}),

	"resources": {get: func(r *Row) value {
		rs := r.Rec.Resources
		if rs == nil {
			return null
		}
		l := make([]value, len(rs))
		for i := range rs {
			l[i] = value{k: kRes, r: &rs[i]}
		}
		return value{k: kList, l: l}
	}, t: yList},

	// Structs as a whole, for IS [NOT] NULL.
	"useridentity":                                    {get: present(func(r *cloudtrail.Record) bool { return r.UserIdentity != nil }), t: yStruct},
	"useridentity.sessioncontext":                     {get: present(func(r *cloudtrail.Record) bool { return sc(r) != nil }), t: yStruct},
	"useridentity.sessioncontext.attributes":          {get: present(func(r *cloudtrail.Record) bool { return attrs(r) != nil }), t: yStruct},
	"useridentity.sessioncontext.sessionissuer":       {get: present(func(r *cloudtrail.Record) bool { return issuer(r) != nil }), t: yStruct},
	"useridentity.sessioncontext.webidfederationdata": {get: present(func(r *cloudtrail.Record) bool { return webID(r) != nil }), t: yStruct},
	"useridentity.onbehalfof":                         {get: present(func(r *cloudtrail.Record) bool { return onBehalf(r) != nil }), t: yStruct},
	"addendum":                                        {get: present(func(r *cloudtrail.Record) bool { return r.Addendum != nil }), t: yStruct},
	"tlsdetails":                                      {get: present(func(r *cloudtrail.Record) bool { return r.TLSDetails != nil }), t: yStruct},
	"useridentity.sessioncontext.webidfederationdata.attributes": {get: func(r *Row) value {
		if w := webID(r.Rec); w != nil && w.Attributes != nil {
			return value{k: kMap, m: w.Attributes}
		}
		return null
	}, t: yMap},

	"account": part(func(r *Row) string { return r.Part.Account }),
	"region":  part(func(r *Row) string { return r.Part.Region }),
	"year":    part(func(r *Row) string { return r.Part.Year }),
	"month":   part(func(r *Row) string { return r.Part.Month }),
	"day":     part(func(r *Row) string { return r.Part.Day }),
}

// field reads a field of a struct that may be absent.
func field[T any](s *T, f func(*T) *string) *string {
	if s == nil {
		return nil
	}
	return f(s)
}

// resourceFields are the fields of an element of resources.
var resourceFields = map[string]func(r *cloudtrail.Resource) *string{
	"arn":       func(r *cloudtrail.Resource) *string { return r.ARN },
	"accountid": func(r *cloudtrail.Resource) *string { return r.AccountID },
	"type":      func(r *cloudtrail.Resource) *string { return r.Type },
}

func present(f func(r *cloudtrail.Record) bool) func(r *Row) value {
	return func(r *Row) value {
		if f(r.Rec) {
			return value{k: kStruct}
		}
		return null
	}
}
