// Package cloudtrail decodes CloudTrail events from every shape they are delivered in (S3 log
// files, JSON arrays, JSON lines, LookupEvents output, the console's Event history downloads) and
// normalises each event into a Record: one row of the Athena CloudTrail table, plus the fields that
// Athena's DDL drops and a residual JSON of anything no column holds, so no input is ever lost.
package cloudtrail

// Record is one CloudTrail event as a row of the table cloudtrail_logs. Column names and types
// follow the current Athena CloudTrail DDL: every scalar is a STRING (eventtime and readonly
// included) and the JSON payloads hold the JSON text of the event's object. A nil pointer is NULL.
//
// The fields after TLSDetails are not in Athena's DDL; they keep what Athena users lose.
type Record struct {
	EventVersion                 *string       `parquet:"eventversion,optional"`
	UserIdentity                 *UserIdentity `parquet:"useridentity,optional"`
	EventTime                    *string       `parquet:"eventtime,optional"`
	EventSource                  *string       `parquet:"eventsource,optional"`
	EventName                    *string       `parquet:"eventname,optional"`
	AWSRegion                    *string       `parquet:"awsregion,optional"`
	SourceIPAddress              *string       `parquet:"sourceipaddress,optional"`
	UserAgent                    *string       `parquet:"useragent,optional"`
	ErrorCode                    *string       `parquet:"errorcode,optional"`
	ErrorMessage                 *string       `parquet:"errormessage,optional"`
	RequestParameters            *string       `parquet:"requestparameters,optional"`
	ResponseElements             *string       `parquet:"responseelements,optional"`
	AdditionalEventData          *string       `parquet:"additionaleventdata,optional"`
	RequestID                    *string       `parquet:"requestid,optional"`
	EventID                      *string       `parquet:"eventid,optional"`
	ReadOnly                     *string       `parquet:"readonly,optional"`
	Resources                    []Resource    `parquet:"resources,optional,list"`
	EventType                    *string       `parquet:"eventtype,optional"`
	APIVersion                   *string       `parquet:"apiversion,optional"`
	RecipientAccountID           *string       `parquet:"recipientaccountid,optional"`
	ServiceEventDetails          *string       `parquet:"serviceeventdetails,optional"`
	SharedEventID                *string       `parquet:"sharedeventid,optional"`
	VPCEndpointID                *string       `parquet:"vpcendpointid,optional"`
	VPCEndpointAccountID         *string       `parquet:"vpcendpointaccountid,optional"`
	EventCategory                *string       `parquet:"eventcategory,optional"`
	Addendum                     *Addendum     `parquet:"addendum,optional"`
	SessionCredentialFromConsole *string       `parquet:"sessioncredentialfromconsole,optional"`
	EdgeDeviceDetails            *string       `parquet:"edgedevicedetails,optional"`
	TLSDetails                   *TLSDetails   `parquet:"tlsdetails,optional"`

	// ManagementEvent is the event's managementEvent flag, dropped by Athena's DDL.
	ManagementEvent *bool `parquet:"managementevent,optional"`
	// InsightDetails is the JSON text of an Insights event's insightDetails.
	InsightDetails *string `parquet:"insightdetails,optional"`
	// Residual is a JSON object holding, at their original paths, every field no column holds and
	// every value whose column could not hold it as it was (a string "true" in a boolean field, a
	// number where a string belongs). Merged over the columns it rebuilds the original record.
	Residual *string `parquet:"residual,optional"`
}

// UserIdentity is the userIdentity element.
type UserIdentity struct {
	Type           *string         `parquet:"type,optional"`
	PrincipalID    *string         `parquet:"principalid,optional"`
	ARN            *string         `parquet:"arn,optional"`
	AccountID      *string         `parquet:"accountid,optional"`
	InvokedBy      *string         `parquet:"invokedby,optional"`
	AccessKeyID    *string         `parquet:"accesskeyid,optional"`
	UserName       *string         `parquet:"username,optional"`
	OnBehalfOf     *OnBehalfOf     `parquet:"onbehalfof,optional"`
	SessionContext *SessionContext `parquet:"sessioncontext,optional"`
	// InScopeOf is the JSON text of userIdentity.inScopeOf (not in Athena's DDL).
	InScopeOf *string `parquet:"inscopeof,optional"`
	// IdentityProvider is userIdentity.identityProvider (not in Athena's DDL).
	IdentityProvider *string `parquet:"identityprovider,optional"`
}

// OnBehalfOf is userIdentity.onBehalfOf (IAM Identity Center users).
type OnBehalfOf struct {
	UserID           *string `parquet:"userid,optional"`
	IdentityStoreARN *string `parquet:"identitystorearn,optional"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	Attributes          *SessionAttributes   `parquet:"attributes,optional"`
	SessionIssuer       *SessionIssuer       `parquet:"sessionissuer,optional"`
	EC2RoleDelivery     *string              `parquet:"ec2roledelivery,optional"`
	WebIDFederationData *WebIDFederationData `parquet:"webidfederationdata,optional"`
	// SourceIdentity is sessionContext.sourceIdentity (not in Athena's DDL).
	SourceIdentity *string `parquet:"sourceidentity,optional"`
}

// SessionAttributes is sessionContext.attributes.
type SessionAttributes struct {
	MFAAuthenticated *string `parquet:"mfaauthenticated,optional"`
	CreationDate     *string `parquet:"creationdate,optional"`
}

// SessionIssuer is sessionContext.sessionIssuer.
type SessionIssuer struct {
	Type        *string `parquet:"type,optional"`
	PrincipalID *string `parquet:"principalid,optional"`
	ARN         *string `parquet:"arn,optional"`
	AccountID   *string `parquet:"accountid,optional"`
	UserName    *string `parquet:"username,optional"`
}

// WebIDFederationData is sessionContext.webIdFederationData.
type WebIDFederationData struct {
	FederatedProvider *string           `parquet:"federatedprovider,optional"`
	Attributes        map[string]string `parquet:"attributes,optional"`
}

// Resource is one element of the resources array.
type Resource struct {
	ARN       *string `parquet:"arn,optional"`
	AccountID *string `parquet:"accountid,optional"`
	Type      *string `parquet:"type,optional"`
}

// Addendum is the addendum element of events delivered late or changed after delivery.
type Addendum struct {
	Reason            *string `parquet:"reason,optional"`
	UpdatedFields     *string `parquet:"updatedfields,optional"`
	OriginalRequestID *string `parquet:"originalrequestid,optional"`
	OriginalEventID   *string `parquet:"originaleventid,optional"`
}

// TLSDetails is the tlsDetails element.
type TLSDetails struct {
	TLSVersion               *string `parquet:"tlsversion,optional"`
	CipherSuite              *string `parquet:"ciphersuite,optional"`
	ClientProvidedHostHeader *string `parquet:"clientprovidedhostheader,optional"`
}

// Partition is the Hive partition an event is stored in. Empty values are unknown and stored as
// Hive's default partition (NULL when read).
type Partition struct {
	Account, Region, Year, Month, Day string
}

// Column describes one column of cloudtrail_logs for `trailsql schema` and the README.
type Column struct {
	Name, Type, Doc string
	// Athena is false for the columns the Athena DDL does not have.
	Athena bool
}
