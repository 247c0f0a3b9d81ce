package roweval

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDoubleText(t *testing.T) {
	// The engine's prints of these, read from DuckDB's json_extract_string.
	for in, want := range map[string]string{"1.5": "1.5", "1e2": "100.0", "100.0": "100.0", "0.1": "0.1", "1e21": "1e21",
		"1e-7": "1e-7", "0.000001": "0.000001", "1.23e20": "123000000000000000000.0", "-1e21": "-1e21", "-0.0": "-0.0",
		"3.14159265358979323846": "3.141592653589793", "5e-324": "5e-324", "1e-400": "0.0", "1e400": "1e400",
		"12345678901234567890": "12345678901234567890", "123456789012345678901234": "123456789012345678901234", "-0": "0",
		"1.7976931348623157e308": "1.7976931348623157e308", "1e16": "10000000000000000.0"} {
		n, ok := parseJSON(in)
		if !ok {
			t.Errorf("%s: not valid", in)
			continue
		}
		if n.text() != want {
			t.Errorf("%s prints %s, want %s", in, n.text(), want)
		}
	}
	for in, valid := range map[string]bool{"[1,]": true, `{"a":1,}`: true, "NaN": true, "-Infinity": true, "01": false,
		`"\ud800"`: false, "/*c*/1": false, "[1 2]": false, `"a\u0000b"`: true, "": false, " 1 ": true, `"\x"`: false} {
		if _, ok := parseJSON(in); ok != valid {
			t.Errorf("%q: valid %v, want %v", in, ok, valid)
		}
	}
}

// FuzzParseJSON: what encoding/json reads (valid UTF-8, no \u escapes, which the engine treats
// apart for lone surrogates), parseJSON reads; what parseJSON reads, it prints as text it reads
// back to the same print.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.50,{"b":null}],"c":"x"}`, "[1,]", "1e21", `"é\n"`, "NaN", `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseJSON(s)
		if json.Valid([]byte(s)) && utf8.ValidString(s) && !strings.Contains(s, `\u`) && strings.Count(s, "[")+strings.Count(s, "{") < maxDepth && !ok {
			t.Errorf("%q: encoding/json reads it, parseJSON does not", s)
		}
		if !ok {
			return
		}
		text := n.text()
		m, ok := parseJSON(text)
		if !ok || m.text() != text {
			t.Errorf("%q prints %q, which reads back as %v", s, text, ok)
		}
	})
}
