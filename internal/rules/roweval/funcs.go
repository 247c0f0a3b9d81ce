package roweval

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// callNode is a function call.
type callNode struct {
	fn   string
	args []node
	t    vtype
	f    func(e *env, args []node) (value, error)
	// re and lit, for regexp_like: its pattern, and the literal every match holds ("": none known).
	re  *regexp.Regexp
	lit string
}

func (n *callNode) typ() vtype                 { return n.t }
func (n *callNode) eval(e *env) (value, error) { return n.f(e, n.args) }

// strict evaluates args and calls f with their values, or gives NULL when one is NULL. The
// values live on the env's stack, so that a call allocates nothing.
func strict(f func(e *env, vs []value) (value, error)) func(e *env, args []node) (value, error) {
	return func(e *env, args []node) (value, error) {
		base := len(e.stack)
		defer func() { e.stack = e.stack[:base] }()
		for _, a := range args {
			v, err := a.eval(e)
			if err != nil || v.k == kNull {
				return null, err
			}
			e.stack = append(e.stack, v)
		}
		return f(e, e.stack[base:])
	}
}

// want checks a call's argument count and that each argument is of one of the types allowed
// ("s" string-like, "l" list, "x" lambda, "i" bigint, "*" any).
func want(name string, args []node, kinds ...string) error {
	if len(args) != len(kinds) {
		return errorf("%s takes %d arguments, not %d", name, len(kinds), len(args))
	}
	for i, a := range args {
		t := a.typ()
		_, isLambda := a.(*lambdaNode)
		ok := false
		switch kinds[i] {
		case "s":
			ok = (t.stringy() || t == yNull) && !isLambda
		case "l":
			ok = t == yList || t == yNull
		case "i":
			ok = t == yInt || t == yNull
		case "x":
			ok = isLambda
		case "*":
			ok = !isLambda
		}
		if !ok {
			return unsupportedf("%s with a %s as argument %d", name, t, i+1)
		}
	}
	return nil
}

func literalString(n node) (string, bool) {
	if l, ok := n.(*litNode); ok && l.v.k == kStr {
		return l.v.s, true
	}
	return "", false
}

func newCall(name string, args []node) (node, error) {
	c := &callNode{fn: name, args: args}
	switch name {
	case "coalesce":
		if len(args) == 0 {
			return nil, errorf("coalesce takes at least one argument")
		}
		t, err := commonType("coalesce", args)
		if err != nil {
			return nil, err
		}
		c.t = t
		c.f = func(e *env, args []node) (value, error) {
			for _, a := range args {
				v, err := a.eval(e)
				if err != nil || v.k != kNull {
					return v, err
				}
			}
			return null, nil
		}
	case "lower":
		if err := want(name, args, "s"); err != nil {
			return nil, err
		}
		c.t = yStr
		c.f = strict(func(_ *env, vs []value) (value, error) { return strVal(lower(vs[0].text())), nil })
	case "json_extract_scalar", "json_extract":
		if err := want(name, args, "s", "s"); err != nil {
			return nil, err
		}
		p, ok := literalString(args[1])
		if !ok {
			return nil, unsupportedf("%s with a path that is not a literal", name)
		}
		path, err := parseJSONPath(p)
		if err != nil {
			return nil, err
		}
		scalar := name == "json_extract_scalar"
		c.t = yJSON
		if scalar {
			c.t = yStr
		}
		c.f = strict(func(e *env, vs []value) (value, error) {
			j, ok := e.json(vs[0])
			if !ok {
				return null, nil
			}
			j = j.at(path)
			if j == nil {
				return null, nil
			}
			if !scalar {
				return jsonVal(j), nil
			}
			switch j.k {
			case jObj, jArr, jNull:
				return null, nil
			}
			return strVal(j.s), nil
		})
	case "json_array_length":
		if err := want(name, args, "s"); err != nil {
			return nil, err
		}
		c.t = yInt
		c.f = strict(func(e *env, vs []value) (value, error) {
			j, ok := e.json(vs[0])
			if !ok || j.k != jArr {
				return null, nil
			}
			return intVal(int64(len(j.kids))), nil
		})
	case "any_match", "all_match", "none_match":
		if err := want(name, args, "l", "x"); err != nil {
			return nil, err
		}
		if t := args[1].(*lambdaNode).body.typ(); t != yBool && t != yNull {
			return nil, unsupportedf("%s with a lambda giving %s", name, t)
		}
		c.t = yBool
		// As the engine has them: bool_or / bool_and of the lambda over the elements, NULLs
		// left out, and false (true for all_match) when nothing is left.
		c.f = func(e *env, args []node) (value, error) {
			l, err := args[0].eval(e)
			if err != nil {
				return null, err
			}
			fn := args[1].(*lambdaNode)
			any, all := false, true
			for _, el := range l.l {
				v, err := fn.apply(e, el)
				if err != nil {
					return null, err
				}
				if v.k == kNull {
					continue
				}
				any = any || v.b
				all = all && v.b
			}
			switch name {
			case "any_match":
				return boolVal(any), nil
			case "all_match":
				return boolVal(all), nil
			}
			return boolVal(!any), nil
		}
	case "replace":
		if len(args) == 2 {
			args = append(args, &litNode{v: strVal(""), t: yStr})
			c.args = args
		}
		if err := want(name, args, "s", "s", "s"); err != nil {
			return nil, err
		}
		c.t = yStr
		c.f = strict(func(_ *env, vs []value) (value, error) {
			from := vs[1].text()
			if from == "" {
				return strVal(vs[0].text()), nil
			}
			return strVal(strings.ReplaceAll(vs[0].text(), from, vs[2].text())), nil
		})
	case "regexp_like":
		if err := want(name, args, "s", "s"); err != nil {
			return nil, err
		}
		re, err := regexpOf(args[1])
		if err != nil {
			return nil, err
		}
		c.t = yBool
		lit := requiredLiteral(re.String())
		c.re, c.lit = re, lit
		c.f = strict(func(_ *env, vs []value) (value, error) {
			s := vs[0].text()
			if lit != "" && !strings.Contains(s, lit) {
				return boolVal(false), nil // what every match holds is not there
			}
			return boolVal(re.MatchString(s)), nil
		})
	case "regexp_replace":
		if len(args) == 2 {
			args = append(args, &litNode{v: strVal(""), t: yStr})
			c.args = args
		}
		if err := want(name, args, "s", "s", "s"); err != nil {
			return nil, err
		}
		re, err := regexpOf(args[1])
		if err != nil {
			return nil, err
		}
		rl, ok := literalString(args[2])
		if !ok {
			return nil, unsupportedf("regexp_replace with a replacement that is not a literal")
		}
		rep, maxGroup, err := goReplacement(rl)
		if err != nil {
			return nil, err
		}
		if maxGroup > re.NumSubexp() {
			// The engine's RE2 then replaces nothing; Go would write an empty group.
			return nil, unsupportedf("regexp_replace with $%d in the replacement of a pattern with %d groups", maxGroup, re.NumSubexp())
		}
		c.t = yStr
		c.f = strict(func(_ *env, vs []value) (value, error) {
			return strVal(re.ReplaceAllString(vs[0].text(), rep)), nil
		})
	case "regexp_extract":
		if len(args) == 2 {
			args = append(args, &litNode{v: intVal(0), t: yInt})
			c.args = args
		}
		if err := want(name, args, "s", "s", "i"); err != nil {
			return nil, err
		}
		re, err := regexpOf(args[1])
		if err != nil {
			return nil, err
		}
		c.t = yStr
		c.f = strict(func(_ *env, vs []value) (value, error) {
			m := re.FindStringSubmatchIndex(vs[0].text())
			if m == nil {
				return null, nil
			}
			g := vs[2].i
			if g < 0 || int(g) > re.NumSubexp() {
				return null, errorf("regexp_extract: pattern has %d groups, not %d", re.NumSubexp(), g)
			}
			if m[2*g] < 0 {
				return strVal(""), nil
			}
			return strVal(vs[0].text()[m[2*g]:m[2*g+1]]), nil
		})
	case "concat":
		if len(args) == 0 {
			return nil, errorf("concat takes at least one argument")
		}
		for i := range args {
			if err := want(name, args[i:i+1], "s"); err != nil {
				return nil, err
			}
		}
		return &concatNode{args: args}, nil
	case "json_format":
		// The JSON text of a JSON value (the engine's JSON values are that text already).
		if err := want(name, args, "s"); err != nil {
			return nil, err
		}
		c.t = yStr
		c.f = strict(func(_ *env, vs []value) (value, error) { return strVal(vs[0].text()), nil })
	case "length":
		if err := want(name, args, "s"); err != nil {
			return nil, err
		}
		c.t = yInt
		c.f = strict(func(_ *env, vs []value) (value, error) {
			return intVal(int64(utf8.RuneCountInString(vs[0].text()))), nil
		})
	case "starts_with":
		if err := want(name, args, "s", "s"); err != nil {
			return nil, err
		}
		c.t = yBool
		c.f = strict(func(_ *env, vs []value) (value, error) {
			return boolVal(strings.HasPrefix(vs[0].text(), vs[1].text())), nil
		})
	case "map_values":
		if len(args) != 1 || args[0].typ() != yMap && args[0].typ() != yNull {
			return nil, unsupportedf("map_values of anything but a map")
		}
		c.t = yList
		c.f = strict(func(_ *env, vs []value) (value, error) {
			m := vs[0]
			var l []value
			if m.j != nil {
				for _, k := range m.j.kids {
					l = append(l, jsonVal(k))
				}
			} else {
				for _, v := range m.m {
					l = append(l, strVal(v))
				}
			}
			return value{k: kList, l: l}, nil
		})
	case "element_at":
		if len(args) == 2 && args[0].typ() == yMap {
			if err := want(name, args[1:], "s"); err != nil {
				return nil, err
			}
			c.t = yJSON
			if _, ok := args[0].(*colNode); ok {
				c.t = yStr // the attributes column: VARCHAR values
			}
			c.f = strict(func(_ *env, vs []value) (value, error) {
				m, k := vs[0], vs[1].text()
				if m.j != nil {
					for i, key := range m.j.keys {
						if key == k {
							return jsonVal(m.j.kids[i]), nil
						}
					}
					return null, nil
				}
				if v, ok := m.m[k]; ok {
					return strVal(v), nil
				}
				return null, nil
			})
			break
		}
		if err := want(name, args, "l", "i"); err != nil {
			return nil, err
		}
		// 1-based, negative from the end, NULL out of range.
		c.t = elemType(args[0])
		if c.t == yNull {
			return nil, unsupportedf("element_at of an array of unknown type")
		}
		c.f = strict(func(_ *env, vs []value) (value, error) {
			l, i := vs[0].l, vs[1].i
			switch {
			case i > 0 && i <= int64(len(l)):
				return l[i-1], nil
			case i < 0 && -i <= int64(len(l)):
				return l[int64(len(l))+i], nil
			}
			return null, nil
		})
	case "cardinality":
		if err := want(name, args, "l"); err != nil {
			return nil, err
		}
		c.t = yInt
		c.f = strict(func(_ *env, vs []value) (value, error) { return intVal(int64(len(vs[0].l))), nil })
	default:
		return nil, unsupportedf("the function %s", name)
	}
	return c, nil
}

// lowerEquals reports whether lower(s) = lit, without building lower(s).
func lowerEquals(s, lit string) bool {
	i, j := 0, 0
	for i < len(s) && j < len(lit) {
		c, d := s[i], lit[j]
		if c < utf8.RuneSelf && d < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != d {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		l, m := utf8.DecodeRuneInString(lit[j:])
		if unicode.ToLower(r) != l || l == utf8.RuneError && m == 1 {
			return false
		}
		i, j = i+n, j+m
	}
	return i == len(s) && j == len(lit)
}

// lower folds each character to lower case, one character for one as the engine does.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.Map(unicode.ToLower, s)
		}
	}
	return s
}

// goReplacement turns a Java replacement ($1, \$) into Go's (${1}), and returns the highest
// group it names.
func goReplacement(s string) (string, int, error) {
	var b strings.Builder
	maxGroup := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errorf("regexp_replace: trailing backslash in the replacement")
			}
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case '$':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return "", 0, unsupportedf("regexp_replace with %q in the replacement", s)
			}
			g, err := strconv.Atoi(s[i+1 : j])
			if err != nil {
				return "", 0, unsupportedf("regexp_replace with %q in the replacement", s)
			}
			maxGroup = max(maxGroup, g)
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), maxGroup, nil
}
