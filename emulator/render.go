package emulator

import (
	"slices"
	"strconv"

	"github.com/scimsync/scimsync/scim"
)

// render turns an object into the resource a view shows (§2). Account resources have no
// entitlements and no groups (§2.3, §2.4); workspace resources have both. list says the
// resource is an element of a list response, where account groups leave out members unless
// GroupListMembers is set (§3).
func (s *store) render(o *object, v view, p projection, list bool) resource {
	r := resource{"id": o.idString()}
	switch o.kind {
	case kindUser:
		r["schemas"] = []string{scim.SchemaUser}
		r["userName"] = o.userName
		r["emails"] = []resource{{"type": "work", "value": o.userName, "primary": true}}
		r["active"] = o.active
		if o.givenName != "" || o.familyName != "" {
			name := resource{}
			if o.givenName != "" {
				name["givenName"] = o.givenName
			}
			if o.familyName != "" {
				name["familyName"] = o.familyName
			}
			r["name"] = name
		}
	case kindSP:
		r["schemas"] = []string{scim.SchemaServicePrincipal}
		r["applicationId"] = o.appID
		r["active"] = o.active
	case kindGroup:
		r["schemas"] = []string{scim.SchemaGroup}
		rt := "Group"
		if !v.account && (!s.accountLevel() || o.wsLocal != "") {
			rt = "WorkspaceGroup"
		}
		r["meta"] = resource{"resourceType": rt}
		if p.wants("members") && !(list && v.account && !s.opts.GroupListMembers) {
			if ms := s.memberValues(o, v); len(ms) > 0 {
				r["members"] = ms
			}
		}
	}
	if o.displayName != "" {
		r["displayName"] = o.displayName
	}
	if o.externalID != "" {
		r["externalId"] = o.externalID
	}
	if len(o.roles) > 0 {
		r["roles"] = values(o.roles)
	}
	if !v.account {
		if e := o.ents[v.ws]; len(e) > 0 {
			r["entitlements"] = values(e)
		}
		if p.wants("groups") {
			if gs := s.groupValues(o, v); len(gs) > 0 {
				r["groups"] = gs
			}
		}
	}
	p.apply(r)
	return r
}

func values(list []string) []resource {
	out := make([]resource, len(list))
	for i, v := range list {
		out[i] = resource{"value": v}
	}
	return out
}

// memberValues renders a group's members with value, display and $ref (§2.1), in id order.
func (s *store) memberValues(g *object, v view) []resource {
	ids := s.membersOf(g)
	out := make([]resource, 0, len(ids))
	for _, id := range ids {
		m := s.byID[id]
		if m == nil {
			continue
		}
		out = append(out, resource{
			"value":   m.idString(),
			"display": m.name(),
			"$ref":    m.kind.resource() + "/" + m.idString(),
		})
	}
	return out
}

// groupValues renders the groups attribute of a workspace principal or group: the groups
// that contain it directly (type "direct") and through nesting (type "indirect"), as far
// as the view shows them (§2.1).
func (s *store) groupValues(o *object, v view) []resource {
	anc := s.ancestors(o)
	ids := make([]int64, 0, len(anc))
	for id := range anc {
		if s.visible(s.byID[id], v) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]resource, 0, len(ids))
	for _, id := range ids {
		g := s.byID[id]
		typ := "indirect"
		if _, direct := o.parents[id]; direct {
			typ = "direct"
		}
		out = append(out, resource{
			"value":   strconv.FormatInt(id, 10),
			"display": g.displayName,
			"$ref":    "Groups/" + strconv.FormatInt(id, 10),
			"type":    typ,
		})
	}
	return out
}
