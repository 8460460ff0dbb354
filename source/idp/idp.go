// Package idp reads the user exports of identity providers — Microsoft Entra ID, Okta,
// JumpCloud and Google Workspace — as sources of users (and, for JumpCloud, of groups).
//
// Each provider has a preset that finds the columns it needs by header name, never by
// position, since every one of these formats has changed its columns over time. Header
// names are compared case-insensitively, with surrounding spaces and a bracketed suffix
// such as Google's " [Required]" removed. The source's mapping setting overrides the
// preset's columns one by one.
//
// Package idp imports model, diag, config, source/read, source/csvtable and
// source/mapping.
package idp

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/csvtable"
	"github.com/scimsync/scimsync/source/mapping"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports, besides those of csvtable.
const (
	RuleBulkTemplate   = "entra-bulk-template" // an Entra bulk-create template, not an export
	RuleMissingColumn  = "missing-column"      // the header lacks a column the preset needs
	RuleRequired       = "required-field"      // a row has no userName
	RuleInvalidValue   = "invalid-value"       // a cell holds a value its column does not accept
	RuleInvalidMapping = "invalid-mapping"     // the mapping sets a field this kind does not use
	RuleUnknownKind    = "unknown-source-kind" // the source's kind has no preset
)

// Columns is the part of an export's mapping every preset reads: the column (or
// columns, tried in order) each user attribute comes from, and the active rule.
type Columns struct {
	UserName    mapping.Names      `yaml:"userName"`
	DisplayName string             `yaml:"displayName"`
	GivenName   string             `yaml:"givenName"`
	FamilyName  string             `yaml:"familyName"`
	ExternalID  string             `yaml:"externalId"`
	Active      mapping.ActiveRule `yaml:"active"`
}

// EntraMapping is the mapping of an entra source.
type EntraMapping struct {
	Columns `yaml:",inline"`
	// IncludeGuests keeps guest users (userType Guest).
	IncludeGuests bool `yaml:"includeGuests"`
}

// JumpCloudMapping is the mapping of a jumpcloud source, whose Group1, Group2, ...
// columns hold groups.
type JumpCloudMapping struct {
	Columns   `yaml:",inline"`
	Groups    GroupPattern     `yaml:"groups"`
	GroupName mapping.NameRule `yaml:"groupName"`
}

// GroupPattern selects the groups of a jumpcloud export by name.
type GroupPattern struct {
	NamePattern string `yaml:"namePattern"` // regular expression on the group name
}

// The settings of each kind besides those of every source.
type (
	Settings struct {
		Mapping Columns `yaml:"mapping"`
	}
	EntraSettings struct {
		Mapping EntraMapping `yaml:"mapping"`
	}
	JumpCloudSettings struct {
		Mapping JumpCloudMapping `yaml:"mapping"`
	}
)

// decodeSettings decodes the settings of src's kind into one JumpCloudMapping-shaped
// value plus includeGuests, reporting the settings the kind does not read.
func decodeSettings(src config.Source) (JumpCloudMapping, bool, diag.List) {
	switch src.Kind {
	case config.SourceEntra:
		var s EntraSettings
		d := read.Settings(src, &s)
		return JumpCloudMapping{Columns: s.Mapping.Columns}, s.Mapping.IncludeGuests, d
	case config.SourceJumpCloud:
		var s JumpCloudSettings
		d := read.Settings(src, &s)
		return s.Mapping, false, d
	}
	var s Settings
	d := read.Settings(src, &s)
	return JumpCloudMapping{Columns: s.Mapping}, false, d
}

// Preset describes one provider's export: the columns each user attribute comes from, in
// order of preference (the first non-empty cell wins). Column names are matched as
// NormalizeHeader says; presets spell them as the provider documents them.
type Preset struct {
	Kind        string
	UserName    []string
	DisplayName []string
	GivenName   []string
	FamilyName  []string
	ExternalID  []string
	// Active decides the active flag; its Attribute is a column name.
	Active mapping.ActiveRule
	// GroupColumns matches the normalised names of columns that each hold one group the
	// user is a member of.
	GroupColumns *regexp.Regexp
	// Placeholders are cell values that mean "no value".
	Placeholders []string
	// Guests reports whether a row is an Entra ID guest, which is left out unless the
	// mapping includes guests.
	Guests func(row func(column string) string) bool
}

// Presets holds the preset of each source kind this package reads.
var Presets = map[string]*Preset{
	config.SourceEntra: {
		Kind:        config.SourceEntra,
		UserName:    []string{"mail", "userPrincipalName"},
		DisplayName: []string{"displayName"},
		GivenName:   []string{"givenName"},
		FamilyName:  []string{"surname"},
		ExternalID:  []string{"objectId", "id"},
		Active: mapping.ActiveRule{Attribute: "accountEnabled",
			ActiveValues: []string{"True"}, InactiveValues: []string{"False"}},
		// A guest is a row whose userType is Guest; only a file without userType falls
		// back to the #EXT# mark of invited users' userPrincipalNames, since B2B users
		// converted to members keep that mark with userType Member.
		Guests: func(row func(string) string) bool {
			if t := row("userType"); t != "" {
				return strings.EqualFold(t, "Guest")
			}
			return strings.Contains(strings.ToUpper(row("userPrincipalName")), "#EXT#")
		},
	},
	config.SourceOkta: {
		Kind:        config.SourceOkta,
		UserName:    []string{"login", "email"},
		DisplayName: []string{"displayName"},
		GivenName:   []string{"firstName"},
		FamilyName:  []string{"lastName"},
		ExternalID:  []string{"id"},
		// Only suspended and deprovisioned users lose access; staged, provisioned,
		// locked-out, password-expired and recovering users are still Okta users. Any
		// other value (a typo such as SUSPNDED, a status Okta adds later) is an error,
		// never a silent "active".
		Active: mapping.ActiveRule{Attribute: "status",
			ActiveValues:   []string{"ACTIVE", "STAGED", "PROVISIONED", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"},
			InactiveValues: []string{"SUSPENDED", "DEPROVISIONED"}},
	},
	config.SourceJumpCloud: {
		Kind: config.SourceJumpCloud,
		// Databricks userNames are e-mail addresses; JumpCloud's Username is a short
		// login name, used only when Email is empty (and then it must be an address).
		UserName:     []string{"Email", "Username"},
		DisplayName:  []string{"displayName"},
		GivenName:    []string{"FirstName"},
		FamilyName:   []string{"LastName"},
		GroupColumns: regexp.MustCompile(`^group[0-9]+$`),
	},
	config.SourceGoogle: {
		Kind:       config.SourceGoogle,
		UserName:   []string{"Email Address"},
		GivenName:  []string{"First Name"},
		FamilyName: []string{"Last Name"},
		// Status [READ ONLY]; the upload template's New Status [UPLOAD ONLY] is another
		// column, and a file with only that one has no status to read.
		Active:       mapping.ActiveRule{Attribute: "Status", ActiveValues: []string{"Active"}, InactiveValues: []string{"Suspended"}},
		Placeholders: []string{"****", "--"},
	},
}

// bracketSuffix matches the bracketed suffix of a Google header, such as " [Required]".
var bracketSuffix = regexp.MustCompile(`\s*\[[^\]]*\]\s*$`)

// NormalizeHeader returns the name a header is matched by: lower-cased, trimmed, without
// a bracketed suffix.
func NormalizeHeader(h string) string {
	return strings.ToLower(strings.TrimSpace(bracketSuffix.ReplaceAllString(h, "")))
}

// Read reads the exports a source lists in Paths with the preset of the source's kind
// (entra, okta, jumpcloud or google) and returns their users and groups, normalised.
// A file that lists no user is recorded in the result's EmptyFiles.
func Read(ctx context.Context, src config.Source) (*read.Result, diag.List) {
	state := &model.State{}
	res := &read.Result{State: state}
	base, ok := Presets[src.Kind]
	if !ok {
		var diags diag.List
		diags.Errorf(src.Origin, RuleUnknownKind, "no identity-provider preset for source kind %q", src.Kind)
		return res, diags
	}
	m, includeGuests, diags := decodeSettings(src)
	p, md := withMapping(base, m, includeGuests, src.Origin)
	diags = append(diags, md...)
	if diags.HasErrors() {
		return res, diags
	}
	if len(src.Paths) == 0 {
		diags.Errorf(src.Origin, RuleRequired, "the %s source needs a path to the exported CSV file", src.Kind)
		return res, diags
	}
	r := &reader{preset: p, src: src, res: res, groups: map[string]*model.Group{}, limit: read.MaxFileSize(src)}
	for _, path := range src.Paths {
		if err := ctx.Err(); err != nil {
			diags.Errorf(src.Origin, read.RuleRead, "read %s: %v", path, err)
			break
		}
		diags = append(diags, r.readFile(path)...)
	}
	for _, k := range r.groupOrder {
		state.Groups = append(state.Groups, *r.groups[k])
	}
	state.Normalize()
	return res, diags
}

// preset is a Preset with the source's mapping applied and its rules compiled.
type preset struct {
	*Preset
	active   *mapping.Active
	userName *mapping.UserName
	groups   *mapping.Groups
	// override names the mapping field that set each attribute's column, for messages.
	override      map[string]string
	includeGuests bool
}

// withMapping applies the source's mapping to a preset.
func withMapping(base *Preset, m JumpCloudMapping, includeGuests bool, at model.Origin) (*preset, diag.List) {
	var diags diag.List
	cp := *base
	p := &preset{Preset: &cp, override: map[string]string{}, includeGuests: includeGuests}
	set := func(field string, column string, dst *[]string) {
		if column != "" {
			*dst = []string{column}
			p.override[column] = "mapping." + field
		}
	}
	if len(m.UserName) > 0 {
		cp.UserName = m.UserName
	}
	un, err := mapping.NewUserName(cp.UserName)
	if err != nil {
		diags.Errorf(at, RuleInvalidMapping, "mapping.%v", err)
		un, _ = mapping.NewUserName(base.UserName)
	}
	p.userName = un
	if len(m.UserName) > 0 {
		for _, c := range un.Attributes() {
			p.override[c] = "mapping.userName"
		}
	}
	set("displayName", m.DisplayName, &cp.DisplayName)
	set("givenName", m.GivenName, &cp.GivenName)
	set("familyName", m.FamilyName, &cp.FamilyName)
	set("externalId", m.ExternalID, &cp.ExternalID)
	rule := base.Active
	if a := m.Active; !a.IsZero() {
		if a.Attribute == "" && !a.Always {
			a.Attribute = base.Active.Attribute
		}
		if a.Attribute == "" && !a.Always {
			diags.Errorf(at, RuleInvalidMapping, "mapping.active needs an attribute: the %s export has no status column", base.Kind)
		}
		if !a.Always {
			p.override[a.Attribute] = "mapping.active.attribute"
		}
		rule = a
	}
	cp.Active = rule
	p.active = mapping.NewActive(rule)
	g, err := mapping.NewGroups(m.Groups.NamePattern, m.GroupName)
	if err != nil {
		diags.Errorf(at, RuleInvalidMapping, "mapping.%v", err)
	}
	p.groups = g
	return p, diags
}

// reader accumulates the users and groups of a source's files.
type reader struct {
	preset     *preset
	src        config.Source
	res        *read.Result
	groups     map[string]*model.Group
	groupOrder []string
	limit      int64 // the most bytes a file may hold
}

// columns is the header of one export: normalised name → first index.
type columns map[string]int

// readFile reads one export file.
func (r *reader) readFile(path string) diag.List {
	p := r.preset
	t, diags := csvtable.ReadFile(path, r.limit)
	if t == nil {
		return diags
	}
	if len(t.Header) > 0 && strings.HasPrefix(strings.ToLower(strings.TrimSpace(t.Header[0].Value)), "version:") {
		// The template's first line makes every later row ragged; the ragged-row
		// diagnostics would only hide the real problem.
		var only diag.List
		only.Errorf(model.Origin{File: path, Line: t.Header[0].Line}, RuleBulkTemplate,
			"this is the Entra ID bulk-create template (first line %s), not a user export: download the users with \"Download users\" in the Entra admin center",
			diag.Quote(strings.TrimSpace(t.Header[0].Value)))
		return only
	}
	if c, ok := bulkTemplateHeader(t.Header); ok {
		// The template without its version line: its headers name the Graph property in
		// brackets, "User name [userPrincipalName] Required".
		var only diag.List
		only.Errorf(t.At(c), RuleBulkTemplate,
			"this is the Entra ID bulk-create template (header %s), not a user export: download the users with \"Download users\" in the Entra admin center",
			diag.Quote(strings.TrimSpace(c.Value)))
		return only
	}
	if t.Header == nil {
		if !diags.HasErrors() {
			diags.Errorf(model.Origin{File: path}, csvtable.RuleHeader, "the file is empty; a %s export starts with a header line", p.Kind)
		}
		return diags
	}
	cols := columns{}
	for i, h := range t.Header {
		if name := NormalizeHeader(h.Value); name != "" {
			if _, dup := cols[name]; !dup {
				cols[name] = i
			}
		}
	}
	// Columns the mapping names must exist; so must one of the userName columns.
	var header diag.List
	for _, name := range sortedKeys(p.override) {
		if _, ok := cols[NormalizeHeader(name)]; !ok {
			header.Errorf(t.HeaderAt(), RuleMissingColumn, "the header has no column %q (named by %s)", name, p.override[name])
		}
	}
	if !slices.ContainsFunc(p.userName.Attributes(), func(c string) bool { _, ok := cols[NormalizeHeader(c)]; return ok }) {
		header.Errorf(t.HeaderAt(), RuleMissingColumn, "the header has none of the columns %s that the userName comes from",
			quoteList(p.userName.Attributes()))
	}
	if a := p.active.Attribute(); a != "" && p.override[a] == "" {
		if _, ok := cols[NormalizeHeader(a)]; !ok {
			header.Errorf(t.HeaderAt(), RuleMissingColumn,
				"the header has no status column %q: read without it, every user would be active, suspended ones included; export the column, or say how to decide with mapping.active (another attribute, or always: true)", a)
		}
	}
	for _, name := range append(p.userName.Attributes(), p.active.Attribute()) {
		if i, ok := cols[NormalizeHeader(name)]; ok && duplicated(t, NormalizeHeader(name), i) {
			header.Errorf(t.HeaderAt(), csvtable.RuleHeader, "column %q appears more than once", name)
		}
	}
	diags = append(diags, header...)
	if header.HasErrors() {
		return diags
	}
	var groupCols []int
	if p.GroupColumns != nil {
		for i, h := range t.Header {
			if p.GroupColumns.MatchString(NormalizeHeader(h.Value)) {
				groupCols = append(groupCols, i)
			}
		}
	}

	users := 0
	for _, row := range t.Rows {
		get := func(column string) string {
			i, ok := cols[NormalizeHeader(column)]
			if !ok {
				return ""
			}
			v := strings.TrimSpace(row.Cells[i].Value)
			if slices.Contains(p.Placeholders, v) {
				return ""
			}
			return v
		}
		first := func(names []string) string {
			for _, n := range names {
				if v := get(n); v != "" {
					return v
				}
			}
			return ""
		}
		if p.Guests != nil && !p.includeGuests && p.Guests(get) {
			r.res.Skipped.Add(read.Guests, 1)
			continue
		}
		un := p.userName.Eval(func(c string) []string {
			if v := get(c); v != "" {
				return []string{v}
			}
			return nil
		})
		userName := un.UserName
		switch {
		case userName == "" && len(un.Invalid) == 0:
			diags.Errorf(t.RowAt(row), RuleRequired, "no userName: %s empty", emptyList(p.userName.Attributes()))
			r.res.Skipped.Add(read.NoUserName, 1)
			continue
		case userName == "":
			diags.Errorf(t.RowAt(row), RuleInvalidValue,
				"no e-mail address for the userName, which Databricks userNames are: %s", strings.Join(un.Invalid, ", "))
			r.res.Skipped.Add(read.Invalid, 1)
			continue
		}
		active, err := p.active.Eval(get(p.active.Attribute()))
		if err != nil {
			at := t.RowAt(row)
			if i, ok := cols[NormalizeHeader(p.active.Attribute())]; ok {
				at = t.At(row.Cells[i])
			}
			diags.Errorf(at, RuleInvalidValue, "%v; list it in mapping.active.activeValues or inactiveValues if it is a status of yours", err)
			r.res.Skipped.Add(read.Invalid, 1)
			continue
		}
		u := model.User{
			UserName:    userName,
			DisplayName: first(p.DisplayName),
			GivenName:   first(p.GivenName),
			FamilyName:  first(p.FamilyName),
			ExternalID:  first(p.ExternalID),
			Active:      active,
			Origin:      t.RowAt(row),
		}
		if u.DisplayName == "" {
			u.DisplayName = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		}
		r.res.State.Users = append(r.res.State.Users, u)
		users++
		for _, i := range groupCols {
			c := row.Cells[i]
			name := strings.TrimSpace(c.Value)
			if name == "" || !p.groups.Match(name) {
				continue
			}
			if name = p.groups.Name(name); name != "" {
				g := r.group(name, t.At(c))
				g.Members.Users = append(g.Members.Users, u.Key())
			}
		}
	}
	if users == 0 && !diags.HasErrors() {
		r.res.EmptyFiles = append(r.res.EmptyFiles, read.EmptyFile{At: model.Origin{File: path}, What: "users"})
	}
	return diags
}

// bulkTemplateProperty matches a header of Entra's bulk-create template, which names
// the Graph property in brackets: "Name [displayName] Required".
var bulkTemplateProperty = regexp.MustCompile(`(?i)\[(userPrincipalName|displayName|passwordProfile|accountEnabled)\]`)

// bulkTemplateHeader returns the first header cell of Entra's bulk-create template.
func bulkTemplateHeader(header []csvtable.Cell) (csvtable.Cell, bool) {
	for _, c := range header {
		if bulkTemplateProperty.MatchString(c.Value) {
			return c, true
		}
	}
	return csvtable.Cell{}, false
}

// group returns the group with the given Databricks name, creating it at the cell that
// first names it.
func (r *reader) group(name string, at model.Origin) *model.Group {
	key := model.GroupKey(name)
	if g, ok := r.groups[key]; ok {
		return g
	}
	g := &model.Group{DisplayName: name, Origin: at}
	r.groups[key] = g
	r.groupOrder = append(r.groupOrder, key)
	return g
}

// duplicated reports whether a normalised column name occurs again after index i.
func duplicated(t *csvtable.Table, name string, i int) bool {
	for _, h := range t.Header[i+1:] {
		if NormalizeHeader(h.Value) == name {
			return true
		}
	}
	return false
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func emptyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0] + " is"
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1] + " are"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
