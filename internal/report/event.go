package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// Columns are the columns of cloudtrail_logs a sentence is made from: a row given to Summarize
// must have every one of them (SELECT * has). Without errorcode, say, a refused call would read
// as done.
var Columns = []string{
	"useridentity", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress",
	"useragent", "errorcode", "errormessage", "requestparameters", "responseelements",
	"additionaleventdata", "eventid", "resources", "eventtype", "recipientaccountid",
	"vpcendpointid", "sessioncredentialfromconsole",
}

// MissingColumns returns the Columns that columns (a result's column names) lack, in the order
// of Columns; nil when a result's rows can be summarised.
func MissingColumns(columns []string) []string {
	have := map[string]bool{}
	for _, c := range columns {
		have[strings.ToLower(c)] = true
	}
	var out []string
	for _, c := range Columns {
		if !have[c] {
			out = append(out, c)
		}
	}
	return out
}

// RowMap pairs a result's column names with one of its rows, as Summarize takes it.
func RowMap(columns []string, row []any) map[string]any {
	m := make(map[string]any, len(columns))
	for i, c := range columns {
		if i < len(row) {
			m[strings.ToLower(c)] = row[i]
		}
	}
	return m
}

// ParseRecord decodes one raw CloudTrail record (the JSON of one event, or any one-event input
// cloudtrail.ReadEvents reads: a LookupEvents item, an EventBridge event) into the row of
// cloudtrail_logs it is stored as.
func ParseRecord(raw []byte) (map[string]any, error) {
	var rows []map[string]any
	res, err := cloudtrail.ReadEvents(bytes.NewReader(raw), false, func(ev cloudtrail.Event) error {
		rows = append(rows, RecordRow(ev.Record))
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("read CloudTrail record: %w", err)
	case res.Fatal != nil:
		return nil, fmt.Errorf("read CloudTrail record: %w", res.Fatal)
	case len(res.Errors) > 0:
		return nil, fmt.Errorf("read CloudTrail record: %w", res.Errors[0])
	case len(rows) != 1:
		return nil, fmt.Errorf("read CloudTrail record: %d events where one belongs", len(rows))
	}
	return rows[0], nil
}

// RecordRow is the row of cloudtrail_logs a normalised record is stored as, shaped as the engine
// returns it: column names in lower case, structs as map[string]any, arrays as []any, NULL as
// nil, the partition columns included.
func RecordRow(r *cloudtrail.Record) map[string]any {
	m := map[string]any{
		"eventversion": val(r.EventVersion), "eventtime": val(r.EventTime), "eventsource": val(r.EventSource),
		"eventname": val(r.EventName), "awsregion": val(r.AWSRegion), "sourceipaddress": val(r.SourceIPAddress),
		"useragent": val(r.UserAgent), "errorcode": val(r.ErrorCode), "errormessage": val(r.ErrorMessage),
		"requestparameters": val(r.RequestParameters), "responseelements": val(r.ResponseElements),
		"additionaleventdata": val(r.AdditionalEventData), "requestid": val(r.RequestID), "eventid": val(r.EventID),
		"readonly": val(r.ReadOnly), "eventtype": val(r.EventType), "apiversion": val(r.APIVersion),
		"recipientaccountid": val(r.RecipientAccountID), "serviceeventdetails": val(r.ServiceEventDetails),
		"sharedeventid": val(r.SharedEventID), "vpcendpointid": val(r.VPCEndpointID),
		"vpcendpointaccountid": val(r.VPCEndpointAccountID), "eventcategory": val(r.EventCategory),
		"sessioncredentialfromconsole": val(r.SessionCredentialFromConsole), "edgedevicedetails": val(r.EdgeDeviceDetails),
		"insightdetails": val(r.InsightDetails), "useridentity": nil, "resources": nil,
	}
	if u := r.UserIdentity; u != nil {
		ui := map[string]any{
			"type": val(u.Type), "principalid": val(u.PrincipalID), "arn": val(u.ARN), "accountid": val(u.AccountID),
			"invokedby": val(u.InvokedBy), "accesskeyid": val(u.AccessKeyID), "username": val(u.UserName),
			"onbehalfof": nil, "sessioncontext": nil,
		}
		if o := u.OnBehalfOf; o != nil {
			ui["onbehalfof"] = map[string]any{"userid": val(o.UserID), "identitystorearn": val(o.IdentityStoreARN)}
		}
		if sc := u.SessionContext; sc != nil {
			s := map[string]any{"attributes": nil, "sessionissuer": nil, "ec2roledelivery": val(sc.EC2RoleDelivery), "webidfederationdata": nil}
			if a := sc.Attributes; a != nil {
				s["attributes"] = map[string]any{"mfaauthenticated": val(a.MFAAuthenticated), "creationdate": val(a.CreationDate)}
			}
			if is := sc.SessionIssuer; is != nil {
				s["sessionissuer"] = map[string]any{"type": val(is.Type), "principalid": val(is.PrincipalID), "arn": val(is.ARN), "accountid": val(is.AccountID), "username": val(is.UserName)}
			}
			if w := sc.WebIDFederationData; w != nil {
				attrs := map[string]any{}
				for k, v := range w.Attributes {
					attrs[k] = v
				}
				s["webidfederationdata"] = map[string]any{"federatedprovider": val(w.FederatedProvider), "attributes": attrs}
			}
			ui["sessioncontext"] = s
		}
		m["useridentity"] = ui
	}
	if r.Resources != nil {
		res := make([]any, len(r.Resources))
		for i, x := range r.Resources {
			res[i] = map[string]any{"arn": val(x.ARN), "accountid": val(x.AccountID), "type": val(x.Type)}
		}
		m["resources"] = res
	}
	p := cloudtrail.PartitionOf(r, "")
	m["account"], m["region"], m["year"], m["month"], m["day"] = p.Account, p.Region, p.Year, p.Month, p.Day
	return m
}

func val(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// event is what a sentence is made from, read from a row.
type event struct {
	id, source, name, region, ip, ua, errCode, errMsg, eventType, recipient, vpce, fromConsole string
	timeText                                                                                   string
	time                                                                                       time.Time
	req, resp, add, insight                                                                    map[string]any
	resources                                                                                  []resource
	ui                                                                                         identity
	partAccount                                                                                string
}

type resource struct{ arn, typ, account string }

// identity is userIdentity, flattened.
type identity struct {
	typ, principalID, arn, account, invokedBy, accessKey, userName string
	mfa                                                            string
	issuerType, issuerARN, issuerName, issuerAccount               string
	webProvider                                                    string
	onBehalfUser, identityStore                                    string
	present                                                        bool
}

func readEvent(row map[string]any) event {
	e := event{
		id: str(row["eventid"]), source: str(row["eventsource"]), name: str(row["eventname"]),
		region: str(row["awsregion"]), ip: str(row["sourceipaddress"]), ua: str(row["useragent"]),
		errCode: str(row["errorcode"]), errMsg: str(row["errormessage"]), eventType: str(row["eventtype"]),
		recipient: str(row["recipientaccountid"]), vpce: str(row["vpcendpointid"]),
		fromConsole: str(row["sessioncredentialfromconsole"]), partAccount: str(row["account"]),
	}
	switch t := row["eventtime"].(type) {
	case time.Time:
		e.time, e.timeText = t, t.UTC().Format(time.RFC3339)
	case string:
		e.timeText = t
		e.time, _ = cloudtrail.ParseTime(t)
	}
	e.req = object(row["requestparameters"])
	e.resp = object(row["responseelements"])
	e.add = object(row["additionaleventdata"])
	e.insight = object(row["insightdetails"]) // not in SELECT *: present when selected by name
	if rs, ok := row["resources"].([]any); ok {
		for _, x := range rs {
			if m, ok := x.(map[string]any); ok {
				e.resources = append(e.resources, resource{str(m["arn"]), str(m["type"]), str(m["accountid"])})
			}
		}
	}
	if u, ok := row["useridentity"].(map[string]any); ok {
		e.ui = identity{
			typ: str(u["type"]), principalID: str(u["principalid"]), arn: str(u["arn"]), account: str(u["accountid"]),
			invokedBy: str(u["invokedby"]), accessKey: str(u["accesskeyid"]), userName: str(u["username"]), present: true,
		}
		if o, ok := u["onbehalfof"].(map[string]any); ok {
			e.ui.onBehalfUser, e.ui.identityStore = str(o["userid"]), str(o["identitystorearn"])
		}
		if sc, ok := u["sessioncontext"].(map[string]any); ok {
			if a, ok := sc["attributes"].(map[string]any); ok {
				e.ui.mfa = str(a["mfaauthenticated"])
			}
			if is, ok := sc["sessionissuer"].(map[string]any); ok {
				e.ui.issuerType, e.ui.issuerARN, e.ui.issuerName, e.ui.issuerAccount = str(is["type"]), str(is["arn"]), str(is["username"]), str(is["accountid"])
			}
			if w, ok := sc["webidfederationdata"].(map[string]any); ok {
				e.ui.webProvider = str(w["federatedprovider"])
			}
		}
	}
	return e
}

// str is a value of a row as text: strings as they are, booleans and numbers printed, "" for
// NULL and for structures.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool, int64, int32, int, float64, json.Number:
		return fmt.Sprint(x)
	}
	return ""
}

// object is a JSON payload column (a string holding JSON text, or a map from another runner) as
// an object; nil when it is NULL, not JSON or not an object.
func object(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case string:
		if !strings.HasPrefix(strings.TrimSpace(x), "{") {
			return nil
		}
		dec := json.NewDecoder(strings.NewReader(x))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return nil
		}
		return m
	}
	return nil
}

// get follows a path of keys (matched without regard to case) through nested objects.
func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		v, found := o[k]
		if !found {
			for ok2, v2 := range o {
				if strings.EqualFold(ok2, k) {
					v, found = v2, true
					break
				}
			}
		}
		if !found {
			return nil
		}
		cur = v
	}
	return cur
}

// gets is get as text ("" when absent or not a scalar).
func gets(m map[string]any, path ...string) string { return str(get(m, path...)) }

// first is the first of keys m has a non-empty scalar for.
func first(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := gets(m, k); s != "" {
			return s
		}
	}
	return ""
}

// items returns the list under path, unwrapping CloudTrail's EC2 shape {"items": [...]}.
func items(m map[string]any, path ...string) []any {
	v := get(m, path...)
	if o, ok := v.(map[string]any); ok {
		v = get(o, "items")
	}
	l, _ := v.([]any)
	return l
}

// strings collects a key's scalar values from a list of objects.
func itemValues(list []any, key string) []string {
	var out []string
	for _, x := range list {
		if o, ok := x.(map[string]any); ok {
			if s := gets(o, key); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
