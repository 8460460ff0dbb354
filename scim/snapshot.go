package scim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/scimsync/scimsync/model"
)

// Attributes requested by Snapshot. Lists ask only for what the model holds, and never for
// groups on users (large in big accounts) or emails. Group lists ask for members too:
// accounts created before 2025-08-22 still send them, newer ones leave them out, and then
// members are fetched per group.
var (
	userAttributes  = []string{"id", "userName", "displayName", "name", "externalId", "active", "roles"}
	spAttributes    = []string{"id", "applicationId", "displayName", "externalId", "active", "roles"}
	groupAttributes = []string{"id", "displayName", "externalId", "meta", "roles", "members"}
	entAttributes   = []string{"id", "entitlements"}
)

func withEntitlements(attrs []string, on bool) []string {
	if !on {
		return attrs
	}
	return append(attrs[:len(attrs):len(attrs)], "entitlements")
}

// listedGroup is a group as a list page sends it. Members is a pointer so that a page
// without the members key can be told from a page of groups without members.
type listedGroup struct {
	Group
	Members *[]ComplexValue `json:"members"`
}

// Snapshot reads the live state: every user, service principal and group (built-in groups
// included; the planner protects them), each with its SCIM id, and group members as model
// keys (users by userName, service principals by applicationId, groups by displayName). At
// workspace level users, principals and groups carry their entitlements, and both account
// and workspace-local groups are kept. At account level, each workspace given gets its
// permission assignments and the entitlements principals have there, read from the
// workspace's own SCIM tree. At workspace level workspaces is ignored.
//
// Independent reads run concurrently under the client's in-flight cap: the three lists, the
// per-workspace reads, and the per-group member reads that lists without members need. The
// state is normalised.
func (c *Client) Snapshot(ctx context.Context, workspaces []model.Workspace) (*model.State, error) {
	ws := c.workspaceLevel()
	var (
		users  []User
		sps    []ServicePrincipal
		groups []Group
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		users, err = c.Users().List(gctx, ListOptions{Attributes: withEntitlements(userAttributes, ws)})
		return err
	})
	g.Go(func() (err error) {
		sps, err = c.ServicePrincipals().List(gctx, ListOptions{Attributes: withEntitlements(spAttributes, ws)})
		return err
	})
	g.Go(func() (err error) {
		groups, err = c.listGroupsWithMembers(gctx, c.home, withEntitlements(groupAttributes, ws))
		return err
	})
	var wsReads []*workspaceRead
	if !ws {
		for _, w := range workspaces {
			r := &workspaceRead{ws: w}
			wsReads = append(wsReads, r)
			c.readWorkspace(gctx, g, r)
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read live state: %w", err)
	}

	st := &model.State{}
	ids := newIDMap()
	for i := range users {
		u := users[i].ToModel()
		if !ws {
			u.Entitlements = nil
		}
		st.Users = append(st.Users, u)
		ids.add(users[i].ID, model.Ref{Kind: model.KindUser, Key: u.Key()})
	}
	for i := range sps {
		p := sps[i].ToModel()
		if !ws {
			p.Entitlements = nil
		}
		st.ServicePrincipals = append(st.ServicePrincipals, p)
		ids.add(sps[i].ID, model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()})
	}
	for i := range groups {
		ids.add(groups[i].ID, model.Ref{Kind: model.KindGroup, Key: model.GroupKey(groups[i].DisplayName)})
	}
	unknown := 0
	for i := range groups {
		m := liveGroup(&groups[i], ws)
		for _, mem := range groups[i].Members {
			ref, ok := ids.ref(mem.Value, mem.Ref)
			if !ok {
				unknown++
				continue
			}
			m.Members.Add(ref)
		}
		st.Groups = append(st.Groups, m)
	}
	if unknown > 0 {
		c.log.DebugContext(ctx, "scim snapshot: group members not found among listed objects were left out", "count", unknown)
	}
	for _, r := range wsReads {
		st.Workspaces = append(st.Workspaces, r.toModel(ids))
	}
	st.Normalize()
	return st, nil
}

// readMembers reads the members of groups[i] for each i of idx from tree, concurrently
// under the client's in-flight cap. gone[i] reports a group deleted since it was listed.
func (c *Client) readMembers(ctx context.Context, tree *Tree, groups []Group, idx []int) (gone []bool, err error) {
	gone = make([]bool, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * cap(c.t.sem))
	res := tree.Groups()
	for _, i := range idx {
		g.Go(func() error {
			full, err := res.Get(gctx, groups[i].ID, "members")
			c.membersRead.Add(1)
			if IsNotFound(err) {
				gone[i] = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("read members of group %s: %w", groups[i].DisplayName, err)
			}
			groups[i].Members = full.Members
			return nil
		})
	}
	return gone, g.Wait()
}

// listGroupsWithMembers lists a tree's groups and fetches, per group, the members of
// groups on pages that came without a members key, concurrently. A group deleted between
// the list and its member read is left out.
func (c *Client) listGroupsWithMembers(ctx context.Context, tree *Tree, attrs []string) ([]Group, error) {
	res := &Resource[listedGroup]{tree: tree, name: "Groups", id: func(g *listedGroup) string { return g.ID }}
	var (
		out   []Group
		fetch []int // indexes into out of groups whose members must be read
	)
	err := listPages(ctx, res, ListOptions{Attributes: attrs}, func(page []listedGroup, _ []byte) error {
		withMembers := false
		for i := range page {
			if page[i].Members != nil {
				withMembers = true
				break
			}
		}
		for i := range page {
			grp := page[i].Group
			if page[i].Members != nil {
				grp.Members = *page[i].Members
			}
			if !withMembers {
				fetch = append(fetch, len(out))
			}
			out = append(out, grp)
		}
		c.listed.Add(int64(len(page)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(fetch) == 0 {
		return out, nil
	}
	c.membersToRead.Add(int64(len(fetch)))
	gone, err := c.readMembers(ctx, tree, out, fetch)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for i := range out {
		if !gone[i] {
			kept = append(kept, out[i])
		}
	}
	return kept, nil
}

// workspaceRead collects what Snapshot reads about one workspace at account level.
type workspaceRead struct {
	ws          model.Workspace
	assignments []PermissionAssignment

	mu           sync.Mutex
	entitlements map[string][]string // principal SCIM id → entitlements in the workspace
}

// readWorkspace starts the reads of one workspace on g: its permission assignments and the
// entitlements of users, service principals and groups in its SCIM tree.
func (c *Client) readWorkspace(ctx context.Context, g *errgroup.Group, r *workspaceRead) {
	r.entitlements = map[string][]string{}
	g.Go(func() (err error) {
		r.assignments, err = c.ListPermissionAssignments(ctx, r.ws.ID)
		return err
	})
	tree, err := c.WorkspaceTree(r.ws)
	if err != nil {
		g.Go(func() error { return err })
		return
	}
	record := func(id string, ents []ComplexValue) {
		if len(ents) == 0 {
			return
		}
		r.mu.Lock()
		r.entitlements[id] = strs(ents)
		r.mu.Unlock()
	}
	opts := ListOptions{Attributes: entAttributes}
	g.Go(func() error {
		list, err := tree.Users().List(ctx, opts)
		for i := range list {
			record(list[i].ID, list[i].Entitlements)
		}
		return wrapWorkspace(r.ws.ID, err)
	})
	g.Go(func() error {
		list, err := tree.ServicePrincipals().List(ctx, opts)
		for i := range list {
			record(list[i].ID, list[i].Entitlements)
		}
		return wrapWorkspace(r.ws.ID, err)
	})
	g.Go(func() error {
		list, err := tree.Groups().List(ctx, opts)
		for i := range list {
			record(list[i].ID, list[i].Entitlements)
		}
		return wrapWorkspace(r.ws.ID, err)
	})
}

func wrapWorkspace(id string, err error) error {
	if err != nil {
		return fmt.Errorf("read entitlements in workspace %s: %w", id, err)
	}
	return nil
}

// toModel converts the reads of one workspace into the model. Assignments and entitlements
// of principals the account lists do not know (workspace-local ones) are left out.
func (r *workspaceRead) toModel(ids *idMap) model.Workspace {
	w := model.Workspace{ID: r.ws.ID, Host: r.ws.Host}
	for _, a := range r.assignments {
		if a.Error != "" {
			continue
		}
		ref, ok := ids.ref(strconv.FormatInt(a.Principal.PrincipalID, 10), "")
		if !ok {
			ref, ok = principalByName(a.Principal)
		}
		perm := permissionOf(a.Permissions)
		if !ok || perm == "" {
			continue
		}
		w.Assignments = append(w.Assignments, model.Assignment{Principal: ref, Permission: perm})
	}
	for id, ents := range r.entitlements {
		if ref, ok := ids.ref(id, ""); ok {
			w.Entitlements = append(w.Entitlements, model.PrincipalEntitlements{Principal: ref, Entitlements: ents})
		}
	}
	return w
}

// permissionOf reduces a permission list to ADMIN or USER (ADMIN wins, as in Databricks),
// or "" when it has neither.
func permissionOf(perms []string) string {
	level := ""
	for _, p := range perms {
		switch p {
		case model.PermissionAdmin:
			return model.PermissionAdmin
		case model.PermissionUser:
			level = model.PermissionUser
		}
	}
	return level
}

// principalByName names an assigned principal the id maps do not know, by the name the
// assignment carries.
func principalByName(p PrincipalOutput) (model.Ref, bool) {
	switch {
	case p.UserName != "":
		return model.Ref{Kind: model.KindUser, Key: model.UserKey(p.UserName)}, true
	case p.ServicePrincipalName != "":
		return model.Ref{Kind: model.KindServicePrincipal, Key: model.ServicePrincipalKey(p.ServicePrincipalName)}, true
	case p.GroupName != "":
		return model.Ref{Kind: model.KindGroup, Key: model.GroupKey(p.GroupName)}, true
	}
	return model.Ref{}, false
}

// idMap turns SCIM ids into model references.
type idMap struct {
	byKind map[model.Kind]map[string]model.Ref
}

func newIDMap() *idMap {
	return &idMap{byKind: map[model.Kind]map[string]model.Ref{
		model.KindUser: {}, model.KindServicePrincipal: {}, model.KindGroup: {},
	}}
}

func (m *idMap) add(id string, ref model.Ref) {
	if id != "" {
		m.byKind[ref.Kind][id] = ref
	}
}

// ref finds the object with a SCIM id. A member's $ref ("Users/1", "Groups/2",
// "ServicePrincipals/3") says which kind to look in first; ids are unique across kinds
// in Databricks, so the other kinds are tried too.
func (m *idMap) ref(id, hint string) (model.Ref, bool) {
	order := []model.Kind{model.KindUser, model.KindServicePrincipal, model.KindGroup}
	switch {
	case strings.HasPrefix(hint, "Groups/"):
		order = []model.Kind{model.KindGroup, model.KindUser, model.KindServicePrincipal}
	case strings.HasPrefix(hint, "ServicePrincipals/"):
		order = []model.Kind{model.KindServicePrincipal, model.KindUser, model.KindGroup}
	}
	for _, k := range order {
		if r, ok := m.byKind[k][id]; ok {
			return r, true
		}
	}
	return model.Ref{}, false
}

// liveGroup converts a group as a list returns it: without entitlements outside a
// workspace, and marked AccountManaged when a workspace lists an account group. A
// workspace's list mixes account groups ("Group") with its own ("WorkspaceGroup") on an
// identity-federated workspace (reference §2.4).
func liveGroup(g *Group, ws bool) model.Group {
	m := g.ToModel()
	if !ws {
		m.Entitlements = nil
	}
	if ws && g.Meta != nil && g.Meta.ResourceType == "Group" {
		m.AccountManaged = true
	}
	return m
}
