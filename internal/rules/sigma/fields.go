package sigma

import (
	"maps"
	"slices"
	"strings"
)

// colKind is what a column or struct field of cloudtrail_logs holds.
type colKind uint8

const (
	colText      colKind = iota // VARCHAR
	colJSON                     // VARCHAR holding JSON text
	colBool                     // BOOLEAN
	colStruct                   // ROW of named fields
	colMap                      // MAP(VARCHAR, VARCHAR)
	colResources                // ARRAY(ROW(arn, accountid, type))
)

// column is a column or a field of a struct column.
type column struct {
	kind   colKind
	fields map[string]*column // colStruct and colResources: lower-case name → field
}

func text() *column { return &column{kind: colText} }

func row(fields map[string]*column) *column { return &column{kind: colStruct, fields: fields} }

// tableColumns is cloudtrail_logs as Sigma's CloudTrail fields reach it (see
// internal/cloudtrail.Record; TestColumnsMatchTable checks the two agree). Partition columns and
// the residual are not CloudTrail fields and are left out: a rule naming them reads the residual.
func tableColumns() map[string]*column {
	json := &column{kind: colJSON}
	return map[string]*column{
		"eventversion": text(),
		"useridentity": row(map[string]*column{
			"type": text(), "principalid": text(), "arn": text(), "accountid": text(), "invokedby": text(),
			"accesskeyid": text(), "username": text(),
			"onbehalfof": row(map[string]*column{"userid": text(), "identitystorearn": text()}),
			"sessioncontext": row(map[string]*column{
				"attributes": row(map[string]*column{"mfaauthenticated": text(), "creationdate": text()}),
				"sessionissuer": row(map[string]*column{
					"type": text(), "principalid": text(), "arn": text(), "accountid": text(), "username": text(),
				}),
				"ec2roledelivery": text(),
				"webidfederationdata": row(map[string]*column{
					"federatedprovider": text(), "attributes": {kind: colMap},
				}),
				"sourceidentity": text(),
			}),
			"inscopeof":        json,
			"identityprovider": text(),
		}),
		"eventtime": text(), "eventsource": text(), "eventname": text(), "awsregion": text(),
		"sourceipaddress": text(), "useragent": text(), "errorcode": text(), "errormessage": text(),
		"requestparameters": json, "responseelements": json, "additionaleventdata": json,
		"requestid": text(), "eventid": text(), "readonly": text(),
		"resources": {kind: colResources, fields: map[string]*column{"arn": text(), "accountid": text(), "type": text()}},
		"eventtype": text(), "apiversion": text(), "recipientaccountid": text(),
		"serviceeventdetails": json, "sharedeventid": text(), "vpcendpointid": text(),
		"vpcendpointaccountid": text(), "eventcategory": text(),
		"addendum": row(map[string]*column{
			"reason": text(), "updatedfields": text(), "originalrequestid": text(), "originaleventid": text(),
		}),
		"sessioncredentialfromconsole": text(),
		"edgedevicedetails":            json,
		"tlsdetails": row(map[string]*column{
			"tlsversion": text(), "ciphersuite": text(), "clientprovidedhostheader": text(),
		}),
		"managementevent": {kind: colBool},
		"insightdetails":  json,
	}
}

// accKind is how a Sigma field is read from a row.
type accKind uint8

const (
	accText      accKind = iota // a VARCHAR expression
	accJSON                     // a JSON path below a JSON text column
	accResources                // a field of the elements of resources
	accWhole                    // a struct, map or array column as a whole: only exists and null
)

// access is how one Sigma field is read.
type access struct {
	name     string // as the rule writes it
	kind     accKind
	expr     string   // accText, accWhole: the SQL expression; accJSON: the JSON column
	keys     []string // accJSON: the path below expr
	elem     string   // accResources: the element's field
	residual bool     // read from the residual JSON: no column holds the field
	keyword  bool     // the text of the whole event (keyword searches)
	whole    bool     // the whole text of a JSON payload
}

// resolve maps a Sigma field name onto cloudtrail_logs.
func (c *compiler) resolve(name string) (*access, error) {
	if name == "" {
		return &access{kind: accText, expr: keywordText(c.cols), keyword: true}, nil
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return nil, c.malformed("the field %q has an empty part (two dots in a row, or a leading or trailing dot)", name)
		}
	}
	col, ok := c.cols[strings.ToLower(parts[0])]
	if !ok {
		return c.residual(name, parts)
	}
	expr := strings.ToLower(parts[0])
	for i := 1; ; i++ {
		rest := parts[i:]
		switch col.kind {
		case colText:
			if len(rest) > 0 {
				return c.residual(name, parts)
			}
			return &access{name: name, kind: accText, expr: expr}, nil
		case colBool:
			if len(rest) > 0 {
				return c.residual(name, parts)
			}
			return &access{name: name, kind: accText, expr: "CAST(" + expr + " AS VARCHAR)"}, nil
		case colJSON:
			if len(rest) == 0 {
				// The JSON text, with the quotes of nested JSON documents (policy documents are
				// JSON strings inside requestParameters) unescaped, as the rule's author reads them.
				return &access{name: name, kind: accText, expr: "replace(" + expr + `, '\"', '"')`, whole: true}, nil
			}
			for _, k := range rest {
				if strings.Contains(k, `"`) {
					return nil, c.unsupportedf("the field %q has a double quote in a JSON key, which Athena's JSON paths cannot name", name)
				}
			}
			return &access{name: name, kind: accJSON, expr: expr, keys: rest}, nil
		case colMap:
			if len(rest) == 0 {
				return &access{name: name, kind: accWhole, expr: expr}, nil
			}
			if len(rest) > 1 {
				return c.residual(name, parts)
			}
			return &access{name: name, kind: accText, expr: "element_at(" + expr + ", " + quote(rest[0]) + ")"}, nil
		case colResources:
			if len(rest) == 0 {
				return &access{name: name, kind: accWhole, expr: expr}, nil
			}
			f, ok := col.fields[strings.ToLower(rest[0])]
			if !ok || len(rest) > 1 || f.kind != colText {
				return nil, c.unsupportedf("the field %q: the elements of resources have only ARN, accountId and type", name)
			}
			return &access{name: name, kind: accResources, expr: expr, elem: strings.ToLower(rest[0])}, nil
		case colStruct:
			if len(rest) == 0 {
				return &access{name: name, kind: accWhole, expr: expr}, nil
			}
			f, ok := col.fields[strings.ToLower(rest[0])]
			if !ok {
				return c.residual(name, parts)
			}
			col, expr = f, expr+"."+strings.ToLower(rest[0])
		}
	}
}

// residual reads a field no column holds from the residual JSON, where the lake keeps it.
func (c *compiler) residual(name string, parts []string) (*access, error) {
	for _, k := range parts {
		if strings.Contains(k, `"`) {
			return nil, c.unsupportedf("the field %q has a double quote in its name, which Athena's JSON paths cannot name", name)
		}
	}
	c.note("field %q is not a CloudTrail field that cloudtrail_logs has a column for; it is read from the residual JSON (fields no column holds), so only events that carry it can match", name)
	return &access{name: name, kind: accJSON, expr: "residual", keys: parts, residual: true}, nil
}

// keywordText is the text keyword searches look in: every string column, the JSON text of the
// payloads, the resources and the residual, joined by newlines, with escaped quotes unescaped.
func keywordText(cols map[string]*column) string {
	var parts []string
	var walk func(expr string, col *column)
	walk = func(expr string, col *column) {
		switch col.kind {
		case colText, colJSON:
			parts = append(parts, expr)
		case colStruct:
			for _, k := range sortedKeys(col.fields) {
				walk(expr+"."+k, col.fields[k])
			}
		case colResources:
			parts = append(parts, "array_join(transform("+expr+", sigma_r -> concat_ws(' ', sigma_r.arn, sigma_r.accountid, sigma_r.type)), ' ')")
		}
	}
	for _, k := range sortedKeys(cols) {
		walk(k, cols[k])
	}
	parts = append(parts, "residual")
	return "replace(concat_ws(chr(10), " + strings.Join(parts, ", ") + `), '\"', '"')`
}

func sortedKeys(m map[string]*column) []string { return slices.Sorted(maps.Keys(m)) }

// jsonPath writes keys as a JSONPath: $.name for plain names, $["odd name"] otherwise.
func jsonPath(keys []string) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, k := range keys {
		if plainKey(k) {
			b.WriteString("." + k)
		} else {
			b.WriteString(`["` + k + `"]`)
		}
	}
	return b.String()
}

func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		b := k[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || i > 0 && b >= '0' && b <= '9') {
			return false
		}
	}
	return k != ""
}

// quote writes s as a SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
