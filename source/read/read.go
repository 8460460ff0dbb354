// Package read holds what the readers of every source kind share: decoding a kind's own
// settings from its config entry (Settings), the rule identifiers every kind reports, the
// record of what a reader left out and why (Skipped), and opening the files a source
// names safely (File).
//
// Each source kind owns its settings: it declares them as a struct of its own and calls
// Settings, which reports every key of the source's entry that neither the kind nor every
// source (config.Source) reads, at its file:line:column.
//
// Package read imports model, diag, schemas and config.
package read

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/schemas"
)

// The rule identifiers every source kind may report.
const (
	RuleRead          = "read"                   // a file or directory cannot be read
	RuleUnusedSetting = "unused-setting"         // a setting the source's kind does not read
	RuleTooLarge      = "file-too-large"         // a file larger than the source's maxFileSize
	RuleNotAFile      = "not-a-file"             // a path that is a FIFO, device, socket or procfs file
	RuleTooMany       = "too-many"               // a file that declares more identities than an account holds
	RulePlaceholder   = "unrendered-placeholder" // a value still holding {{ … }} or ${…}
)

// placeholder matches the placeholders of template tools that were not rendered:
// {{ LDAP_BASE_DN }} (Helm, Jinja, Go templates) and ${LDAP_BASE_DN} (shells, envsubst).
var placeholder = regexp.MustCompile(`\{\{[^{}]*\}\}|\$\{[^{}]*\}`)

// Placeholder returns the first unrendered template placeholder in v.
func Placeholder(v string) (string, bool) {
	m := placeholder.FindString(v)
	return m, m != ""
}

// PlaceholderHint is what messages about unrendered placeholders advise.
const PlaceholderHint = "render the file before scimsync reads it (the template step of the pipeline did not run, or a variable is missing)"

// common holds the keys of a source entry that every kind reads: the yaml names of
// config.Source's fields.
var common = yamlFields(reflect.TypeFor[config.Source]())

// Settings decodes the settings of src's kind from its config entry into dst, a pointer
// to the kind's settings struct. Every key of the entry that is neither a field of
// config.Source nor one of dst (recursively, through nested structs and lists of them) is
// an error under RuleUnusedSetting at its place in the config file; dst is decoded
// whatever the errors. A source built in code (nil Settings) leaves dst as it is.
func Settings(src config.Source, dst any) diag.List {
	var diags diag.List
	n := src.Settings
	if n == nil {
		return nil
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	t := reflect.TypeOf(dst).Elem()
	fields := yamlFields(t)
	at := func(k *yaml.Node) model.Origin {
		return model.Origin{File: src.Origin.File, Line: k.Line, Column: k.Column}
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if _, ok := common[k.Value]; ok {
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				diags.Errorf(at(k), RuleUnusedSetting, "%s is not used by %s sources%s", k.Value, src.Kind, known(t))
				continue
			}
			unused(v, ft, k.Value, src, at, &diags)
		}
	}
	if placeholders(n, src, at, &diags) {
		// Decode the settings without the values that hold placeholders, so that what
		// they break downstream (a DN that does not parse) is not reported as well.
		n = withoutPlaceholders(n)
	}
	if err := n.Decode(dst); err != nil {
		diags.Errorf(src.Origin, schemas.RuleSchema, "%s source: %v", src.Kind, err)
	}
	return diags
}

// placeholders reports every scalar under n that holds an unrendered placeholder, and
// whether there is any.
func placeholders(n *yaml.Node, src config.Source, at func(*yaml.Node) model.Origin, diags *diag.List) bool {
	found := false
	switch n.Kind {
	case yaml.ScalarNode:
		if p, ok := Placeholder(n.Value); ok {
			diags.Errorf(at(n), RulePlaceholder, "%s holds the unrendered placeholder %s: %s", diag.Quote(n.Value), p, PlaceholderHint)
			found = true
		}
	case yaml.MappingNode, yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			found = placeholders(c, src, at, diags) || found
		}
	}
	return found
}

// withoutPlaceholders returns a copy of n in which the scalars that hold a placeholder
// are empty.
func withoutPlaceholders(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Kind == yaml.ScalarNode {
		if _, ok := Placeholder(n.Value); ok {
			c.Value = ""
		}
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = withoutPlaceholders(k)
	}
	return &c
}

// unused reports the keys under v that type t does not have.
func unused(v *yaml.Node, t reflect.Type, path string, src config.Source, at func(*yaml.Node) model.Origin, diags *diag.List) {
	for v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && v.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				diags.Errorf(at(k), RuleUnusedSetting, "%s.%s is not used by %s sources%s", path, k.Value, src.Kind, known(t))
				continue
			}
			unused(v.Content[i+1], ft, path+"."+k.Value, src, at, diags)
		}
	case t.Kind() == reflect.Slice && v.Kind == yaml.SequenceNode:
		for i, item := range v.Content {
			unused(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", src, at, diags)
		}
	}
}

// known lists the settings a struct has, for messages.
func known(t reflect.Type) string {
	fields := yamlFields(t)
	if len(fields) == 0 {
		return ""
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	return fmt.Sprintf(" (they read %s here)", strings.Join(names, ", "))
}

// yamlFields maps the yaml names of a struct's fields, inline fields included, to their
// types. Fields without a yaml name or tagged "-" are left out.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// Path resolves a path named in a source's settings against the config file's directory.
func Path(src config.Source, p string) string { return config.Resolve(src.Dir, p) }

// Result is what a reader of one source read.
type Result struct {
	// State holds the identities read; nil when nothing could be read.
	State *model.State
	// Skipped counts the rows and entries left out, by reason.
	Skipped Skipped
	// EmptyFiles are the files that list users or service principals but hold none (a
	// header without rows). source.Load reports each as an empty source unless the
	// source allows empty, so that a truncated export never turns into removals.
	EmptyFiles []EmptyFile
}

// EmptyFile is a file that holds a header and no rows.
type EmptyFile struct {
	At   model.Origin
	What string // "users", "service principals"
}

// Reason is why a reader left a row or entry out, as a noun phrase for one and for many
// ("guest", "guests"; "without userName" for both), and what keeps such rows, if
// anything.
type Reason struct{ One, Many, Hint string }

// Reasons readers report.
var (
	Guests           = Reason{"guest", "guests", "set mapping.includeGuests: true to keep guests"}
	NoUserName       = Reason{"without userName", "without userName", ""}
	UsersOutOfScope  = Reason{"user out of scope", "users out of scope", ""}
	GroupsOutOfScope = Reason{"group out of scope", "groups out of scope", ""}
	GroupsNoName     = Reason{"group without name", "groups without name", ""}
	NotInScopeGroup  = Reason{"user outside scope.groups", "users outside scope.groups", ""}
	Excluded         = Reason{"excluded group", "excluded groups", ""}
	Invalid          = Reason{"invalid", "invalid", ""}
)

// Skip counts the rows or entries left out for one reason.
type Skip struct {
	Reason Reason
	N      int
}

// Skipped counts what a reader left out, by reason, in the order the reasons first
// occurred.
type Skipped []Skip

// Add counts n more left out for a reason.
func (s *Skipped) Add(r Reason, n int) {
	if n <= 0 {
		return
	}
	for i := range *s {
		if (*s)[i].Reason == r {
			(*s)[i].N += n
			return
		}
	}
	*s = append(*s, Skip{r, n})
}

// Count returns how many were left out for a reason.
func (s Skipped) Count(r Reason) int {
	for _, k := range s {
		if k.Reason == r {
			return k.N
		}
	}
	return 0
}

// String lists the counts: "2 guests, 1 without userName".
func (s Skipped) String() string {
	parts := make([]string, len(s))
	for i, k := range s {
		parts[i] = Count(k.N, k.Reason.One, k.Reason.Many)
	}
	return strings.Join(parts, ", ")
}

// Count formats a count with the singular or plural noun: "1 user", "12 users".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// At returns the place in the config file of a source's setting, found by its path of
// keys and list indexes ("scope", "groups", 2); the source's own place when the setting
// cannot be found, as for a source built in code.
func At(src config.Source, path ...any) model.Origin {
	n := src.Settings
	for _, p := range path {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
				}
			}
		case int:
			if n != nil && n.Kind == yaml.SequenceNode && p >= 0 && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return src.Origin
		}
		n = next
	}
	if n == nil {
		return src.Origin
	}
	return model.Origin{File: src.Origin.File, Line: n.Line, Column: n.Column}
}
