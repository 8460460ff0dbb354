package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/scimsync/scimsync/model"
)

// filterTerms is the most comparisons ReadObjects puts in one filter. Databricks refuses
// filters of more than 200 nodes with INVALID_FILTER (reference §3); 100 comparisons joined
// by 99 "or"s stay below that however the nodes are counted.
const filterTerms = 100

// ReadObjects reads the live users, service principals and groups that refs name, and no
// others, as Snapshot would return them (groups without their members), in a State whose
// objects carry their SCIM ids; an object that does not exist is left out. It looks
// objects up by key with filters joined by "or", filterTerms to a request (users by
// userName, service principals by applicationId or displayName, groups by displayName),
// and reads by id, one request each, the objects of ids whose key a filter did not find
// (a userName stored in another case where the server compares exactly). ids gives the
// SCIM id each ref had, where it had one.
func (c *Client) ReadObjects(ctx context.Context, refs []model.Ref, ids map[model.Ref]string) (*model.State, error) {
	ws := c.workspaceLevel()
	var byKind [3][]string
	for _, r := range refs {
		switch r.Kind {
		case model.KindUser:
			byKind[0] = append(byKind[0], r.Key)
		case model.KindServicePrincipal:
			byKind[1] = append(byKind[1], r.Key)
		case model.KindGroup:
			byKind[2] = append(byKind[2], r.Key)
		}
	}
	var (
		users  = make([][]User, batches(len(byKind[0])))
		sps    = make([][]ServicePrincipal, batches(2*len(byKind[1])))
		groups = make([][]Group, batches(len(byKind[2])))
	)
	groupAttrs := withEntitlements([]string{"id", "displayName", "externalId", "meta", "roles"}, ws)
	g, gctx := errgroup.WithContext(ctx)
	for i := range users {
		keys := batch(byKind[0], i)
		g.Go(func() (err error) {
			users[i], err = c.Users().List(gctx, ListOptions{Filter: anyOf(keys, "userName"), Attributes: withEntitlements(userAttributes, ws)})
			return err
		})
	}
	for i := range sps {
		keys := batchOf(byKind[1], i, filterTerms/2) // two comparisons per key
		g.Go(func() (err error) {
			sps[i], err = c.ServicePrincipals().List(gctx, ListOptions{Filter: anyOf(keys, "applicationId", "displayName"), Attributes: withEntitlements(spAttributes, ws)})
			return err
		})
	}
	for i := range groups {
		keys := batch(byKind[2], i)
		g.Go(func() (err error) {
			groups[i], err = c.Groups().List(gctx, ListOptions{Filter: anyOf(keys, "displayName"), Attributes: groupAttrs})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read live objects: %w", err)
	}
	st := &model.State{}
	found := map[model.Ref]bool{}
	want := map[model.Ref]bool{}
	for _, r := range refs {
		want[r] = true
	}
	add := func(r model.Ref) bool {
		if !want[r] || found[r] {
			return false
		}
		found[r] = true
		return true
	}
	addUser := func(w *User) {
		u := w.ToModel()
		if !ws {
			u.Entitlements = nil
		}
		if add(model.Ref{Kind: model.KindUser, Key: u.Key()}) {
			st.Users = append(st.Users, u)
		}
	}
	addSP := func(w *ServicePrincipal) {
		p := w.ToModel()
		if !ws {
			p.Entitlements = nil
		}
		if add(model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}) {
			st.ServicePrincipals = append(st.ServicePrincipals, p)
		}
	}
	addGroup := func(w *Group) {
		m := liveGroup(w, ws)
		m.Members = model.Members{}
		if add(model.Ref{Kind: model.KindGroup, Key: m.Key()}) {
			st.Groups = append(st.Groups, m)
		}
	}
	for _, page := range users {
		for i := range page {
			addUser(&page[i])
		}
	}
	for _, page := range sps {
		for i := range page {
			addSP(&page[i])
		}
	}
	for _, page := range groups {
		for i := range page {
			addGroup(&page[i])
		}
	}
	// Objects a filter missed but that had an id: read them by id.
	for _, r := range refs {
		id := ids[r]
		if found[r] || id == "" {
			continue
		}
		var err error
		switch r.Kind {
		case model.KindUser:
			var u *User
			if u, err = c.Users().Get(ctx, id, withEntitlements(userAttributes, ws)...); err == nil {
				addUser(u)
			}
		case model.KindServicePrincipal:
			var p *ServicePrincipal
			if p, err = c.ServicePrincipals().Get(ctx, id, withEntitlements(spAttributes, ws)...); err == nil {
				addSP(p)
			}
		case model.KindGroup:
			var grp *Group
			if grp, err = c.Groups().Get(ctx, id, groupAttrs...); err == nil {
				addGroup(grp)
			}
		}
		if err != nil && !IsNotFound(err) {
			return nil, fmt.Errorf("read live objects: %w", err)
		}
	}
	st.Normalize()
	return st, nil
}

func batches(n int) int { return (n + filterTerms - 1) / filterTerms }

func batch(keys []string, i int) []string { return batchOf(keys, i, filterTerms) }

func batchOf(keys []string, i, size int) []string {
	return keys[i*size : min(len(keys), (i+1)*size)]
}

// anyOf returns a filter that matches any of keys on any of attrs.
func anyOf(keys []string, attrs ...string) string {
	var terms []string
	for _, k := range keys {
		for _, a := range attrs {
			terms = append(terms, filterEq(a, k))
		}
	}
	return strings.Join(terms, " or ")
}

// CountObjects returns how many users, service principals and groups exist, in all, from
// the totalResults of one list request of each asking for one object's id.
func (c *Client) CountObjects(ctx context.Context) (int, error) {
	var n [3]int
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { n[0], err = countOf(gctx, c.Users()); return err })
	g.Go(func() (err error) { n[1], err = countOf(gctx, c.ServicePrincipals()); return err })
	g.Go(func() (err error) { n[2], err = countOf(gctx, c.Groups()); return err })
	if err := g.Wait(); err != nil {
		return 0, fmt.Errorf("count live objects: %w", err)
	}
	return n[0] + n[1] + n[2], nil
}

func countOf[T any](ctx context.Context, r *Resource[T]) (int, error) {
	q := url.Values{"count": {"1"}, "startIndex": {"1"}, "attributes": {"id"}}
	res, err := r.tree.send(ctx, http.MethodGet, r.Path(), q, nil, nil)
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", r.name, err)
	}
	total, resources, _, err := decodePage[T](res, r.name, 1)
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", r.name, err)
	}
	if total < len(resources) {
		return 0, fmt.Errorf("list %s: totalResults %d is less than the %d resources of the page", r.name, total, len(resources))
	}
	return total, nil
}
