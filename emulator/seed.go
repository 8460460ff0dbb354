package emulator

import (
	"fmt"
	"slices"

	"github.com/scimsync/scimsync/model"
)

// Seed preloads users, service principals, groups (members by key), and at account level
// the workspaces' assignments and per-workspace entitlements. At workspace level the
// entitlements of users, service principals and groups are their own. Seeding obeys the
// same uniqueness and limits as the API. Groups named like a built-in group add members to
// it. It returns a normalised copy of st with ids, lower-cased userNames and generated
// applicationIds filled in. On error the objects seeded before the failing one stay.
func (s *Server) Seed(st *model.State) (*model.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.st
	out := &model.State{
		Users:             slices.Clone(st.Users),
		ServicePrincipals: slices.Clone(st.ServicePrincipals),
		Groups:            slices.Clone(st.Groups),
		Workspaces:        slices.Clone(st.Workspaces),
	}
	native := view{account: true}
	if !store.accountLevel() {
		native = view{ws: s.opts.Workspaces[0]}
	}
	ownEnts := func(what string, ents []string) (map[string][]string, error) {
		if len(ents) == 0 {
			return nil, nil
		}
		if store.accountLevel() {
			return nil, fmt.Errorf("seed %s: entitlements are kept per workspace at account level", what)
		}
		ents = model.SortedSet(slices.Clone(ents))
		if err := checkEntitlements(ents); err != nil {
			return nil, fmt.Errorf("seed %s: %s", what, err.detail)
		}
		return map[string][]string{native.ws: ents}, nil
	}
	spRefs := make(map[string]int64)
	for i := range out.Users {
		u := &out.Users[i]
		u.UserName = model.UserKey(u.UserName)
		ents, err := ownEnts("user "+u.UserName, u.Entitlements)
		if err != nil {
			return nil, err
		}
		o := &object{kind: kindUser, userName: u.UserName, displayName: u.DisplayName, givenName: u.GivenName,
			familyName: u.FamilyName, externalID: u.ExternalID, active: u.Active,
			roles: model.SortedSet(slices.Clone(u.Roles)), ents: ents}
		if err := s.seedInsert(o, native); err != nil {
			return nil, err
		}
		u.ID = o.idString()
	}
	for i := range out.ServicePrincipals {
		p := &out.ServicePrincipals[i]
		declared := p.Key()
		if p.ApplicationID == "" {
			p.ApplicationID = store.newUUID()
		}
		ents, err := ownEnts("service principal "+p.ApplicationID, p.Entitlements)
		if err != nil {
			return nil, err
		}
		o := &object{kind: kindSP, appID: p.ApplicationID, displayName: p.DisplayName, externalID: p.ExternalID,
			active: p.Active, roles: model.SortedSet(slices.Clone(p.Roles)), ents: ents}
		if err := s.seedInsert(o, native); err != nil {
			return nil, err
		}
		p.ID = o.idString()
		spRefs[declared] = o.id
		spRefs[p.Key()] = o.id
	}
	groups := make([]*object, len(out.Groups))
	for i := range out.Groups {
		g := &out.Groups[i]
		ents, err := ownEnts("group "+g.DisplayName, g.Entitlements)
		if err != nil {
			return nil, err
		}
		if id, ok := store.groupByName(native, g.Key()); ok && store.byID[id].builtin {
			o := store.byID[id]
			if ents != nil {
				o.ents = ents
			}
			o.roles = model.SortedSet(append(o.roles, g.Roles...))
			groups[i], g.ID = o, o.idString()
			continue
		}
		o := &object{kind: kindGroup, displayName: g.Key(), externalID: g.ExternalID,
			roles: model.SortedSet(slices.Clone(g.Roles)), ents: ents}
		if err := s.seedInsert(o, native); err != nil {
			return nil, err
		}
		groups[i], g.ID = o, o.idString()
	}
	ref := func(r model.Ref) (int64, error) {
		var id int64
		var ok bool
		switch r.Kind {
		case model.KindUser:
			id, ok = store.users[model.UserKey(r.Key)]
		case model.KindServicePrincipal:
			if id, ok = spRefs[r.Key]; !ok {
				id, ok = store.sps[model.ServicePrincipalKey(r.Key)]
			}
		case model.KindGroup:
			id, ok = store.groupByName(native, model.GroupKey(r.Key))
		}
		if !ok {
			return 0, fmt.Errorf("seed: unknown %s", r)
		}
		return id, nil
	}
	for i, g := range out.Groups {
		o := groups[i]
		members := make(map[int64]struct{}, len(o.members)+g.Members.Len())
		for id := range o.members {
			members[id] = struct{}{}
		}
		for _, r := range g.Members.Refs() {
			id, err := ref(r)
			if err != nil {
				return nil, fmt.Errorf("seed group %s: %w", g.DisplayName, err)
			}
			members[id] = struct{}{}
		}
		if err := store.setMembers(o, members, native); err != nil {
			return nil, fmt.Errorf("seed group %s: %s", g.DisplayName, err.detail)
		}
	}
	for _, w := range out.Workspaces {
		if !s.isWorkspace(w.ID) {
			return nil, fmt.Errorf("seed: workspace %s is not one of the emulator's workspaces %v", w.ID, s.opts.Workspaces)
		}
		if len(w.Assignments) > 0 && !store.accountLevel() {
			return nil, fmt.Errorf("seed workspace %s: assignments exist only at account level", w.ID)
		}
		for _, a := range w.Assignments {
			id, err := ref(a.Principal)
			if err != nil {
				return nil, fmt.Errorf("seed workspace %s: %w", w.ID, err)
			}
			perm := permission([]string{a.Permission})
			if perm == "" {
				return nil, fmt.Errorf("seed workspace %s: unknown permission %q for %s", w.ID, a.Permission, a.Principal)
			}
			store.setAssignment(w.ID, id, perm)
		}
		for _, pe := range w.Entitlements {
			id, err := ref(pe.Principal)
			if err != nil {
				return nil, fmt.Errorf("seed workspace %s: %w", w.ID, err)
			}
			ents := model.SortedSet(slices.Clone(pe.Entitlements))
			if err := checkEntitlements(ents); err != nil {
				return nil, fmt.Errorf("seed workspace %s: %s", w.ID, err.detail)
			}
			o := store.byID[id]
			if o.ents == nil {
				o.ents = make(map[string][]string)
			}
			o.ents[w.ID] = ents
		}
	}
	store.version++
	out.Normalize()
	return out, nil
}

func (s *Server) seedInsert(o *object, v view) error {
	if err := s.st.conflict(o, v); err != nil {
		return fmt.Errorf("seed %s %s: %s", o.kind.noun(), o.key(), err.detail)
	}
	if err := s.st.checkCapacity(o.kind); err != nil {
		return fmt.Errorf("seed %s %s: %s", o.kind.noun(), o.key(), err.detail)
	}
	s.st.insert(o)
	return nil
}

// State returns everything the emulator holds as a normalised model: users, service
// principals and groups (built-in ones included) with ids, members by key, and at account
// level each workspace's assignments and entitlements. At workspace level entitlements are
// on the objects. Workspace-local groups of account-level workspace views are not part of
// the model and are left out.
func (s *Server) State() *model.State { return s.state(false) }

// ManagedState is State without the built-in groups and the token owners the emulator
// creates by itself, and without references to them: what a test seeded or a client
// created.
func (s *Server) ManagedState() *model.State { return s.state(true) }

func (s *Server) state(managed bool) *model.State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	skip := func(o *object) bool {
		return o == nil || o.wsLocal != "" || (managed && (o.builtin || o.autoPrincipal))
	}
	var own string
	if !st.accountLevel() {
		own = s.opts.Workspaces[0]
	}
	out := &model.State{Users: []model.User{}, ServicePrincipals: []model.ServicePrincipal{}, Groups: []model.Group{}}
	for _, id := range st.ids[kindUser] {
		o := st.byID[id]
		if skip(o) {
			continue
		}
		out.Users = append(out.Users, model.User{ID: o.idString(), UserName: o.userName, DisplayName: o.displayName,
			GivenName: o.givenName, FamilyName: o.familyName, ExternalID: o.externalID, Active: o.active,
			Roles: slices.Clone(o.roles), Entitlements: slices.Clone(o.ents[own])})
	}
	for _, id := range st.ids[kindSP] {
		o := st.byID[id]
		if skip(o) {
			continue
		}
		out.ServicePrincipals = append(out.ServicePrincipals, model.ServicePrincipal{ID: o.idString(),
			ApplicationID: o.appID, DisplayName: o.displayName, ExternalID: o.externalID, Active: o.active,
			Roles: slices.Clone(o.roles), Entitlements: slices.Clone(o.ents[own])})
	}
	for _, id := range st.ids[kindGroup] {
		o := st.byID[id]
		if skip(o) {
			continue
		}
		g := model.Group{ID: o.idString(), DisplayName: o.displayName, ExternalID: o.externalID,
			Roles: slices.Clone(o.roles), Entitlements: slices.Clone(o.ents[own])}
		for mid := range o.members {
			if m := st.byID[mid]; !skip(m) {
				g.Members.Add(model.Ref{Kind: m.kind.model(), Key: m.key()})
			}
		}
		out.Groups = append(out.Groups, g)
	}
	if st.accountLevel() {
		for _, ws := range s.opts.Workspaces {
			w := model.Workspace{ID: ws}
			for id, perm := range st.assign[ws] {
				if o := st.byID[id]; !skip(o) {
					w.Assignments = append(w.Assignments, model.Assignment{
						Principal: model.Ref{Kind: o.kind.model(), Key: o.key()}, Permission: perm})
				}
			}
			for k := range st.ids {
				for _, id := range st.ids[k] {
					if o := st.byID[id]; !skip(o) && len(o.ents[ws]) > 0 {
						w.Entitlements = append(w.Entitlements, model.PrincipalEntitlements{
							Principal: model.Ref{Kind: o.kind.model(), Key: o.key()}, Entitlements: slices.Clone(o.ents[ws])})
					}
				}
			}
			out.Workspaces = append(out.Workspaces, w)
		}
	}
	out.Normalize()
	return out
}
