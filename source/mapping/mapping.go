// Package mapping holds the parts of a source's mapping settings that several kinds of
// source share, and evaluates them: the rule that decides whether a user is active, the
// rule that selects and names groups, and userName templates.
//
// Package mapping imports diag only.
package mapping

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
)

// ActiveRule says how a user's active flag is read.
type ActiveRule struct {
	// Attribute names the attribute or column that decides; empty means the kind's
	// default.
	Attribute string `yaml:"attribute"`
	// DisabledBit, when non-zero, treats Attribute as an integer bit field (such as Active
	// Directory's userAccountControl, bit 2 = ACCOUNTDISABLE) and the user as inactive when
	// the bit is set.
	DisabledBit int `yaml:"disabledBit"`
	// ActiveValues and InactiveValues list attribute values (case-insensitive) that mean
	// active or inactive; when only one list is given, any other value means the opposite.
	ActiveValues   []string `yaml:"activeValues"`
	InactiveValues []string `yaml:"inactiveValues"`
	// Always makes every user active without reading any attribute: the explicit choice
	// for an export that has no status column.
	Always bool `yaml:"always"`
}

// IsZero reports whether the rule sets nothing, so that the kind's default applies.
func (r ActiveRule) IsZero() bool {
	return r.Attribute == "" && r.DisabledBit == 0 && len(r.ActiveValues) == 0 && len(r.InactiveValues) == 0 && !r.Always
}

// NameRule transforms source group names into Databricks group names.
type NameRule struct {
	Prefix    string `yaml:"prefix"`
	Suffix    string `yaml:"suffix"`
	Lowercase bool   `yaml:"lowercase"`
	// Replace holds regular-expression replacements applied in order.
	Replace []Replacement `yaml:"replace"`
}

// Replacement is one regular-expression replacement.
type Replacement struct {
	Pattern string `yaml:"pattern"`
	With    string `yaml:"with"`
}

// Names is a setting that names one attribute or template, or a list of them tried in
// order. In the config file it is a string or a list of strings.
type Names []string

// UnmarshalYAML accepts a string or a list of strings.
func (n *Names) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode {
		*n = Names{v.Value}
		return nil
	}
	var list []string
	if err := v.Decode(&list); err != nil {
		return err
	}
	*n = list
	return nil
}

// Active decides whether a user is active from the value of one attribute or column.
type Active struct {
	rule             ActiveRule
	active, inactive map[string]bool
}

// NewActive compiles an active rule. The attribute of a rule without one is ignored and
// every user is active.
func NewActive(rule ActiveRule) *Active {
	a := &Active{rule: rule}
	if len(rule.ActiveValues) > 0 {
		a.active = foldSet(rule.ActiveValues)
	}
	if len(rule.InactiveValues) > 0 {
		a.inactive = foldSet(rule.InactiveValues)
	}
	return a
}

func foldSet(values []string) map[string]bool {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return set
}

// Attribute returns the attribute or column the rule reads; empty means every user is
// active.
func (a *Active) Attribute() string {
	if a.rule.Always {
		return ""
	}
	return a.rule.Attribute
}

// Eval returns whether a user whose attribute has the given value is active. An absent
// attribute is passed as the empty value. The rules, in order:
//
//   - with DisabledBit, the value is an integer (empty means 0) and the user is inactive
//     when any bit of DisabledBit is set in it;
//   - with both ActiveValues and InactiveValues, the value must be in one of them;
//   - with only one of the lists, a value not in it means the opposite;
//   - with neither, the value must be a boolean: true, yes, 1, active or enabled, or
//     false, no, 0, inactive or disabled.
//
// Values are compared case-insensitively after trimming spaces.
func (a *Active) Eval(value string) (bool, error) {
	if a.Attribute() == "" {
		return true, nil
	}
	v := strings.ToLower(strings.TrimSpace(value))
	switch {
	case a.rule.DisabledBit != 0:
		if v == "" {
			return true, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(v, 10, 64)
			if uerr != nil {
				return false, fmt.Errorf("%s value %s is not an integer", a.rule.Attribute, quote(value))
			}
			n = int64(u)
		}
		return n&int64(a.rule.DisabledBit) == 0, nil
	case a.active != nil && a.inactive != nil:
		switch {
		case a.active[v]:
			return true, nil
		case a.inactive[v]:
			return false, nil
		}
		return false, fmt.Errorf("%s value %s is neither an active value (%s) nor an inactive value (%s)",
			a.rule.Attribute, quote(value), strings.Join(a.rule.ActiveValues, ", "), strings.Join(a.rule.InactiveValues, ", "))
	case a.active != nil:
		return a.active[v], nil
	case a.inactive != nil:
		return !a.inactive[v], nil
	}
	switch v {
	case "true", "yes", "1", "active", "enabled":
		return true, nil
	case "false", "no", "0", "inactive", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("%s value %s is not true or false (list the values in activeValues or inactiveValues)",
		a.rule.Attribute, quote(value))
}

// Groups selects groups by name and turns their names into Databricks group names.
type Groups struct {
	pattern *regexp.Regexp
	rule    NameRule
	replace []replacement
}

type replacement struct {
	re   *regexp.Regexp
	with string
}

// NewGroups compiles the name pattern of a group scope and a group-name rule. An empty
// pattern selects every group.
func NewGroups(pattern string, rule NameRule) (*Groups, error) {
	g := &Groups{rule: rule}
	if pattern != "" {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("groups.namePattern: %w", err)
		}
		g.pattern = re
	}
	for i, r := range rule.Replace {
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("groupName.replace[%d].pattern: %w", i, err)
		}
		g.replace = append(g.replace, replacement{re: re, with: r.With})
	}
	return g, nil
}

// Match reports whether a group with this source name is in scope. The pattern is
// matched against the name as the source has it, before Name transforms it.
func (g *Groups) Match(name string) bool {
	return g.pattern == nil || g.pattern.MatchString(name)
}

// Name transforms a source group name into a Databricks group name: the replacements in
// order (with $1-style references to the pattern's groups), then lower-casing, then the
// prefix and suffix, added as given. Surrounding spaces are trimmed from the result.
func (g *Groups) Name(name string) string {
	name = strings.TrimSpace(name)
	for _, r := range g.replace {
		name = r.re.ReplaceAllString(name, r.with)
	}
	if g.rule.Lowercase {
		name = strings.ToLower(name)
	}
	return strings.TrimSpace(g.rule.Prefix + name + g.rule.Suffix)
}

// quote quotes a value read from a source for a message (see diag.Quote).
func quote(v string) string { return diag.Quote(v) }
