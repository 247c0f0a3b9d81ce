package roweval_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// gen writes random expressions of the subset over the dataset's columns, values and JSON paths.
type gen struct {
	r      *rand.Rand
	values map[string][]string // column → some of its values
	paths  map[string][]string // payload column → JSON paths found in it
	scalar []string            // values found at those paths
}

var strColumns = []string{"eventname", "eventsource", "errorcode", "errormessage", "useragent", "sourceipaddress",
	"useridentity.type", "useridentity.arn", "useridentity.username", "useridentity.invokedby",
	"useridentity.sessioncontext.sessionissuer.arn", "useridentity.sessioncontext.attributes.mfaauthenticated",
	"readonly", "eventtype", "sessioncredentialfromconsole", "recipientaccountid", "tlsdetails.tlsversion",
	"account", "region", "year", "month", "day", "awsregion", "eventtime", "vpcendpointid", "addendum.reason"}

var payloads = []string{"requestparameters", "responseelements", "additionaleventdata", "residual", "serviceeventdetails"}

var regexes = []string{`^[A-Z]`, `amazonaws\.com$`, `(?i)console`, `[0-9]{3}`, `a.c`, `^$`, `\d+`, `\s`, `[^a-z]`,
	`(Get|List)[A-Z]`, `\w+@`, `x*`, `"(Principal|AWS)"\s*:`, `[0-9v]+$`, `(?i)^AWS`, `-`, `(a)|b`}

func newGen(rows []lakeRow, seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, 7)), values: map[string][]string{}, paths: map[string][]string{}}
	seenV := map[string]bool{}
	seenP := map[string]bool{}
	probe := map[string]*roweval.Expr{}
	for _, c := range append(slices.Clone(strColumns), payloads...) {
		e, err := roweval.Compile(c)
		if err != nil {
			panic(err)
		}
		probe[c] = e
	}
	for i := range rows {
		for _, c := range strColumns {
			s, ok, _ := probe[c].Text(&rows[i].row)
			if ok && !seenV[c+"\x00"+s] && len(g.values[c]) < 40 {
				seenV[c+"\x00"+s] = true
				g.values[c] = append(g.values[c], s)
			}
		}
		for _, c := range payloads {
			s, ok, _ := probe[c].Text(&rows[i].row)
			if !ok {
				continue
			}
			var v any
			if json.Unmarshal([]byte(s), &v) != nil {
				continue
			}
			walkJSON(v, "$", 0, func(path string, leaf any) {
				if !seenP[c+path] && len(g.paths[c]) < 200 {
					seenP[c+path] = true
					g.paths[c] = append(g.paths[c], path)
				}
				if s, ok := leaf.(string); ok && len(g.scalar) < 400 && !seenV["\x01"+s] {
					seenV["\x01"+s] = true
					g.scalar = append(g.scalar, s)
				}
			})
		}
	}
	for _, m := range []map[string][]string{g.values, g.paths} {
		for k := range m {
			sort.Strings(m[k])
		}
	}
	return g
}

func walkJSON(v any, path string, depth int, f func(string, any)) {
	f(path, v)
	if depth > 3 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			if strings.ContainsAny(k, ".[]\"*' ") || k == "" {
				if strings.ContainsAny(k, `"'`) || k == "" {
					continue
				}
				p = path + `["` + k + `"]`
			}
			walkJSON(x[k], p, depth+1, f)
		}
	case []any:
		for i, e := range x {
			if i > 2 {
				break
			}
			walkJSON(e, path+"["+strconv.Itoa(i)+"]", depth+1, f)
		}
	}
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *gen) column() string { return g.pick(strColumns) }

func (g *gen) payloadPath() (string, string) {
	for {
		c := g.pick(payloads)
		if len(g.paths[c]) > 0 {
			return c, g.pick(g.paths[c])
		}
	}
}

// value is a string literal: a value of some column, a JSON scalar, or made-up text.
func (g *gen) value() string {
	switch g.r.IntN(4) {
	case 0:
		c := g.column()
		if len(g.values[c]) > 0 {
			return g.pick(g.values[c])
		}
	case 1:
		if len(g.scalar) > 0 {
			return g.pick(g.scalar)
		}
	case 2:
		return g.pick([]string{"", "a", "A", "true", "false", "Success", "ConsoleLogin", "é", "a_b", "50%", `a\b`, "'"})
	}
	c := g.column()
	if vs := g.values[c]; len(vs) > 0 {
		s := g.pick(vs)
		if len(s) > 3 {
			i := g.r.IntN(len(s) - 2)
			return s[i : i+1+g.r.IntN(len(s)-i-1)]
		}
		return s
	}
	return "x"
}

// likePattern turns a value into a LIKE pattern, with wildcards and escapes.
func (g *gen) likePattern(escape bool) string {
	v := []rune(g.value())
	var b strings.Builder
	if g.r.IntN(2) == 0 {
		b.WriteByte('%')
	}
	for _, r := range v {
		switch n := g.r.IntN(12); {
		case n == 0:
			b.WriteByte('_')
			continue
		case n == 1:
			b.WriteByte('%')
		case escape && n == 2:
			b.WriteByte('\\')
		}
		if escape && (r == '%' || r == '_' || r == '\\') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	if g.r.IntN(2) == 0 {
		b.WriteByte('%')
	}
	return b.String()
}

func (g *gen) str(depth int) string {
	n := 4
	if depth > 0 {
		n = 16
	}
	switch g.r.IntN(n) {
	case 0, 1:
		return g.column()
	case 2:
		if g.r.IntN(3) == 0 {
			return fmt.Sprintf("element_at(resources, %s).%s", g.pick([]string{"1", "2", "3", "-1"}), g.pick([]string{"arn", "accountid", "type"}))
		}
		c, p := g.payloadPath()
		return fmt.Sprintf("json_extract_scalar(%s, %s)", c, lit(p))
	case 3:
		return lit(g.value())
	case 4:
		return "lower(" + g.str(depth-1) + ")"
	case 5:
		return fmt.Sprintf("replace(%s, %s, %s)", g.str(depth-1), lit(g.value()), lit(g.value()))
	case 6:
		return g.str(depth-1) + " || " + g.str(depth-1)
	case 7:
		return fmt.Sprintf("concat(%s, %s)", g.str(depth-1), g.str(depth-1))
	case 8:
		return fmt.Sprintf("coalesce(%s, %s)", g.str(depth-1), g.str(depth-1))
	case 9:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", g.cond(depth-1), g.str(depth-1), g.str(depth-1))
	case 10:
		c, p := g.payloadPath()
		return fmt.Sprintf("CAST(json_extract(%s, %s) AS VARCHAR)", c, lit(p))
	case 11:
		c, p := g.payloadPath()
		return fmt.Sprintf("json_extract(%s, %s)", c, lit(p))
	case 12:
		return fmt.Sprintf("regexp_replace(%s, %s, %s)", g.str(depth-1), lit(g.pick(regexes)), lit(g.pick([]string{"", "#", "$1"})))
	case 13:
		return fmt.Sprintf("regexp_extract(%s, %s)", g.str(depth-1), lit(g.pick(regexes)))
	case 14:
		return fmt.Sprintf("CASE %s WHEN %s THEN %s WHEN %s THEN %s END", g.str(depth-1), lit(g.value()), g.str(depth-1), g.str(depth-1), lit(g.value()))
	default:
		return fmt.Sprintf("CAST(length(%s) AS VARCHAR)", g.str(depth-1))
	}
}

func (g *gen) cond(depth int) string {
	n := 11
	if depth > 0 {
		n = 18
	}
	switch g.r.IntN(n) {
	case 0:
		return fmt.Sprintf("%s %s %s", g.str(depth-1), g.pick([]string{"=", "<>", "!=", "<", "<=", ">", ">="}), g.str(depth-1))
	case 1:
		return fmt.Sprintf("%s = %s", g.str(depth-1), lit(g.value()))
	case 2:
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("%s %sLIKE %s ESCAPE '\\'", g.str(depth-1), g.pick([]string{"", "NOT "}), lit(g.likePattern(true)))
		}
		return fmt.Sprintf("%s %sLIKE %s", g.str(depth-1), g.pick([]string{"", "NOT "}), lit(g.likePattern(false)))
	case 3:
		var items []string
		for i := 0; i <= g.r.IntN(4); i++ {
			if g.r.IntN(6) == 0 {
				items = append(items, "NULL")
			} else {
				items = append(items, lit(g.value()))
			}
		}
		return fmt.Sprintf("%s %sIN (%s)", g.str(depth-1), g.pick([]string{"", "NOT "}), strings.Join(items, ", "))
	case 4:
		return fmt.Sprintf("%s IS %sNULL", g.str(depth-1), g.pick([]string{"", "NOT "}))
	case 5:
		return fmt.Sprintf("%s %sBETWEEN %s AND %s", g.str(depth-1), g.pick([]string{"", "NOT "}), lit(g.value()), lit(g.value()))
	case 6:
		return fmt.Sprintf("regexp_like(%s, %s)", g.str(depth-1), lit(g.pick(regexes)))
	case 7:
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf("%s(resources, r -> r.%s LIKE %s)", g.pick([]string{"any_match", "all_match", "none_match"}),
				g.pick([]string{"arn", "accountid", "type"}), lit(g.likePattern(false)))
		case 1:
			return fmt.Sprintf("cardinality(resources) %s %d", g.pick([]string{">", "=", "<"}), g.r.IntN(3))
		}
		c, p := g.payloadPath()
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("json_extract(%s, %s) IS NULL", c, lit(p))
		}
		return fmt.Sprintf("json_array_length(json_extract(%s, %s)) %s %d", c, lit(p), g.pick([]string{">", "=", "<"}), g.r.IntN(3))
	case 8:
		c, p := g.payloadPath()
		x := fmt.Sprintf("json_extract(%s, %s)", c, lit(p))
		return fmt.Sprintf("%s(CASE WHEN json_array_length(%s) IS NULL THEN ARRAY[%s] ELSE CAST(%s AS ARRAY(JSON)) END, v -> lower(json_extract_scalar(v, '$')) %s %s)",
			g.pick([]string{"any_match", "all_match", "none_match"}), x, x, x, g.pick([]string{"=", "LIKE"}), lit(strings.ToLower(g.value())))
	case 9:
		// Numbers as CloudWatch patterns compare them.
		nums := []string{"0", "1", "22", "1e3", "-2.5", "0.5", "250e0", "1e21", "443"}
		x := g.str(depth - 1)
		if g.r.IntN(2) == 0 {
			c, p := g.payloadPath()
			x = fmt.Sprintf("json_extract_scalar(%s, %s)", c, lit(p))
		}
		return fmt.Sprintf("TRY_CAST(%s AS DOUBLE) %s %s", x, g.pick([]string{"=", "<>", "<", "<=", ">", ">="}), g.pick(nums))
	case 10:
		c, p := g.payloadPath()
		return fmt.Sprintf("json_format(json_extract(%s, %s)) %s %s", c, lit(p), g.pick([]string{"=", "<>", "LIKE"}), lit(g.pick([]string{"null", "true", "[]", "%1%", `"%"`})))
	case 11:
		return "NOT " + g.cond(depth-1)
	case 12, 13:
		return "(" + g.cond(depth-1) + " AND " + g.cond(depth-1) + ")"
	case 14, 15:
		return "(" + g.cond(depth-1) + " OR " + g.cond(depth-1) + ")"
	case 16:
		return fmt.Sprintf("coalesce(%s, %s)", g.cond(depth-1), g.pick([]string{"false", "true", "NULL"}))
	default:
		return fmt.Sprintf("starts_with(%s, %s)", g.str(depth-1), lit(g.value()))
	}
}

// TestGeneratedAgreesWithEngine compares Go and the engine on random expressions of the subset
// (conditions and string values, nested up to three deep) over the dataset's rows: every part of
// the subset, with the dataset's own values, JSON paths and made-up text as literals.
func TestGeneratedAgreesWithEngine(t *testing.T) {
	query, rows, root := datasetLake(t)
	g := newGen(rows, 1)
	const count = 400
	var exprs []compiledInput
	unsupported := 0
	for i := 0; i < count; i++ {
		in := input{generated: true, from: fmt.Sprintf("generated %d", i)}
		if i%2 == 0 {
			in.expr, in.cond = g.cond(3), true
		} else {
			in.expr = g.str(3)
		}
		e, err := roweval.Compile(in.expr)
		if err != nil {
			if errors.Is(err, roweval.ErrUnsupported) {
				unsupported++
				t.Logf("unsupported: %v", err)
				continue
			}
			t.Errorf("%s: %v", in.from, err)
			continue
		}
		exprs = append(exprs, compiledInput{in, e})
	}
	n := compareAll(t, query, rows, root, exprs)
	t.Logf("%d generated expressions: %d unsupported, %d refused by the engine, %d compared on %d rows (%d comparisons, %d where a condition holds)",
		count, unsupported, n.refused, len(exprs)-n.refused, len(rows), n.checked, n.fired)
	if n.fired == 0 {
		t.Error("no generated condition holds on any row: the comparison proves little")
	}
}
