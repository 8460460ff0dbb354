// Package policy holds the rules a plan is made under: which live identities are managed,
// what happens to those no longer declared, the removal guards and the protected
// identities. The config file decodes into a Policy; plan.Diff and plan.Drift apply it;
// every plan records the one it was made with.
//
// Package policy imports nothing of the project, so that config and the sources can
// name a Policy without depending on the planner.
package policy

import "github.com/scimsync/scimsync/model"

// Removal says what happens to a managed live identity that is no longer declared.
type Removal string

// The removal modes.
const (
	RemovalDeactivate Removal = "deactivate" // set active=false; reversible (users and SPs only)
	RemovalDelete     Removal = "delete"
	RemovalIgnore     Removal = "ignore"
)

// Policy holds the rules a plan is made under. Every plan records the policy it was made
// with and the renderers show it.
type Policy struct {
	Scope     Scope     `json:"scope" yaml:"scope"`
	Removal   Removals  `json:"removal" yaml:"removal"`
	Guards    Guards    `json:"guards" yaml:"guards"`
	Protected Protected `json:"protected" yaml:"protected"`
	// AllowUserReplace lets a plan delete and recreate a user whose declared userName
	// differs from the live one (found through externalId). Databricks cannot rename users.
	AllowUserReplace bool `json:"allowUserReplace" yaml:"allowUserReplace"`
	// Limits are the account's identity limits, which validation enforces. They are not
	// part of a plan (a plan is made from a state that passed them), so plan files do not
	// record them.
	Limits Limits `json:"-" yaml:"limits"`
}

// Limits are an account's identity limits. Databricks' defaults are 10,000 users and
// service principals and 5,000 groups, and they can be raised (reference §6); an account
// whose limits were raised sets them here. 0 means the default.
type Limits struct {
	Principals int `yaml:"principals"` // users plus service principals
	Groups     int `yaml:"groups"`
}

// PrincipalsOrDefault returns Principals, or Databricks' default when it is 0.
func (l Limits) PrincipalsOrDefault() int {
	if l.Principals > 0 {
		return l.Principals
	}
	return model.MaxPrincipals
}

// GroupsOrDefault returns Groups, or Databricks' default when it is 0.
func (l Limits) GroupsOrDefault() int {
	if l.Groups > 0 {
		return l.Groups
	}
	return model.MaxGroups
}

// Scope says which live identities are managed.
type Scope struct {
	// Ignore lists glob patterns (path.Match syntax) of identities that are not managed.
	// A pattern may start with a kind, "user:", "group:" or "servicePrincipal:", to apply to
	// that kind only; without one it applies to every kind. Users match on their lower-cased
	// userName, case-insensitively (the pattern is lower-cased for them too), groups on
	// displayName, service principals on applicationId or displayName. A malformed pattern
	// is refused when the config is loaded.
	Ignore []string `json:"ignore,omitempty" yaml:"ignore"`
}

// Removals sets the removal mode per kind.
type Removals struct {
	Users             Removal `json:"users" yaml:"users"`
	ServicePrincipals Removal `json:"servicePrincipals" yaml:"servicePrincipals"`
	Groups            Removal `json:"groups" yaml:"groups"` // delete or ignore
}

// Guards refuse plans that remove too much at once.
type Guards struct {
	// MaxRemovals is the most identities a plan may deactivate or delete. 0 means no limit.
	MaxRemovals int `json:"maxRemovals" yaml:"maxRemovals"`
	// MaxRemovalPercent is the largest share of the managed identities a plan may deactivate
	// or delete, in percent. 0 means no limit.
	MaxRemovalPercent float64 `json:"maxRemovalPercent" yaml:"maxRemovalPercent"`
	// MinAdmins is the fewest active account admins, and admins of each declared
	// workspace, a plan may leave where there were at least as many. 0 turns the count
	// off; a plan that deactivates or deletes an account admin is refused regardless.
	MinAdmins int `json:"minAdmins,omitempty" yaml:"minAdmins"`
}

// Protected lists identities that are never changed, in addition to the built-in groups
// and the identity that owns the credentials.
type Protected struct {
	Users             []string `json:"users,omitempty" yaml:"users"`
	ServicePrincipals []string `json:"servicePrincipals,omitempty" yaml:"servicePrincipals"`
	Groups            []string `json:"groups,omitempty" yaml:"groups"`
}

// Default returns the policy used where the config says nothing: everything managed,
// users and service principals deactivated, groups deleted, and guards that stop a plan from
// removing more than 25 identities or 10% of the managed ones.
func Default() Policy {
	return Policy{
		Removal: Removals{
			Users:             RemovalDeactivate,
			ServicePrincipals: RemovalDeactivate,
			Groups:            RemovalDelete,
		},
		Guards: Guards{MaxRemovals: 25, MaxRemovalPercent: 10, MinAdmins: 1},
		Limits: Limits{Principals: model.MaxPrincipals, Groups: model.MaxGroups},
	}
}
