// Package schemas embeds scimsync's JSON schemas (draft 2020-12) and validates documents
// against them: YAML manifests, scimsync.yaml, and any schema added to this directory later.
// Every violation comes back as a diagnostic pointing at the file:line:column of the value
// concerned, and all of them are reported at once.
//
// Package schemas imports diag and model only.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Name names an embedded schema by its file name in this directory.
type Name string

// The embedded schemas. Adding a schema is adding its *.schema.json file to this directory
// and one constant here.
const (
	Manifest Name = "manifest.schema.json"
	Config   Name = "config.schema.json"
	Plan     Name = "plan.schema.json"
	Snapshot Name = "snapshot.schema.json"
	Drift    Name = "drift.schema.json"
)

// BaseURL is the prefix of every schema's $id. A schema may $ref another one by its full
// URL; nothing is ever fetched, all schemas are embedded.
const BaseURL = "https://raw.githubusercontent.com/scimsync/scimsync/main/schemas/"

// The rule identifiers of the diagnostics this package reports.
const (
	RuleSchema       = "schema"        // the document breaks its JSON schema
	RuleDuplicateKey = "duplicate-key" // a YAML mapping has the same key twice
	RuleYAML         = "yaml"          // the file is not YAML scimsync can read
)

//go:embed *.schema.json
var files embed.FS

// Bytes returns the text of an embedded schema.
func Bytes(name Name) ([]byte, error) {
	b, err := files.ReadFile(string(name))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return b, nil
}

// URL returns the $id of an embedded schema.
func URL(name Name) string { return BaseURL + string(name) }

// registry holds every embedded schema, parsed and compiled on first use.
type registry struct {
	compiler *jsonschema.Compiler
	docs     map[string]any // schema URL → the schema as a JSON value, for messages
	mu       sync.Mutex
	compiled map[Name]*jsonschema.Schema
}

var loadRegistry = sync.OnceValues(func() (*registry, error) {
	r := &registry{
		compiler: jsonschema.NewCompiler(),
		docs:     make(map[string]any),
		compiled: make(map[Name]*jsonschema.Schema),
	}
	r.compiler.Draft = jsonschema.Draft2020
	r.compiler.LoadURL = func(url string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %s is not embedded in scimsync", url)
	}
	names, err := fs.Glob(files, "*.schema.json")
	if err != nil {
		return nil, fmt.Errorf("list embedded schemas: %w", err)
	}
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", name, err)
		}
		url := BaseURL + name
		r.docs[url] = doc
		if err := r.compiler.AddResource(url, bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", name, err)
		}
	}
	return r, nil
})

// schema returns the compiled schema of a name.
func (r *registry) schema(name Name) (*jsonschema.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.compiled[name]; ok {
		return s, nil
	}
	if _, ok := r.docs[URL(name)]; !ok {
		return nil, fmt.Errorf("schema %s is not embedded", name)
	}
	s, err := r.compiler.Compile(URL(name))
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", name, err)
	}
	r.compiled[name] = s
	return s, nil
}

// lookup returns the schema object at an absolute keyword location with its last token
// (the keyword) removed, or nil.
func (r *registry) lookup(absKeywordLocation string) map[string]any {
	url, ptr, _ := strings.Cut(absKeywordLocation, "#")
	doc, ok := r.docs[url]
	if !ok {
		return nil
	}
	tokens := splitPointer(ptr)
	if len(tokens) == 0 {
		return nil
	}
	v := resolve(doc, tokens[:len(tokens)-1])
	m, _ := v.(map[string]any)
	return m
}

// Validate checks a JSON value against an embedded schema and returns its violations, in
// the order the schema reports them. The value must be built from map[string]any, []any,
// string, bool, json.Number, float64 and nil, as encoding/json produces with UseNumber.
// The error is for a schema that cannot be loaded, never for an invalid value.
func Validate(name Name, value any) ([]Violation, error) {
	r, err := loadRegistry()
	if err != nil {
		return nil, err
	}
	s, err := r.schema(name)
	if err != nil {
		return nil, err
	}
	err = s.Validate(value)
	if err == nil {
		return nil, nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return nil, fmt.Errorf("validate against %s: %w", name, err)
	}
	var out []Violation
	for _, leaf := range leaves(ve, nil) {
		out = append(out, r.explain(leaf, value)...)
	}
	return out, nil
}

// leaves collects the validation errors that explain a failure: the errors without causes,
// and the oneOf/anyOf errors as a whole (their branches' errors would only confuse).
func leaves(ve *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch lastToken(ve.KeywordLocation) {
	case "oneOf", "anyOf":
		return append(out, ve)
	}
	if len(ve.Causes) == 0 {
		return append(out, ve)
	}
	for _, c := range ve.Causes {
		out = leaves(c, out)
	}
	return out
}
