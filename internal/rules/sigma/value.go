package sigma

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// segKind is a part of a Sigma string value: text, or one of the wildcards * and ?.
type segKind uint8

const (
	segText segKind = iota
	segStar         // *: any run of characters
	segOne          // ?: one character
)

type seg struct {
	kind segKind
	text string
}

// pattern is a Sigma string value with its wildcards.
type pattern []seg

// sigmaString parses a Sigma string: * and ? are wildcards; a backslash before *, ? or a
// backslash makes that character plain; any other backslash is itself.
func sigmaString(s string) pattern {
	var p pattern
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			p = append(p, seg{segText, b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
			} else {
				b.WriteByte('\\')
			}
		case '*':
			flush()
			if len(p) == 0 || p[len(p)-1].kind != segStar { // ** is *
				p = append(p, seg{kind: segStar})
			}
		case '?':
			flush()
			p = append(p, seg{kind: segOne})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return p
}

// plain is a value without wildcards.
func plain(s string) pattern {
	if s == "" {
		return pattern{}
	}
	return pattern{{segText, s}}
}

func (p pattern) wild() bool {
	for _, s := range p {
		if s.kind != segText {
			return true
		}
	}
	return false
}

// text is the value of a pattern without wildcards.
func (p pattern) text() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteString(s.text)
	}
	return b.String()
}

// anyText reports whether the pattern is * alone: any value matches.
func (p pattern) anyText() bool { return len(p) == 1 && p[0].kind == segStar }

// around adds * before and/or after the pattern (contains, startswith, endswith).
func (p pattern) around(before, after bool) pattern {
	out := make(pattern, 0, len(p)+2)
	if before && (len(p) == 0 || p[0].kind != segStar) {
		out = append(out, seg{kind: segStar})
	}
	out = append(out, p...)
	if after && (len(out) == 0 || out[len(out)-1].kind != segStar) {
		out = append(out, seg{kind: segStar})
	}
	return out
}

// like writes the pattern as a LIKE pattern escaped with a backslash.
func (p pattern) like() string {
	var b strings.Builder
	for _, s := range p {
		switch s.kind {
		case segStar:
			b.WriteByte('%')
		case segOne:
			b.WriteByte('_')
		default:
			for i := 0; i < len(s.text); i++ {
				if c := s.text[i]; c == '%' || c == '_' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s.text[i])
			}
		}
	}
	return b.String()
}

// mapText applies f to the text parts.
func (p pattern) mapText(f func(string) string) pattern {
	out := make(pattern, len(p))
	for i, s := range p {
		if s.kind == segText {
			s.text = f(s.text)
		}
		out[i] = s
	}
	return out
}

// utf16Bytes encodes s as UTF-16 bytes, little- or big-endian.
func utf16Bytes(s string, little bool) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		if little {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		} else {
			b.WriteByte(byte(u >> 8))
			b.WriteByte(byte(u))
		}
	}
	return b.String()
}

// base64Offsets are the three encodings of s at the offsets 0, 1 and 2 of a base64 text, with
// the characters that depend on the neighbouring bytes cut off (pySigma's base64offset).
func base64Offsets(s string) []string {
	start := [3]int{0, 2, 3}
	endCut := [3]int{0, 3, 2}
	var out []string
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		end := len(enc) - endCut[(len(s)+i)%3]
		if end < start[i] {
			end = start[i]
		}
		out = append(out, enc[start[i]:end])
	}
	return out
}

// windashChars are the characters windash makes interchangeable.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// windash returns every variant of p with each dash-like character replaced by each of the
// others; false when there would be more than limit.
func windash(p pattern, limit int) ([]pattern, bool) {
	out := []pattern{{}}
	for _, s := range p {
		if s.kind != segText {
			for i := range out {
				out[i] = append(out[i], s)
			}
			continue
		}
		// Split the text at dash-like characters.
		var pieces []string // text, dash, text, dash, …, text
		last := 0
		for i, r := range s.text {
			if isWindash(r) {
				pieces = append(pieces, s.text[last:i], "")
				last = i + utf8.RuneLen(r)
			}
		}
		pieces = append(pieces, s.text[last:])
		variants := []string{""}
		for k, piece := range pieces {
			if k%2 == 0 {
				for i := range variants {
					variants[i] += piece
				}
				continue
			}
			if len(variants)*len(windashChars)*len(out) > limit {
				return nil, false
			}
			var next []string
			for _, v := range variants {
				for _, d := range windashChars {
					next = append(next, v+d)
				}
			}
			variants = next
		}
		var grown []pattern
		for _, o := range out {
			for _, v := range variants {
				q := append(append(pattern{}, o...), seg{segText, v})
				grown = append(grown, q)
			}
		}
		out = grown
	}
	return out, true
}

func isWindash(r rune) bool {
	for _, d := range windashChars {
		if string(r) == d {
			return true
		}
	}
	return false
}
