// Package merge combines the desired states read from several files or sources into one.
//
// Objects are keyed by their normalised key (model.UserKey, model.GroupKey,
// ServicePrincipal.Key, workspace id). The same object declared more than once is merged:
//
//   - an attribute set in only one declaration is taken from it;
//   - an attribute set in several declarations must be equal in all of them, otherwise the
//     conflict is an error naming both places (the later one, and the first as Related);
//     a user's or service principal's active flag must always agree;
//   - group members and previous names are the union of all declarations, so a group may
//     get its members from several sources;
//   - workspaces merge by id; a principal assigned twice to one workspace must get the
//     same permission, and a principal's entitlements in one workspace must be equal
//     wherever they are declared.
//
// Package merge imports model and diag only.
package merge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

// The rule identifiers of the conflicts States reports. Check in package source reports
// duplicates it finds in a state under the same identifiers.
const (
	RuleDuplicateUserName         = "duplicate-username"
	RuleDuplicateGroup            = "duplicate-group"
	RuleDuplicateApplicationID    = "duplicate-application-id"
	RuleDuplicateServicePrincipal = "duplicate-service-principal"
	RuleDuplicateWorkspace        = "duplicate-workspace"
	RuleDuplicateAssignment       = "duplicate-assignment"
	RuleDuplicateEntitlements     = "duplicate-entitlements"
)

// States merges states in order and returns the merged state, normalised, with service
// principal references resolved (see ResolveRefs). The inputs are not modified. Conflicts
// are reported, all of them; the first declaration wins in the returned state.
func States(states ...*model.State) (*model.State, diag.List) {
	m := &merger{
		out:        &model.State{},
		users:      make(map[string]int),
		sps:        make(map[string]int),
		groups:     make(map[string]int),
		workspaces: make(map[string]*wsIndex),
	}
	for _, s := range states {
		if s == nil {
			continue
		}
		for i := range s.Users {
			m.user(&s.Users[i])
		}
		for i := range s.ServicePrincipals {
			m.servicePrincipal(&s.ServicePrincipals[i])
		}
		for i := range s.Groups {
			m.group(&s.Groups[i])
		}
		for i := range s.Workspaces {
			m.workspace(&s.Workspaces[i])
		}
	}
	m.foldByDisplayName()
	ResolveRefs(m.out)
	m.out.Normalize()
	return m.out, m.diags
}

// foldByDisplayName merges a service principal declared by displayName alone into the one
// principal declared with that displayName and an applicationId, wherever each was
// declared: they are one principal, counted and planned once. With several such
// principals the name is ambiguous, and both declarations stay for validation to report.
func (m *merger) foldByDisplayName() {
	withID := make(map[string][]int)
	for i, p := range m.out.ServicePrincipals {
		if p.ApplicationID != "" {
			withID[p.DisplayName] = append(withID[p.DisplayName], i)
		}
	}
	folded := make(map[int]bool)
	for i := range m.out.ServicePrincipals {
		p := &m.out.ServicePrincipals[i]
		if p.ApplicationID != "" || p.DisplayName == "" || len(withID[p.DisplayName]) != 1 {
			continue
		}
		m.mergeServicePrincipal(&m.out.ServicePrincipals[withID[p.DisplayName][0]], p)
		folded[i] = true
	}
	if len(folded) == 0 {
		return
	}
	kept := m.out.ServicePrincipals[:0]
	for i, p := range m.out.ServicePrincipals {
		if !folded[i] {
			kept = append(kept, p)
		}
	}
	m.out.ServicePrincipals = kept
	for k := range m.sps {
		delete(m.sps, k)
	}
	for i, p := range m.out.ServicePrincipals {
		m.sps[p.Key()] = i
	}
}

// ResolveRefs rewrites the service principal references of a state (group members,
// workspace assignments and entitlements) to the key of the principal they name, by
// applicationId or by a displayName only one principal has. References that name no
// principal are left as they are, for validation to report.
func ResolveRefs(s *model.State) {
	ix := model.NewIndex(s)
	resolve := func(ref string) string {
		if p, ok := ix.ServicePrincipal(ref); ok {
			return p.Key()
		}
		return ref
	}
	for i := range s.Groups {
		sps := s.Groups[i].Members.ServicePrincipals
		for j := range sps {
			sps[j] = resolve(sps[j])
		}
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		for j := range w.Assignments {
			if r := &w.Assignments[j].Principal; r.Kind == model.KindServicePrincipal {
				r.Key = resolve(r.Key)
			}
		}
		for j := range w.Entitlements {
			if r := &w.Entitlements[j].Principal; r.Kind == model.KindServicePrincipal {
				r.Key = resolve(r.Key)
			}
		}
	}
}

// Describe names a referenced identity for people: user "ann@example.com",
// group "eng", service principal "etl".
func Describe(r model.Ref) string {
	switch r.Kind {
	case model.KindServicePrincipal:
		return fmt.Sprintf("service principal %q", r.Key)
	case model.KindUser, model.KindGroup:
		return fmt.Sprintf("%s %q", r.Kind, r.Key)
	}
	return r.String()
}

type merger struct {
	out        *model.State
	users      map[string]int // key → index in out.Users
	sps        map[string]int
	groups     map[string]int
	workspaces map[string]*wsIndex
	diags      diag.List
}

type wsIndex struct {
	i            int            // index in out.Workspaces
	assignments  map[string]int // principal → index in Assignments
	entitlements map[string]int // principal → index in Entitlements
}

// conflict collects the attributes on which two declarations disagree.
type conflict []string

// str merges a string attribute: an empty value takes the other, two set values must be
// equal.
func (c *conflict) str(name string, dst *string, src string) {
	switch {
	case src == "" || *dst == src:
	case *dst == "":
		*dst = src
	default:
		*c = append(*c, fmt.Sprintf("%s %q and %q", name, *dst, src))
	}
}

// set merges a set attribute: an empty set takes the other, two non-empty sets must be
// equal.
func (c *conflict) set(name string, dst *[]string, src []string) {
	switch {
	case len(src) == 0:
	case len(*dst) == 0:
		*dst = slices.Clone(src)
	default:
		a, b := model.SortedSet(slices.Clone(*dst)), model.SortedSet(slices.Clone(src))
		if !slices.Equal(a, b) {
			*c = append(*c, fmt.Sprintf("%s [%s] and [%s]", name, strings.Join(a, ", "), strings.Join(b, ", ")))
		}
	}
}

func (c *conflict) boolean(name string, dst, src bool) {
	if dst != src {
		*c = append(*c, fmt.Sprintf("%s %t and %t", name, dst, src))
	}
}

// report adds a diagnostic for a conflict, at the later declaration and naming the first.
func (m *merger) report(c conflict, rule string, at, first model.Origin, what string) {
	if len(c) == 0 {
		return
	}
	rel := first
	m.diags = append(m.diags, diag.Diagnostic{
		Severity: diag.SevError,
		Origin:   at,
		Rule:     rule,
		Message:  fmt.Sprintf("%s is declared twice with different attributes: %s", what, strings.Join(c, "; ")),
		Related:  &rel,
	})
}

func (m *merger) user(u *model.User) {
	i, ok := m.users[u.Key()]
	if !ok {
		c := *u
		c.Roles, c.Entitlements = slices.Clone(u.Roles), slices.Clone(u.Entitlements)
		m.users[u.Key()] = len(m.out.Users)
		m.out.Users = append(m.out.Users, c)
		return
	}
	dst := &m.out.Users[i]
	var c conflict
	c.str("displayName", &dst.DisplayName, u.DisplayName)
	c.str("givenName", &dst.GivenName, u.GivenName)
	c.str("familyName", &dst.FamilyName, u.FamilyName)
	c.str("externalId", &dst.ExternalID, u.ExternalID)
	c.boolean("active", dst.Active, u.Active)
	c.set("roles", &dst.Roles, u.Roles)
	c.set("entitlements", &dst.Entitlements, u.Entitlements)
	m.report(c, RuleDuplicateUserName, u.Origin, dst.Origin, fmt.Sprintf("user %q", u.Key()))
}

func (m *merger) servicePrincipal(p *model.ServicePrincipal) {
	i, ok := m.sps[p.Key()]
	if !ok {
		c := *p
		c.Roles, c.Entitlements = slices.Clone(p.Roles), slices.Clone(p.Entitlements)
		m.sps[p.Key()] = len(m.out.ServicePrincipals)
		m.out.ServicePrincipals = append(m.out.ServicePrincipals, c)
		return
	}
	m.mergeServicePrincipal(&m.out.ServicePrincipals[i], p)
}

// mergeServicePrincipal merges a second declaration p of a principal into dst.
func (m *merger) mergeServicePrincipal(dst, p *model.ServicePrincipal) {
	var c conflict
	c.str("displayName", &dst.DisplayName, p.DisplayName)
	c.str("externalId", &dst.ExternalID, p.ExternalID)
	c.boolean("active", dst.Active, p.Active)
	c.set("roles", &dst.Roles, p.Roles)
	c.set("entitlements", &dst.Entitlements, p.Entitlements)
	rule, what := RuleDuplicateServicePrincipal, fmt.Sprintf("service principal %q", p.Key())
	if p.ApplicationID != "" {
		rule, what = RuleDuplicateApplicationID, fmt.Sprintf("service principal with applicationId %s", p.Key())
	}
	m.report(c, rule, p.Origin, dst.Origin, what)
}

func (m *merger) group(g *model.Group) {
	i, ok := m.groups[g.Key()]
	if !ok {
		c := *g
		c.Previously, c.Roles, c.Entitlements = slices.Clone(g.Previously), slices.Clone(g.Roles), slices.Clone(g.Entitlements)
		c.Members = model.Members{
			Users:             slices.Clone(g.Members.Users),
			Groups:            slices.Clone(g.Members.Groups),
			ServicePrincipals: slices.Clone(g.Members.ServicePrincipals),
		}
		m.groups[g.Key()] = len(m.out.Groups)
		m.out.Groups = append(m.out.Groups, c)
		return
	}
	dst := &m.out.Groups[i]
	var c conflict
	c.str("externalId", &dst.ExternalID, g.ExternalID)
	c.set("roles", &dst.Roles, g.Roles)
	c.set("entitlements", &dst.Entitlements, g.Entitlements)
	m.report(c, RuleDuplicateGroup, g.Origin, dst.Origin, fmt.Sprintf("group %q", g.Key()))
	dst.Previously = append(dst.Previously, g.Previously...)
	dst.Members.Users = append(dst.Members.Users, g.Members.Users...)
	dst.Members.Groups = append(dst.Members.Groups, g.Members.Groups...)
	dst.Members.ServicePrincipals = append(dst.Members.ServicePrincipals, g.Members.ServicePrincipals...)
}

func (m *merger) workspace(w *model.Workspace) {
	ix, ok := m.workspaces[w.ID]
	if !ok {
		ix = &wsIndex{i: len(m.out.Workspaces), assignments: make(map[string]int), entitlements: make(map[string]int)}
		m.workspaces[w.ID] = ix
		m.out.Workspaces = append(m.out.Workspaces, model.Workspace{ID: w.ID, Host: w.Host, Origin: w.Origin})
	}
	dst := &m.out.Workspaces[ix.i]
	var c conflict
	c.str("host", &dst.Host, w.Host)
	m.report(c, RuleDuplicateWorkspace, w.Origin, dst.Origin, fmt.Sprintf("workspace %s", w.ID))
	for _, a := range w.Assignments {
		key := a.Principal.String()
		j, seen := ix.assignments[key]
		if !seen {
			ix.assignments[key] = len(dst.Assignments)
			dst.Assignments = append(dst.Assignments, a)
			continue
		}
		var c conflict
		c.str("permission", &dst.Assignments[j].Permission, a.Permission)
		m.report(c, RuleDuplicateAssignment, a.Origin, dst.Assignments[j].Origin,
			fmt.Sprintf("the assignment of %s to workspace %s", Describe(a.Principal), w.ID))
	}
	for _, e := range w.Entitlements {
		key := e.Principal.String()
		j, seen := ix.entitlements[key]
		if !seen {
			ix.entitlements[key] = len(dst.Entitlements)
			e.Entitlements = slices.Clone(e.Entitlements)
			dst.Entitlements = append(dst.Entitlements, e)
			continue
		}
		var c conflict
		c.set("entitlements", &dst.Entitlements[j].Entitlements, e.Entitlements)
		m.report(c, RuleDuplicateEntitlements, e.Origin, dst.Entitlements[j].Origin,
			fmt.Sprintf("the entitlement list of %s in workspace %s", Describe(e.Principal), w.ID))
	}
}
