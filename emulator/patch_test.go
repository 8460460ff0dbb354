package emulator

import (
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
)

func TestPatchMembers(t *testing.T) {
	type step struct {
		body    any
		status  int
		members []string // member names after the step, when status is 200
		detail  string   // part of the error detail otherwise
	}
	tests := []struct {
		name  string
		opts  Options
		steps func(ids map[string]string) []step
	}{
		{"add with path, remove by filter", Options{}, func(ids map[string]string) []step {
			return []step{
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}, {"value": ids["sp"]}}}), 200, []string{"robot", "u1@x.com"}, ""},
				{patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + ids["u1"] + `"]`}), 200, []string{"robot"}, ""},
				{patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + ids["u1"] + `"]`}), 200, []string{"robot"}, ""},
			}
		}},
		{"pathless add, upper-case op, lower-case operations", Options{}, func(ids map[string]string) []step {
			return []step{
				{map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "operations": []map[string]any{
					{"op": "ADD", "value": map[string]any{"members": []map[string]string{{"value": ids["u1"]}, {"value": ids["sub"]}}}},
				}}, 200, []string{"sub", "u1@x.com"}, ""},
				{patchOps(map[string]any{"op": "Replace", "path": "members", "value": []map[string]string{{"value": ids["u2"]}}}), 200, []string{"u2@x.com"}, ""},
				{patchOps(map[string]any{"op": "remove", "path": "members"}), 200, nil, ""},
			}
		}},
		{"strict remove rejects a value", Options{}, func(ids map[string]string) []step {
			return []step{
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}}), 200, []string{"u1@x.com"}, ""},
				{patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + ids["u1"] + `"]`, "value": []map[string]string{{"value": ids["u1"]}}}), 400, nil,
					`Unrecognized field "value" (class com.unboundid.scim2.common.messages.PatchOperation$RemoveOperation)`},
			}
		}},
		{"lenient remove accepts a value", Options{LenientRemove: true}, func(ids map[string]string) []step {
			return []step{
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}, {"value": ids["u2"]}}}), 200, []string{"u1@x.com", "u2@x.com"}, ""},
				{patchOps(map[string]any{"op": "remove", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}}), 200, []string{"u2@x.com"}, ""},
			}
		}},
		{"shape errors", Options{}, func(ids map[string]string) []step {
			return []step{
				{patchOps(map[string]any{"op": "add", "path": "members", "value": ids["u1"]}), 400, nil, "Request is unparsable, syntactically incorrect, or violates schema."},
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []string{ids["u1"]}}), 400, nil, "Request is unparsable"},
				{map[string]any{"schema": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}}}}, 400, nil, "Request is unparsable"},
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": "999"}}}), 400, nil, "Member with id 999 does not exist."},
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": "aaaaaaaa-0000-4000-8000-000000000001"}}}), 400, nil, "does not exist"},
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["g"]}}}), 400, nil, "cycle"},
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["parent"]}}}), 400, nil, "cycle"},
				{patchOps(map[string]any{"op": "move", "path": "members", "value": []map[string]string{}}), 400, nil, "Unsupported patch operation"},
				{patchOps(map[string]any{"op": "add", "path": "members"}), 400, nil, "Request is unparsable"},
				{patchOps(map[string]any{"op": "remove"}), 400, nil, "needs a path"},
				{patchOps(map[string]any{"op": "add", "path": "nonsense", "value": "x"}), 400, nil, "No such attribute with the name : nonsense"},
				{map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{}}, 400, nil, "Request is unparsable"},
				{map[string]any{"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}}}}, 400, nil, "has no schemas"},
				{map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}}}}, 400, nil, "must name the schema urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				{"{not json", 400, nil, "Request is unparsable"},
			}
		}},
		{"ignore unknown members", Options{IgnoreUnknownMembers: true}, func(ids map[string]string) []step {
			return []step{
				{patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": "999"}, {"value": "not-an-id"}, {"value": ids["u1"]}}}), 200, []string{"u1@x.com"}, ""},
			}
		}},
		{"a failed operation changes nothing", Options{}, func(ids map[string]string) []step {
			return []step{
				{patchOps(
					map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids["u1"]}}},
					map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": "999"}}},
				), 400, nil, "does not exist"},
				{patchOps(map[string]any{"op": "replace", "path": "externalId", "value": "x"}), 200, nil, ""},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(tt.opts))
			ids := map[string]string{"u1": c.createUser("u1@x.com"), "u2": c.createUser("u2@x.com")}
			ids["sp"], _ = c.createSP("robot")
			ids["sub"] = c.createGroup("sub")
			ids["g"] = c.createGroup("g")
			ids["parent"] = c.createGroup("parent", ids["g"])
			// g is in parent; adding parent to g is a cycle.
			for i, s := range tt.steps(ids) {
				r := c.do("PATCH", c.acct("Groups/"+ids["g"]), s.body)
				if r.status != s.status {
					t.Fatalf("step %d: status %d, want %d: %s", i, r.status, s.status, r.raw)
				}
				if s.status != 200 {
					if !strings.Contains(r.str("detail"), s.detail) {
						t.Errorf("step %d: detail %q, want %q", i, r.str("detail"), s.detail)
					}
					if strings.HasPrefix(s.detail, "Unrecognized") && r.str("scimType") != "" {
						t.Errorf("step %d: scimType %q, want none", i, r.str("scimType"))
					}
					continue
				}
				g := c.do("GET", c.acct("Groups/"+ids["g"]), nil).must(t, 200)
				var names []string
				ms, _ := g.body["members"].([]any)
				for _, m := range ms {
					names = append(names, m.(map[string]any)["display"].(string))
				}
				if s.members != nil || len(names) > 0 {
					if strings.Join(sorted(names), ",") != strings.Join(s.members, ",") {
						t.Errorf("step %d: members %v, want %v", i, names, s.members)
					}
				}
			}
		})
	}
}

func TestPatchRefsAndWorkspaceGroups(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace}))
	uid := c.do("POST", wsp("Users"), map[string]any{"userName": "u@x.com"}).must(t, 201).str("id")
	spid := c.do("POST", wsp("ServicePrincipals"), map[string]any{"displayName": "robot"}).must(t, 201).str("id")
	inner := c.do("POST", wsp("Groups"), map[string]any{"displayName": "inner"}).must(t, 201).str("id")
	outer := c.do("POST", wsp("Groups"), map[string]any{"displayName": "outer"}).must(t, 201).str("id")
	c.do("PATCH", wsp("Groups/"+inner), patchOps(map[string]any{"op": "add", "path": "members",
		"value": []map[string]string{{"value": uid}, {"value": spid}}})).must(t, 200)
	r := c.do("PATCH", wsp("Groups/"+outer), patchOps(map[string]any{"op": "add", "path": "members",
		"value": []map[string]string{{"value": inner}}})).must(t, 200)
	refs := map[string]string{}
	for _, m := range r.body["members"].([]any) {
		mm := m.(map[string]any)
		refs[mm["value"].(string)] = mm["$ref"].(string)
	}
	if refs[inner] != "Groups/"+inner {
		t.Errorf("group member $ref %q", refs[inner])
	}
	g := c.do("GET", wsp("Groups/"+inner), nil).must(t, 200)
	for _, m := range g.body["members"].([]any) {
		mm := m.(map[string]any)
		want := map[string]string{uid: "Users/" + uid, spid: "ServicePrincipals/" + spid}[mm["value"].(string)]
		if mm["$ref"] != want {
			t.Errorf("member %v, want $ref %s", mm, want)
		}
	}
	u := c.do("GET", wsp("Users/"+uid), nil).must(t, 200)
	types := map[string]string{}
	for _, gv := range u.body["groups"].([]any) {
		gg := gv.(map[string]any)
		types[gg["display"].(string)] = gg["type"].(string)
		if gg["$ref"] != "Groups/"+gg["value"].(string) {
			t.Errorf("groups entry %v", gg)
		}
	}
	if types["inner"] != "direct" || types["outer"] != "indirect" || types["users"] != "direct" {
		t.Errorf("user groups %v, want inner direct, outer indirect, users direct", types)
	}
	// The workspace tree is lenient about values on remove.
	c.do("PATCH", wsp("Groups/"+inner), patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`,
		"value": []map[string]string{{"value": uid}}})).must(t, 200)
	c.do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "add", "path": "groups", "value": []map[string]string{{"value": inner}}})).
		wantSCIMError(t, 400, "mutability", "read-only")
}

func TestPatchStrictRemoveOnWorkspace(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace, StrictRemove: true}))
	gid := c.do("POST", wsp("Groups"), map[string]any{"displayName": "g"}).must(t, 201).str("id")
	c.do("PATCH", wsp("Groups/"+gid), patchOps(map[string]any{"op": "remove", "path": "roles", "value": []map[string]string{{"value": "x"}}})).
		wantSCIMError(t, 400, "", "Unrecognized field \"value\"")
}

func TestPatchUserAttributes(t *testing.T) {
	c := newClient(t, fast(Options{}))
	id := c.createUser("u@x.com")
	tests := []struct {
		name  string
		op    map[string]any
		check func(t *testing.T, u reply)
	}{
		{"active string false", map[string]any{"op": "replace", "path": "active", "value": "false"}, wantField("active", false)},
		{"active string", map[string]any{"op": "replace", "path": "active", "value": "true"}, wantField("active", true)},
		{"active list", map[string]any{"op": "replace", "path": "active", "value": []map[string]string{{"value": "false"}}}, wantField("active", false)},
		{"active pathless", map[string]any{"op": "replace", "value": map[string]any{"active": "true"}}, wantField("active", true)},
		{"displayName", map[string]any{"op": "replace", "path": "displayName", "value": "New Name"}, wantField("displayName", "New Name")},
		{"externalId", map[string]any{"op": "add", "path": "externalId", "value": "ext-1"}, wantField("externalId", "ext-1")},
		{"givenName", map[string]any{"op": "replace", "path": "name.givenName", "value": "Given"}, wantName("Given", "")},
		{"familyName", map[string]any{"op": "replace", "path": "name.familyName", "value": "Family"}, wantName("Given", "Family")},
		{"name object", map[string]any{"op": "replace", "path": "name", "value": map[string]string{"givenName": "G2"}}, wantName("G2", "")},
		{"userName ignored", map[string]any{"op": "replace", "path": "userName", "value": "other@x.com"}, wantField("userName", "u@x.com")},
		{"emails ignored", map[string]any{"op": "replace", "path": "emails", "value": []map[string]string{{"value": "other@x.com"}}}, wantField("userName", "u@x.com")},
		{"email filter ignored", map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "other@x.com"}, wantField("userName", "u@x.com")},
		{"roles add", map[string]any{"op": "add", "path": "roles", "value": []map[string]string{{"value": "account_admin"}}}, wantValues("roles", "account_admin")},
		{"roles remove by filter", map[string]any{"op": "remove", "path": `roles[value eq "account_admin"]`}, wantValues("roles")},
		{"roles add pathless", map[string]any{"op": "add", "value": map[string]any{"roles": []map[string]string{{"value": "account_admin"}}}}, wantValues("roles", "account_admin")},
		{"externalId removed", map[string]any{"op": "remove", "path": "externalId"}, wantField("externalId", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.do("PATCH", c.acct("Users/"+id), patchOps(tt.op)).must(t, 200)
			tt.check(t, c.do("GET", c.acct("Users/"+id), nil).must(t, 200))
		})
	}
	bad := []struct {
		name             string
		op               map[string]any
		scimType, detail string
	}{
		{"active garbage", map[string]any{"op": "replace", "path": "active", "value": "maybe"}, "invalidValue", "active"},
		{"entitlements at account", map[string]any{"op": "add", "path": "entitlements", "value": []map[string]string{{"value": "workspace-access"}}},
			"invalidValue", "entitlements can only be managed at the workspace level"},
		{"long externalId", map[string]any{"op": "replace", "path": "externalId", "value": strings.Repeat("x", 65)}, "invalidValue", "64"},
		{"members on a user", map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": id}}}, "invalidPath", "No such attribute"},
		{"filter on add", map[string]any{"op": "add", "path": `roles[value eq "x"]`, "value": []map[string]string{{"value": "x"}}}, "invalidPath", "only supported for remove"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c.do("PATCH", c.acct("Users/"+id), patchOps(tt.op)).wantSCIMError(t, 400, tt.scimType, tt.detail)
		})
	}
}

func TestPatchGroupRename(t *testing.T) {
	c := newClient(t, fast(Options{}))
	a := c.createGroup("a")
	c.createGroup("b")
	c.do("PATCH", c.acct("Groups/"+a), patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "b"})).
		wantSCIMError(t, 409, "", "Group with name b already exists.")
	c.do("PATCH", c.acct("Groups/"+a), patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "c"})).must(t, 200)
	if got := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "c"`), nil).must(t, 200).list(); len(got) != 1 || got[0]["id"] != a {
		t.Errorf("renamed group not found by new name: %v", got)
	}
	if got := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "a"`), nil).must(t, 200).list(); len(got) != 0 {
		t.Errorf("old name still found: %v", got)
	}
	c.createGroup("a") // the old name is free again
}

func TestPatchEntitlements(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace}))
	id := c.do("POST", wsp("Users"), map[string]any{"userName": "u@x.com"}).must(t, 201).str("id")
	ent := func(vs ...string) []map[string]string {
		var out []map[string]string
		for _, v := range vs {
			out = append(out, map[string]string{"value": v})
		}
		return out
	}
	steps := []struct {
		op       map[string]any
		status   int
		want     []string
		scimType string
		detail   string
	}{
		{map[string]any{"op": "remove", "path": "entitlements", "value": ent("allow-cluster-create")}, 400, nil,
			"invalidPath", "No such attribute with the name : entitlements in the current resource"},
		{map[string]any{"op": "add", "path": "entitlements", "value": ent("allow-cluster-create")}, 200, []string{"allow-cluster-create"}, "", ""},
		{map[string]any{"op": "add", "path": "entitlements", "value": ent("databricks-sql-access")}, 200, []string{"allow-cluster-create", "databricks-sql-access"}, "", ""},
		{map[string]any{"op": "remove", "path": "entitlements", "value": ent("allow-cluster-create")}, 200, []string{"databricks-sql-access"}, "", ""},
		{map[string]any{"op": "replace", "path": "entitlements", "value": ent("workspace-access", "allow-cluster-create")}, 200, []string{"allow-cluster-create", "workspace-access"}, "", ""},
		{map[string]any{"op": "remove", "path": `entitlements[value eq "workspace-access"]`}, 200, []string{"allow-cluster-create"}, "", ""},
		{map[string]any{"op": "add", "path": "entitlements", "value": ent("fly")}, 400, nil, "invalidValue", "Entitlement fly is not supported."},
		{map[string]any{"op": "replace", "path": "entitlements", "value": ent("")}, 200, nil, "", ""},
		{map[string]any{"op": "remove", "path": "entitlements", "value": ent("allow-cluster-create")}, 400, nil, "invalidPath", "No such attribute"},
	}
	for i, s := range steps {
		r := c.do("PATCH", wsp("Users/"+id), patchOps(s.op))
		if s.status != 200 {
			r.wantSCIMError(t, s.status, s.scimType, s.detail)
			continue
		}
		r.must(t, 200)
		got := values0(c.do("GET", wsp("Users/"+id), nil).must(t, 200).body, "entitlements")
		if strings.Join(got, ",") != strings.Join(s.want, ",") {
			t.Errorf("step %d: entitlements %v, want %v", i, got, s.want)
		}
	}
}

func wantField(key string, want any) func(t *testing.T, u reply) {
	return func(t *testing.T, u reply) {
		t.Helper()
		if got := u.body[key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

func wantName(given, family string) func(t *testing.T, u reply) {
	return func(t *testing.T, u reply) {
		t.Helper()
		n, _ := u.body["name"].(map[string]any)
		g, _ := n["givenName"].(string)
		f, _ := n["familyName"].(string)
		if g != given || f != family {
			t.Errorf("name %v, want %q %q", n, given, family)
		}
	}
}

func wantValues(attr string, want ...string) func(t *testing.T, u reply) {
	return func(t *testing.T, u reply) {
		t.Helper()
		if got := values0(u.body, attr); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s %v, want %v", attr, got, want)
		}
	}
}
