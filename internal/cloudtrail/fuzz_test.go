package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"unicode/utf8"
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

// FuzzSkipValid: on valid JSON, the fast scanner that Normalize walks records with ends every
// value where the validating one does, and appendCompact compacts as encoding/json does.
func FuzzSkipValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"x\"}\\"}`, `"x\u0041\\"`, `-0.5e-3`, `[ true , false ]`, ` { "k" : "v w" } `, `"abcdefghijklmnopqrstu\"vwxyz"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) || !utf8.Valid(data) {
			return
		}
		padded := append(append([]byte(nil), data...), ' ')
		start := skipWS(padded, 0)
		want, err := skipValue(padded, start)
		if err != nil {
			t.Fatalf("skipValue: %v", err)
		}
		if got := skipValid(padded, start); got != want {
			t.Fatalf("skipValid ends at %d, skipValue at %d", got, want)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, data[start:want]); err != nil {
			t.Fatal(err)
		}
		if got := appendCompact(nil, data[start:want]); string(got) != b.String() {
			t.Fatalf("appendCompact %q, encoding/json %q", got, b.String())
		}
	})
}

// FuzzAppendJSONString: strings are escaped exactly as before the eight-bytes-at-a-time scan
// (the content hash depends on it).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain text", "a\"b\\c\nd\x01e", "0123456789abcdef\"", "é\u2028x\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendJSONString(nil, s), appendJSONStringSlow(nil, s); string(got) != string(want) {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	})
}

// appendJSONStringSlow is AppendJSONString as it was written first, byte by byte.
func appendJSONStringSlow(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
