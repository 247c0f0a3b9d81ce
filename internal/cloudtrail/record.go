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
	EventVersion                 *string       `parquet:"eventversion,optional,dict"`
	UserIdentity                 *UserIdentity `parquet:"useridentity,optional"`
	EventTime                    *string       `parquet:"eventtime,optional"`
	EventSource                  *string       `parquet:"eventsource,optional,dict"`
	EventName                    *string       `parquet:"eventname,optional,dict"`
	AWSRegion                    *string       `parquet:"awsregion,optional,dict"`
	SourceIPAddress              *string       `parquet:"sourceipaddress,optional,dict"`
	UserAgent                    *string       `parquet:"useragent,optional,dict"`
	ErrorCode                    *string       `parquet:"errorcode,optional,dict"`
	ErrorMessage                 *string       `parquet:"errormessage,optional,dict"`
	RequestParameters            *string       `parquet:"requestparameters,optional"`
	ResponseElements             *string       `parquet:"responseelements,optional"`
	AdditionalEventData          *string       `parquet:"additionaleventdata,optional"`
	RequestID                    *string       `parquet:"requestid,optional"`
	EventID                      *string       `parquet:"eventid,optional"`
	ReadOnly                     *string       `parquet:"readonly,optional,dict"`
	Resources                    []Resource    `parquet:"resources,optional,list"`
	EventType                    *string       `parquet:"eventtype,optional,dict"`
	APIVersion                   *string       `parquet:"apiversion,optional,dict"`
	RecipientAccountID           *string       `parquet:"recipientaccountid,optional,dict"`
	ServiceEventDetails          *string       `parquet:"serviceeventdetails,optional"`
	SharedEventID                *string       `parquet:"sharedeventid,optional"`
	VPCEndpointID                *string       `parquet:"vpcendpointid,optional,dict"`
	VPCEndpointAccountID         *string       `parquet:"vpcendpointaccountid,optional,dict"`
	EventCategory                *string       `parquet:"eventcategory,optional,dict"`
	Addendum                     *Addendum     `parquet:"addendum,optional"`
	SessionCredentialFromConsole *string       `parquet:"sessioncredentialfromconsole,optional,dict"`
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
	Type           *string         `parquet:"type,optional,dict"`
	PrincipalID    *string         `parquet:"principalid,optional,dict"`
	ARN            *string         `parquet:"arn,optional,dict"`
	AccountID      *string         `parquet:"accountid,optional,dict"`
	InvokedBy      *string         `parquet:"invokedby,optional,dict"`
	AccessKeyID    *string         `parquet:"accesskeyid,optional,dict"`
	UserName       *string         `parquet:"username,optional,dict"`
	OnBehalfOf     *OnBehalfOf     `parquet:"onbehalfof,optional"`
	SessionContext *SessionContext `parquet:"sessioncontext,optional"`
	// InScopeOf is the JSON text of userIdentity.inScopeOf (not in Athena's DDL).
	InScopeOf *string `parquet:"inscopeof,optional"`
	// IdentityProvider is userIdentity.identityProvider (not in Athena's DDL).
	IdentityProvider *string `parquet:"identityprovider,optional,dict"`
}

// OnBehalfOf is userIdentity.onBehalfOf (IAM Identity Center users).
type OnBehalfOf struct {
	UserID           *string `parquet:"userid,optional,dict"`
	IdentityStoreARN *string `parquet:"identitystorearn,optional,dict"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	Attributes          *SessionAttributes   `parquet:"attributes,optional"`
	SessionIssuer       *SessionIssuer       `parquet:"sessionissuer,optional"`
	EC2RoleDelivery     *string              `parquet:"ec2roledelivery,optional,dict"`
	WebIDFederationData *WebIDFederationData `parquet:"webidfederationdata,optional"`
	// SourceIdentity is sessionContext.sourceIdentity (not in Athena's DDL).
	SourceIdentity *string `parquet:"sourceidentity,optional,dict"`
}

// SessionAttributes is sessionContext.attributes.
type SessionAttributes struct {
	MFAAuthenticated *string `parquet:"mfaauthenticated,optional,dict"`
	CreationDate     *string `parquet:"creationdate,optional,dict"`
}

// SessionIssuer is sessionContext.sessionIssuer.
type SessionIssuer struct {
	Type        *string `parquet:"type,optional,dict"`
	PrincipalID *string `parquet:"principalid,optional,dict"`
	ARN         *string `parquet:"arn,optional,dict"`
	AccountID   *string `parquet:"accountid,optional,dict"`
	UserName    *string `parquet:"username,optional,dict"`
}

// WebIDFederationData is sessionContext.webIdFederationData.
type WebIDFederationData struct {
	FederatedProvider *string           `parquet:"federatedprovider,optional,dict"`
	Attributes        map[string]string `parquet:"attributes,optional"`
}

// Resource is one element of the resources array.
type Resource struct {
	ARN       *string `parquet:"arn,optional,dict"`
	AccountID *string `parquet:"accountid,optional,dict"`
	Type      *string `parquet:"type,optional,dict"`
}

// Addendum is the addendum element of events delivered late or changed after delivery.
type Addendum struct {
	Reason            *string `parquet:"reason,optional,dict"`
	UpdatedFields     *string `parquet:"updatedfields,optional,dict"`
	OriginalRequestID *string `parquet:"originalrequestid,optional,dict"`
	OriginalEventID   *string `parquet:"originaleventid,optional,dict"`
}

// TLSDetails is the tlsDetails element.
type TLSDetails struct {
	TLSVersion               *string `parquet:"tlsversion,optional,dict"`
	CipherSuite              *string `parquet:"ciphersuite,optional,dict"`
	ClientProvidedHostHeader *string `parquet:"clientprovidedhostheader,optional,dict"`
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
