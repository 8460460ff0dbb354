package config

import (
	"path"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

// The rules of settings the schema cannot check.
const (
	RuleInvalidGlob   = "invalid-glob"   // a policy.scope.ignore pattern path.Match cannot parse
	RuleAbsurdSetting = "absurd-setting" // a setting outside the range in which scimsync works
)

// Bounds of apply.timeout: a request needs time to travel, and a hung one must end.
const (
	MinTimeout = time.Second
	MaxTimeout = time.Hour
)

// ignoreKinds are the prefixes a policy.scope.ignore pattern may start with.
var ignoreKinds = []model.Kind{model.KindUser, model.KindGroup, model.KindServicePrincipal}

// IgnorePattern splits a policy.scope.ignore entry into its kind ("" for every kind) and
// its glob.
func IgnorePattern(p string) (model.Kind, string) {
	for _, k := range ignoreKinds {
		if rest, ok := strings.CutPrefix(p, string(k)+":"); ok {
			return k, rest
		}
	}
	return "", p
}

// checkSettings reports, at their file:line:column, the settings the schema lets through
// but scimsync cannot use: malformed glob patterns, which would quietly match nothing,
// and request timeouts outside MinTimeout..MaxTimeout.
func checkSettings(root *yaml.Node, cfg *Config, file string) diag.List {
	var diags diag.List
	at := func(n *yaml.Node) model.Origin {
		if n == nil {
			return model.Origin{File: file}
		}
		return model.Origin{File: file, Line: n.Line, Column: n.Column}
	}
	ignore := value(value(value(root, "policy"), "scope"), "ignore")
	for i, p := range cfg.Policy.Scope.Ignore {
		var n *yaml.Node
		if ignore != nil && i < len(ignore.Content) {
			n = ignore.Content[i]
		}
		_, glob := IgnorePattern(p)
		if _, err := path.Match(glob, ""); err != nil {
			diags.Errorf(at(n), RuleInvalidGlob, "policy.scope.ignore[%d]: %s is not a valid glob pattern (path.Match syntax: * ? [a-z] and \\ to escape)", i, strconv.Quote(p))
		}
	}
	if t := cfg.Apply.Timeout; t != 0 && (t < MinTimeout || t > MaxTimeout) {
		diags.Errorf(at(value(value(root, "apply"), "timeout")), RuleAbsurdSetting, "apply.timeout: %s is outside %s to %s", t, MinTimeout, MaxTimeout)
	}
	return diags
}
