package roweval

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// castNode is CAST(x AS t) or TRY_CAST, for the casts the engine makes without surprises.
type castNode struct {
	x        node
	to       vtype
	try      bool
	fromJSON bool // CAST(json_extract(...) AS VARCHAR): the scalar's value
}

func (n *castNode) typ() vtype { return n.to }

func newCast(x node, typ string, try, fromJSON bool) (node, error) {
	from := x.typ()
	n := &castNode{x: x, try: try, fromJSON: fromJSON}
	ok := false
	switch typ {
	case "varchar", "string":
		n.to = yStr
		ok = from != yFloat && from != yList
	case "bigint":
		n.to = yInt
		ok = from == yInt || from == yNull
	case "double":
		n.to = yFloat
		ok = from.numeric() || from == yNull || from.stringy() && !fromJSON
	case "boolean":
		n.to = yBool
		ok = from == yBool || from == yNull
	case "map(varchar,json)":
		n.to = yMap
		ok = fromJSON || from == yNull
	case "array(json)":
		// Only a JSON value: the engine casts other text to a list by its own list syntax.
		n.to = yList
		ok = fromJSON || from == yNull
	}
	if !ok {
		return nil, unsupportedf("CAST(%s AS %s)", from, typ)
	}
	return n, nil
}

func (n *castNode) eval(e *env) (value, error) {
	v, err := n.x.eval(e)
	if err != nil || v.k == kNull {
		return null, err
	}
	switch n.to {
	case yStr:
		if n.fromJSON && v.k == kJSON {
			switch v.j.k {
			case jObj, jArr, jNull:
				return null, nil
			}
			return strVal(v.j.s), nil
		}
		s, _, err := textOf(v)
		return strVal(s), err
	case yInt:
		return v, nil
	case yFloat:
		switch v.k {
		case kInt:
			return value{k: kFloat, f: float64(v.i)}, nil
		case kStr, kJSON:
			f, ok, err := parseDouble(v.text())
			if err != nil {
				return null, err
			}
			if !ok {
				return n.fail("could not convert " + strconv.Quote(v.text()) + " to DOUBLE")
			}
			return value{k: kFloat, f: f}, nil
		}
		return v, nil
	case yBool:
		return v, nil
	case yList:
		j, ok := e.json(v)
		if !ok {
			return n.fail("Malformed JSON: " + strconv.Quote(v.text()))
		}
		switch j.k {
		case jNull:
			return null, nil
		case jArr:
			l := make([]value, len(j.kids))
			for i, k := range j.kids {
				l[i] = jsonVal(k)
			}
			return value{k: kList, l: l}, nil
		}
		return n.fail("Expected ARRAY, but got " + j.text())
	case yMap:
		j, ok := e.json(v)
		if !ok {
			return n.fail("Malformed JSON: " + strconv.Quote(v.text()))
		}
		switch j.k {
		case jNull:
			return null, nil
		case jObj:
			seen := make(map[string]bool, len(j.keys))
			for _, k := range j.keys {
				if seen[k] {
					return null, unsupportedf("a JSON object with the member %q twice as a map", k)
				}
				seen[k] = true
			}
			return value{k: kMap, j: j}, nil
		}
		return n.fail("Expected OBJECT, but got " + j.text())
	}
	return null, errorf("cast to %s", n.to)
}

func (n *castNode) fail(msg string) (value, error) {
	if n.try {
		return null, nil
	}
	return null, errorf("conversion error: %s", msg)
}

// numberSyntax is the text the engine reads as a double, surrounding spaces aside (besides
// inf, infinity and nan).
var numberSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
})

// parseDouble reads text as the engine's cast to DOUBLE does; ok is false for text it does not
// read. Text with "_", which the engine reads by rules of its own, is an error wrapping
// ErrUnsupported, so that the caller lets the engine decide.
func parseDouble(s string) (float64, bool, error) {
	s = strings.Trim(s, " \t\n\r\v\f")
	if strings.Contains(s, "_") {
		// Text that would be a number without its underscores is the engine's to read.
		if _, ok, _ := parseDouble(strings.ReplaceAll(s, "_", "")); ok {
			return 0, false, unsupportedf("casting %q to DOUBLE", s)
		}
		return 0, false, nil
	}
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), true, nil
		}
		return math.Inf(1), true, nil
	case "nan":
		return math.NaN(), true, nil
	}
	if !numberSyntax().MatchString(s) {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, nil
	}
	return f, true, nil
}
