package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// detection is a rule's detection section: its search identifiers and conditions.
type detection struct {
	searches map[string]*search
	names    []string // in file order
	conds    []*yaml.Node
	node     *yaml.Node
	// timeframe is the key of a timeframe: (a correlation of events, not supported).
	timeframe *yaml.Node
}

// search is one search identifier: a disjunction of maps, each a conjunction of items. A list
// of plain values (keywords) is one map holding one item without a field.
type search struct {
	name string
	node *yaml.Node
	maps [][]*item
}

// item is one "field|modifier|…: value(s)" entry.
type item struct {
	field  string
	mods   []string
	key    *yaml.Node // for its position
	values []*yaml.Node
}

// Parse reads one Sigma rule from data; name is the file it came from, used in messages. A rule
// that is well-formed but cannot be evaluated (another log source, an unsupported feature) is
// returned with its reason in SQL's error; a rule that is not well-formed is a *LoadError.
func Parse(name string, data []byte) (*Rule, error) {
	root, err := decodeOne(name, data)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name}
	r, det, err := p.rule(root)
	if err != nil {
		return nil, err
	}
	if det == nil {
		return r, nil // unsupported kind of document; r.unsupported says which
	}
	c := &compiler{file: name}
	sql, err := c.compile(det)
	var ue *UnsupportedError
	switch {
	case errors.As(err, &ue):
		ue.Rule, ue.File = r.String(), name
		r.unsupported = ue
	case err != nil:
		return nil, err
	}
	r.sql, r.notes = sql, c.notes
	if !strings.EqualFold(r.Logsource.Product, "aws") || !strings.EqualFold(r.Logsource.Service, "cloudtrail") {
		r.sql, r.notes = "", nil
		r.unsupported = &UnsupportedError{Rule: r.String(), File: name, Line: r.Line, Err: ErrNotCloudTrail,
			Reason: "its logsource is " + describeLogsource(r.Logsource) + ", not product aws, service cloudtrail"}
	}
	return r, nil
}

func describeLogsource(l Logsource) string {
	var parts []string
	for _, kv := range [][2]string{{"category", l.Category}, {"product", l.Product}, {"service", l.Service}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// decodeOne decodes the single YAML document of a rule file.
func decodeOne(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &LoadError{File: name, Msg: "the file is empty; a Sigma rule needs title, logsource and detection"}
		}
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &LoadError{File: name, Line: next.Line, Msg: "a second YAML document: rule collections (several rules in one file, action: global) are not supported; put each rule in its own file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return nil, &LoadError{File: name, Line: root.Line, Column: root.Column, Msg: "a Sigma rule is a YAML mapping (title:, logsource:, detection:, …); found " + kindName(root)}
	}
	return root, nil
}

func yamlError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &LoadError{File: name, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &LoadError{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return "the value " + strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "an empty document"
}

// maxItems bounds the field conditions and values of one rule: YAML aliases can repeat a mapping
// many times over, and a rule that large is a mistake, not a detection.
const maxItems = 10000

// parser turns the YAML of a rule into a Rule and its detection.
type parser struct {
	file  string
	count int // field conditions and values read so far
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) *LoadError {
	e := &LoadError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// pairs returns the key and value nodes of a mapping, refusing duplicate and non-scalar keys.
func (p *parser) pairs(m *yaml.Node, what string) ([][2]*yaml.Node, error) {
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, "a key of %s is %s; keys must be plain text", what, kindName(k))
		}
		if seen[k.Value] {
			return nil, p.errorf(k, "%s has the key %q twice", what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

// rule reads the rule's attributes and its detection. Keys the specification does not define are
// allowed (custom attributes) and ignored.
func (p *parser) rule(root *yaml.Node) (*Rule, *detection, error) {
	r := &Rule{File: p.file, Line: root.Line}
	kv, err := p.pairs(root, "the rule")
	if err != nil {
		return nil, nil, err
	}
	var detNode, logNode, corr, filter *yaml.Node
	for _, e := range kv {
		k, v := e[0], e[1]
		var err error
		switch k.Value {
		case "title":
			r.Title, err = p.text(v, "title")
		case "id":
			r.ID, err = p.text(v, "id")
		case "name":
			r.Name, err = p.text(v, "name")
		case "status":
			r.Status, err = p.text(v, "status")
		case "description":
			r.Description, err = p.text(v, "description")
		case "license":
			r.License, err = p.text(v, "license")
		case "author":
			var a []string
			a, err = p.texts(v, "author")
			r.Author = strings.Join(a, ", ")
		case "date":
			r.Date, err = p.text(v, "date")
		case "modified":
			r.Modified, err = p.text(v, "modified")
		case "level":
			r.Level, err = p.text(v, "level")
		case "references":
			r.References, err = p.texts(v, "references")
		case "tags":
			r.Tags, err = p.texts(v, "tags")
		case "falsepositives":
			r.FalsePositives, err = p.texts(v, "falsepositives")
		case "logsource":
			logNode = v
		case "detection":
			detNode = v
		case "correlation":
			corr = k
		case "filter":
			filter = k
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if corr != nil || filter != nil {
		kind, n := "a correlation rule, which relates several events", corr
		if corr == nil {
			kind, n = "a Sigma filter, which amends other rules", filter
		}
		r.unsupported = &UnsupportedError{Rule: r.String(), File: p.file, Line: n.Line,
			Reason: "it is " + kind + "; trailsql evaluates detection rules, one event at a time"}
		return r, nil, nil
	}
	if r.Title == "" {
		return nil, nil, p.errorf(root, "the rule has no title (title: is mandatory)")
	}
	if logNode == nil {
		return nil, nil, p.errorf(root, "the rule has no logsource (for CloudTrail: logsource: {product: aws, service: cloudtrail})")
	}
	if err := p.logsource(logNode, &r.Logsource); err != nil {
		return nil, nil, err
	}
	if detNode == nil {
		return nil, nil, p.errorf(root, "the rule has no detection section")
	}
	det, err := p.detection(detNode)
	if err != nil {
		return nil, nil, err
	}
	return r, det, nil
}

// text reads a scalar attribute; null is "".
func (p *parser) text(v *yaml.Node, what string) (string, error) {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!null" {
			return "", nil
		}
		return v.Value, nil
	}
	return "", p.errorf(v, "%s is %s; it must be text", what, kindName(v))
}

// texts reads a list of scalars (or a single scalar).
func (p *parser) texts(v *yaml.Node, what string) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!null" {
			return nil, nil
		}
		return []string{v.Value}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errorf(v, "%s is %s; it must be a list of text", what, kindName(v))
	}
	var out []string
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode {
			return nil, p.errorf(e, "an element of %s is %s; it must be text", what, kindName(e))
		}
		out = append(out, e.Value)
	}
	return out, nil
}

func (p *parser) logsource(v *yaml.Node, l *Logsource) error {
	if v.Kind != yaml.MappingNode {
		return p.errorf(v, "logsource is %s; it must be a mapping (product: aws, service: cloudtrail)", kindName(v))
	}
	kv, err := p.pairs(v, "logsource")
	if err != nil {
		return err
	}
	for _, e := range kv {
		var dst *string
		switch e[0].Value {
		case "category":
			dst = &l.Category
		case "product":
			dst = &l.Product
		case "service":
			dst = &l.Service
		case "definition":
			dst = &l.Definition
		default:
			continue
		}
		s, err := p.text(e[1], "logsource "+e[0].Value)
		if err != nil {
			return err
		}
		*dst = s
	}
	return nil
}

// detection reads the detection section's shape; values are checked when compiled.
func (p *parser) detection(v *yaml.Node) (*detection, error) {
	if v.Kind != yaml.MappingNode {
		return nil, p.errorf(v, "detection is %s; it must be a mapping of search identifiers and a condition", kindName(v))
	}
	kv, err := p.pairs(v, "detection")
	if err != nil {
		return nil, err
	}
	d := &detection{searches: map[string]*search{}, node: v}
	for _, e := range kv {
		k, val := e[0], e[1]
		switch k.Value {
		case "condition":
			switch val.Kind {
			case yaml.ScalarNode:
				d.conds = append(d.conds, val)
			case yaml.SequenceNode:
				for _, c := range val.Content {
					c = deref(c)
					if c.Kind != yaml.ScalarNode {
						return nil, p.errorf(c, "a condition in the list is %s; it must be text", kindName(c))
					}
					d.conds = append(d.conds, c)
				}
			default:
				return nil, p.errorf(val, "condition is %s; it must be text or a list of text", kindName(val))
			}
			continue
		case "timeframe":
			d.timeframe = k // reported as unsupported when compiled
			continue
		}
		s, err := p.search(k, val)
		if err != nil {
			return nil, err
		}
		d.searches[k.Value] = s
		d.names = append(d.names, k.Value)
	}
	if len(d.conds) == 0 {
		return nil, p.errorf(v, "detection has no condition")
	}
	if len(d.names) == 0 {
		return nil, p.errorf(v, "detection has no search identifier")
	}
	return d, nil
}

// search reads one search identifier: a mapping, a list of mappings or a list of keywords.
func (p *parser) search(k, v *yaml.Node) (*search, error) {
	s := &search{name: k.Value, node: k}
	what := "search identifier " + strconv.Quote(k.Value)
	switch v.Kind {
	case yaml.MappingNode:
		m, err := p.items(v, what)
		if err != nil {
			return nil, err
		}
		s.maps = [][]*item{m}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, p.errorf(v, "%s is an empty list", what)
		}
		var keywords []*yaml.Node
		for _, e := range v.Content {
			e = deref(e)
			switch e.Kind {
			case yaml.MappingNode:
				if len(keywords) > 0 {
					return nil, p.errorf(e, "%s mixes mappings and plain values; use one or the other", what)
				}
				m, err := p.items(e, what)
				if err != nil {
					return nil, err
				}
				s.maps = append(s.maps, m)
			case yaml.ScalarNode:
				if len(s.maps) > 0 {
					return nil, p.errorf(e, "%s mixes mappings and plain values; use one or the other", what)
				}
				keywords = append(keywords, e)
			default:
				return nil, p.errorf(e, "an element of %s is %s; it must be a mapping of fields or a keyword", what, kindName(e))
			}
		}
		if p.count += len(keywords); p.count > maxItems {
			return nil, p.errorf(v, "the detection has more than %d field conditions and values", maxItems)
		}
		if len(keywords) > 0 {
			s.maps = [][]*item{{{key: k, values: keywords}}}
		}
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, p.errorf(k, "%s has no value; it must be a mapping of fields or a list", what)
		}
		s.maps = [][]*item{{{key: k, values: []*yaml.Node{v}}}}
	default:
		return nil, p.errorf(v, "%s is %s; it must be a mapping of fields or a list", what, kindName(v))
	}
	return s, nil
}

// items reads a mapping of "field|modifiers: value(s)".
func (p *parser) items(m *yaml.Node, what string) ([]*item, error) {
	kv, err := p.pairs(m, what)
	if err != nil {
		return nil, err
	}
	if len(kv) == 0 {
		return nil, p.errorf(m, "%s holds an empty mapping", what)
	}
	var out []*item
	for _, e := range kv {
		k, v := e[0], e[1]
		if p.count += 1 + len(v.Content); p.count > maxItems {
			return nil, p.errorf(k, "the detection has more than %d field conditions and values (are YAML aliases repeating a mapping?)", maxItems)
		}
		parts := strings.Split(k.Value, "|")
		it := &item{field: parts[0], mods: parts[1:], key: k}
		for _, mod := range it.mods {
			if mod == "" {
				return nil, p.errorf(k, "%q has an empty modifier (two | in a row or a trailing |)", k.Value)
			}
		}
		switch v.Kind {
		case yaml.ScalarNode:
			it.values = []*yaml.Node{v}
		case yaml.SequenceNode:
			if len(v.Content) == 0 {
				return nil, p.errorf(v, "%q has an empty list of values", k.Value)
			}
			for _, e := range v.Content {
				e = deref(e)
				if e.Kind != yaml.ScalarNode {
					return nil, p.errorf(e, "a value of %q is %s; values must be plain text, numbers, booleans or null", k.Value, kindName(e))
				}
				it.values = append(it.values, e)
			}
		default:
			return nil, p.errorf(v, "the value of %q is %s; it must be a value or a list of values", k.Value, kindName(v))
		}
		out = append(out, it)
	}
	return out, nil
}
