package cloudtrail

import (
	"reflect"
	"strings"
)

// PartitionColumns are the Hive partition columns, strings as Athena has them.
var PartitionColumns = []string{"account", "region", "year", "month", "day"}

// extraColumns are the Record columns Athena's DDL does not have.
var extraColumns = map[string]string{
	"managementevent": "the event's managementEvent flag",
	"insightdetails":  "JSON text of an Insights event's insightDetails",
	"residual":        "JSON of the fields no column holds; with the columns it rebuilds the original record",
}

// columnDocs explain the Athena columns whose type surprises newcomers.
var columnDocs = map[string]string{
	"eventtime":           "ISO-8601 text, e.g. 2024-01-02T03:04:05Z",
	"readonly":            "'true' or 'false'",
	"requestparameters":   "JSON text",
	"responseelements":    "JSON text",
	"additionaleventdata": "JSON text",
	"serviceeventdetails": "JSON text",
	"edgedevicedetails":   "JSON text",
}

// Columns lists the columns of cloudtrail_logs in table order, with their SQL types.
func Columns() []Column {
	t := reflect.TypeFor[Record]()
	var out []Column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := tagName(f)
		doc, extra := extraColumns[name]
		if !extra {
			doc = columnDocs[name]
		}
		out = append(out, Column{Name: name, Type: sqlType(f.Type), Doc: doc, Athena: !extra})
	}
	for _, p := range PartitionColumns {
		out = append(out, Column{Name: p, Type: "VARCHAR", Doc: "partition", Athena: true})
	}
	return out
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
	return name
}

// sqlType renders a Go field type of Record as a DuckDB type.
func sqlType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "VARCHAR"
	case reflect.Bool:
		return "BOOLEAN"
	case reflect.Map:
		return "MAP(VARCHAR, VARCHAR)"
	case reflect.Slice:
		return sqlType(t.Elem()) + "[]"
	case reflect.Struct:
		var parts []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			parts = append(parts, tagName(f)+" "+sqlType(f.Type))
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return "VARCHAR"
}

// Fields flattens a struct column into its leaf fields with dotted paths (useridentity.arn, …),
// lists and maps included as leaves. Fields beyond Athena's DDL are noted.
func Fields(column string) []Column {
	t := reflect.TypeFor[Record]()
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); tagName(f) == column {
			var out []Column
			flatten(column, f.Type, &out)
			return out
		}
	}
	return nil
}

var extraFields = map[string]bool{
	"useridentity.inscopeof": true, "useridentity.identityprovider": true,
	"useridentity.sessioncontext.sourceidentity": true,
}

func flatten(path string, t reflect.Type, out *[]Column) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		c := Column{Name: path, Type: sqlType(t), Athena: !extraFields[path]}
		if !c.Athena {
			c.Doc = "not in Athena's DDL"
		}
		*out = append(*out, c)
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		flatten(path+"."+tagName(f), f.Type, out)
	}
}
