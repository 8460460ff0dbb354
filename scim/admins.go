package scim

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/scimsync/scimsync/model"
)

// ReadAccountAdmins reads what it takes to count an account's admins, at a fraction of a
// Snapshot: every user and service principal with its roles and active flag, every group
// with its roles, and the members of the groups that hold account_admin, nested groups
// among them included. Other groups, and a group deleted before its members were read,
// come without members. Apply uses it to run the admin
// guard again on a saved plan without reading every group's members.
func (c *Client) ReadAccountAdmins(ctx context.Context) (*model.State, error) {
	if c.workspaceLevel() {
		return nil, fmt.Errorf("read account admins: the target is a workspace")
	}
	var (
		users  []User
		sps    []ServicePrincipal
		groups []Group
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		users, err = c.Users().List(gctx, ListOptions{Attributes: userAttributes})
		return err
	})
	g.Go(func() (err error) {
		sps, err = c.ServicePrincipals().List(gctx, ListOptions{Attributes: spAttributes})
		return err
	})
	g.Go(func() (err error) {
		groups, err = c.Groups().List(gctx, ListOptions{Attributes: []string{"id", "displayName", "externalId", "meta", "roles"}})
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read account admins: %w", err)
	}
	st := &model.State{}
	ids := newIDMap()
	for i := range users {
		u := users[i].ToModel()
		st.Users = append(st.Users, u)
		ids.add(users[i].ID, model.Ref{Kind: model.KindUser, Key: u.Key()})
	}
	for i := range sps {
		p := sps[i].ToModel()
		st.ServicePrincipals = append(st.ServicePrincipals, p)
		ids.add(sps[i].ID, model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()})
	}
	byID := map[string]int{}
	for i := range groups {
		groups[i].Members = nil
		byID[groups[i].ID] = i
		ids.add(groups[i].ID, model.Ref{Kind: model.KindGroup, Key: model.GroupKey(groups[i].DisplayName)})
	}
	// Walk down from the groups that hold account_admin, one wave of member reads at a time.
	var wave []int
	seen := map[int]bool{}
	for i := range groups {
		if slices.ContainsFunc(groups[i].Roles, func(r ComplexValue) bool { return r.Value == model.RoleAccountAdmin }) {
			wave = append(wave, i)
			seen[i] = true
		}
	}
	for len(wave) > 0 {
		if _, err := c.readMembers(ctx, c.home, groups, wave); err != nil {
			return nil, fmt.Errorf("read account admins: %w", err)
		}
		var next []int
		for _, i := range wave {
			for _, m := range groups[i].Members {
				if j, ok := byID[m.Value]; ok && !seen[j] {
					if ref, ok := ids.ref(m.Value, m.Ref); ok && ref.Kind == model.KindGroup {
						seen[j] = true
						next = append(next, j)
					}
				}
			}
		}
		wave = next
	}
	for i := range groups {
		m := liveGroup(&groups[i], false)
		for _, mem := range groups[i].Members {
			if ref, ok := ids.ref(mem.Value, mem.Ref); ok {
				m.Members.Add(ref)
			}
		}
		st.Groups = append(st.Groups, m)
	}
	st.Normalize()
	return st, nil
}
