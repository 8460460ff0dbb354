package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/scimsync/scimsync/model"
)

// fakeTarget is an in-memory Target: a hand-written test double that keeps objects by id
// and records every write call.
type fakeTarget struct {
	mu     sync.Mutex
	next   int
	level  model.Level
	users  map[string]*model.User
	sps    map[string]*model.ServicePrincipal
	groups map[string]*model.Group // Members hold member ids, not keys
	kinds  map[string]model.Kind
	assign map[string]map[string]string   // workspace → principal id → permission
	ents   map[string]map[string][]string // workspace → principal id → entitlements
	calls  []string
	// fail makes calls whose description has this prefix fail.
	fail map[string]error
}

func newFake(level model.Level) *fakeTarget {
	return &fakeTarget{next: 1000, level: level, users: map[string]*model.User{}, sps: map[string]*model.ServicePrincipal{},
		groups: map[string]*model.Group{}, kinds: map[string]model.Kind{}, assign: map[string]map[string]string{},
		ents: map[string]map[string][]string{}, fail: map[string]error{}}
}

// seed loads a state given by keys; members are resolved to ids.
func (f *fakeTarget) seed(s *model.State) {
	ix := model.NewIndex(s)
	_ = ix
	keyID := map[model.Ref]string{}
	for _, u := range s.Users {
		u := u
		u.ID = f.newID(model.KindUser)
		f.users[u.ID] = &u
		keyID[model.Ref{Kind: model.KindUser, Key: u.Key()}] = u.ID
	}
	for _, p := range s.ServicePrincipals {
		p := p
		p.ID = f.newID(model.KindServicePrincipal)
		f.sps[p.ID] = &p
		keyID[model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}] = p.ID
	}
	for _, g := range s.Groups {
		g := g
		g.ID = f.newID(model.KindGroup)
		f.groups[g.ID] = &g
		keyID[model.Ref{Kind: model.KindGroup, Key: g.Key()}] = g.ID
	}
	for _, g := range f.groups {
		var ids model.Members
		for _, r := range g.Members.Refs() {
			ids.Add(model.Ref{Kind: r.Kind, Key: keyID[r]})
		}
		g.Members = ids
	}
	for _, w := range s.Workspaces {
		for _, a := range w.Assignments {
			f.setPerm(w.ID, keyID[a.Principal], a.Permission)
		}
		for _, e := range w.Entitlements {
			if f.ents[w.ID] == nil {
				f.ents[w.ID] = map[string][]string{}
			}
			f.ents[w.ID][keyID[e.Principal]] = e.Entitlements
		}
	}
}

func (f *fakeTarget) newID(k model.Kind) string {
	f.next++
	id := strconv.Itoa(f.next)
	f.kinds[id] = k
	return id
}

func (f *fakeTarget) setPerm(ws, id, perm string) {
	if f.assign[ws] == nil {
		f.assign[ws] = map[string]string{}
	}
	if perm == "" {
		delete(f.assign[ws], id)
		return
	}
	f.assign[ws][id] = perm
}

func (f *fakeTarget) call(format string, args ...any) error {
	c := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, c)
	for prefix, err := range f.fail {
		if len(c) >= len(prefix) && c[:len(prefix)] == prefix {
			return err
		}
	}
	return nil
}

func (f *fakeTarget) ref(id string) (model.Ref, bool) {
	switch f.kinds[id] {
	case model.KindUser:
		if u := f.users[id]; u != nil {
			return model.Ref{Kind: model.KindUser, Key: u.Key()}, true
		}
	case model.KindServicePrincipal:
		if p := f.sps[id]; p != nil {
			return model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}, true
		}
	case model.KindGroup:
		if g := f.groups[id]; g != nil {
			return model.Ref{Kind: model.KindGroup, Key: g.Key()}, true
		}
	}
	return model.Ref{}, false
}

func clone[T any](v *T) T {
	b, _ := json.Marshal(v)
	var out T
	_ = json.Unmarshal(b, &out)
	return out
}

func (f *fakeTarget) Snapshot(ctx context.Context, workspaces []model.Workspace) (*model.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &model.State{}
	for _, u := range f.users {
		s.Users = append(s.Users, clone(u))
	}
	for _, p := range f.sps {
		s.ServicePrincipals = append(s.ServicePrincipals, clone(p))
	}
	for _, g := range f.groups {
		c := clone(g)
		var m model.Members
		for _, r := range g.Members.Refs() {
			if ref, ok := f.ref(r.Key); ok {
				m.Add(ref)
			}
		}
		c.Members = m
		s.Groups = append(s.Groups, c)
	}
	for _, w := range workspaces {
		lw := model.Workspace{ID: w.ID}
		for id, perm := range f.assign[w.ID] {
			if ref, ok := f.ref(id); ok {
				lw.Assignments = append(lw.Assignments, model.Assignment{Principal: ref, Permission: perm})
			}
		}
		for id, ents := range f.ents[w.ID] {
			if ref, ok := f.ref(id); ok && len(ents) > 0 {
				lw.Entitlements = append(lw.Entitlements, model.PrincipalEntitlements{Principal: ref, Entitlements: slices.Clone(ents)})
			}
		}
		s.Workspaces = append(s.Workspaces, lw)
	}
	s.Normalize()
	return s, nil
}

func (f *fakeTarget) CreateUser(ctx context.Context, u *model.User) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create user %s", u.Key()); err != nil {
		return "", err
	}
	c := clone(u)
	c.UserName = u.Key()
	c.ID = f.newID(model.KindUser)
	f.users[c.ID] = &c
	return c.ID, nil
}

func (f *fakeTarget) CreateServicePrincipal(ctx context.Context, sp *model.ServicePrincipal) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create servicePrincipal %s", sp.Key()); err != nil {
		return "", "", err
	}
	c := clone(sp)
	c.ID = f.newID(model.KindServicePrincipal)
	if c.ApplicationID == "" {
		c.ApplicationID = fmt.Sprintf("00000000-0000-4000-8000-%012s", c.ID)
	}
	f.sps[c.ID] = &c
	return c.ID, c.ApplicationID, nil
}

func (f *fakeTarget) CreateGroup(ctx context.Context, g *model.Group) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create group %s", g.Key()); err != nil {
		return "", err
	}
	c := clone(g)
	c.Members = model.Members{}
	c.ID = f.newID(model.KindGroup)
	f.groups[c.ID] = &c
	return c.ID, nil
}

func (f *fakeTarget) UpdateUser(ctx context.Context, id string, from, to *model.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("update user %s", id); err != nil {
		return err
	}
	u := f.users[id]
	if u == nil {
		return fmt.Errorf("user %s not found", id)
	}
	c := clone(to)
	c.ID, c.UserName = id, u.UserName
	f.users[id] = &c
	return nil
}

func (f *fakeTarget) UpdateServicePrincipal(ctx context.Context, id string, from, to *model.ServicePrincipal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("update servicePrincipal %s", id); err != nil {
		return err
	}
	p := f.sps[id]
	if p == nil {
		return fmt.Errorf("service principal %s not found", id)
	}
	c := clone(to)
	c.ID, c.ApplicationID = id, p.ApplicationID
	f.sps[id] = &c
	return nil
}

func (f *fakeTarget) UpdateGroup(ctx context.Context, id string, from, to *model.Group) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("update group %s", id); err != nil {
		return err
	}
	g := f.groups[id]
	if g == nil {
		return fmt.Errorf("group %s not found", id)
	}
	g.DisplayName, g.ExternalID, g.Roles, g.Entitlements = to.DisplayName, to.ExternalID, slices.Clone(to.Roles), slices.Clone(to.Entitlements)
	return nil
}

func (f *fakeTarget) PatchMembers(ctx context.Context, groupID string, add, remove []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("patch members %s +%d -%d", groupID, len(add), len(remove)); err != nil {
		return err
	}
	g := f.groups[groupID]
	if g == nil {
		return fmt.Errorf("group %s not found", groupID)
	}
	members := map[string]model.Kind{}
	for _, r := range g.Members.Refs() {
		members[r.Key] = r.Kind
	}
	for _, id := range add {
		if f.kinds[id] == "" {
			return fmt.Errorf("member %s not found", id)
		}
		members[id] = f.kinds[id]
	}
	for _, id := range remove {
		delete(members, id)
	}
	var m model.Members
	for id, k := range members {
		m.Add(model.Ref{Kind: k, Key: id})
	}
	g.Members = m
	return nil
}

func (f *fakeTarget) Delete(ctx context.Context, kind model.Kind, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("delete %s %s", kind, id); err != nil {
		return err
	}
	delete(f.users, id)
	delete(f.sps, id)
	delete(f.groups, id)
	for _, g := range f.groups {
		var m model.Members
		for _, r := range g.Members.Refs() {
			if r.Key != id {
				m.Add(r)
			}
		}
		g.Members = m
	}
	for _, a := range f.assign {
		delete(a, id)
	}
	return nil
}

func (f *fakeTarget) SetWorkspacePermission(ctx context.Context, ws, id, perm string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("assign %s %s %s", ws, id, perm); err != nil {
		return err
	}
	f.setPerm(ws, id, perm)
	if perm == "" {
		// Like Databricks, a principal that leaves a workspace leaves its entitlements there.
		delete(f.ents[ws], id)
	}
	return nil
}

func (f *fakeTarget) PatchWorkspaceEntitlements(ctx context.Context, ws model.Workspace, kind model.Kind, id string, add, remove []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("entitlements %s %s +%v -%v", ws.ID, id, add, remove); err != nil {
		return err
	}
	if f.ents[ws.ID] == nil {
		f.ents[ws.ID] = map[string][]string{}
	}
	cur := f.ents[ws.ID][id]
	cur = slices.DeleteFunc(cur, func(e string) bool { return slices.Contains(remove, e) })
	cur = append(cur, add...)
	f.ents[ws.ID][id] = model.SortedSet(cur)
	return nil
}

var _ Target = (*fakeTarget)(nil)
