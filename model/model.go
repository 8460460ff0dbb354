// Package model is scimsync's domain model: the users, service principals, groups,
// memberships, entitlements, roles and workspace assignments of a Databricks account or
// workspace. The same types hold the desired state (declared in sources) and the live state
// (read from Databricks); live objects also carry their SCIM ids.
//
// Package model imports nothing from this project. Sources, the SCIM client, the planner
// and the renderers all convert into and out of it.
package model

import (
	"fmt"
	"sort"
	"strings"
)

// Kind names the kind of an identity object.
type Kind string

// The kinds of identity object scimsync manages.
const (
	KindUser             Kind = "user"
	KindServicePrincipal Kind = "servicePrincipal"
	KindGroup            Kind = "group"
)

// Level says whether a target is a whole Databricks account or a single workspace.
type Level string

// The two target levels.
const (
	LevelAccount   Level = "account"
	LevelWorkspace Level = "workspace"
)

// The entitlements Databricks knows. Entitlements are kept per workspace.
const (
	EntWorkspaceAccess         = "workspace-access"
	EntDatabricksSQLAccess     = "databricks-sql-access"
	EntAllowClusterCreate      = "allow-cluster-create"
	EntAllowInstancePoolCreate = "allow-instance-pool-create"
	EntWorkspaceConsume        = "workspace-consume"
	PermissionUser             = "USER"
	PermissionAdmin            = "ADMIN"
	RoleAccountAdmin           = "account_admin"
	MaxPrincipals              = 10000
	MaxGroups                  = 5000
	MaxDirectMemberships       = 1500
	MaxNestingDepth            = 10
)

// Entitlements lists every entitlement name Databricks accepts, sorted.
var Entitlements = []string{
	EntAllowClusterCreate,
	EntAllowInstancePoolCreate,
	EntDatabricksSQLAccess,
	EntWorkspaceAccess,
	EntWorkspaceConsume,
}

// IsEntitlement reports whether name is an entitlement Databricks knows.
func IsEntitlement(name string) bool {
	i := sort.SearchStrings(Entitlements, name)
	return i < len(Entitlements) && Entitlements[i] == name
}

// ReservedGroups are the built-in groups of Databricks, by lower-cased name. They cannot be
// declared and are never changed.
var ReservedGroups = map[string]bool{"admins": true, "users": true, "account users": true}

// IsReservedGroup reports whether a group name is one of Databricks' built-in groups.
func IsReservedGroup(name string) bool {
	return ReservedGroups[strings.ToLower(strings.TrimSpace(name))]
}

// Origin says where an object was declared: a file position, or an LDAP entry.
// The zero Origin means "unknown" (live objects have none).
type Origin struct {
	File   string `json:"file,omitempty"`   // file path or LDAP URL
	Line   int    `json:"line,omitempty"`   // 1-based; 0 when not known
	Column int    `json:"column,omitempty"` // 1-based; 0 when not known
	Entry  string `json:"entry,omitempty"`  // LDAP DN, when the origin is a directory entry
}

// String formats the origin as file:line:column, or file (dn: ...) for directory entries.
func (o Origin) String() string {
	var b strings.Builder
	b.WriteString(o.File)
	if o.Line > 0 {
		fmt.Fprintf(&b, ":%d", o.Line)
		if o.Column > 0 {
			fmt.Fprintf(&b, ":%d", o.Column)
		}
	}
	if o.Entry != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(dn: %s)", o.Entry)
	}
	return b.String()
}

// IsZero reports whether the origin is unknown.
func (o Origin) IsZero() bool { return o == Origin{} }

// UserKey normalises a userName into the key users are compared by. Databricks stores
// userNames lower-cased, so keys are case-insensitive.
func UserKey(userName string) string { return strings.ToLower(strings.TrimSpace(userName)) }

// GroupKey normalises a group displayName into its key. Group names are compared exactly,
// after trimming, as Databricks does.
func GroupKey(displayName string) string { return strings.TrimSpace(displayName) }

// ServicePrincipalKey normalises an applicationId (a UUID) into its key.
func ServicePrincipalKey(applicationID string) string {
	return strings.ToLower(strings.TrimSpace(applicationID))
}

// User is a Databricks user.
type User struct {
	ID          string   `json:"id,omitempty"` // SCIM id; set on live objects only
	UserName    string   `json:"userName"`
	DisplayName string   `json:"displayName,omitempty"`
	GivenName   string   `json:"givenName,omitempty"`
	FamilyName  string   `json:"familyName,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	Active      bool     `json:"active"`
	Roles       []string `json:"roles,omitempty"`
	// Entitlements are the user's own entitlements when the target is a workspace. At
	// account level they are kept per workspace, in Workspace.Entitlements.
	Entitlements []string `json:"entitlements,omitempty"`
	Origin       Origin   `json:"-"`
}

// Key returns the user's normalised key (its lower-cased userName).
func (u *User) Key() string { return UserKey(u.UserName) }

// ServicePrincipal is a Databricks service principal.
type ServicePrincipal struct {
	ID string `json:"id,omitempty"` // SCIM id; set on live objects only
	// ApplicationID is the principal's UUID. Databricks generates it on AWS and GCP; on Azure
	// it is the Entra application id. A declared principal without one is matched by
	// DisplayName.
	ApplicationID string   `json:"applicationId,omitempty"`
	DisplayName   string   `json:"displayName"`
	ExternalID    string   `json:"externalId,omitempty"`
	Active        bool     `json:"active"`
	Roles         []string `json:"roles,omitempty"`
	Entitlements  []string `json:"entitlements,omitempty"`
	Origin        Origin   `json:"-"`
}

// Key returns the principal's normalised key: its applicationId, or its displayName when it
// has no applicationId yet.
func (s *ServicePrincipal) Key() string {
	if s.ApplicationID != "" {
		return ServicePrincipalKey(s.ApplicationID)
	}
	return strings.TrimSpace(s.DisplayName)
}

// Group is a Databricks group.
type Group struct {
	ID          string `json:"id,omitempty"` // SCIM id; set on live objects only
	DisplayName string `json:"displayName"`
	// Previously lists names the group had before; a live group with one of them is renamed
	// in place rather than deleted and recreated. Desired state only.
	Previously   []string `json:"previously,omitempty"`
	ExternalID   string   `json:"externalId,omitempty"`
	Members      Members  `json:"members"`
	Roles        []string `json:"roles,omitempty"`
	Entitlements []string `json:"entitlements,omitempty"`
	// AccountManaged marks a live group of a workspace that is an account group (SCIM
	// meta.resourceType "Group" on an identity-federated workspace): it is managed at
	// account level, never through the workspace API. Live state at workspace level only.
	AccountManaged bool   `json:"accountManaged,omitempty"`
	Origin         Origin `json:"-"`
}

// Key returns the group's normalised key (its trimmed displayName).
func (g *Group) Key() string { return GroupKey(g.DisplayName) }

// Members are a group's direct members, by the keys of the member objects.
type Members struct {
	Users             []string `json:"users,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	ServicePrincipals []string `json:"servicePrincipals,omitempty"`
}

// Len returns the number of direct members.
func (m Members) Len() int { return len(m.Users) + len(m.Groups) + len(m.ServicePrincipals) }

// Refs returns the members as references, users first, then service principals, then groups.
func (m Members) Refs() []Ref {
	refs := make([]Ref, 0, m.Len())
	for _, k := range m.Users {
		refs = append(refs, Ref{Kind: KindUser, Key: k})
	}
	for _, k := range m.ServicePrincipals {
		refs = append(refs, Ref{Kind: KindServicePrincipal, Key: k})
	}
	for _, k := range m.Groups {
		refs = append(refs, Ref{Kind: KindGroup, Key: k})
	}
	return refs
}

// Add appends a member reference to the list of its kind.
func (m *Members) Add(r Ref) {
	switch r.Kind {
	case KindUser:
		m.Users = append(m.Users, r.Key)
	case KindServicePrincipal:
		m.ServicePrincipals = append(m.ServicePrincipals, r.Key)
	case KindGroup:
		m.Groups = append(m.Groups, r.Key)
	}
}

// Ref refers to an identity object by kind and normalised key.
type Ref struct {
	Kind Kind   `json:"kind"`
	Key  string `json:"key"`
}

// String formats the reference as kind:key.
func (r Ref) String() string { return string(r.Kind) + ":" + r.Key }

// Workspace is a Databricks workspace as seen from the account: which principals are
// assigned to it, and (at account level) which entitlements each principal has in it.
type Workspace struct {
	ID           string                  `json:"id"` // numeric workspace id
	Host         string                  `json:"host,omitempty"`
	Assignments  []Assignment            `json:"assignments,omitempty"`
	Entitlements []PrincipalEntitlements `json:"entitlements,omitempty"`
	Origin       Origin                  `json:"-"`
}

// Assignment gives a principal (user, service principal or group) access to a workspace.
type Assignment struct {
	Principal  Ref    `json:"principal"`
	Permission string `json:"permission"` // USER or ADMIN
	Origin     Origin `json:"-"`
}

// PrincipalEntitlements are the entitlements one principal has in one workspace.
type PrincipalEntitlements struct {
	Principal    Ref      `json:"principal"`
	Entitlements []string `json:"entitlements"`
	Origin       Origin   `json:"-"`
}

// State is a whole set of identities: everything declared, or everything read from a target.
type State struct {
	Users             []User             `json:"users"`
	ServicePrincipals []ServicePrincipal `json:"servicePrincipals"`
	Groups            []Group            `json:"groups"`
	Workspaces        []Workspace        `json:"workspaces,omitempty"`
}

// Principals returns the number of users plus service principals.
func (s *State) Principals() int { return len(s.Users) + len(s.ServicePrincipals) }

// Empty reports whether the state declares no identity at all.
func (s *State) Empty() bool {
	return len(s.Users) == 0 && len(s.ServicePrincipals) == 0 && len(s.Groups) == 0
}

// Normalize sorts every list in the state by key so that equal states compare and serialise
// equally. Member, role and entitlement lists are sorted and de-duplicated.
func (s *State) Normalize() {
	sort.Slice(s.Users, func(i, j int) bool { return s.Users[i].Key() < s.Users[j].Key() })
	sort.Slice(s.ServicePrincipals, func(i, j int) bool {
		return s.ServicePrincipals[i].Key() < s.ServicePrincipals[j].Key()
	})
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].Key() < s.Groups[j].Key() })
	sort.Slice(s.Workspaces, func(i, j int) bool { return s.Workspaces[i].ID < s.Workspaces[j].ID })
	for i := range s.Users {
		u := &s.Users[i]
		u.Roles, u.Entitlements = SortedSet(u.Roles), SortedSet(u.Entitlements)
	}
	for i := range s.ServicePrincipals {
		p := &s.ServicePrincipals[i]
		p.Roles, p.Entitlements = SortedSet(p.Roles), SortedSet(p.Entitlements)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		g.Roles, g.Entitlements = SortedSet(g.Roles), SortedSet(g.Entitlements)
		g.Members.Users = SortedSet(g.Members.Users)
		g.Members.Groups = SortedSet(g.Members.Groups)
		g.Members.ServicePrincipals = SortedSet(g.Members.ServicePrincipals)
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		sort.SliceStable(w.Assignments, func(a, b int) bool {
			return w.Assignments[a].Principal.String() < w.Assignments[b].Principal.String()
		})
		sort.SliceStable(w.Entitlements, func(a, b int) bool {
			return w.Entitlements[a].Principal.String() < w.Entitlements[b].Principal.String()
		})
		for j := range w.Entitlements {
			w.Entitlements[j].Entitlements = SortedSet(w.Entitlements[j].Entitlements)
		}
	}
}

// SortedSet sorts a list of strings and removes duplicates and empty strings, in place.
// It returns nil for an empty result so that empty lists serialise as absent.
func SortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	sort.Strings(list)
	out := list[:0]
	for i, v := range list {
		if v == "" || (i > 0 && v == list[i-1]) {
			continue
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Index gives keyed access to the objects of a State. It is built once and does not follow
// later changes to the State.
type Index struct {
	Users             map[string]*User
	ServicePrincipals map[string]*ServicePrincipal
	Groups            map[string]*Group
	// spByName maps displayName to principals that have one, for references by name.
	spByName map[string][]*ServicePrincipal
}

// NewIndex indexes a state by key. When two objects share a key the first one wins;
// validation reports such duplicates.
func NewIndex(s *State) *Index {
	ix := &Index{
		Users:             make(map[string]*User, len(s.Users)),
		ServicePrincipals: make(map[string]*ServicePrincipal, len(s.ServicePrincipals)),
		Groups:            make(map[string]*Group, len(s.Groups)),
		spByName:          make(map[string][]*ServicePrincipal),
	}
	for i := range s.Users {
		u := &s.Users[i]
		if _, dup := ix.Users[u.Key()]; !dup {
			ix.Users[u.Key()] = u
		}
	}
	for i := range s.ServicePrincipals {
		p := &s.ServicePrincipals[i]
		if _, dup := ix.ServicePrincipals[p.Key()]; !dup {
			ix.ServicePrincipals[p.Key()] = p
		}
		name := strings.TrimSpace(p.DisplayName)
		ix.spByName[name] = append(ix.spByName[name], p)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		if _, dup := ix.Groups[g.Key()]; !dup {
			ix.Groups[g.Key()] = g
		}
	}
	return ix
}

// Has reports whether the referenced object is in the index.
func (ix *Index) Has(r Ref) bool {
	switch r.Kind {
	case KindUser:
		return ix.Users[r.Key] != nil
	case KindServicePrincipal:
		return ix.ServicePrincipals[r.Key] != nil
	case KindGroup:
		return ix.Groups[r.Key] != nil
	}
	return false
}

// ServicePrincipal finds a service principal by applicationId or, failing that, by a
// displayName that exactly one principal has.
func (ix *Index) ServicePrincipal(ref string) (*ServicePrincipal, bool) {
	if p := ix.ServicePrincipals[ServicePrincipalKey(ref)]; p != nil {
		return p, true
	}
	if p := ix.ServicePrincipals[strings.TrimSpace(ref)]; p != nil {
		return p, true
	}
	if ps := ix.spByName[strings.TrimSpace(ref)]; len(ps) == 1 {
		return ps[0], true
	}
	return nil, false
}
