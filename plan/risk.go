package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/scimsync/scimsync/model"
)

// RiskType says why a reviewer must see an item of a plan's risk section.
type RiskType string

// The types of risk.
const (
	// RiskGrant is a grant of privilege: a role, an ADMIN workspace assignment, a
	// privileged entitlement, a reactivation, or membership of a group that holds any of
	// them (directly or through the groups it is a member of).
	RiskGrant RiskType = "grant"
	// RiskRemoval is a deactivation, a deletion or a workspace unassignment.
	RiskRemoval RiskType = "removal"
	// RiskProtected is a live identity the policy kept out of the plan.
	RiskProtected RiskType = "protected"
	// RiskBlocked is a difference no change can remove (Plan.Blocked): what Databricks
	// cannot do or the policy forbids, such as a userName change without allowUserReplace.
	RiskBlocked RiskType = "blocked"
)

// PrivilegedEntitlements are the entitlements whose grant is a risk: they let a principal
// create compute.
var PrivilegedEntitlements = []string{"allow-cluster-create", "allow-instance-pool-create"}

// Risk is one item of a plan's risk section: every grant of privilege, every removal,
// every protected identity and every blocked one, listed for review before anything else and never left out of
// a rendering. It is display data: apply never reads it.
type Risk struct {
	Type RiskType `json:"type"`
	// Change is the index of the change in Changes; nil for a protected identity.
	Change *int `json:"change,omitempty"`
	// Ref names the identity: "user:ann@example.com".
	Ref string `json:"ref"`
	// Detail says what is granted or removed: "role account_admin", "ADMIN in workspace 1".
	Detail string `json:"detail"`
}

// risks lists the risks of the changes (already in apply order) made from desired, of
// the protected identities and of what is blocked: grants first, then removals, then
// protected identities, then blocked differences, each in change order.
func risks(desired *model.State, changes []Change, protected []model.Ref, blocked []Blocked) []Risk {
	priv := privilegedGroups(desired)
	var grants, removals []Risk
	add := func(list *[]Risk, t RiskType, i int, c *Change, detail string) {
		idx := i
		*list = append(*list, Risk{Type: t, Change: &idx, Ref: c.Ref().String(), Detail: detail})
	}
	for i := range changes {
		c := &changes[i]
		switch c.Action {
		case Create:
			roles, ents := objectPrivileges(c.After)
			for _, d := range privilegePhrases(roles, ents) {
				add(&grants, RiskGrant, i, c, d)
			}
		case Update, Rename, Reactivate:
			var roles, ents []string
			if c.Set != nil {
				oldRoles, oldEnts := objectPrivileges(c.Before)
				if c.Set.Roles != nil {
					roles = added(oldRoles, *c.Set.Roles)
				}
				if c.Set.Entitlements != nil {
					ents = added(oldEnts, *c.Set.Entitlements)
				}
			}
			if c.Action == Reactivate {
				add(&grants, RiskGrant, i, c, "reactivated")
			}
			for _, d := range privilegePhrases(roles, ents) {
				add(&grants, RiskGrant, i, c, d)
			}
		case AddMembers:
			if why, ok := priv[c.Key]; ok {
				add(&grants, RiskGrant, i, c, fmt.Sprintf("%s added to a group that %s", memberList(c.Members), why))
			}
		case Assign:
			if c.Permission != nil && c.Permission.To == "ADMIN" {
				from := ""
				if c.Permission.From != "" {
					from = " (was " + c.Permission.From + ")"
				}
				add(&grants, RiskGrant, i, c, fmt.Sprintf("ADMIN in workspace %s%s", c.Workspace, from))
			}
		case SetEntitlements:
			if c.Entitlements != nil {
				if ents := privileged(c.Entitlements.Grant); len(ents) > 0 {
					add(&grants, RiskGrant, i, c, fmt.Sprintf("entitlement %s in workspace %s", strings.Join(ents, ", "), c.Workspace))
				}
			}
		case Deactivate:
			add(&removals, RiskRemoval, i, c, "deactivated")
		case Delete:
			add(&removals, RiskRemoval, i, c, "deleted")
		case Unassign:
			add(&removals, RiskRemoval, i, c, "unassigned from workspace "+c.Workspace)
		}
	}
	out := append(grants, removals...)
	for _, r := range protected {
		out = append(out, Risk{Type: RiskProtected, Ref: r.String(), Detail: "protected: never changed"})
	}
	for _, b := range blocked {
		out = append(out, Risk{Type: RiskBlocked, Ref: model.Ref{Kind: b.Kind, Key: b.Key}.String(), Detail: b.Reason})
	}
	return out
}

// objectPrivileges returns the roles and privileged entitlements of an object.
func objectPrivileges(o *Object) (roles, ents []string) {
	switch {
	case o == nil:
	case o.User != nil:
		return o.User.Roles, privileged(o.User.Entitlements)
	case o.ServicePrincipal != nil:
		return o.ServicePrincipal.Roles, privileged(o.ServicePrincipal.Entitlements)
	case o.Group != nil:
		return o.Group.Roles, privileged(o.Group.Entitlements)
	}
	return nil, nil
}

// privilegePhrases describes roles and privileged entitlements: "role account_admin".
func privilegePhrases(roles, ents []string) []string {
	var out []string
	if len(roles) > 0 {
		out = append(out, plural(len(roles), "role", "roles")+" "+strings.Join(roles, ", "))
	}
	if ents = privileged(ents); len(ents) > 0 {
		out = append(out, plural(len(ents), "entitlement", "entitlements")+" "+strings.Join(ents, ", "))
	}
	return out
}

// privileged returns the entitlements of list that are privileged.
func privileged(list []string) []string {
	var out []string
	for _, e := range list {
		if slices.Contains(PrivilegedEntitlements, e) {
			out = append(out, e)
		}
	}
	return out
}

// added returns what after holds that before does not.
func added(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}

// memberList names the members of a change: "user ann@example.com", or "3 members".
func memberList(ms []Member) string {
	if len(ms) == 1 {
		return string(ms[0].Kind) + " " + ms[0].Key
	}
	return fmt.Sprintf("%d members", len(ms))
}

// privilegedGroups returns the declared groups that hold privilege, each with what it
// holds: roles, privileged entitlements (on the group at workspace level, in a workspace
// at account level), an ADMIN workspace assignment, or membership of a group that holds
// one of them.
func privilegedGroups(desired *model.State) map[string]string {
	why := map[string]string{}
	note := func(key, s string) {
		if _, ok := why[key]; !ok {
			why[key] = s
		}
	}
	for _, g := range desired.Groups {
		roles, ents := g.Roles, privileged(g.Entitlements)
		if p := privilegePhrases(roles, ents); len(p) > 0 {
			note(g.Key(), "holds "+strings.Join(p, " and "))
		}
	}
	for _, w := range desired.Workspaces {
		for _, a := range w.Assignments {
			if a.Principal.Kind == model.KindGroup && a.Permission == "ADMIN" {
				note(a.Principal.Key, "is ADMIN of workspace "+w.ID)
			}
		}
		for _, e := range w.Entitlements {
			if ents := privileged(e.Entitlements); e.Principal.Kind == model.KindGroup && len(ents) > 0 {
				note(e.Principal.Key, fmt.Sprintf("has %s in workspace %s", strings.Join(ents, ", "), w.ID))
			}
		}
	}
	// A member group inherits what its parents hold: repeat until nothing changes.
	parents := map[string][]string{}
	for _, g := range desired.Groups {
		for _, m := range g.Members.Groups {
			parents[m] = append(parents[m], g.Key())
		}
	}
	for changed := true; changed; {
		changed = false
		keys := make([]string, 0, len(parents))
		for k := range parents {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, child := range keys {
			if _, ok := why[child]; ok {
				continue
			}
			for _, p := range parents[child] {
				if _, ok := why[p]; ok {
					why[child] = "is a member of " + p + ", which " + why[p]
					changed = true
					break
				}
			}
		}
	}
	return why
}
