package athena

import (
	"strings"
)

// exact translates the calls whose Trino meaning the rewrites of this file make exact, after
// refusing names Trino does not have. handled is false for calls left to translate.
func (c *call) exact() (handled bool, err error) {
	if err := c.checkFunction(); err != nil {
		return true, err
	}
	c.markZones()
	if done, err := c.zoneCall(); done || err != nil {
		return true, err
	}
	switch c.fname {
	case "round":
		// math.html: round(x, d) keeps the type of x; DuckDB lowers a decimal's scale to d.
		if len(c.args) == 2 {
			if t := c.r.inferType(c.args[0]); t.kind == numDecimal {
				return true, c.emit("CAST(round(", 0, ",", 1, ") AS DECIMAL("+itoa(t.prec)+","+itoa(t.scale)+"))")
			}
		}
		return false, nil

	// Binary functions (https://trino.io/docs/current/functions/binary.html). varbinary is
	// DuckDB's BLOB; Trino's hashes return varbinary, DuckDB's return hex text.
	case "to_utf8":
		return true, c.wrap(1, "encode(", ")")
	case "from_utf8":
		if len(c.args) == 2 {
			return true, c.unsupported("from_utf8 with a replacement")
		}
		return true, c.wrap(1, "decode(", ")")
	case "md5", "sha1", "sha256":
		if err := c.want(1); err != nil {
			return true, err
		}
		if t, ok := c.stringArg(0); ok {
			return true, c.r.errorf(c.name.pos, "Unexpected parameters (varchar(%d)) for function %s. Expected: %s(varbinary); write %s(to_utf8(%s))",
				len([]rune(t.stringValue())), c.fname, c.fname, c.fname, t.text)
		}
		if col, ok := c.r.varcharColumnArg(c.args[0]); ok {
			return true, c.r.errorf(c.name.pos, "Unexpected parameters (varchar) for function %s. Expected: %s(varbinary); write %s(to_utf8(%s))",
				c.fname, c.fname, c.fname, col)
		}
		return true, c.emit("unhex("+c.fname+"(", 0, "))")
	case "sha512", "hmac_md5", "hmac_sha1", "hmac_sha256", "hmac_sha512", "xxhash64", "murmur3",
		"spooky_hash_v2_32", "spooky_hash_v2_64", "crc32", "to_base32", "from_base32", "to_base64url",
		"from_base64url", "to_big_endian_32", "from_big_endian_32", "to_big_endian_64",
		"from_big_endian_64", "to_ieee754_32", "from_ieee754_32", "to_ieee754_64", "from_ieee754_64":
		return true, c.unsupported(c.fname)
	case "to_hex":
		return true, c.wrap(1, "hex(", ")")
	case "from_hex":
		return true, c.wrap(1, "unhex(", ")")
	case "length":
		if len(c.args) == 1 && looksBinary(c.args[0]) {
			return true, c.emit("octet_length(", 0, ")")
		}
		return false, nil

	// Arrays (https://trino.io/docs/current/functions/array.html).
	case "repeat":
		// repeat(element, count) is an array of count elements, count at most 10000.
		return true, c.macro("trino_repeat", 2)
	case "sequence":
		if err := c.want(2, 3); err != nil {
			return true, err
		}
		if len(c.args) == 3 {
			if s := sigNodes(c.args[2]); len(s) > 0 && isKeyword(&s[0], "interval") {
				return true, c.macro("generate_series", 3)
			}
			return true, c.macro("trino_sequence_step", 3)
		}
		return true, c.macro("trino_sequence", 2)
	}
	return false, nil
}

// binaryMakers are the calls whose result is varbinary.
var binaryMakers = map[string]bool{
	"to_utf8": true, "from_hex": true, "from_base64": true, "md5": true, "sha1": true, "sha256": true,
}

// looksBinary reports whether an argument is visibly a varbinary: a call that makes one or a cast
// to varbinary.
func looksBinary(arg []node) bool {
	s := sigNodes(arg)
	if len(s) != 2 || !isWord(&s[0]) || !s[1].group {
		return false
	}
	name := strings.ToLower(s[0].tok.name())
	if binaryMakers[name] {
		return true
	}
	if name == "cast" || name == "try_cast" {
		k := sigNodes(s[1].kids)
		return len(k) >= 2 && isKeyword(&k[len(k)-2], "as") && isKeyword(&k[len(k)-1], "varbinary")
	}
	return false
}
