package emulator

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/scimsync/scimsync/model"
)

func TestCreateUserNormalises(t *testing.T) {
	c := newClient(t, fast(Options{}))
	r := c.do("POST", c.acct("Users"), map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":      "42", "userName": "Jane.Doe@Example.COM", "displayName": "Jane Doe",
	}).must(t, 201)
	id := r.str("id")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < DefaultFirstID || id == "42" {
		t.Fatalf("id %q is not a generated int64 string", id)
	}
	if got := r.str("userName"); got != "jane.doe@example.com" {
		t.Errorf("userName %q, want lower-cased", got)
	}
	emails, _ := r.body["emails"].([]any)
	if len(emails) != 1 {
		t.Fatalf("emails %v", r.body["emails"])
	}
	e := emails[0].(map[string]any)
	if e["value"] != "jane.doe@example.com" || e["type"] != "work" || e["primary"] != true {
		t.Errorf("email %v not filled from userName", e)
	}
	if r.body["active"] != true {
		t.Errorf("active %v, want true by default", r.body["active"])
	}
	for _, absent := range []string{"entitlements", "groups"} {
		if _, ok := r.body[absent]; ok {
			t.Errorf("account user has %s", absent)
		}
	}
	if _, ok := r.body["name"]; ok {
		t.Errorf("name filled from displayName without SplitDisplayName: %v", r.body["name"])
	}
	id2 := c.createUser("second@example.com")
	if n2, _ := strconv.ParseInt(id2, 10, 64); n2 <= n {
		t.Errorf("ids do not increase: %s then %s", id, id2)
	}
	got := c.do("GET", c.acct("Users/"+id), nil).must(t, 200)
	if got.str("userName") != "jane.doe@example.com" || got.str("displayName") != "Jane Doe" {
		t.Errorf("GET returned %s", got.raw)
	}
}

func TestSplitDisplayName(t *testing.T) {
	c := newClient(t, fast(Options{SplitDisplayName: true}))
	r := c.do("POST", c.acct("Users"), map[string]any{"userName": "j@x.com", "displayName": "John Doe"}).must(t, 201)
	name, _ := r.body["name"].(map[string]any)
	if name["givenName"] != "John" || name["familyName"] != "Doe" {
		t.Errorf("name %v, want John / Doe", name)
	}
}

func TestServicePrincipalApplicationID(t *testing.T) {
	mk := func(seed int64) (string, string) {
		c := newClient(t, fast(Options{Seed: seed}))
		_, a := c.createSP("robot")
		_, b := c.createSP("robot 2")
		return a, b
	}
	a1, b1 := mk(7)
	a2, b2 := mk(7)
	a3, _ := mk(8)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, a := range []string{a1, b1, a3} {
		if !uuid.MatchString(a) {
			t.Errorf("applicationId %q is not a v4 UUID", a)
		}
	}
	if a1 != a2 || b1 != b2 {
		t.Errorf("applicationIds differ with the same seed: %s %s / %s %s", a1, b1, a2, b2)
	}
	if a1 == b1 || a1 == a3 {
		t.Errorf("applicationIds repeat: %s %s %s", a1, b1, a3)
	}

	c := newClient(t, fast(Options{}))
	r := c.do("POST", c.acct("ServicePrincipals"), map[string]any{"applicationId": "11111111-2222-4333-8444-555555555555", "displayName": "azure"}).must(t, 201)
	id := r.str("id")
	c.do("PATCH", c.acct("ServicePrincipals/"+id), patchOps(map[string]any{"op": "replace", "path": "applicationId", "value": "other"})).must(t, 200)
	c.do("PUT", c.acct("ServicePrincipals/"+id), map[string]any{"applicationId": "other", "displayName": "renamed"}).must(t, 200)
	got := c.do("GET", c.acct("ServicePrincipals/"+id), nil).must(t, 200)
	if got.str("applicationId") != "11111111-2222-4333-8444-555555555555" || got.str("displayName") != "renamed" {
		t.Errorf("after PATCH/PUT: %s", got.raw)
	}
}

func TestConflicts(t *testing.T) {
	tests := []struct {
		name   string
		level  model.Level
		path   string
		first  map[string]any
		second map[string]any
		detail string
	}{
		{"account user", model.LevelAccount, "Users", map[string]any{"userName": "a@x.com"}, map[string]any{"userName": "A@X.com"},
			"User with email a@x.com already exists in this account"},
		{"workspace user", model.LevelWorkspace, "Users", map[string]any{"userName": "a@x.com"}, map[string]any{"userName": "a@x.com"},
			"User with username a@x.com already exists."},
		{"group", model.LevelAccount, "Groups", map[string]any{"displayName": "g"}, map[string]any{"displayName": "g"},
			"Group with name g already exists."},
		{"service principal", model.LevelAccount, "ServicePrincipals",
			map[string]any{"applicationId": "11111111-2222-4333-8444-555555555555"}, map[string]any{"applicationId": "11111111-2222-4333-8444-555555555555"},
			"Service principal with application ID 11111111-2222-4333-8444-555555555555 already exists."},
		{"reserved group at account", model.LevelAccount, "Groups", nil, map[string]any{"displayName": "account users"},
			"Group with name account users already exists."},
		{"reserved group at workspace", model.LevelWorkspace, "Groups", nil, map[string]any{"displayName": "admins"},
			"Group with name admins already exists."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(Options{Level: tt.level}))
			path := c.acct(tt.path)
			if tt.level == model.LevelWorkspace {
				path = wsp(tt.path)
			}
			if tt.first != nil {
				c.do("POST", path, tt.first).must(t, 201)
			}
			r := c.do("POST", path, tt.second)
			r.wantSCIMError(t, 409, "", tt.detail)
			if r.str("detail") != tt.detail {
				t.Errorf("detail %q, want exactly %q", r.str("detail"), tt.detail)
			}
		})
	}
}

func TestReservedGroups(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		c := newClient(t, fast(Options{}))
		list := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "account users"`), nil).must(t, 200).list()
		if len(list) != 1 {
			t.Fatalf("account users not built in: %v", list)
		}
		id := list[0]["id"].(string)
		c.do("DELETE", c.acct("Groups/"+id), nil).wantSCIMError(t, 400, "invalidValue", "cannot be deleted")
		c.do("PATCH", c.acct("Groups/"+id), patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "x"})).
			wantSCIMError(t, 400, "invalidValue", "cannot be renamed")
		c.do("POST", c.acct("Groups"), map[string]any{"displayName": "admins"}).wantSCIMError(t, 400, "invalidValue", "reserved")
		g := c.createGroup("ordinary")
		c.do("PATCH", c.acct("Groups/"+g), patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "users"})).
			wantSCIMError(t, 400, "invalidValue", "reserved")
		uid := c.createUser("new@x.com")
		members := values0(c.do("GET", c.acct("Groups/"+id), nil).must(t, 200).body, "members")
		if !contains(members, uid) {
			t.Errorf("new user %s not in account users %v", uid, members)
		}
	})
	t.Run("workspace", func(t *testing.T) {
		c := newClient(t, fast(Options{Level: model.LevelWorkspace}))
		list := c.do("GET", wsp("Groups")+"?attributes=displayName,meta", nil).must(t, 200).list()
		names := map[string]string{}
		for _, g := range list {
			names[g["displayName"].(string)] = g["id"].(string)
			if g["meta"].(map[string]any)["resourceType"] != "WorkspaceGroup" {
				t.Errorf("workspace group %v has no WorkspaceGroup meta", g)
			}
		}
		if names["admins"] == "" || names["users"] == "" {
			t.Fatalf("built-in groups missing: %v", names)
		}
		c.do("DELETE", wsp("Groups/"+names["admins"]), nil).wantSCIMError(t, 400, "invalidValue", "cannot be deleted")
		c.do("PATCH", wsp("Groups/"+names["admins"]), patchOps(map[string]any{"op": "remove", "path": "entitlements", "value": []map[string]string{{"value": "workspace-access"}}})).
			wantSCIMError(t, 400, "invalidValue", "cannot be removed from the admins group")
		uid := c.do("POST", wsp("Users"), map[string]any{"userName": "w@x.com"}).must(t, 201).str("id")
		c.do("PATCH", wsp("Groups/"+names["users"]), patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`})).
			wantSCIMError(t, 400, "invalidValue", "built-in group users")
		c.do("PATCH", wsp("Groups/"+names["admins"]), patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": uid}}})).must(t, 200)
	})
}

func TestNotFoundAndBadPaths(t *testing.T) {
	c := newClient(t, fast(Options{}))
	tests := []struct {
		method, path string
		status       int
		detail       string
	}{
		{"GET", c.acct("Users/123"), 404, "User with id 123 not found."},
		{"DELETE", c.acct("Groups/123"), 404, "Group with id 123 not found."},
		{"PATCH", c.acct("ServicePrincipals/123"), 404, "Service principal with id 123 not found."},
		{"GET", c.acct("Groups/my-group"), 405, "Endpoint not supported."},
		{"GET", c.acct("Groups/0012"), 405, "Endpoint not supported."},
		{"GET", c.acct("Widgets"), 405, "Endpoint not supported."},
		{"GET", c.acct("Users/1/extra"), 405, "Endpoint not supported."},
		{"DELETE", c.acct("Users"), 405, "Endpoint not supported."},
		{"GET", c.acct("Me"), 405, "Endpoint not supported."},
		{"GET", "/api/2.0/accounts/wrong-account/scim/v2/Users", 404, "Account wrong-account does not exist."},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			body := any(nil)
			if tt.method == "PATCH" {
				body = patchOps(map[string]any{"op": "replace", "path": "active", "value": "false"})
			}
			c.do(tt.method, tt.path, body).wantSCIMError(t, tt.status, "", tt.detail)
		})
	}
	uid := c.createUser("u@x.com")
	gid := c.createGroup("g")
	// An existing id of another kind is not found through the wrong resource.
	c.do("GET", c.acct("Groups/"+uid), nil).wantSCIMError(t, 404, "", "Group with id "+uid)
	c.do("GET", c.acct("Users/"+gid), nil).wantSCIMError(t, 404, "", "User with id "+gid)
	r := c.do("GET", "/api/2.0/nothing/here", nil).must(t, 404)
	if r.str("error_code") != "ENDPOINT_NOT_FOUND" {
		t.Errorf("unknown API answered %s", r.raw)
	}
}

func TestDeleteRemovesMembershipsAndAssignments(t *testing.T) {
	c := newClient(t, fast(Options{}))
	uid := c.createUser("u@x.com")
	gid := c.createGroup("g", uid)
	c.do("PUT", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments/principals/"+uid,
		map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	c.do("DELETE", c.acct("Users/"+uid), nil).must(t, 204)
	c.do("GET", c.acct("Users/"+uid), nil).must(t, 404)
	if ms := values0(c.do("GET", c.acct("Groups/"+gid), nil).must(t, 200).body, "members"); len(ms) != 0 {
		t.Errorf("deleted user still a member: %v", ms)
	}
	for _, a := range c.ts.State().Workspaces[0].Assignments {
		if a.Principal.Key == "u@x.com" {
			t.Errorf("deleted user still assigned")
		}
	}
}

func TestResponseShapes(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		create     int
		update     int
		updateBody bool
	}{
		{"defaults", Options{}, 201, 200, true},
		{"create 200, patch {}", Options{CreateStatus: 200, PatchResponse: PatchEmpty}, 200, 200, false},
		{"patch 204", Options{PatchResponse: PatchNoContent}, 201, 204, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(tt.opts))
			r := c.do("POST", c.acct("Users"), map[string]any{"userName": "u@x.com"}).must(t, tt.create)
			id := r.str("id")
			for _, req := range []struct {
				method string
				body   any
			}{
				{"PATCH", patchOps(map[string]any{"op": "replace", "path": "displayName", "value": "U"})},
				{"PUT", map[string]any{"userName": "u@x.com", "displayName": "V"}},
			} {
				r := c.do(req.method, c.acct("Users/"+id), req.body).must(t, tt.update)
				if tt.updateBody != (r.str("id") == id) {
					t.Errorf("%s body %s, want resource: %v", req.method, r.raw, tt.updateBody)
				}
				if tt.update == 200 && !tt.updateBody && string(r.raw) != "{}" {
					t.Errorf("%s body %s, want {}", req.method, r.raw)
				}
			}
			c.do("DELETE", c.acct("Users/"+id), nil).must(t, 204)
		})
	}
}

func TestPutReplaces(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace}))
	id := c.do("POST", wsp("Users"), map[string]any{
		"userName": "u@x.com", "displayName": "U", "externalId": "e1",
		"name":         map[string]string{"givenName": "U", "familyName": "X"},
		"roles":        []map[string]string{{"value": "arn:aws:iam::1:instance-profile/a"}},
		"entitlements": []map[string]string{{"value": "allow-cluster-create"}},
	}).must(t, 201).str("id")
	gid := c.do("POST", wsp("Groups"), map[string]any{"displayName": "g", "members": []map[string]string{{"value": id}}}).must(t, 201).str("id")
	r := c.do("PUT", wsp("Users/"+id), map[string]any{
		"userName": "changed@x.com", "displayName": "New", "active": false,
		"emails": []map[string]string{{"value": "changed@x.com"}},
		"groups": []map[string]string{},
	}).must(t, 200)
	if r.str("userName") != "u@x.com" || r.str("displayName") != "New" || r.body["active"] != false {
		t.Errorf("PUT result %s", r.raw)
	}
	for _, gone := range []string{"externalId", "name", "roles", "entitlements"} {
		if _, ok := r.body[gone]; ok {
			t.Errorf("PUT kept %s: %s", gone, r.raw)
		}
	}
	if gs := values0(r.body, "groups"); !contains(gs, gid) {
		t.Errorf("PUT with groups changed memberships: %v", gs)
	}
	// Group PUT replaces members and renames.
	c.do("PUT", wsp("Groups/"+gid), map[string]any{"displayName": "g2", "members": []map[string]string{}}).must(t, 200)
	g := c.do("GET", wsp("Groups/"+gid), nil).must(t, 200)
	if g.str("displayName") != "g2" || len(values0(g.body, "members")) != 0 {
		t.Errorf("group after PUT: %s", g.raw)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
