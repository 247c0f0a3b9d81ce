package athena

import (
	"strings"
)

// Postfix rewrites: constructs written after their operand (x[i], x AT TIME ZONE z) whose DuckDB
// form must open before the operand (trino_subscript(x, i)). planPostfix finds them before a
// sequence is written, records the text to open at the operand's first token (r.opens) and how to
// write the postfix itself (r.post); seq writes both as it reaches them. Both maps are keyed by
// the token's offset in the original SQL, so a sequence written in parts (see divisionChain) finds
// them too, and each is written once.

// postKind says how a postfix is written.
type postKind int

const (
	postSubscript postKind = iota + 1 // [i] → , i)
	postAtZone                        // AT TIME ZONE z → , z)
)

// zoneMode is how a value with a time zone is written (see timezone.go).
type zoneMode int

const (
	zoneInstant zoneMode = iota // TIMESTAMPTZ, the instant: comparisons, date_diff, to_unixtime
	zoneLocal                   // TIMESTAMP, the wall clock in the zone: hour(), date_format(), …
	zoneDisplay                 // VARCHAR, as Trino prints it: "2024-03-05 02:08:09.000 America/New_York"
)

// postfix is a planned postfix rewrite.
type postfix struct {
	kind     postKind
	zoneFrom int // for postAtZone: the zone expression's node range in its sequence
	zoneTo   int
}

// planPostfix plans the postfix rewrites of one sequence of sibling nodes.
func (r *rewriter) planPostfix(nodes []node) {
	for k := range nodes {
		n := &nodes[k]
		switch {
		case isWord(n) && !isReserved(n) && !isKeyword(n, "at"):
			// at_timezone(…), with_timezone(…), date_trunc(u, zoned) as a whole select item.
			g := nextSig(nodes, k)
			if g < 0 || !nodes[g].group || nodes[g].tok.kind != tkLParen {
				continue
			}
			if key, _, ok := zonedArg(nodes[k : g+1]); ok && key == n.tok.pos {
				if _, set := r.zoneModes[key]; !set && r.isTopItem(nodes, k, g+1) {
					r.setZoneMode(key, zoneDisplay)
				}
			}
		case n.group && n.tok.kind == tkLBracket:
			if _, done := r.post[n.tok.pos]; done {
				continue
			}
			p := prevSig(nodes, k)
			if p < 0 || !endsPrimary(&nodes[p]) || isKeyword(&nodes[p], "array") {
				continue // a list literal
			}
			s := primaryStart(nodes, p)
			if s < 0 {
				continue
			}
			// A string key or a visible map: the map subscript, which fails for a missing key.
			fn := "trino_subscript("
			if t := sigNodes(n.kids); len(t) == 1 && !t[0].group && t[0].tok.kind == tkString || looksLikeMap(nodes[s:k]) {
				fn = "trino_map_subscript("
			}
			r.open(nodes[s].tok.pos, fn)
			r.setPost(n.tok.pos, postfix{kind: postSubscript})
		case isKeyword(n, "at"):
			if _, done := r.post[n.tok.pos]; done {
				continue
			}
			t := nextSig(nodes, k)
			z := -1
			if t >= 0 && isKeyword(&nodes[t], "time") {
				z = nextSig(nodes, t)
			}
			if z < 0 || !isKeyword(&nodes[z], "zone") {
				continue
			}
			from := nextSig(nodes, z)
			if from < 0 {
				continue
			}
			to := from + 1
			if isWord(&nodes[from]) {
				if g := nextSig(nodes, from); g >= 0 && nodes[g].group && nodes[g].tok.kind == tkLParen {
					to = g + 1 // a call giving the zone
				}
			}
			p := prevSig(nodes, k)
			if p < 0 {
				continue
			}
			s := primaryStart(nodes, p)
			if s < 0 {
				continue
			}
			mode := r.zoneModes[n.tok.pos]
			if mode == zoneInstant && r.isTopItem(nodes, s, to) {
				mode = zoneDisplay
			}
			r.open(nodes[s].tok.pos, zoneOpen(mode))
			r.setPost(n.tok.pos, postfix{kind: postAtZone, zoneFrom: from, zoneTo: to})
		}
	}
}

// open records text to write before the token at offset pos; a later (outer) rewrite opens first.
func (r *rewriter) open(pos int, s string) {
	if r.opens == nil {
		r.opens = map[int]string{}
	}
	r.opens[pos] = s + r.opens[pos]
}

func (r *rewriter) setPost(pos int, p postfix) {
	if r.post == nil {
		r.post = map[int]postfix{}
	}
	r.post[pos] = p
}

// writeOpens writes what planPostfix opened before the node n, once.
func (r *rewriter) writeOpens(n *node) {
	if s, ok := r.opens[n.tok.pos]; ok && s != "" {
		r.synth(s, n.tok.pos)
		delete(r.opens, n.tok.pos)
	}
}

// writePostfix writes the planned postfix at nodes[i], if any, and returns the index of its last
// node.
func (r *rewriter) writePostfix(nodes []node, i int) (int, bool, error) {
	n := &nodes[i]
	p, ok := r.post[n.tok.pos]
	if !ok || n.group != (p.kind == postSubscript) {
		return 0, false, nil
	}
	delete(r.post, n.tok.pos)
	switch p.kind {
	case postSubscript:
		r.synth(", ", n.tok.pos)
		if err := r.seq(n.kids, false); err != nil {
			return 0, false, err
		}
		r.synth(")", n.close.pos)
		return i, true, nil
	default:
		r.synth(", ", n.tok.pos)
		if err := r.seq(nodes[p.zoneFrom:p.zoneTo], false); err != nil {
			return 0, false, err
		}
		r.synth(")", n.tok.pos)
		return p.zoneTo - 1, true, nil
	}
}

// prevSig returns the index of the last significant node before i, or -1.
func prevSig(nodes []node, i int) int {
	for j := i - 1; j >= 0; j-- {
		if nodes[j].significant() {
			return j
		}
	}
	return -1
}

// endsPrimary reports whether n can end an operand: a group, a literal or a non-reserved word.
func endsPrimary(n *node) bool {
	if n.group {
		return true
	}
	switch n.tok.kind {
	case tkNumber, tkString, tkQuoted:
		return true
	case tkIdent:
		return !reserved[n.tok.lower()]
	}
	return false
}

// primaryStart returns the index of the first node of the primary expression ending at nodes[p]
// (a column or field path, a call, a parenthesised expression, a typed literal, a subscript of
// one of these), or -1 when it cannot tell (CASE … END).
func primaryStart(nodes []node, p int) int {
	for {
		n := &nodes[p]
		q := prevSig(nodes, p)
		switch {
		case n.group && n.tok.kind == tkLBracket:
			if q < 0 || !endsPrimary(&nodes[q]) {
				return p // a list literal
			}
			if isKeyword(&nodes[q], "array") {
				return q
			}
			p = q
			continue
		case n.group:
			if q >= 0 && isWord(&nodes[q]) && !isReserved(&nodes[q]) {
				p = q // a call: continue to a qualified name
			} else {
				return p
			}
		case n.tok.kind == tkString:
			if q >= 0 && !nodes[q].group && nodes[q].tok.kind == tkIdent {
				switch nodes[q].tok.lower() {
				case "timestamp", "date", "time", "decimal", "interval":
					return q
				}
			}
			return p
		case n.tok.kind == tkNumber:
			return p
		case !isWord(n) || isReserved(n):
			return -1
		}
		// A word: walk back over ".": a.b.c, f(x).field, x[1].field.
		q = prevSig(nodes, p)
		if q < 0 || nodes[q].group || nodes[q].tok.text != "." {
			return p
		}
		b := prevSig(nodes, q)
		if b < 0 || !endsPrimary(&nodes[b]) {
			return p
		}
		p = b
	}
}

// isTopItem reports whether nodes[s:to] is a whole select item of the outermost select list.
func (r *rewriter) isTopItem(nodes []node, s, to int) bool {
	if len(nodes) == 0 || len(r.top) == 0 || &nodes[0] != &r.top[0] {
		return false
	}
	b := prevSig(nodes, s)
	if b < 0 || !(nodes[b].tok.kind == tkComma || isKeyword(&nodes[b], "select") ||
		isKeyword(&nodes[b], "distinct") || isKeyword(&nodes[b], "all")) {
		return false
	}
	inSelect := false
	for k := 0; k < s; k++ {
		switch {
		case isKeyword(&nodes[k], "select"):
			inSelect = true
		case !nodes[k].group && nodes[k].tok.kind == tkIdent && selectListEnd[nodes[k].tok.lower()]:
			inSelect = false
		}
	}
	if !inSelect {
		return false
	}
	e := nextSig(nodes, to-1)
	return e < 0 || nodes[e].tok.kind == tkComma || isKeyword(&nodes[e], "as") || isKeyword(&nodes[e], "from") ||
		!nodes[e].group && nodes[e].tok.kind == tkIdent && !reserved[nodes[e].tok.lower()] || nodes[e].tok.kind == tkQuoted
}

// zoneOpen is the text opened before a value converted with AT TIME ZONE, closed by ", z)".
func zoneOpen(m zoneMode) string {
	switch m {
	case zoneLocal:
		return "trino_local_time("
	case zoneDisplay:
		return "trino_zoned_text("
	}
	return "trino_at_timezone("
}

// zonedArg recognises an argument that is a value with a time zone written directly: x AT TIME
// ZONE z, at_timezone(x, z) or with_timezone(x, z); key is the offset planPostfix and the call
// handlers look modes up by (the AT keyword or the function name).
func zonedArg(arg []node) (key int, zone []node, ok bool) {
	s := sigNodes(arg)
	if len(s) == 2 && isWord(&s[0]) && s[1].group {
		switch strings.ToLower(s[0].tok.name()) {
		case "at_timezone", "with_timezone":
			if a := splitArgs(s[1].kids); len(a) == 2 {
				return s[0].tok.pos, a[1], true
			}
		case "date_trunc":
			if a := splitArgs(s[1].kids); len(a) == 2 {
				if _, z, ok := zonedArg(a[1]); ok {
					return s[0].tok.pos, z, true
				}
			}
		}
		return 0, nil, false
	}
	// x AT TIME ZONE z with z one token or a call; x a primary.
	for i := len(s) - 1; i >= 2; i-- {
		if isKeyword(&s[i-2], "at") && isKeyword(&s[i-1], "time") && isKeyword(&s[i], "zone") {
			z := s[i+1:]
			if len(z) == 0 || len(z) > 2 || i-2 == 0 || primaryStart(s, i-3) != 0 {
				return 0, nil, false
			}
			return s[i-2].tok.pos, z, true
		}
	}
	return 0, nil, false
}
