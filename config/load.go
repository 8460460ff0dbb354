package config

import (
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/schemas"
)

// RuleRead is the rule of a config file that cannot be read.
const RuleRead = "read"

// Defaults returns the config used where a file says nothing: account level, the default
// plan policy and the default apply settings, and no sources.
func Defaults() *Config {
	return &Config{
		Target: Target{Level: model.LevelAccount},
		Policy: policy.Default(),
		Apply: Apply{
			BatchSize:   DefaultBatchSize,
			Concurrency: DefaultConcurrency,
			RateLimit:   DefaultRateLimit,
		},
	}
}

// Load reads and validates a config file. Every problem is reported at its file:line:column
// and the config is nil when there is any. Settings the file leaves out keep their
// Defaults; a setting the file gives, even 0 or an empty list, replaces the default. Each
// Source gets the Origin of its entry and, as Dir, the directory of the config file; its
// paths are resolved against that directory, and so are the paths its kind's settings
// name, by the reader of the kind.
func Load(path string) (*Config, diag.List) {
	var diags diag.List
	// A FIFO, device or directory is refused before it is opened: reading a FIFO would
	// block until someone writes to it, and a device may never end.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		diags.Errorf(model.Origin{File: path}, RuleRead, "read config: not a regular file (%s); a config is a regular file", info.Mode().Type())
		return nil, diags
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		diags.Errorf(model.Origin{File: path}, RuleRead, "read config: %v", err)
		return nil, diags
	}
	docs, diags := schemas.ParseYAML(data, path)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(docs) > 1 {
		diags.Errorf(model.Origin{File: path, Line: docs[1].Line, Column: docs[1].Column}, schemas.RuleYAML,
			"a config file holds one YAML document, this one has %d", len(docs))
		return nil, diags
	}
	cfg := Defaults()
	cfg.File = path
	if len(docs) == 0 || len(docs[0].Content) == 0 {
		return cfg, diags
	}
	doc := docs[0]
	diags = append(diags, schemas.ValidateYAML(doc, path, schemas.Config)...)
	if diags.HasErrors() {
		return nil, diags
	}
	sources := listPaths(doc.Content[0])
	if err := doc.Decode(cfg); err != nil {
		diags.Errorf(model.Origin{File: path}, schemas.RuleSchema, "%v", err)
		return nil, diags
	}
	if cfg.Target.Level == "" {
		cfg.Target.Level = model.LevelAccount
	}
	if d := checkSettings(doc.Content[0], cfg, path); d.HasErrors() {
		return nil, append(diags, d...)
	}
	dir := filepath.Dir(path)
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		if i < len(sources) {
			s.Origin = model.Origin{File: path, Line: sources[i].Line, Column: sources[i].Column}
		}
		for j := range s.Paths {
			s.Paths[j] = Resolve(dir, s.Paths[j])
		}
		s.Dir = dir
	}
	return cfg, diags
}

// Resolve makes a relative path relative to dir; empty and absolute paths are kept.
func Resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// listPaths rewrites every source's "path: x" into "path: [x]", so that it decodes into
// Source.Paths, and returns the source entries in order.
func listPaths(root *yaml.Node) []*yaml.Node {
	sources := value(root, "sources")
	if sources == nil || sources.Kind != yaml.SequenceNode {
		return nil
	}
	for _, s := range sources.Content {
		p := value(s, "path")
		if p == nil || p.Kind != yaml.ScalarNode {
			continue
		}
		item := *p
		*p = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.Line, Column: p.Column, Content: []*yaml.Node{&item}}
	}
	return sources.Content
}

// value returns the value under a key of a mapping node, following aliases.
func value(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v = n.Content[i+1]
		}
	}
	for v != nil && v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	return v
}
