package athenaapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Literals writes positional parameters as the SQL literals ExecutionParameters take: strings
// quoted, numbers and booleans bare, times as TIMESTAMP literals (UTC).
func Literals(args []any) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case int:
			out[i] = strconv.Itoa(v)
		case int32:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("parameter %d: %v has no SQL literal", i+1, v)
			}
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			out[i] = strconv.FormatBool(v)
		case json.Number:
			out[i] = v.String()
		case time.Time:
			out[i] = "TIMESTAMP '" + v.UTC().Format("2006-01-02 15:04:05.000") + "'"
		case nil:
			out[i] = "NULL"
		default:
			return nil, fmt.Errorf("parameter %d: a %T cannot be sent to Athena (give a string, number, boolean or time)", i+1, a)
		}
	}
	return out, nil
}

// convert turns a value as Athena returns it (text; nil for NULL) into the Go value the local
// engine returns for a column of that type.
func convert(s *string, typ string) (any, error) {
	if s == nil {
		return nil, nil
	}
	v := *s
	switch strings.ToLower(typ) {
	case "tinyint", "smallint", "integer", "int", "bigint":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %q is not an integer", typ, v)
		}
		return n, nil
	case "double", "float", "real":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %q is not a number", typ, v)
		}
		return f, nil
	case "decimal":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("decimal value %q is not a number", v)
		}
		return json.Number(v), nil
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("boolean value %q is not true or false", v)
		}
		return b, nil
	case "date":
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, fmt.Errorf("date value %q: %w", v, err)
		}
		return t, nil
	case "timestamp":
		t, err := time.Parse("2006-01-02 15:04:05.999999999", v)
		if err != nil {
			return nil, fmt.Errorf("timestamp value %q: %w", v, err)
		}
		return t, nil
	case "timestamp with time zone":
		return timestampTZ(v)
	case "array", "map", "row":
		p := &complexParser{s: v}
		out := p.value(true)
		if p.i != len(p.s) {
			return nil, fmt.Errorf("%s value %q: unexpected %q at offset %d", typ, v, p.s[p.i:], p.i)
		}
		return out, nil
	}
	return v, nil
}

// timestampTZ reads "2024-01-02 03:04:05.000 UTC" or "… Europe/Paris".
func timestampTZ(v string) (any, error) {
	i := strings.LastIndexByte(v, ' ')
	if i < 0 {
		return nil, fmt.Errorf("timestamp with time zone value %q has no zone", v)
	}
	loc, err := time.LoadLocation(v[i+1:])
	if err != nil {
		return nil, fmt.Errorf("timestamp with time zone value %q: %w", v, err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", v[:i], loc)
	if err != nil {
		return nil, fmt.Errorf("timestamp with time zone value %q: %w", v, err)
	}
	return t, nil
}

// complexParser reads Athena's text of arrays ([a, b]), rows ({arn=…, type=…}) and maps
// ({k=v, …}): arrays become []any and rows and maps map[string]any, as the local engine's do.
// Athena's text does not quote its values, so a value holding ", " or "=" in a nested element
// reads ambiguously; the lake's nested values (ARNs, account ids, types) hold neither.
type complexParser struct {
	s string
	i int
}

func (p *complexParser) value(top bool) any {
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '[':
			p.i++
			out := []any{}
			if p.eat(']') {
				return out
			}
			for {
				out = append(out, p.value(false))
				if !p.eat(',') {
					p.eat(']')
					return out
				}
				p.eat(' ')
			}
		case '{':
			p.i++
			out := map[string]any{}
			if p.eat('}') {
				return out
			}
			for {
				k := p.until("=")
				p.eat('=')
				out[k] = p.value(false)
				if !p.eat(',') {
					p.eat('}')
					return out
				}
				p.eat(' ')
			}
		}
	}
	if top {
		s := p.s[p.i:]
		p.i = len(p.s)
		return s
	}
	s := p.until(",]}")
	if s == "null" {
		return nil
	}
	return s
}

func (p *complexParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// until reads up to the next of stops; a comma stops only as Athena's separator ", ".
func (p *complexParser) until(stops string) string {
	start := p.i
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		if strings.IndexByte(stops, c) >= 0 && (c != ',' || p.i+1 < len(p.s) && p.s[p.i+1] == ' ') {
			break
		}
	}
	return p.s[start:p.i]
}
