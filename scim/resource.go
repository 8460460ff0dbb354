package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Resource is one SCIM resource type (Users, Groups or ServicePrincipals) in one tree. T is
// the wire type: User, Group or ServicePrincipal.
type Resource[T any] struct {
	tree *Tree
	name string
	id   func(*T) string
	// lookup returns the filter that finds the object a create of v would make.
	lookup func(v *T) string
}

// ListOptions narrow a list request. Attributes and ExcludedAttributes keep pages small.
type ListOptions struct {
	Filter             string
	Attributes         []string
	ExcludedAttributes []string
	// Count is the page size; 0 means the client's PageSize. It never caps the total.
	Count int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Filter != "" {
		q.Set("filter", o.Filter)
	}
	if len(o.Attributes) > 0 {
		q.Set("attributes", strings.Join(o.Attributes, ","))
	}
	if len(o.ExcludedAttributes) > 0 {
		q.Set("excludedAttributes", strings.Join(o.ExcludedAttributes, ","))
	}
	return q
}

// Path returns the resource's path relative to its tree, such as "/Users".
func (r *Resource[T]) Path() string { return "/" + r.name }

func (r *Resource[T]) itemPath(id string) string { return "/" + r.name + "/" + url.PathEscape(id) }

// List reads every page of the resource: startIndex=1 and count=page size, then the next
// startIndex is the startIndex the server echoed plus the number of resources it sent,
// until a page comes back empty. Objects seen on an earlier page (overlapping pages) are
// dropped by id. A page that would not move startIndex forward ends the list when every
// object the server counts (totalResults) was read, and is an error otherwise, so that a
// server ignoring startIndex cannot loop the client.
func (r *Resource[T]) List(ctx context.Context, opts ListOptions) ([]T, error) {
	var out []T
	err := listPages(ctx, r, opts, func(page []T, _ []byte) error {
		out = append(out, page...)
		r.tree.c.listed.Add(int64(len(page)))
		return nil
	})
	return out, err
}

// listPages pages through a list as List does and hands each page, without objects already
// seen, to fn together with the raw page body.
func listPages[T any](ctx context.Context, r *Resource[T], opts ListOptions, fn func(page []T, raw []byte) error) error {
	count := opts.Count
	if count <= 0 {
		count = r.tree.c.pageSize
	}
	q := opts.query()
	q.Set("count", strconv.Itoa(count))
	seen := map[string]bool{}
	start := 1
	for {
		q.Set("startIndex", strconv.Itoa(start))
		res, err := r.tree.send(ctx, http.MethodGet, r.Path(), q, nil, nil)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.name, err)
		}
		var page ListResponse[T]
		if err := decode(res, http.MethodGet, r.Path(), &page); err != nil {
			return fmt.Errorf("list %s: %w", r.name, err)
		}
		if len(page.Resources) == 0 {
			return nil
		}
		echoed := page.StartIndex
		if echoed <= 0 {
			echoed = start // the server did not echo startIndex; assume it honoured ours
		}
		fresh := page.Resources[:0]
		for i := range page.Resources {
			id := r.id(&page.Resources[i])
			if id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			fresh = append(fresh, page.Resources[i])
		}
		if err := fn(fresh, res.body); err != nil {
			return err
		}
		next := echoed + len(page.Resources)
		if next <= start {
			if len(seen) >= page.TotalResults {
				// An overlapping last page: everything the server has was read.
				return nil
			}
			return fmt.Errorf("list %s: the server answered startIndex=%d with startIndex=%d and %d resources; paging cannot advance", r.name, start, page.StartIndex, len(page.Resources))
		}
		start = next
	}
}

// find returns the objects that match a filter on a unique attribute, from a single
// request: such a filter matches at most one object, so there is no second page to read.
func (r *Resource[T]) find(ctx context.Context, filter string) ([]T, error) {
	q := url.Values{"filter": {filter}, "startIndex": {"1"}, "count": {strconv.Itoa(r.tree.c.pageSize)}}
	var page ListResponse[T]
	if err := r.tree.json(ctx, http.MethodGet, r.Path(), q, nil, &page, nil); err != nil {
		return nil, fmt.Errorf("look up %s with %s: %w", r.name, filter, err)
	}
	return page.Resources, nil
}

// Get reads one object. attributes, if given, limit what the server returns.
func (r *Resource[T]) Get(ctx context.Context, id string, attributes ...string) (*T, error) {
	var q url.Values
	if len(attributes) > 0 {
		q = url.Values{"attributes": {strings.Join(attributes, ",")}}
	}
	var v T
	if err := r.tree.json(ctx, http.MethodGet, r.itemPath(id), q, nil, &v, nil); err != nil {
		return nil, err
	}
	return &v, nil
}

// Create creates an object and returns it as the server sent it back. A create whose
// outcome is unknown (the connection dropped after the request was sent, or a 502/504) is
// never sent again blindly: the object is looked up by userName, displayName or
// applicationId first, and if it exists it is returned instead.
func (r *Resource[T]) Create(ctx context.Context, v *T) (*T, error) {
	var found *T
	var lookup func(context.Context) (string, bool, error)
	if filter := r.lookup(v); filter != "" {
		lookup = func(ctx context.Context) (string, bool, error) {
			list, err := r.find(ctx, filter)
			if err != nil {
				return "", false, err
			}
			switch len(list) {
			case 0:
				return "", false, nil
			case 1:
				found = &list[0]
				return r.id(found), true, nil
			}
			return "", false, fmt.Errorf("%d objects match %s", len(list), filter)
		}
	}
	res, err := r.tree.send(ctx, http.MethodPost, r.Path(), nil, v, lookup)
	if err != nil {
		return nil, err
	}
	if res.existingID != "" && found != nil {
		return found, nil
	}
	var out T
	if err := decode(res, http.MethodPost, r.Path(), &out); err != nil {
		return nil, err
	}
	if r.id(&out) == "" {
		// The server sent no id back: find the object we just made.
		if lookup == nil {
			return nil, fmt.Errorf("POST %s: the response has no id", r.Path())
		}
		_, ok, err := lookup(ctx)
		if err != nil {
			return nil, fmt.Errorf("POST %s: the response has no id: %w", r.Path(), err)
		}
		if !ok {
			return nil, fmt.Errorf("POST %s: the response has no id and the object is not there", r.Path())
		}
		return found, nil
	}
	return &out, nil
}

// Patch applies PATCH operations to one object. No operations means no request.
func (r *Resource[T]) Patch(ctx context.Context, id string, ops []Operation) error {
	if len(ops) == 0 {
		return nil
	}
	body := PatchOp{Schemas: []string{SchemaPatchOp}, Operations: ops}
	_, err := r.tree.send(ctx, http.MethodPatch, r.itemPath(id), nil, body, nil)
	return err
}

// Put replaces one object. Multi-valued attributes left out are cleared by the server.
func (r *Resource[T]) Put(ctx context.Context, id string, v *T) error {
	_, err := r.tree.send(ctx, http.MethodPut, r.itemPath(id), nil, v, nil)
	return err
}

// Delete deletes one object.
func (r *Resource[T]) Delete(ctx context.Context, id string) error {
	_, err := r.tree.send(ctx, http.MethodDelete, r.itemPath(id), nil, nil, nil)
	return err
}
