package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Error is a defect of the input at one place of the document. Path is a JSON path from the
// document's root, such as RoleDetailList[3].RolePolicyList[0].PolicyDocument.Statement[1].Effect;
// a policy document given as a URL-encoded string is entered as if it were an object.
type Error struct {
	File string // as given to Parse; "" when none
	Path string // "" for the whole document
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decoder walks a document decoded into any (objects as map[string]any, numbers as
// json.Number) and builds Errors that name the file and the path.
type decoder struct {
	file string
}

func (d *decoder) errf(path, format string, args ...any) error {
	return &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// decodeJSON decodes one JSON value; a syntax error names its line and column.
func (d *decoder) decodeJSON(data []byte, path string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, d.syntax(data, path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, d.errf(path, "unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// syntax describes a decoding error of data: where the syntax breaks, or that the data end early.
func (d *decoder) syntax(data []byte, path string, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, offending(data, se))
		return d.errf(path, "invalid JSON at line %d, column %d: %v", line, col, se)
	case errors.Is(err, io.EOF):
		if len(bytes.TrimSpace(data)) == 0 {
			return d.errf(path, "empty document")
		}
		return d.errf(path, "invalid JSON: the document ends early (truncated file?)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return d.errf(path, "invalid JSON: the document ends early (truncated file?)")
	}
	return d.errf(path, "invalid JSON: %v", err)
}

// tokenName names a JSON token for messages.
func tokenName(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "an object"
	case json.Delim('['):
		return "an array"
	}
	return typeName(tok)
}

// offending returns the position of the byte a syntax error is about. A json.Decoder's offsets
// are relative to the value it was decoding, so the whole input is validated again for the
// absolute offset, which counts the offending byte.
func offending(data []byte, se *json.SyntaxError) int64 {
	var raw json.RawMessage
	var full *json.SyntaxError
	if err := json.Unmarshal(data, &raw); errors.As(err, &full) {
		se = full
	}
	return min(max(se.Offset-1, 0), int64(len(data)))
}

// lineCol returns the 1-based line and column of the byte at off.
func lineCol(data []byte, off int64) (int, int) {
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// field returns the member key of m, matching the name exactly or, failing that, ignoring case
// (policy element names are written "Statement", but nothing is lost by accepting "statement").
func field(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	// Of several spellings, the smallest wins, so that the choice does not depend on map order.
	var best string
	found := false
	for k := range m {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, found = k, true
		}
	}
	return m[best], found
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// object requires v to be an object.
func (d *decoder) object(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, d.errf(path, "want an object, got %s", typeName(v))
	}
	return m, nil
}

// list returns the array member key of m; absent or null is an empty list.
func (d *decoder) list(m map[string]any, key, path string) ([]any, string, error) {
	p := join(path, key)
	v, ok := field(m, key)
	if !ok || v == nil {
		return nil, p, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, p, d.errf(p, "want an array, got %s", typeName(v))
	}
	return l, p, nil
}

// str returns the string member key of m; absent or null is "", and required makes that an error.
func (d *decoder) str(m map[string]any, key, path string, required bool) (string, error) {
	p := join(path, key)
	v, ok := field(m, key)
	if !ok || v == nil {
		if required {
			return "", d.errf(path, "missing %s", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", d.errf(p, "want a string, got %s", typeName(v))
	}
	if required && s == "" {
		return "", d.errf(p, "empty")
	}
	return s, nil
}

// boolean accepts true/false and the strings "true"/"false".
func (d *decoder) boolean(m map[string]any, key, path string) (bool, error) {
	p := join(path, key)
	v, ok := field(m, key)
	if !ok || v == nil {
		return false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if r, err := strconv.ParseBool(b); err == nil {
			return r, nil
		}
	}
	return false, d.errf(p, "want true or false, got %s", typeName(v))
}

func (d *decoder) integer(m map[string]any, key, path string) (int, error) {
	p := join(path, key)
	v, ok := field(m, key)
	if !ok || v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, d.errf(p, "want a number, got %s", typeName(v))
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, d.errf(p, "want an integer, got %s", n)
	}
	return i, nil
}

// timeLayouts are the date spellings of the AWS CLI (ISO 8601 with an offset), of the raw API
// (fractional seconds, Z) and of boto3 responses dumped with json.dumps(default=str) (a space
// before the time).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

func (d *decoder) date(m map[string]any, key, path string) (time.Time, error) {
	s, err := d.str(m, key, path, false)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, d.errf(join(path, key), "want a date such as 2024-05-01T12:00:00Z, got %q", s)
}

// strings returns a member that is a string or an array of strings (Action, Resource, …), and
// whether it was present.
func (d *decoder) stringList(m map[string]any, key, path string) ([]string, bool, error) {
	p := join(path, key)
	v, ok := field(m, key)
	if !ok {
		return nil, false, nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}, true, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, true, d.errf(index(p, i), "want a string, got %s", typeName(e))
			}
			out = append(out, s)
		}
		return out, true, nil
	}
	return nil, true, d.errf(p, "want a string or an array of strings, got %s", typeName(v))
}

// document returns a policy document given as an object, as a JSON string, or as a URL-encoded
// JSON string (the raw IAM API and most SDKs other than boto3 and the AWS CLI leave it encoded).
func (d *decoder) document(v any, path string) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		text := strings.TrimSpace(x)
		if !strings.HasPrefix(text, "{") {
			dec, err := url.PathUnescape(text)
			if err != nil {
				return nil, d.errf(path, "policy document is a string but neither JSON nor URL-encoded JSON: %v", err)
			}
			if !strings.HasPrefix(strings.TrimSpace(dec), "{") {
				return nil, d.errf(path, "policy document is a string but neither JSON nor URL-encoded JSON (starts %q)", head(text))
			}
			text = dec
			// Form encoding writes spaces as '+'; a document so encoded does not parse
			// after PathUnescape, but does after QueryUnescape.
			if !json.Valid([]byte(text)) {
				if q, err := url.QueryUnescape(x); err == nil && json.Valid([]byte(q)) {
					text = q
				}
			}
		}
		doc, err := d.decodeJSON([]byte(text), path)
		if err != nil {
			return nil, err
		}
		return d.object(doc, path)
	}
	return nil, d.errf(path, "want a policy document (an object or a string), got %s", typeName(v))
}

func head(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
