package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// FuzzReadEvents: no input makes the decoder panic or hang, and a valid single JSON value is
// never reported as invalid.
func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"eventName":"A","userIdentity":{"type":"X","sessionContext":{"attributes":{"mfaAuthenticated":false}}},"resources":[{"ARN":"a"}]}]}`,
		`[{"eventName":"A"},{"eventSource":"s"}]`,
		"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n",
		`{"Events":[{"CloudTrailEvent":"{\"eventName\":\"A\"}"}]}`,
		`{"Records":[1,"x",null,{"readOnly":"true"}]}`,
		`{"a":"\ud83d\ude00\u00e9","b":-1.5e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadEvents(bytes.NewReader(data), false, func(e Event) error {
			Rebuild(e.Record)
			Hash(e.Record)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if json.Valid(data) && res.Fatal != nil {
			t.Fatalf("valid JSON reported invalid: %v", res.Fatal)
		}
	})
}

// FuzzSkipValue: the scanner accepts exactly what encoding/json accepts.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"x\u0041"`, `-0.5e-3`, `[1,]`, `{"a" 1}`, `tru`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		padded := append(append([]byte(nil), data...), ' ')
		end, err := skipValue(padded, 0)
		ok := err == nil && skipWS(padded, end) == len(padded)
		if ok != json.Valid(data) {
			t.Fatalf("skipValue ok=%v (err %v), json.Valid=%v", ok, err, json.Valid(data))
		}
		_ = io.EOF
	})
}
