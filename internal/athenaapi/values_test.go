package athenaapi

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		in, typ string
		want    any
	}{
		{"abc", "varchar", "abc"},
		{"42", "bigint", int64(42)},
		{"-3", "integer", int64(-3)},
		{"2.5", "double", 2.5},
		{"12.30", "decimal", json.Number("12.30")},
		{"true", "boolean", true},
		{"2026-01-02", "date", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"2026-01-02 03:04:05.678", "timestamp", time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)},
		{"2026-01-02 03:04:05.000 UTC", "timestamp with time zone", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"[a, b, null]", "array", []any{"a", "b", nil}},
		{"[]", "array", []any{}},
		{"[{arn=arn:aws:s3:::b, accountid=null, type=AWS::S3::Bucket}]", "array", []any{map[string]any{"arn": "arn:aws:s3:::b", "accountid": nil, "type": "AWS::S3::Bucket"}}},
		{"{type=AssumedRole, sessioncontext={attributes={mfaauthenticated=false}}}", "row", map[string]any{"type": "AssumedRole", "sessioncontext": map[string]any{"attributes": map[string]any{"mfaauthenticated": "false"}}}},
		{"{k=v,w, x=y}", "map", map[string]any{"k": "v,w", "x": "y"}},
		{`{"a":1}`, "json", `{"a":1}`},
	} {
		got, err := convert(s(tc.in), tc.typ)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q: got %#v, %v; want %#v", tc.typ, tc.in, got, err, tc.want)
		}
	}
	if v, err := convert(nil, "bigint"); v != nil || err != nil {
		t.Errorf("NULL: got %v, %v", v, err)
	}
	for _, bad := range []struct{ in, typ string }{{"x", "bigint"}, {"1.2.3", "double"}, {"maybe", "boolean"}, {"2026-13-01", "date"}, {"[a]]", "array"}, {"2026-01-02 03:04:05 Mars/Base", "timestamp with time zone"}} {
		if _, err := convert(s(bad.in), bad.typ); err == nil {
			t.Errorf("%s %q: no error", bad.typ, bad.in)
		}
	}
}

func FuzzConvert(f *testing.F) {
	for _, s := range []string{"[a, b]", "{a={b=[c, d]}, e=null}", "[{", "}]", "{=}", "[, ]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range []string{"array", "row", "map", "timestamp with time zone", "decimal"} {
			convert(&s, typ) // must not crash or hang
		}
	})
}
