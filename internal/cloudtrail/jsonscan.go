package cloudtrail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// errShort reports that a JSON value continues past the end of the bytes at hand. The streaming
// decoder reads more and tries again; anywhere else it is a truncated document.
var errShort = errors.New("unexpected end of JSON input")

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

// SyntaxError is invalid JSON at byte Offset of the value being scanned.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue validates the JSON value that starts at b[i] (after optional white space) and
// returns the offset just past it.
func skipValue(b []byte, i int) (int, error) { return skipValueDepth(b, i, 0, nil) }

// span is where one member of an object lies, as offsets: the key literal (quotes included) and
// the value.
type span struct {
	key, keyEnd, val, valEnd int32
	keyEsc                   bool
}

// skipValueSpans is skipValue that also appends to spans, when the value is an object, where
// each of its members lies: Normalize then walks them without scanning the object again.
func skipValueSpans(b []byte, i int, spans *[]span) (int, error) {
	return skipValueDepth(b, i, 0, spans)
}

func skipValueDepth(b []byte, i, depth int, spans *[]span) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, errShort
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{':
		if depth >= maxDepth {
			return i, &SyntaxError{i, "nesting too deep"}
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, errShort
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		for {
			if b[i] != '"' {
				return i, &SyntaxError{i, fmt.Sprintf("expected a string key, found %q", b[i])}
			}
			key := i
			end, esc, err := skipString(b, i)
			if err != nil {
				return end, err
			}
			i = skipWS(b, end)
			if i >= len(b) {
				return i, errShort
			}
			if b[i] != ':' {
				return i, &SyntaxError{i, fmt.Sprintf("expected ':' after object key, found %q", b[i])}
			}
			val := skipWS(b, i+1)
			if i, err = skipValueDepth(b, val, depth+1, nil); err != nil {
				return i, err
			}
			if spans != nil {
				*spans = append(*spans, span{int32(key), int32(end), int32(val), int32(i), esc})
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, errShort
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
				if i >= len(b) {
					return i, errShort
				}
			case '}':
				return i + 1, nil
			default:
				return i, &SyntaxError{i, fmt.Sprintf("expected ',' or '}' in object, found %q", b[i])}
			}
		}
	case c == '[':
		if depth >= maxDepth {
			return i, &SyntaxError{i, "nesting too deep"}
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, errShort
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValueDepth(b, i, depth+1, nil); err != nil {
				return i, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, errShort
			}
			switch b[i] {
			case ',':
				i++
			case ']':
				return i + 1, nil
			default:
				return i, &SyntaxError{i, fmt.Sprintf("expected ',' or ']' in array, found %q", b[i])}
			}
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	default:
		return i, &SyntaxError{i, fmt.Sprintf("unexpected character %q", c)}
	}
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, errShort
		}
		if b[i+k] != lit[k] {
			return i + k, &SyntaxError{i + k, fmt.Sprintf("invalid literal, expected %s", lit)}
		}
	}
	return i + len(lit), nil
}

// skipNumber follows the JSON number grammar. A number that ends exactly at the end of the
// buffer is reported short, because more digits may follow in the stream.
func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i >= len(b) {
		return i, errShort
	}
	if b[i] == '0' {
		i++
	} else if digits() == 0 {
		return i, &SyntaxError{i, "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			if i >= len(b) {
				return i, errShort
			}
			return i, &SyntaxError{i, "invalid number: no digits after '.'"}
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			if i >= len(b) {
				return i, errShort
			}
			return i, &SyntaxError{i, "invalid number: no digits in exponent"}
		}
	}
	if i >= len(b) {
		return i, errShort
	}
	return i, nil
}

// skipString validates the string starting at the quote b[i] and returns the offset past its
// closing quote and whether it contains escapes.
func skipString(b []byte, i int) (int, bool, error) {
	i++
	esc := false
	for i < len(b) {
		// Most bytes of a string need no look: skip them eight at a time.
		for i+8 <= len(b) {
			if m := stringStops(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if !stringStop[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return i + 1, esc, errShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return i + k, esc, errShort
					}
					if !isHex(b[i+k]) {
						return i + k, esc, &SyntaxError{i + k, "invalid \\u escape in string"}
					}
				}
				i += 6
			default:
				return i + 1, esc, &SyntaxError{i + 1, fmt.Sprintf("invalid escape \\%c in string", b[i+1])}
			}
		case c < 0x20:
			return i, esc, &SyntaxError{i, "control character in string"}
		default:
			i++
		}
	}
	return i, esc, errShort
}

// SWAR (SIMD within a register) tests of eight bytes at once. Each returns a word whose lowest set
// bit is the high bit of the first byte that passes the test; bits above it may be false
// positives, so only the lowest one is to be used.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// swarZero flags the bytes of v that are zero.
func swarZero(v uint64) uint64 { return (v - swarOnes) & ^v & swarHigh }

// swarLess flags the bytes of v less than n (n <= 128).
func swarLess(v uint64, n byte) uint64 { return (v - swarOnes*uint64(n)) & ^v & swarHigh }

// stringStops flags the bytes a string scan must look at: quotes, backslashes and control
// characters.
func stringStops(v uint64) uint64 {
	return swarLess(v, 0x20) | swarZero(v^(swarOnes*'"')) | swarZero(v^(swarOnes*'\\'))
}

// stringStop marks the bytes a string scan must look at: the quote, the backslash and control
// characters. It is never written after initialisation.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unquote decodes a validated JSON string literal (quotes included). Invalid UTF-8 is replaced
// by U+FFFD, as encoding/json does, so every stored string is valid UTF-8.
func unquote(lit []byte, esc bool) string {
	s := lit[1 : len(lit)-1]
	if !esc {
		if utf8.Valid(s) {
			return string(s)
		}
		return string([]rune(string(s)))
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:i+6])); r2 != utf8.RuneError {
						out = utf8.AppendRune(out, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, s[i+1])
		}
		i += 2
	}
	if !utf8.Valid(out) {
		return string([]rune(string(out)))
	}
	return string(out)
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// appendCompact appends the validated JSON value v without insignificant white space. Invalid
// UTF-8 in v is replaced by U+FFFD, so that every stored text is valid UTF-8.
func appendCompact(dst, v []byte) []byte {
	if !utf8.Valid(v) {
		v = []byte(string([]rune(string(v))))
	}
	inStr := false
	start := 0
	for i := 0; i < len(v); i++ {
		// Skip eight bytes at a time that are neither quotes, backslashes nor white space
		// (nor other bytes below 0x21, which cannot be outside strings).
		for i+8 <= len(v) && swarLess(binary.LittleEndian.Uint64(v[i:]), 0x21)|swarZero(binary.LittleEndian.Uint64(v[i:])^(swarOnes*'"'))|swarZero(binary.LittleEndian.Uint64(v[i:])^(swarOnes*'\\')) == 0 {
			i += 8
		}
		if i >= len(v) {
			break
		}
		c := v[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		} else if isSpace(c) {
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}

// eachMember calls fn for every member of the validated JSON object obj, with the raw key
// literal (quotes included) and the raw value.
func eachMember(obj []byte, fn func(key []byte, keyEsc bool, val []byte)) {
	i := skipWS(obj, 0) + 1
	for {
		i = skipWS(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return
		}
		if obj[i] == ',' {
			i++
			continue
		}
		kend, kesc := skipValidString(obj, i)
		key := obj[i:kend]
		vstart := skipWS(obj, skipWS(obj, kend)+1)
		vend := skipValid(obj, vstart)
		fn(key, kesc, obj[vstart:vend])
		i = vend
	}
}

// eachElement calls fn for every element of the validated JSON array arr.
func eachElement(arr []byte, fn func(idx int, val []byte)) {
	i := skipWS(arr, 0) + 1
	for n := 0; ; n++ {
		i = skipWS(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		if arr[i] == ',' {
			i = skipWS(arr, i+1)
		}
		end := skipValid(arr, i)
		fn(n, arr[i:end])
		i = end
	}
}

// skipValid returns the offset just past the JSON value at b[i], which must be valid (checked by
// skipValue before): it only looks for where the value ends, so nested objects cost little to
// walk again.
func skipValid(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipValidString(b, i)
		return end
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i, _ = skipValidString(b, i)
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipValidString returns the offset past the closing quote of the valid string at b[i] and
// whether it holds escapes.
func skipValidString(b []byte, i int) (int, bool) {
	i++
	esc := false
	for {
		for i+8 <= len(b) {
			v := binary.LittleEndian.Uint64(b[i:])
			if m := swarZero(v^(swarOnes*'"')) | swarZero(v^(swarOnes*'\\')); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			return i, esc
		}
		if b[i] == '"' {
			return i + 1, esc
		}
		esc = true
		i += 2 // the escaped byte (a \u escape's hex digits need no care)
	}
}

// lowerKey lower-cases an unescaped key literal into buf, for case-insensitive field matching.
func lowerKey(buf []byte, key []byte) []byte {
	buf = buf[:0]
	for _, c := range key[1 : len(key)-1] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}
