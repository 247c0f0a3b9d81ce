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
	"residual":        "JSON of every field no column holds (and of values a column could not hold as they were); merged over the columns it rebuilds the original record",
}

// Columns lists the columns of cloudtrail_logs in table order, with their SQL types.
func Columns() []Column {
	t := reflect.TypeFor[Record]()
	var out []Column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := tagName(f)
		doc, extra := extraColumns[name]
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
