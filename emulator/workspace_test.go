package emulator

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
)

func assignPath(ws, rest string) string {
	return "/api/2.0/accounts/" + DefaultAccountID + "/workspaces/" + ws + "/permissionassignments" + rest
}

func TestPermissionAssignments(t *testing.T) {
	c := newClient(t, fast(Options{}))
	uid := c.createUser("u@x.com")
	spid, appID := c.createSP("robot")
	gid := c.createGroup("g")
	put := func(ws, id string, perms ...string) reply {
		return c.do("PUT", assignPath(ws, "/principals/"+id), map[string]any{"permissions": perms})
	}
	tests := []struct {
		name  string
		id    string
		perms []string
		want  []string
	}{
		{"user", uid, []string{"USER"}, []string{"USER"}},
		{"admin wins", spid, []string{"USER", "ADMIN"}, []string{"ADMIN"}},
		{"unknown ignored", gid, []string{"SUPERUSER", "USER"}, []string{"USER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := put("1002", tt.id, tt.perms...).must(t, 200)
			var got scim.PermissionAssignment
			decode(t, r.raw, &got)
			if got.Principal.PrincipalID != mustID(t, tt.id) || !cmp.Equal(got.Permissions, tt.want) {
				t.Errorf("PUT answered %s", r.raw)
			}
		})
	}
	r := c.do("GET", assignPath("1002", ""), nil).must(t, 200)
	var list scim.PermissionAssignments
	decode(t, r.raw, &list)
	byID := map[int64]scim.PermissionAssignment{}
	for _, a := range list.PermissionAssignments {
		byID[a.Principal.PrincipalID] = a
	}
	if len(byID) != 5 { // three plus the two token owners
		t.Errorf("%d assignments: %s", len(byID), r.raw)
	}
	if a := byID[mustID(t, uid)]; a.Principal.UserName != "u@x.com" || a.Principal.GroupName != "" {
		t.Errorf("user principal %+v", a.Principal)
	}
	if a := byID[mustID(t, spid)]; a.Principal.ServicePrincipalName != appID || a.Principal.DisplayName != "robot" {
		t.Errorf("sp principal %+v", a.Principal)
	}
	if a := byID[mustID(t, gid)]; a.Principal.GroupName != "g" {
		t.Errorf("group principal %+v", a.Principal)
	}
	// An empty list deletes; so does DELETE.
	put("1002", uid).must(t, 200)
	c.do("DELETE", assignPath("1002", "/principals/"+spid), nil).must(t, 200)
	decode(t, c.do("GET", assignPath("1002", ""), nil).must(t, 200).raw, &list)
	if len(list.PermissionAssignments) != 3 {
		t.Errorf("after removals: %+v", list)
	}
	// The preview alias serves the same data.
	alias := c.do("GET", "/api/2.0/preview/accounts/"+DefaultAccountID+"/workspaces/1002/permissionassignments", nil).must(t, 200)
	if string(alias.raw) != string(c.do("GET", assignPath("1002", ""), nil).raw) {
		t.Errorf("alias differs")
	}
	perms := c.do("GET", assignPath("1001", "/permissions"), nil).must(t, 200)
	if !strings.Contains(string(perms.raw), `"permission_level":"ADMIN"`) || !strings.Contains(string(perms.raw), `"permission_level":"USER"`) {
		t.Errorf("permissions %s", perms.raw)
	}
	errs := []struct {
		method, path string
		status       int
		code         string
	}{
		{"PUT", assignPath("9999", "/principals/"+uid), 404, "RESOURCE_DOES_NOT_EXIST"},
		{"PUT", assignPath("1001", "/principals/123"), 404, "RESOURCE_DOES_NOT_EXIST"},
		{"PUT", assignPath("1001", "/principals/abc"), 400, "INVALID_PARAMETER_VALUE"},
		{"GET", "/api/2.0/accounts/other/workspaces/1001/permissionassignments", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", assignPath("1001", ""), 404, "ENDPOINT_NOT_FOUND"},
	}
	for _, e := range errs {
		r := c.do(e.method, e.path, map[string]any{"permissions": []string{"USER"}}).must(t, e.status)
		if r.str("error_code") != e.code {
			t.Errorf("%s %s: %s", e.method, e.path, r.raw)
		}
	}
}

func decode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := jsonUnmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, ok := parseID(s)
	if !ok {
		t.Fatalf("bad id %q", s)
	}
	return id
}

func TestWorkspaceViews(t *testing.T) {
	c := newClient(t, fast(Options{}))
	uid := c.createUser("u@x.com")
	other := c.createUser("other@x.com")
	member := c.createUser("member@x.com")
	gid := c.createGroup("team", member)
	ws1, ws2 := c.inWorkspace("1001"), c.inWorkspace("1002")

	// The accounts host does not serve workspace trees (hosts_test.go).
	c.do("GET", wsp("Users"), nil).must(t, 404)

	// Unassigned principals are not in a workspace.
	ws1.do("GET", wsp("Users/"+uid), nil).must(t, 404)
	c.do("PUT", assignPath("1001", "/principals/"+uid), map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	c.do("PUT", assignPath("1001", "/principals/"+gid), map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	c.do("PUT", assignPath("1002", "/principals/"+uid), map[string]any{"permissions": []string{"ADMIN"}}).must(t, 200)

	names := func(cl *client, res string) []string {
		var out []string
		for _, r := range cl.do("GET", wsp(res)+"?attributes=userName,displayName", nil).must(t, 200).list() {
			n, _ := r["userName"].(string)
			if n == "" {
				n, _ = r["displayName"].(string)
			}
			out = append(out, n)
		}
		return sorted(out)
	}
	if got := strings.Join(names(ws1, "Users"), ","); got != "admin@example.com,member@x.com,u@x.com" {
		t.Errorf("workspace 1001 users %s (member through the assigned group)", got)
	}
	if got := strings.Join(names(ws1, "Groups"), ","); got != "admins,team,users" {
		t.Errorf("workspace 1001 groups %s", got)
	}

	// Entitlements are per workspace.
	add := func(cl *client, ents ...string) reply {
		var v []map[string]string
		for _, e := range ents {
			v = append(v, map[string]string{"value": e})
		}
		return cl.do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "add", "path": "entitlements", "value": v}))
	}
	add(ws1, "allow-cluster-create").must(t, 200)
	add(ws2, "databricks-sql-access", "workspace-access").must(t, 200)
	if got := values0(ws1.do("GET", wsp("Users/"+uid), nil).must(t, 200).body, "entitlements"); !cmp.Equal(got, []string{"allow-cluster-create"}) {
		t.Errorf("1001 entitlements %v", got)
	}
	if got := values0(ws2.do("GET", wsp("Users/"+uid), nil).must(t, 200).body, "entitlements"); !cmp.Equal(got, []string{"databricks-sql-access", "workspace-access"}) {
		t.Errorf("1002 entitlements %v", got)
	}
	acct := c.do("GET", c.acct("Users/"+uid), nil).must(t, 200)
	if _, ok := acct.body["entitlements"]; ok {
		t.Errorf("account user shows entitlements: %s", acct.raw)
	}
	c.do("PATCH", c.acct("Users/"+uid), patchOps(map[string]any{"op": "add", "path": "entitlements", "value": []map[string]string{{"value": "workspace-access"}}})).
		wantSCIMError(t, 400, "invalidValue", "entitlements can only be managed at the workspace level")
	c.do("PATCH", c.acct("Groups/"+gid), patchOps(map[string]any{"op": "replace", "path": "entitlements", "value": []map[string]string{{"value": ""}}})).
		wantSCIMError(t, 400, "invalidValue", "entitlements can only be managed at the workspace level")

	// Names of account objects change only through the account API (§2.3).
	ws1.do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "X"})).
		wantSCIMError(t, 400, "invalidValue", "use the account API")
	ws1.do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "replace", "path": "active", "value": "true"})).must(t, 200)

	// Group entitlements and meta in a workspace view; built-in workspace groups.
	ws1.do("PATCH", wsp("Groups/"+gid), patchOps(map[string]any{"op": "add", "path": "entitlements", "value": []map[string]string{{"value": "allow-instance-pool-create"}}})).must(t, 200)
	groups := ws1.do("GET", wsp("Groups"), nil).must(t, 200).list()
	meta := map[string]string{}
	members := map[string][]string{}
	for _, g := range groups {
		name := g["displayName"].(string)
		meta[name] = g["meta"].(map[string]any)["resourceType"].(string)
		members[name] = values0(g, "members")
	}
	if meta["team"] != "Group" || meta["users"] != "WorkspaceGroup" || meta["admins"] != "WorkspaceGroup" {
		t.Errorf("meta %v", meta)
	}
	if !contains(members["users"], uid) || !contains(members["users"], gid) || contains(members["admins"], uid) {
		t.Errorf("built-in group members %v", members)
	}
	// The built-in groups of a workspace view follow the assignments.
	var usersID string
	for _, g := range groups {
		if g["displayName"] == "users" {
			usersID = g["id"].(string)
		}
	}
	ws1.do("PATCH", wsp("Groups/"+usersID), patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": other}}})).
		wantSCIMError(t, 400, "invalidValue", "follow the workspace assignments")
	var back []map[string]string
	for _, m := range members["users"] {
		back = append(back, map[string]string{"value": m})
	}
	ws1.do("PUT", wsp("Groups/"+usersID), map[string]any{"displayName": "users", "members": back,
		"entitlements": []map[string]string{{"value": "workspace-access"}}}).must(t, 200)
	if !contains(members["team"], member) {
		t.Errorf("workspace view of team lacks members: %v", members["team"])
	}

	// The state carries per-workspace entitlements and assignments.
	st := c.ts.ManagedState()
	want := []model.Workspace{
		{ID: "1001",
			Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "team"}, Permission: "USER"}, {Principal: model.Ref{Kind: model.KindUser, Key: "u@x.com"}, Permission: "USER"}},
			Entitlements: []model.PrincipalEntitlements{
				{Principal: model.Ref{Kind: model.KindGroup, Key: "team"}, Entitlements: []string{"allow-instance-pool-create"}},
				{Principal: model.Ref{Kind: model.KindUser, Key: "u@x.com"}, Entitlements: []string{"allow-cluster-create"}},
			}},
		{ID: "1002",
			Assignments:  []model.Assignment{{Principal: model.Ref{Kind: model.KindUser, Key: "u@x.com"}, Permission: "ADMIN"}},
			Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindUser, Key: "u@x.com"}, Entitlements: []string{"databricks-sql-access", "workspace-access"}}}},
	}
	if d := cmp.Diff(want, st.Workspaces); d != "" {
		t.Errorf("workspaces (-want +got):\n%s", d)
	}

	// Creating a user in a workspace view creates it in the account and assigns it;
	// deleting it there only removes it from the workspace.
	nid := ws2.do("POST", wsp("Users"), map[string]any{"userName": "new@x.com"}).must(t, 201).str("id")
	c.do("GET", c.acct("Users/"+nid), nil).must(t, 200)
	ws2.do("GET", wsp("Users/"+nid), nil).must(t, 200)
	ws2.do("DELETE", wsp("Users/"+nid), nil).must(t, 204)
	ws2.do("GET", wsp("Users/"+nid), nil).must(t, 404)
	c.do("GET", c.acct("Users/"+nid), nil).must(t, 200)

	// Workspace-local groups exist only in their workspace.
	lid := ws2.do("POST", wsp("Groups"), map[string]any{"displayName": "local"}).must(t, 201)
	if lid.body["meta"].(map[string]any)["resourceType"] != "WorkspaceGroup" {
		t.Errorf("local group meta %s", lid.raw)
	}
	ws1.do("GET", wsp("Groups/"+lid.str("id")), nil).must(t, 404)
	c.do("GET", c.acct("Groups/"+lid.str("id")), nil).must(t, 404)
	for _, g := range c.ts.State().Groups {
		if g.DisplayName == "local" {
			t.Errorf("workspace-local group in the account state")
		}
	}
}

func TestWorkspaceShowsUnassigned(t *testing.T) {
	c := newClient(t, fast(Options{WorkspaceShowsUnassigned: true}))
	uid := c.createUser("u@x.com")
	c.inWorkspace("1001").do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "add", "path": "entitlements",
		"value": []map[string]string{{"value": "workspace-access"}}})).must(t, 200)
}

func TestWorkspaceLevel(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace, Workspaces: []string{"555"}}))
	// Account paths do not exist on a workspace host.
	r := c.do("GET", c.acct("Users"), nil).must(t, 404)
	if r.str("error_code") != "ENDPOINT_NOT_FOUND" {
		t.Errorf("account path on a workspace: %s", r.raw)
	}
	c.do("GET", assignPath("555", ""), nil).must(t, 404)
	c.do("GET", "/api/2.0/account/scim/v2/Users", nil).must(t, 404)
	// The header is optional and must name this workspace.
	c.inWorkspace("555").do("GET", wsp("Users"), nil).must(t, 200)
	c.inWorkspace("556").do("GET", wsp("Users"), nil).must(t, 404)
	u := c.do("POST", wsp("Users"), map[string]any{"userName": "u@x.com", "entitlements": []map[string]string{{"value": "workspace-access"}}}).must(t, 201)
	if u.header.Get("X-Databricks-Org-Id") != "555" {
		t.Errorf("org id header %q", u.header.Get("X-Databricks-Org-Id"))
	}
	if got := values0(u.body, "entitlements"); !cmp.Equal(got, []string{"workspace-access"}) {
		t.Errorf("entitlements %v", got)
	}
	st := c.ts.ManagedState()
	if len(st.Users) != 1 || !cmp.Equal(st.Users[0].Entitlements, []string{"workspace-access"}) || len(st.Workspaces) != 0 {
		t.Errorf("state %+v", st)
	}
}

func TestAccountProxy(t *testing.T) {
	c := newClient(t, fast(Options{}))
	uid := c.createUser("u@x.com")
	// The proxy is on workspace hosts (§1.3), not on the accounts host.
	c.do("GET", "/api/2.0/account/scim/v2/Users/"+uid, nil).must(t, 404)
	r := c.inWorkspace("1001").do("GET", "/api/2.0/account/scim/v2/Users/"+uid, nil).must(t, 200)
	if r.str("userName") != "u@x.com" {
		t.Errorf("proxy answered %s", r.raw)
	}
	if _, ok := r.body["groups"]; ok {
		t.Errorf("proxy is an account view; it has no groups attribute")
	}
}

func TestSeedAndState(t *testing.T) {
	c := newClient(t, fast(Options{}))
	in := &model.State{
		Users: []model.User{
			{UserName: "Alice@Example.com", DisplayName: "Alice", GivenName: "Alice", FamilyName: "A", Active: true, Roles: []string{"account_admin"}},
			{UserName: "bob@example.com", Active: false, ExternalID: "b"},
		},
		ServicePrincipals: []model.ServicePrincipal{{DisplayName: "robot", Active: true}},
		Groups: []model.Group{
			{DisplayName: "parent", Members: model.Members{Groups: []string{"child"}}},
			{DisplayName: "child", Members: model.Members{Users: []string{"alice@example.com", "bob@example.com"}, ServicePrincipals: []string{"robot"}}},
		},
		Workspaces: []model.Workspace{{ID: "1001",
			Assignments:  []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "parent"}, Permission: "ADMIN"}},
			Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: "robot"}, Entitlements: []string{"workspace-access"}}},
		}},
	}
	out, err := c.ts.Seed(in)
	if err != nil {
		t.Fatal(err)
	}
	if in.Users[0].ID != "" {
		t.Errorf("Seed changed its input")
	}
	appID := out.ServicePrincipals[0].ApplicationID
	if appID == "" || out.Users[0].UserName != "alice@example.com" || out.Users[0].ID == "" || out.Groups[0].ID == "" {
		t.Fatalf("seed output %+v", out)
	}
	got := c.ts.ManagedState()
	// Strip the ids out of the way of the comparison, and check them separately.
	for i := range got.Users {
		if got.Users[i].ID != out.Users[i].ID {
			t.Errorf("user ids differ: %s %s", got.Users[i].ID, out.Users[i].ID)
		}
	}
	want := &model.State{
		Users: []model.User{
			{ID: out.Users[0].ID, UserName: "alice@example.com", DisplayName: "Alice", GivenName: "Alice", FamilyName: "A", Active: true, Roles: []string{"account_admin"}},
			{ID: out.Users[1].ID, UserName: "bob@example.com", ExternalID: "b"},
		},
		ServicePrincipals: []model.ServicePrincipal{{ID: out.ServicePrincipals[0].ID, ApplicationID: appID, DisplayName: "robot", Active: true}},
		Groups: []model.Group{
			{ID: out.Groups[0].ID, DisplayName: "child", Members: model.Members{Users: []string{"alice@example.com", "bob@example.com"}, ServicePrincipals: []string{appID}}},
			{ID: out.Groups[1].ID, DisplayName: "parent", Members: model.Members{Groups: []string{"child"}}},
		},
		Workspaces: []model.Workspace{
			{ID: "1001",
				Assignments:  []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "parent"}, Permission: "ADMIN"}},
				Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: appID}, Entitlements: []string{"workspace-access"}}}},
			{ID: "1002"},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ManagedState (-want +got):\n%s", d)
	}
	full := c.ts.State()
	if len(full.Users) != 3 || len(full.Groups) != 3 || len(full.ServicePrincipals) != 2 {
		t.Errorf("State has %d users, %d SPs, %d groups; want the built-ins too", len(full.Users), len(full.ServicePrincipals), len(full.Groups))
	}
	// The API sees what was seeded.
	r := c.inWorkspace("1001").do("GET", wsp("ServicePrincipals/"+out.ServicePrincipals[0].ID), nil).must(t, 200)
	if got := values0(r.body, "entitlements"); !cmp.Equal(got, []string{"workspace-access"}) {
		t.Errorf("seeded entitlements through the API: %v", got)
	}

	bad := []struct {
		name  string
		state *model.State
		want  string
	}{
		{"duplicate user", &model.State{Users: []model.User{{UserName: "ALICE@example.com"}}}, "already exists"},
		{"unknown member", &model.State{Groups: []model.Group{{DisplayName: "x", Members: model.Members{Users: []string{"nobody@x.com"}}}}}, "unknown user:nobody@x.com"},
		{"account entitlements", &model.State{Users: []model.User{{UserName: "e@x.com", Entitlements: []string{"workspace-access"}}}}, "per workspace"},
		{"unknown workspace", &model.State{Workspaces: []model.Workspace{{ID: "9"}}}, "workspace 9"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.ts.Seed(tt.state); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
