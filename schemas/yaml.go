package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

// Limits on YAML input, which keep a hostile or broken file from exhausting memory.
const (
	// MaxDepth is the deepest nesting of mappings and lists a document may have.
	MaxDepth = 64
	// MinAliasBudget is how many values alias expansion may add to any document. Larger
	// documents may add as many values as they hold; a document whose aliases expand beyond
	// that (a "billion laughs" alias bomb) is refused.
	MinAliasBudget = 10000
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseYAML parses every document of a YAML file. Invalid UTF-8 and syntax errors are
// reported as diagnostics (rule "yaml") that name the file; the documents before a syntax
// error are returned. Documents are returned as parsed: duplicate keys and aliases are
// only checked by ValidateYAML.
func ParseYAML(data []byte, file string) ([]*yaml.Node, diag.List) {
	var diags diag.List
	if !utf8.Valid(data) {
		line, col := invalidUTF8At(data)
		diags.Errorf(model.Origin{File: file, Line: line, Column: col}, RuleYAML, "file is not valid UTF-8 text")
		return nil, diags
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return docs, diags
		}
		if err != nil {
			at := model.Origin{File: file}
			msg := err.Error()
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				at.Line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			diags.Errorf(at, RuleYAML, "invalid YAML: %s", trimYAMLPrefix(msg))
			return docs, diags
		}
		docs = append(docs, doc)
	}
}

// trimYAMLPrefix removes the "yaml: " prefix of yaml.v3's error messages.
func trimYAMLPrefix(msg string) string {
	if len(msg) > 6 && msg[:6] == "yaml: " {
		return msg[6:]
	}
	return msg
}

// invalidUTF8At returns the 1-based line and column of the first invalid UTF-8 byte.
func invalidUTF8At(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return line, col
}

// ValidateYAML checks one parsed YAML document against an embedded schema. It reports, all
// at once and each at the file:line:column of the value concerned: duplicate mapping keys
// (rule "duplicate-key"), YAML that has no JSON equivalent such as merge keys or mapping
// keys that are not scalars, nesting deeper than MaxDepth and runaway alias expansion (rule
// "yaml"), and every schema violation (rule "schema"). An empty document is validated as an
// empty mapping.
func ValidateYAML(doc *yaml.Node, file string, name Name) diag.List {
	root := docRoot(doc)
	var diags diag.List
	s := &scan{file: file, diags: &diags}
	s.walk(root, 0)
	if diags.HasErrors() && s.fatal {
		return diags
	}
	c := &converter{file: file, budget: s.nodes + max(s.nodes, MinAliasBudget)}
	value, err := c.convert(root, 0)
	if err != nil {
		diags.Errorf(c.at, RuleYAML, "%v", err)
		return diags
	}
	violations, err := Validate(name, value)
	if err != nil {
		diags.Errorf(model.Origin{File: file}, RuleSchema, "%v", err)
		return diags
	}
	for _, v := range violations {
		n := locate(root, v)
		at := model.Origin{File: file}
		if n != nil {
			at.Line, at.Column = n.Line, n.Column
		}
		diags.Errorf(at, RuleSchema, "%s", v)
	}
	return diags
}

// docRoot returns the top node of a document; nil and empty documents give an empty mapping.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc != nil && doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: doc.Line, Column: doc.Column}
		}
		doc = doc.Content[0]
	}
	if doc == nil {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	}
	if doc.Kind == yaml.ScalarNode && doc.ShortTag() == "!!null" {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: doc.Line, Column: doc.Column}
	}
	return doc
}

// scan walks a document as written (aliases not followed), counts its nodes and reports
// what cannot be converted to JSON. fatal is set when conversion must not be attempted.
type scan struct {
	file  string
	diags *diag.List
	nodes int
	fatal bool
}

func (s *scan) at(n *yaml.Node) model.Origin {
	return model.Origin{File: s.file, Line: n.Line, Column: n.Column}
}

func (s *scan) walk(n *yaml.Node, depth int) {
	s.nodes++
	if depth > MaxDepth {
		s.diags.Errorf(s.at(n), RuleYAML, "nesting is deeper than %d levels", MaxDepth)
		s.fatal = true
		return
	}
	if n.Kind == yaml.MappingNode && n.ShortTag() != "!!map" || n.Kind == yaml.SequenceNode && n.ShortTag() != "!!seq" {
		s.diags.Errorf(s.at(n), RuleYAML, "unsupported YAML tag %s: only plain mappings and lists have a JSON equivalent", n.Tag)
		s.fatal = true
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			s.nodes++
			switch {
			case k.Kind != yaml.ScalarNode:
				s.diags.Errorf(s.at(k), RuleYAML, "mapping keys must be plain strings")
				s.fatal = true
				continue
			case k.ShortTag() == "!!merge":
				s.diags.Errorf(s.at(k), RuleYAML, "merge keys (<<) are not supported; repeat the fields or alias a whole value")
				s.fatal = true
				continue
			}
			if first, dup := seen[k.Value]; dup {
				rel := s.at(first)
				*s.diags = append(*s.diags, diag.Diagnostic{
					Severity: diag.SevError, Origin: s.at(k), Rule: RuleDuplicateKey,
					Message: fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, first.Line),
					Related: &rel,
				})
			} else {
				seen[k.Value] = k
			}
			s.walk(v, depth+1)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s.walk(c, depth+1)
		}
	case yaml.ScalarNode:
		if _, ok := scalarTags[n.ShortTag()]; !ok {
			msg := "unsupported YAML tag %s"
			if n.ShortTag() == "!!binary" {
				// A reviewer would see only base64 in a diff of what is decoded to text.
				msg += ": binary values have no JSON equivalent; write the text itself"
			}
			s.diags.Errorf(s.at(n), RuleYAML, msg, n.Tag)
			s.fatal = true
		}
	}
}

// scalarTags are the scalar tags that have a JSON equivalent. !!binary has none: it is
// decoded from base64, so a diff of the file would not show the text it stands for.
var scalarTags = map[string]struct{}{
	"!!str": {}, "!!int": {}, "!!float": {}, "!!bool": {}, "!!null": {}, "!!timestamp": {},
}

// converter turns a YAML node into a JSON value, following aliases within a budget of nodes.
type converter struct {
	file   string
	budget int
	at     model.Origin // where conversion stopped, when it failed
}

func (c *converter) convert(n *yaml.Node, depth int) (any, error) {
	c.budget--
	if c.budget < 0 {
		c.at = model.Origin{File: c.file, Line: n.Line, Column: n.Column}
		return nil, errors.New("aliases expand to too many values; the document is refused")
	}
	if depth > MaxDepth {
		c.at = model.Origin{File: c.file, Line: n.Line, Column: n.Column}
		return nil, fmt.Errorf("nesting is deeper than %d levels, counting aliases", MaxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		return c.convert(docRoot(n), depth)
	case yaml.AliasNode:
		return c.convert(n.Alias, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := c.convert(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	return scalar(n), nil
}

// scalar converts a scalar node to a JSON value. Integers become json.Number; values that
// cannot be read as their tag says are kept as strings.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var v any
		if n.Decode(&v) == nil {
			switch x := v.(type) {
			case int:
				return json.Number(strconv.Itoa(x))
			case int64:
				return json.Number(strconv.FormatInt(x, 10))
			case uint64:
				return json.Number(strconv.FormatUint(x, 10))
			case float64:
				return x
			}
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

// locate finds the node a violation is about: the key of an unknown property, the object
// that lacks a required one, or the offending value.
func locate(root *yaml.Node, v Violation) *yaml.Node {
	n := root
	for _, t := range splitPointer(v.Pointer) {
		n = child(n, t)
		if n == nil {
			return nil
		}
	}
	if v.Property == "" || !v.Unknown {
		return n
	}
	k, _ := keyValue(n, v.Property)
	if k != nil {
		return k
	}
	return n
}

// child returns the value under a pointer token of a mapping or sequence node.
func child(n *yaml.Node, token string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		_, v := keyValue(n, token)
		return v
	case yaml.SequenceNode:
		i, err := strconv.Atoi(token)
		if err != nil || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	return nil
}

// keyValue returns the last key node named key in a mapping, and its value.
func keyValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			k, v = n.Content[i], n.Content[i+1]
		}
	}
	return k, v
}
