package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/scimsync/scimsync/model"
)

// The admin guard (issue 12 point 4). A plan must never lock an account or a managed
// workspace out: it is refused when it leaves fewer than policy.guards.minAdmins active
// account admins (identities with the account_admin role, directly or through a group,
// reference §2.1), or fewer active admins of a declared workspace (assigned ADMIN,
// directly or through a group, §1.5; at workspace level the members of the admins group)
// than that, where it had at least that many or loses some; and when it deactivates or
// deletes an identity that holds account_admin. Options.AllowAdminRemoval overrides it.

// AdminGuardError reports a plan refused by the admin guard. The plan is returned with it
// so that it can be shown.
type AdminGuardError struct {
	Reasons []string
}

func (e *AdminGuardError) Error() string {
	return "plan refused by the admin guard: " + strings.Join(e.Reasons, "; ")
}

// Hint tells the user how to proceed.
func (e *AdminGuardError) Hint() string {
	return "declare the admins the plan would remove, or, if losing them is intended, pass --allow-admin-removal (policy.guards.minAdmins sets how many must stay)"
}

// principalState is what the admin guard needs to know of a user or service principal.
type principalState struct {
	active bool
	roles  []string
}

// groupState is what the admin guard needs to know of a group.
type groupState struct {
	roles   []string
	members map[model.Ref]bool
}

// adminState is the part of a state the admin guard counts admins in.
type adminState struct {
	principals map[model.Ref]*principalState
	groups     map[string]*groupState
	// assigned holds the ADMIN assignments per workspace.
	assigned map[string]map[model.Ref]bool
}

func newAdminState(s *model.State) *adminState {
	a := &adminState{principals: map[model.Ref]*principalState{}, groups: map[string]*groupState{}, assigned: map[string]map[model.Ref]bool{}}
	for _, u := range s.Users {
		a.principals[model.Ref{Kind: model.KindUser, Key: u.Key()}] = &principalState{active: u.Active, roles: slices.Clone(u.Roles)}
	}
	for _, p := range s.ServicePrincipals {
		a.principals[model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}] = &principalState{active: p.Active, roles: slices.Clone(p.Roles)}
	}
	for _, g := range s.Groups {
		gs := &groupState{roles: slices.Clone(g.Roles), members: map[model.Ref]bool{}}
		for _, r := range g.Members.Refs() {
			gs.members[r] = true
		}
		a.groups[g.Key()] = gs
	}
	for _, w := range s.Workspaces {
		m := map[model.Ref]bool{}
		for _, as := range w.Assignments {
			if as.Permission == model.PermissionAdmin {
				m[as.Principal] = true
			}
		}
		a.assigned[w.ID] = m
	}
	return a
}

// apply changes the state as the change would.
func (a *adminState) apply(c *Change) {
	r := c.Ref()
	switch c.Action {
	case Create:
		switch {
		case c.After == nil:
		case c.After.User != nil:
			a.principals[r] = &principalState{active: c.After.User.Active, roles: slices.Clone(c.After.User.Roles)}
		case c.After.ServicePrincipal != nil:
			a.principals[r] = &principalState{active: c.After.ServicePrincipal.Active, roles: slices.Clone(c.After.ServicePrincipal.Roles)}
		case c.After.Group != nil:
			a.groups[c.Key] = &groupState{roles: slices.Clone(c.After.Group.Roles), members: map[model.Ref]bool{}}
		}
	case Update, Reactivate, Deactivate:
		if c.Set == nil {
			return
		}
		if p := a.principals[r]; p != nil {
			if c.Set.Active != nil {
				p.active = *c.Set.Active
			}
			if c.Set.Roles != nil {
				p.roles = slices.Clone(*c.Set.Roles)
			}
		}
		if g := a.groups[c.Key]; g != nil && c.Kind == model.KindGroup && c.Set.Roles != nil {
			g.roles = slices.Clone(*c.Set.Roles)
		}
	case Rename:
		if c.Before != nil && c.Before.Group != nil && c.Set != nil && c.Set.DisplayName != nil {
			old, now := c.Before.Group.Key(), model.GroupKey(*c.Set.DisplayName)
			if g := a.groups[old]; g != nil {
				delete(a.groups, old)
				a.groups[now] = g
			}
		}
	case Delete:
		if c.Kind == model.KindGroup {
			delete(a.groups, c.Key)
		} else {
			delete(a.principals, r)
		}
	case AddMembers, RemoveMembers:
		g := a.groups[c.Key]
		if g == nil {
			g = &groupState{members: map[model.Ref]bool{}}
			a.groups[c.Key] = g
		}
		for _, m := range c.Members {
			g.members[model.Ref{Kind: m.Kind, Key: m.Key}] = c.Action == AddMembers
		}
	case Assign, Unassign:
		if c.Permission == nil {
			return
		}
		m := a.assigned[c.Workspace]
		if m == nil {
			m = map[model.Ref]bool{}
			a.assigned[c.Workspace] = m
		}
		m[r] = c.Permission.To == model.PermissionAdmin
	}
}

// reach returns the active principals that are in one of the seed groups or their nested
// groups, or are themselves seeds.
func (a *adminState) reach(seeds map[model.Ref]bool) map[model.Ref]bool {
	out := map[model.Ref]bool{}
	seen := map[string]bool{}
	var queue []string
	visit := func(r model.Ref) {
		if r.Kind == model.KindGroup {
			if !seen[r.Key] {
				seen[r.Key] = true
				queue = append(queue, r.Key)
			}
			return
		}
		if p := a.principals[r]; p != nil && p.active {
			out[r] = true
		}
	}
	for r, ok := range seeds {
		if ok {
			visit(r)
		}
	}
	for len(queue) > 0 {
		g := a.groups[queue[0]]
		queue = queue[1:]
		if g == nil {
			continue
		}
		for m, in := range g.members {
			if in {
				visit(m)
			}
		}
	}
	return out
}

// accountAdmins returns the active identities that hold account_admin.
func (a *adminState) accountAdmins() map[model.Ref]bool {
	seeds := map[model.Ref]bool{}
	for r, p := range a.principals {
		if slices.Contains(p.roles, model.RoleAccountAdmin) {
			seeds[r] = true
		}
	}
	for k, g := range a.groups {
		if slices.Contains(g.roles, model.RoleAccountAdmin) {
			seeds[model.Ref{Kind: model.KindGroup, Key: k}] = true
		}
	}
	return a.reach(seeds)
}

// workspaceAdmins returns the active admins of workspace ws at account level, or of the
// workspace itself (the admins group) when ws is "".
func (a *adminState) workspaceAdmins(ws string) map[model.Ref]bool {
	if ws == "" {
		return a.reach(map[model.Ref]bool{{Kind: model.KindGroup, Key: "admins"}: true})
	}
	return a.reach(a.assigned[ws])
}

// mayRemoveAdmins reports whether a change of p could take an admin away: a principal
// deactivated or deleted, a group deleted, members removed, roles changed, or a
// workspace permission lowered or removed.
func mayRemoveAdmins(p *Plan) bool {
	for i := range p.Changes {
		c := &p.Changes[i]
		switch {
		case c.Action.IsRemoval(), c.Action == RemoveMembers, c.Action == Unassign:
			return true
		case c.Set != nil && c.Set.Roles != nil:
			return true
		case c.Action == Assign && c.Permission != nil && c.Permission.From == model.PermissionAdmin:
			return true
		}
	}
	return false
}

// adminGuard refuses a plan that leaves too few admins or removes an account admin.
func (d *differ) adminGuard(p *Plan) error {
	var wss []string
	for _, w := range d.desired.Workspaces {
		wss = append(wss, w.ID)
	}
	return checkAdmins(d.live, p, d.pol.Guards.MinAdmins, d.opts.Target.Level, wss)
}

// checkAdmins replays p over live and refuses it, with an *AdminGuardError, when it
// deactivates or deletes an account admin (account level), or leaves fewer than minAdmins
// active account admins or admins of one of the workspaces (at workspace level, of the
// workspace itself) where there were at least as many.
func checkAdmins(live *model.State, p *Plan, minAdmins int, level model.Level, workspaces []string) error {
	before := newAdminState(live)
	after := newAdminState(live)
	for i := range p.Changes {
		after.apply(&p.Changes[i])
	}
	var reasons []string
	liveAdmins := before.accountAdmins()
	if level != model.LevelWorkspace {
		var removed []string
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.Action.IsRemoval() && liveAdmins[c.Ref()] {
				removed = append(removed, c.Ref().String())
			}
		}
		sort.Strings(removed)
		if len(removed) > 0 {
			reasons = append(reasons, fmt.Sprintf("it deactivates or deletes %s, which %s account_admin", strings.Join(removed, ", "), plural(len(removed), "holds", "hold")))
		}
		if n, m := len(after.accountAdmins()), len(liveAdmins); minAdmins > 0 && n < minAdmins && n < m {
			reasons = append(reasons, fmt.Sprintf("it leaves %d active account %s (policy.guards.minAdmins is %d)", n, plural(n, "admin", "admins"), minAdmins))
		}
	}
	wss := workspaces
	if level == model.LevelWorkspace {
		wss = []string{""}
	}
	for _, ws := range wss {
		n, m := len(after.workspaceAdmins(ws)), len(before.workspaceAdmins(ws))
		if minAdmins > 0 && n < minAdmins && n < m {
			where := "the workspace"
			if ws != "" {
				where = "workspace " + ws
			}
			reasons = append(reasons, fmt.Sprintf("it leaves %d active %s of %s (policy.guards.minAdmins is %d)", n, plural(n, "admin", "admins"), where, minAdmins))
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return &AdminGuardError{Reasons: reasons}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
