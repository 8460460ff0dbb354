package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
)

// Resource is one SCIM resource type (Users, Groups or ServicePrincipals) in one tree. T is
// the wire type: User, Group or ServicePrincipal.
type Resource[T any] struct {
	tree *Tree
	name string
	id   func(*T) string
	// lookup returns the filter that finds the object a create of v would make.
	lookup func(v *T) string
	// mine, when set, narrows what lookup finds to the objects a create of v made, when
	// the filter alone cannot tell them from look-alikes.
	mine func(v, found *T) bool
	// weakKey, when set, reports creates whose lookup key the server does not keep
	// unique: a create made twice makes two objects instead of a 409.
	weakKey func(v *T) bool
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

// listCapFactor times the account's identity limit (reference §6: 10,000 users plus
// service principals, 5,000 groups) is the default cap on the objects one list may return.
// The limits can be raised on request, so the cap leaves room for that, and it still stops
// a server that keeps sending fresh pages long before the client runs out of memory.
const listCapFactor = 20

// listCap returns the most objects a list of the resource may return.
func (r *Resource[T]) listCap() int {
	if n := r.tree.c.maxListObjects; n > 0 {
		return n
	}
	if r.name == "Groups" {
		return listCapFactor * model.MaxGroups
	}
	return listCapFactor * model.MaxPrincipals
}

// listPage is one page as it came on the wire. The pointers tell a missing key from a zero
// value, so that a body that is not a ListResponse is never read as an empty list.
type listPage[T any] struct {
	TotalResults *int `json:"totalResults"`
	StartIndex   int  `json:"startIndex"`
	Resources    *[]T `json:"Resources"`
}

// decodePage decodes one list page and checks that it is a ListResponse (RFC 7644 §3.4.2:
// totalResults is required, Resources may be left out only when there are no results) whose
// counts agree with each other.
func decodePage[T any](res *response, name string, start int) (total int, resources []T, echoed int, err error) {
	if len(bytes.TrimSpace(res.body)) == 0 {
		return 0, nil, 0, fmt.Errorf("the response to startIndex=%d has an empty body, not a ListResponse", start)
	}
	var p listPage[T]
	if err := json.Unmarshal(res.body, &p); err != nil {
		return 0, nil, 0, fmt.Errorf("the response to startIndex=%d is not a ListResponse: %w", start, err)
	}
	switch {
	case p.TotalResults == nil:
		return 0, nil, 0, fmt.Errorf("the response to startIndex=%d is not a ListResponse: it has no totalResults", start)
	case *p.TotalResults < 0:
		return 0, nil, 0, fmt.Errorf("the response to startIndex=%d has a negative totalResults (%d)", start, *p.TotalResults)
	case p.Resources == nil && *p.TotalResults > 0 && start == 1:
		return 0, nil, 0, fmt.Errorf("the response to startIndex=1 counts %d %s but has no Resources", *p.TotalResults, name)
	}
	if p.Resources != nil {
		resources = *p.Resources
	}
	if len(resources) > *p.TotalResults {
		return 0, nil, 0, fmt.Errorf("the response to startIndex=%d has %d %s but counts only %d in totalResults", start, len(resources), name, *p.TotalResults)
	}
	return *p.TotalResults, resources, p.StartIndex, nil
}

// listPages pages through a list as List does and hands each page, without objects already
// seen, to fn together with the raw page body.
//
// A real server's pages may overlap (Databricks' Go SDK de-duplicates its older list APIs by
// id, reference §3), and a broken one may repeat a page forever or send fresh pages without
// end. So the loop ends, besides on an empty page: as soon as the ids read reach the
// totalResults of the last page (no empty page is fetched then); with an error when a page
// adds no id not seen before, or when an empty page comes before totalResults ids were
// read (a list that is cut short is never taken for a complete one); and with an error at
// the object cap (listCap), which also caps the pages, since each page adds an id.
func listPages[T any](ctx context.Context, r *Resource[T], opts ListOptions, fn func(page []T, raw []byte) error) error {
	count := opts.Count
	if count <= 0 {
		count = r.tree.c.pageSize
	}
	q := opts.query()
	q.Set("count", strconv.Itoa(count))
	limit := r.listCap()
	seen := map[string]bool{}
	start := 1
	for pages := 1; ; pages++ {
		q.Set("startIndex", strconv.Itoa(start))
		res, err := r.tree.send(ctx, http.MethodGet, r.Path(), q, nil, nil)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.name, err)
		}
		total, resources, echoed, err := decodePage[T](res, r.name, start)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.name, err)
		}
		if len(resources) == 0 {
			if len(seen) < total {
				return fmt.Errorf("list %s: the server counts %d %s in totalResults but the page at startIndex=%d is empty after %d; the list is incomplete", r.name, total, r.name, start, len(seen))
			}
			return nil
		}
		if echoed <= 0 {
			echoed = start // the server did not echo startIndex; assume it honoured ours
		}
		fresh := resources[:0]
		for i := range resources {
			id := r.id(&resources[i])
			if id == "" {
				return fmt.Errorf("list %s: an object on the page at startIndex=%d has no id", r.name, start)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh = append(fresh, resources[i])
		}
		if len(seen) > limit {
			return fmt.Errorf("list %s: the server sent more than %d %s (%d pages), %d times the account limit; stopped reading (raise the cap if the account's limit was raised)", r.name, limit, r.name, pages, listCapFactor)
		}
		if len(seen) > total {
			return fmt.Errorf("list %s: the server sent %d different %s but counts %d in totalResults; its counts are inconsistent", r.name, len(seen), r.name, total)
		}
		if len(fresh) == 0 {
			return fmt.Errorf("list %s: the page at startIndex=%d repeats %d %s already read and adds none, with %d of %d read; the server's paging does not advance", r.name, start, len(resources), r.name, len(seen), total)
		}
		if err := fn(fresh, res.body); err != nil {
			return err
		}
		if len(seen) >= total {
			return nil // totalResults says the list is complete: skip the empty last page
		}
		next := echoed + len(resources)
		if next <= start {
			return fmt.Errorf("list %s: the server answered startIndex=%d with startIndex=%d and %d resources; paging cannot advance", r.name, start, echoed, len(resources))
		}
		start = next
	}
}

// find returns the objects that match a filter on a unique attribute, from a single
// request: such a filter matches at most one object, so there is no second page to read.
func (r *Resource[T]) find(ctx context.Context, filter string) ([]T, error) {
	q := url.Values{"filter": {filter}, "startIndex": {"1"}, "count": {strconv.Itoa(r.tree.c.pageSize)}}
	res, err := r.tree.send(ctx, http.MethodGet, r.Path(), q, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("look up %s with %s: %w", r.name, filter, err)
	}
	total, found, _, err := decodePage[T](res, r.name, 1)
	if err == nil && len(found) < total {
		err = fmt.Errorf("the server counts %d %s in totalResults but sent %d", total, r.name, len(found))
	}
	for i := range found {
		if err == nil && r.id(&found[i]) == "" {
			err = fmt.Errorf("an object the server sent has no id")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s with %s: %w", r.name, filter, err)
	}
	return found, nil
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
// outcome is unknown (the connection dropped after the request was sent, or a 502, 503 or
// 504) is never sent again blindly: the object is looked up by userName, displayName or
// applicationId first, and if it exists it is returned instead. A 409 at the first attempt
// is returned as the error it is; see createOrAdopt.
func (r *Resource[T]) Create(ctx context.Context, v *T) (*T, error) {
	out, _, err := r.create(ctx, v, false)
	return out, err
}

// weakKeyWait caps how long a weak-key lookup waits for the object to show.
const weakKeyWait = 3 * time.Second

// errNotShown ends the wait of a weak-key lookup that found nothing.
var errNotShown = errors.New("not found")

// createOrAdopt is Create for apply: a 409 at any attempt means the object was made
// already (by an earlier apply whose object did not yet show in the plan's read, or by
// someone else at the same time), and the object with the same key is looked up, waiting
// for it to show (transport.adopt), and returned with adopted set.
func (r *Resource[T]) createOrAdopt(ctx context.Context, v *T) (*T, bool, error) {
	return r.create(ctx, v, true)
}

func (r *Resource[T]) create(ctx context.Context, v *T, adopt bool) (*T, bool, error) {
	var found *T
	var lookup func(context.Context) (string, bool, error)
	if filter := r.lookup(v); filter != "" {
		lookup = func(ctx context.Context) (string, bool, error) {
			list, err := r.find(ctx, filter)
			if err != nil {
				return "", false, err
			}
			if r.mine != nil {
				list = slices.DeleteFunc(list, func(f T) bool { return !r.mine(v, &f) })
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
	if lookup != nil && r.weakKey != nil && r.weakKey(v) {
		// A retry after an unknown outcome would not meet a 409 but make a duplicate,
		// so before one the lookup waits for an object that is slow to show in lists
		// (reference §6) as long as a 409 would (transport.adopt).
		// The wait is shorter than a 409's, since it is also paid by every create that
		// was refused without being made; a service whose lists lag longer can still
		// end with two principals of one name.
		once := lookup
		lookup = func(ctx context.Context) (string, bool, error) {
			id, err := r.tree.c.t.waitFor(ctx, once, errNotShown, min(r.tree.c.t.adoptWait, weakKeyWait))
			if errors.Is(err, errNotShown) {
				return "", false, nil
			}
			return id, err == nil, err
		}
	}
	res, err := r.tree.send(ctx, http.MethodPost, r.Path(), nil, v, lookup)
	if err != nil && adopt && lookup != nil && IsConflict(err) {
		t := r.tree.c.t
		if _, aerr := t.adopt(ctx, lookup, err); aerr != nil {
			return nil, false, aerr
		}
		t.stats.createsAdopted.Add(1)
		return found, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if res.existingID != "" && found != nil {
		return found, false, nil
	}
	var out T
	if err := decode(res, http.MethodPost, r.Path(), &out); err != nil {
		return nil, false, err
	}
	if r.id(&out) == "" {
		// The server sent no id back: find the object we just made.
		if lookup == nil {
			return nil, false, fmt.Errorf("POST %s: the response has no id", r.Path())
		}
		// It may take a while to show in lookups (reference §6), as after a 409.
		if _, err := r.tree.c.t.adopt(ctx, lookup, fmt.Errorf("POST %s: the response has no id", r.Path())); err != nil {
			return nil, false, err
		}
		return found, false, nil
	}
	return &out, false, nil
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
