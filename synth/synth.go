// Package synth generates deterministic synthetic organisations: desired states of any size
// with nested groups, service principals, workspace assignments and entitlements, and
// seeded variations of them (churn, random pairs). Benchmarks and randomized tests use it;
// the same seed always gives the same state.
//
// Package synth imports model only.
package synth

import (
	"fmt"
	"math/rand/v2"

	"github.com/scimsync/scimsync/model"
)

// WorkspaceHost returns the host of workspace id in generated states: the host the
// emulator gives a workspace by default (emulator.DefaultWorkspaceHost), so that generated
// states reach the emulator's workspaces through its host overrides.
func WorkspaceHost(id string) string { return "https://dbc-" + id + ".emulator.invalid" }

// Spec sizes an organisation.
type Spec struct {
	Users             int
	ServicePrincipals int
	Groups            int
	// Memberships is the number of direct user and service principal memberships, spread
	// over the groups. Nested group memberships come on top.
	Memberships int
	// Depth is how deep groups nest (1 = no nesting).
	Depth int
	// Workspaces is the number of workspaces principals are assigned to.
	Workspaces int
}

// The benchmark sizes of issue 7.
var (
	Small  = Spec{Users: 1000, ServicePrincipals: 20, Groups: 200, Memberships: 5000, Depth: 3, Workspaces: 2}
	Medium = Spec{Users: 10000, ServicePrincipals: 100, Groups: 5000, Memberships: 50000, Depth: 3, Workspaces: 2}
	Large  = Spec{Users: 100000, ServicePrincipals: 1000, Groups: 20000, Memberships: 1000000, Depth: 3, Workspaces: 4}
)

var (
	given  = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken", "Radia", "Tim", "Leslie", "Niklaus", "Sophie", "Linus", "Hedy", "Claude", "Katherine", "Dennis"}
	family = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Thompson", "Perlman", "Berners-Lee", "Lamport", "Wirth", "Wilson", "Torvalds", "Lamarr", "Shannon", "Johnson", "Ritchie"}
	teams  = []string{"data-eng", "analytics", "ml", "platform", "finance", "sales", "marketing", "security", "support", "research"}
)

// Org generates an organisation of the given size. Groups form Spec.Depth levels: the
// first level holds the top groups, and each deeper group is a member of one group of the
// level above. Memberships are spread evenly over the groups and never exceed Databricks'
// per-principal limit.
func Org(seed uint64, spec Spec) *model.State {
	rng := rand.New(rand.NewPCG(seed, 0x5c1a5c))
	s := &model.State{}
	s.Users = make([]model.User, spec.Users)
	for i := range s.Users {
		g, f := given[rng.IntN(len(given))], family[rng.IntN(len(family))]
		s.Users[i] = model.User{
			UserName:    fmt.Sprintf("%s.%s%d@example.com", lower(g), lower(f), i),
			DisplayName: g + " " + f,
			Active:      true,
			ExternalID:  fmt.Sprintf("emp-%06d", i),
		}
	}
	s.ServicePrincipals = make([]model.ServicePrincipal, spec.ServicePrincipals)
	for i := range s.ServicePrincipals {
		s.ServicePrincipals[i] = model.ServicePrincipal{
			ApplicationID: uuid(rng),
			DisplayName:   fmt.Sprintf("sp-%s-%d", teams[i%len(teams)], i),
			Active:        true,
		}
	}
	s.Groups = make([]model.Group, spec.Groups)
	depth := max(spec.Depth, 1)
	perLevel := max(spec.Groups/depth, 1)
	for i := range s.Groups {
		s.Groups[i] = model.Group{DisplayName: fmt.Sprintf("%s-%05d", teams[i%len(teams)], i)}
	}
	// Group i at level l>0 is nested in a group of level l-1.
	for i := perLevel; i < len(s.Groups); i++ {
		level := min(i/perLevel, depth-1)
		parentLo := (level - 1) * perLevel
		parent := parentLo + rng.IntN(perLevel)
		s.Groups[parent].Members.Groups = append(s.Groups[parent].Members.Groups, s.Groups[i].DisplayName)
	}
	if len(s.Groups) > 0 && s.Principals() > 0 {
		for m := 0; m < spec.Memberships; m++ {
			g := &s.Groups[m%len(s.Groups)]
			p := rng.IntN(s.Principals())
			if p < len(s.Users) {
				g.Members.Users = append(g.Members.Users, s.Users[p].Key())
			} else {
				g.Members.ServicePrincipals = append(g.Members.ServicePrincipals, s.ServicePrincipals[p-len(s.Users)].Key())
			}
		}
	}
	for w := 0; w < spec.Workspaces && len(s.Groups) > 0; w++ {
		id := fmt.Sprintf("%d", 1001+w)
		ws := model.Workspace{ID: id, Host: WorkspaceHost(id)}
		for i := 0; i < min(perLevel, 50); i++ {
			g := s.Groups[(i+w)%len(s.Groups)].Key()
			ws.Assignments = append(ws.Assignments, model.Assignment{Principal: model.Ref{Kind: model.KindGroup, Key: g}, Permission: model.PermissionUser})
			ents := []string{model.EntWorkspaceAccess}
			if i%3 == 0 {
				ents = append(ents, model.EntDatabricksSQLAccess)
			}
			ws.Entitlements = append(ws.Entitlements, model.PrincipalEntitlements{Principal: model.Ref{Kind: model.KindGroup, Key: g}, Entitlements: ents})
		}
		if len(s.Users) > 0 {
			ws.Assignments = append(ws.Assignments, model.Assignment{Principal: model.Ref{Kind: model.KindUser, Key: s.Users[w%len(s.Users)].Key()}, Permission: model.PermissionAdmin})
		}
		s.Workspaces = append(s.Workspaces, ws)
	}
	s.Normalize()
	return s
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

// Churn returns a copy of s in which a fraction of the users (0.01 = 1%) changed: as many
// removed as added, displayNames of others changed, and memberships moved. The copy is
// normalised.
func Churn(seed uint64, s *model.State, fraction float64) *model.State {
	rng := rand.New(rand.NewPCG(seed, 0xc4a7))
	out := Clone(s)
	n := int(float64(len(out.Users)) * fraction)
	removed := map[string]bool{}
	for i := 0; i < n/2 && len(out.Users) > 0; i++ {
		removed[out.Users[rng.IntN(len(out.Users))].Key()] = true
	}
	kept := out.Users[:0]
	for _, u := range out.Users {
		if !removed[u.Key()] {
			kept = append(kept, u)
		}
	}
	out.Users = kept
	for i := 0; i < n/2; i++ {
		out.Users = append(out.Users, model.User{UserName: fmt.Sprintf("new.hire%d.%d@example.com", seed, i), DisplayName: "New Hire", Active: true})
	}
	for i := 0; i < n/4 && len(out.Users) > 0; i++ {
		out.Users[rng.IntN(len(out.Users))].DisplayName += " Jr"
	}
	for gi := range out.Groups {
		g := &out.Groups[gi]
		users := g.Members.Users[:0]
		for _, k := range g.Members.Users {
			if !removed[k] {
				users = append(users, k)
			}
		}
		g.Members.Users = users
	}
	for i := 0; i < n && len(out.Groups) > 0 && len(out.Users) > 0; i++ {
		g := &out.Groups[rng.IntN(len(out.Groups))]
		g.Members.Users = append(g.Members.Users, out.Users[rng.IntN(len(out.Users))].Key())
	}
	for wi := range out.Workspaces {
		w := &out.Workspaces[wi]
		as := w.Assignments[:0]
		for _, a := range w.Assignments {
			if !(a.Principal.Kind == model.KindUser && removed[a.Principal.Key]) {
				as = append(as, a)
			}
		}
		w.Assignments = as
	}
	out.Normalize()
	return out
}

// Clone returns a deep copy of a state.
func Clone(s *model.State) *model.State {
	out := &model.State{
		Users:             append([]model.User(nil), s.Users...),
		ServicePrincipals: append([]model.ServicePrincipal(nil), s.ServicePrincipals...),
		Groups:            append([]model.Group(nil), s.Groups...),
		Workspaces:        append([]model.Workspace(nil), s.Workspaces...),
	}
	for i := range out.Users {
		u := &out.Users[i]
		u.Roles, u.Entitlements = clone(u.Roles), clone(u.Entitlements)
	}
	for i := range out.ServicePrincipals {
		p := &out.ServicePrincipals[i]
		p.Roles, p.Entitlements = clone(p.Roles), clone(p.Entitlements)
	}
	for i := range out.Groups {
		g := &out.Groups[i]
		g.Roles, g.Entitlements, g.Previously = clone(g.Roles), clone(g.Entitlements), clone(g.Previously)
		g.Members = model.Members{Users: clone(g.Members.Users), Groups: clone(g.Members.Groups), ServicePrincipals: clone(g.Members.ServicePrincipals)}
	}
	for i := range out.Workspaces {
		w := &out.Workspaces[i]
		w.Assignments = append([]model.Assignment(nil), w.Assignments...)
		w.Entitlements = append([]model.PrincipalEntitlements(nil), w.Entitlements...)
		for j := range w.Entitlements {
			w.Entitlements[j].Entitlements = clone(w.Entitlements[j].Entitlements)
		}
	}
	return out
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// Pair returns a small random desired state and a live state that overlaps it: some
// identities in both (with differing attributes and members), some only desired, some only
// live, nested groups, service principals with and without applicationIds, workspace
// assignments and, at account level, per-workspace entitlements. Randomized convergence
// tests apply desired over live and check that nothing is left to do.
func Pair(seed uint64, level model.Level) (desired, live *model.State) {
	rng := rand.New(rand.NewPCG(seed, 0x9a1f))
	universeUsers := 4 + rng.IntN(20)
	universeGroups := 1 + rng.IntN(8)
	universeSPs := rng.IntN(4)
	desired, live = &model.State{}, &model.State{}
	pickEnts := func() []string {
		var out []string
		for _, e := range []string{model.EntWorkspaceAccess, model.EntAllowClusterCreate, model.EntDatabricksSQLAccess} {
			if rng.IntN(3) == 0 {
				out = append(out, e)
			}
		}
		return out
	}
	roles := func() []string {
		if rng.IntN(5) == 0 {
			return []string{model.RoleAccountAdmin}
		}
		return nil
	}
	for i := 0; i < universeUsers; i++ {
		name := fmt.Sprintf("user%d@example.com", i)
		inD, inL := rng.IntN(4) != 0, rng.IntN(3) != 0
		if inD {
			u := model.User{UserName: name, DisplayName: fmt.Sprintf("User %d", i), Active: rng.IntN(8) != 0, Roles: roles()}
			if rng.IntN(2) == 0 {
				u.UserName = fmt.Sprintf("User%d@Example.com", i)
			}
			if level == model.LevelWorkspace {
				u.Entitlements = pickEnts()
			}
			desired.Users = append(desired.Users, u)
		}
		if inL {
			u := model.User{UserName: name, DisplayName: fmt.Sprintf("User %d (old)", i*rng.IntN(2)), Active: rng.IntN(4) != 0, Roles: roles()}
			if level == model.LevelWorkspace {
				u.Entitlements = pickEnts()
			}
			live.Users = append(live.Users, u)
		}
	}
	for i := 0; i < universeSPs; i++ {
		app := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		if rng.IntN(2) == 0 {
			d := model.ServicePrincipal{ApplicationID: app, DisplayName: fmt.Sprintf("sp-%d", i), Active: true}
			if rng.IntN(3) == 0 {
				d.ApplicationID = "" // matched or created by displayName
				app = ""
			}
			desired.ServicePrincipals = append(desired.ServicePrincipals, d)
		}
		if rng.IntN(2) == 0 && app != "" {
			live.ServicePrincipals = append(live.ServicePrincipals, model.ServicePrincipal{ApplicationID: app, DisplayName: fmt.Sprintf("sp-%d-old", i), Active: true})
		}
	}
	names := make([]string, universeGroups)
	for i := range names {
		names[i] = fmt.Sprintf("group-%d", i)
	}
	members := func(s *model.State, gi int) model.Members {
		var m model.Members
		for _, u := range s.Users {
			if rng.IntN(3) == 0 {
				m.Users = append(m.Users, u.Key())
			}
		}
		for _, p := range s.ServicePrincipals {
			if rng.IntN(3) == 0 {
				m.ServicePrincipals = append(m.ServicePrincipals, p.Key())
			}
		}
		// Nest only in lower-numbered groups, so there is never a cycle.
		for j := 0; j < gi; j++ {
			if rng.IntN(4) == 0 {
				m.Groups = append(m.Groups, names[j])
			}
		}
		return m
	}
	dGroups, lGroups := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		dGroups[n] = rng.IntN(4) != 0
		lGroups[n] = rng.IntN(3) != 0
	}
	for i, n := range names {
		if dGroups[n] {
			g := model.Group{DisplayName: n, Roles: roles()}
			if level == model.LevelWorkspace {
				g.Entitlements = pickEnts()
			}
			if !lGroups[n] && rng.IntN(3) == 0 {
				old := n + "-old"
				g.Previously = []string{old}
				if rng.IntN(2) == 0 {
					live.Groups = append(live.Groups, model.Group{DisplayName: old})
				}
			}
			m := members(desired, i)
			m.Groups = filter(m.Groups, dGroups)
			g.Members = m
			desired.Groups = append(desired.Groups, g)
		}
		if lGroups[n] {
			m := members(live, i)
			m.Groups = filter(m.Groups, lGroups)
			live.Groups = append(live.Groups, model.Group{DisplayName: n, Members: m, Roles: roles()})
		}
	}
	if level == model.LevelAccount {
		for w := 0; w < 2; w++ {
			id := fmt.Sprintf("%d", 1001+w)
			dw, lw := model.Workspace{ID: id, Host: WorkspaceHost(id)}, model.Workspace{ID: id, Host: WorkspaceHost(id)}
			fill := func(s *model.State, ws *model.Workspace) {
				// Entitlements go only to assigned principals: a workspace shows no other.
				add := func(r model.Ref) {
					if rng.IntN(3) != 0 {
						return
					}
					perm := model.PermissionUser
					if rng.IntN(4) == 0 {
						perm = model.PermissionAdmin
					}
					ws.Assignments = append(ws.Assignments, model.Assignment{Principal: r, Permission: perm})
					if rng.IntN(2) == 0 {
						if e := pickEnts(); len(e) > 0 {
							ws.Entitlements = append(ws.Entitlements, model.PrincipalEntitlements{Principal: r, Entitlements: e})
						}
					}
				}
				for _, u := range s.Users {
					add(model.Ref{Kind: model.KindUser, Key: u.Key()})
				}
				for _, g := range s.Groups {
					add(model.Ref{Kind: model.KindGroup, Key: g.Key()})
				}
			}
			fill(desired, &dw)
			fill(live, &lw)
			desired.Workspaces = append(desired.Workspaces, dw)
			live.Workspaces = append(live.Workspaces, lw)
		}
	}
	desired.Normalize()
	live.Normalize()
	return desired, live
}

func filter(keys []string, keep map[string]bool) []string {
	out := keys[:0]
	for _, k := range keys {
		if keep[k] {
			out = append(out, k)
		}
	}
	return out
}
