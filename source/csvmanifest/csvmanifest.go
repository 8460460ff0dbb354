// Package csvmanifest reads CSV manifests: desired state written as spreadsheets, in up to
// four files — users.csv, servicePrincipals.csv, groups.csv and memberships.csv. Columns
// are found by header name (case-insensitive, in any order); the headers are documented in
// docs/sources.md and listed in Files. Cells that hold several values separate them with
// semicolons.
//
// Package csvmanifest imports model, diag, config, source/read and source/csvtable.
package csvmanifest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/csvtable"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports, besides those of csvtable.
const (
	RuleFiles        = "csv-files"         // the source names no file, or a file of unknown role
	RuleRequired     = "required-field"    // a required cell is empty
	RuleInvalidValue = "invalid-value"     // a cell holds a value its column does not accept
	RuleUnknownGroup = "unknown-reference" // a group reference names no group of groups.csv
)

// Settings are the settings of a csv source besides those of every source: files of
// each role, relative to the config file. A file named here is read instead of the file
// of the same role (users.csv, groups.csv, memberships.csv, servicePrincipals.csv) in the
// directories listed in the source's path.
type Settings struct {
	Users             string `yaml:"users"`
	Groups            string `yaml:"groups"`
	Memberships       string `yaml:"memberships"`
	ServicePrincipals string `yaml:"servicePrincipals"`
}

// Role says which part of the manifest a file holds.
type Role string

// The roles of the files of a CSV manifest.
const (
	RoleUsers             Role = "users"
	RoleServicePrincipals Role = "servicePrincipals"
	RoleGroups            Role = "groups"
	RoleMemberships       Role = "memberships"
)

// Column is one column a manifest file may have.
type Column struct {
	Name     string
	Required bool
}

// Files lists, for each role, the standard file name and the columns the file may have,
// in the order the documentation gives them.
var Files = []struct {
	Role    Role
	Name    string
	Columns []Column
}{
	{RoleUsers, "users.csv", []Column{
		{"userName", true}, {"displayName", false}, {"givenName", false}, {"familyName", false},
		{"active", false}, {"externalId", false}, {"groups", false}, {"entitlements", false},
		{"roles", false},
	}},
	{RoleServicePrincipals, "servicePrincipals.csv", []Column{
		{"displayName", true}, {"applicationId", false}, {"active", false}, {"externalId", false},
		{"groups", false}, {"entitlements", false}, {"roles", false},
	}},
	{RoleGroups, "groups.csv", []Column{
		{"displayName", true}, {"previously", false}, {"externalId", false},
		{"entitlements", false}, {"roles", false},
	}},
	{RoleMemberships, "memberships.csv", []Column{
		{"group", true}, {"memberType", true}, {"member", true},
	}},
}

// Read reads the CSV manifest a source names and returns its state, normalised. Paths may list directories, in which the
// files with the standard names are read when present, and files with a standard name;
// the source's Users, ServicePrincipals, Groups and Memberships fields name files of each
// role directly and replace the directories' file of that role.
//
// When the manifest has a groups file, every group that users.csv, servicePrincipals.csv
// or memberships.csv names must be declared in it; without one, the groups named there
// are created with those members.
func Read(ctx context.Context, src config.Source) (*read.Result, diag.List) {
	var set Settings
	diags := read.Settings(src, &set)
	for _, p := range []*string{&set.Users, &set.Groups, &set.Memberships, &set.ServicePrincipals} {
		*p = read.Path(src, *p)
	}
	files, fd := resolve(src, set)
	diags = append(diags, fd...)
	if diags.HasErrors() {
		return &read.Result{State: &model.State{}}, diags
	}
	r := &reader{
		state:  &model.State{},
		groups: map[string]*model.Group{},
		diags:  diags,
		limit:  read.MaxFileSize(src),
	}
	for _, role := range []Role{RoleGroups, RoleServicePrincipals, RoleUsers, RoleMemberships} {
		for _, path := range files[role] {
			if err := ctx.Err(); err != nil {
				r.diags.Errorf(src.Origin, read.RuleRead, "read %s: %v", path, err)
				return &read.Result{State: r.finish(), EmptyFiles: r.empty}, r.diags
			}
			r.readFile(role, path, len(files[RoleGroups]) > 0)
		}
	}
	state := r.finish()
	state.Normalize()
	return &read.Result{State: state, EmptyFiles: r.empty}, r.diags
}

// resolve finds the files of each role.
func resolve(src config.Source, set Settings) (map[Role][]string, diag.List) {
	var diags diag.List
	files := map[Role][]string{}
	byName := map[string]Role{}
	for _, f := range Files {
		byName[strings.ToLower(f.Name)] = f.Role
	}
	explicit := map[Role]string{
		RoleUsers:             set.Users,
		RoleServicePrincipals: set.ServicePrincipals,
		RoleGroups:            set.Groups,
		RoleMemberships:       set.Memberships,
	}
	for _, p := range src.Paths {
		info, err := os.Stat(p)
		if err != nil {
			diags.Errorf(src.Origin, csvtable.RuleRead, "read %s: %v", p, pathError(err))
			continue
		}
		if !info.IsDir() {
			role, ok := byName[strings.ToLower(filepath.Base(p))]
			if !ok {
				diags.Errorf(model.Origin{File: p}, RuleFiles,
					"cannot tell what %s holds: name it users.csv, servicePrincipals.csv, groups.csv or memberships.csv, or name it in the source's users, servicePrincipals, groups or memberships field",
					filepath.Base(p))
				continue
			}
			if explicit[role] == "" {
				files[role] = append(files[role], p)
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			diags.Errorf(src.Origin, csvtable.RuleRead, "read %s: %v", p, pathError(err))
			continue
		}
		found := false
		for _, e := range entries {
			role, ok := byName[strings.ToLower(e.Name())]
			if !ok || e.IsDir() {
				continue
			}
			found = true
			if explicit[role] == "" {
				files[role] = append(files[role], filepath.Join(p, e.Name()))
			}
		}
		if !found {
			diags.Errorf(src.Origin, RuleFiles,
				"directory %s holds none of users.csv, servicePrincipals.csv, groups.csv, memberships.csv", p)
		}
	}
	for _, f := range Files {
		if path := explicit[f.Role]; path != "" {
			files[f.Role] = append(files[f.Role], path)
		}
	}
	if len(files) == 0 && !diags.HasErrors() {
		diags.Errorf(src.Origin, RuleFiles,
			"the csv source names no file: set path to a directory, or users, servicePrincipals, groups or memberships to a file")
	}
	return files, diags
}

// pathError drops the path from an *os.PathError, which the message already names.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// reader accumulates the manifest's state across its files.
type reader struct {
	state  *model.State
	groups map[string]*model.Group // by group key
	order  []string                // group keys in the order first seen
	// duplicates are groups declared twice in groups.csv, kept so that the semantic check
	// can report them.
	duplicates []model.Group
	empty      []read.EmptyFile
	diags      diag.List
	limit      int64 // the most bytes a file may hold
}

// finish copies the groups into the state.
func (r *reader) finish() *model.State {
	r.state.Groups = r.state.Groups[:0]
	for _, k := range r.order {
		r.state.Groups = append(r.state.Groups, *r.groups[k])
	}
	r.state.Groups = append(r.state.Groups, r.duplicates...)
	return r.state
}

// table is a parsed manifest file with its columns bound.
type table struct {
	*csvtable.Table
	cols map[string]int // lower-cased column name → index
}

// cell returns the cell of a column, or a zero cell when the file lacks the column.
func (t *table) cell(row csvtable.Row, name string) csvtable.Cell {
	i, ok := t.cols[strings.ToLower(name)]
	if !ok {
		return csvtable.Cell{Line: row.Line()}
	}
	return row.Cells[i]
}

// value returns the trimmed value of a column.
func (t *table) value(row csvtable.Row, name string) string {
	return strings.TrimSpace(t.cell(row, name).Value)
}

// list returns the semicolon-separated values of a column, trimmed, without empty ones.
func (t *table) list(row csvtable.Row, name string) []string {
	return splitList(t.cell(row, name).Value)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ";") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func normalizeHeader(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// open parses a file and checks its header against the columns of its role.
func (r *reader) open(role Role, path string) (*table, bool) {
	t, diags := csvtable.ReadFile(path, r.limit)
	r.diags = append(r.diags, diags...)
	if t == nil {
		return nil, false
	}
	var columns []Column
	for _, f := range Files {
		if f.Role == role {
			columns = f.Columns
		}
	}
	if t.Header == nil {
		if !diags.HasErrors() {
			r.diags.Errorf(model.Origin{File: path}, csvtable.RuleHeader,
				"the file is empty; its first line must be a header naming the columns (%s)", columnNames(columns))
		}
		return nil, false
	}
	// Unknown columns are errors, but the rows are still read, so that their problems are
	// reported too; a missing or doubled column makes the rows unreadable.
	cols, hd := t.Columns(normalizeHeader)
	r.diags = append(r.diags, hd...)
	ok := !hd.HasErrors()
	known := map[string]bool{}
	for _, c := range columns {
		known[strings.ToLower(c.Name)] = true
	}
	for i, h := range t.Header {
		name := normalizeHeader(h.Value)
		switch {
		case name == "":
			r.diags.Errorf(t.At(h), csvtable.RuleHeader, "column %d has no name; the columns of %s are %s",
				i+1, filepath.Base(path), columnNames(columns))
		case !known[name]:
			r.diags.Errorf(t.At(h), csvtable.RuleHeader, "unknown column %s; the columns of %s are %s",
				diag.Quote(strings.TrimSpace(h.Value)), filepath.Base(path), columnNames(columns))
		}
	}
	for _, c := range columns {
		if _, present := cols[strings.ToLower(c.Name)]; c.Required && !present {
			r.diags.Errorf(t.HeaderAt(), csvtable.RuleHeader, "the header lacks the required column %q", c.Name)
			ok = false
		}
	}
	return &table{Table: t, cols: cols}, ok
}

func columnNames(columns []Column) string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// readFile reads one file of the manifest into the state.
func (r *reader) readFile(role Role, path string, haveGroups bool) {
	t, ok := r.open(role, path)
	if !ok {
		return
	}
	switch role {
	case RoleGroups:
		r.readGroups(t)
	case RoleServicePrincipals:
		n := r.readServicePrincipals(t, haveGroups)
		r.checkEmpty(t, n, "service principals")
	case RoleUsers:
		n := r.readUsers(t, haveGroups)
		r.checkEmpty(t, n, "users")
	case RoleMemberships:
		r.readMemberships(t, haveGroups)
	}
}

// checkEmpty records a users or service-principals file without rows, for source.Load
// to report: an emptied file must not silently turn into the removal of everyone it used
// to list.
func (r *reader) checkEmpty(t *table, n int, what string) {
	if n == 0 && len(t.Rows) == 0 {
		r.empty = append(r.empty, read.EmptyFile{At: t.HeaderAt(), What: what})
	}
}

// readGroups reads groups.csv.
func (r *reader) readGroups(t *table) {
	for _, row := range t.Rows {
		name := t.value(row, "displayName")
		if name == "" {
			r.diags.Errorf(t.At(t.cell(row, "displayName")), RuleRequired, "displayName is empty")
			continue
		}
		g := &model.Group{
			DisplayName:  name,
			Previously:   t.list(row, "previously"),
			ExternalID:   t.value(row, "externalId"),
			Entitlements: t.list(row, "entitlements"),
			Roles:        t.list(row, "roles"),
			Origin:       t.RowAt(row),
		}
		key := model.GroupKey(name)
		if _, seen := r.groups[key]; seen {
			// Merging the sources reports a second declaration that differs; the first
			// declaration gets the memberships.
			r.duplicates = append(r.duplicates, *g)
			continue
		}
		r.groups[key] = g
		r.order = append(r.order, key)
	}
}

// group returns the group a cell names, creating it when the manifest has no groups
// file, and reports an unknown group otherwise.
func (r *reader) group(t *table, c csvtable.Cell, name string, haveGroups bool) *model.Group {
	key := model.GroupKey(name)
	if g, ok := r.groups[key]; ok {
		return g
	}
	if haveGroups {
		r.diags.Errorf(t.At(c), RuleUnknownGroup, "group %s is not declared in groups.csv", diag.Quote(name))
		return nil
	}
	g := &model.Group{DisplayName: name, Origin: t.At(c)}
	r.groups[key] = g
	r.order = append(r.order, key)
	return g
}

// active reads the active column: empty means active.
func (r *reader) active(t *table, row csvtable.Row) (bool, bool) {
	c := t.cell(row, "active")
	switch strings.ToLower(strings.TrimSpace(c.Value)) {
	case "", "true":
		return true, true
	case "false":
		return false, true
	}
	r.diags.Errorf(t.At(c), RuleInvalidValue, "active is %s; it must be true, false or empty (true)", diag.Quote(c.Value))
	return false, false
}

// readServicePrincipals reads servicePrincipals.csv and returns the number of principals
// it declared.
func (r *reader) readServicePrincipals(t *table, haveGroups bool) int {
	n := 0
	for _, row := range t.Rows {
		name := t.value(row, "displayName")
		if name == "" {
			r.diags.Errorf(t.At(t.cell(row, "displayName")), RuleRequired, "displayName is empty")
			continue
		}
		active, ok := r.active(t, row)
		if !ok {
			continue
		}
		appID := t.value(row, "applicationId")
		if appID != "" && !uuidPattern.MatchString(appID) {
			r.diags.Errorf(t.At(t.cell(row, "applicationId")), RuleInvalidValue,
				"applicationId %s is not a UUID", diag.Quote(appID))
			continue
		}
		sp := model.ServicePrincipal{
			ApplicationID: appID,
			DisplayName:   name,
			ExternalID:    t.value(row, "externalId"),
			Active:        active,
			Entitlements:  t.list(row, "entitlements"),
			Roles:         t.list(row, "roles"),
			Origin:        t.RowAt(row),
		}
		r.state.ServicePrincipals = append(r.state.ServicePrincipals, sp)
		n++
		for _, name := range t.list(row, "groups") {
			if g := r.group(t, t.cell(row, "groups"), name, haveGroups); g != nil {
				g.Members.ServicePrincipals = append(g.Members.ServicePrincipals, sp.Key())
			}
		}
	}
	return n
}

// readUsers reads users.csv and returns the number of users it declared.
func (r *reader) readUsers(t *table, haveGroups bool) int {
	n := 0
	for _, row := range t.Rows {
		name := t.value(row, "userName")
		if name == "" {
			r.diags.Errorf(t.At(t.cell(row, "userName")), RuleRequired, "userName is empty")
			continue
		}
		if strings.ContainsAny(name, " \t;,") {
			r.diags.Errorf(t.At(t.cell(row, "userName")), RuleInvalidValue,
				"userName %s contains a space, tab, comma or semicolon", diag.Quote(name))
			continue
		}
		active, ok := r.active(t, row)
		if !ok {
			continue
		}
		u := model.User{
			UserName:     name,
			DisplayName:  t.value(row, "displayName"),
			GivenName:    t.value(row, "givenName"),
			FamilyName:   t.value(row, "familyName"),
			ExternalID:   t.value(row, "externalId"),
			Active:       active,
			Entitlements: t.list(row, "entitlements"),
			Roles:        t.list(row, "roles"),
			Origin:       t.RowAt(row),
		}
		r.state.Users = append(r.state.Users, u)
		n++
		for _, name := range t.list(row, "groups") {
			if g := r.group(t, t.cell(row, "groups"), name, haveGroups); g != nil {
				g.Members.Users = append(g.Members.Users, u.Key())
			}
		}
	}
	return n
}

// memberTypes maps the lower-cased values of the memberType column to member kinds.
var memberTypes = map[string]model.Kind{
	"user":             model.KindUser,
	"group":            model.KindGroup,
	"serviceprincipal": model.KindServicePrincipal,
}

// readMemberships reads memberships.csv.
func (r *reader) readMemberships(t *table, haveGroups bool) {
	for _, row := range t.Rows {
		groupName, member := t.value(row, "group"), t.value(row, "member")
		typeCell := t.cell(row, "memberType")
		kind, ok := memberTypes[strings.ToLower(strings.TrimSpace(typeCell.Value))]
		switch {
		case groupName == "":
			r.diags.Errorf(t.At(t.cell(row, "group")), RuleRequired, "group is empty")
			continue
		case member == "":
			r.diags.Errorf(t.At(t.cell(row, "member")), RuleRequired, "member is empty")
			continue
		case !ok:
			r.diags.Errorf(t.At(typeCell), RuleInvalidValue,
				"memberType is %s; it must be user, group or servicePrincipal", diag.Quote(typeCell.Value))
			continue
		}
		g := r.group(t, t.cell(row, "group"), groupName, haveGroups)
		if g == nil {
			continue
		}
		ref := model.Ref{Kind: kind}
		switch kind {
		case model.KindUser:
			ref.Key = model.UserKey(member)
		case model.KindGroup:
			ref.Key = model.GroupKey(member)
		case model.KindServicePrincipal:
			ref.Key = ServicePrincipalRef(member)
		}
		g.Members.Add(ref)
	}
}

// uuidPattern matches the UUIDs Databricks uses as service principals' applicationIds.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ServicePrincipalRef turns a reference to a service principal, by applicationId or by
// displayName, into the member key groups hold: a lower-cased applicationId, or the
// trimmed displayName.
func ServicePrincipalRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if uuidPattern.MatchString(ref) {
		return model.ServicePrincipalKey(ref)
	}
	return ref
}
