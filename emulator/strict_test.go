package emulator

import (
	"encoding/json"
	"github.com/scimsync/scimsync/model"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// send is do with explicit Content-Type and Accept headers ("" leaves one out).
func (c *client) send(method, path, contentType, accept, body string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.ts.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.ws != "" {
		req.Header.Set(HeaderWorkspaceID, c.ws)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

const userBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`

// TestStrictMediaTypes: bodies must be JSON and answers must be allowed to be JSON; a POST
// as text/plain is not created (issue 13).
func TestStrictMediaTypes(t *testing.T) {
	tests := []struct {
		name, contentType, accept string
		status                    int
	}{
		{"SDK: application/json", "application/json", "application/json", 201},
		{"Terraform: scim+json with charset", "application/scim+json; charset=utf-8", "", 201},
		{"upper case", "Application/JSON", "*/*", 201},
		{"text/plain", "text/plain", "", 415},
		{"no Content-Type", "", "", 415},
		{"form", "application/x-www-form-urlencoded", "", 415},
		{"Accept html only", "application/json", "text/html", 406},
		{"Accept json with q=0", "application/json", "application/json;q=0, text/html", 406},
		{"Accept wildcard", "application/json", "text/html, application/*;q=0.5", 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(Options{}))
			r := c.send("POST", c.acct("Users"), tt.contentType, tt.accept, userBody)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %v", r.status, tt.status, r.body)
			}
			if tt.status != 201 && len(c.ts.State().Users) != 1 { // only the token's owner
				t.Errorf("a refused create was committed")
			}
		})
	}
	t.Run("lenient accepts text/plain", func(t *testing.T) {
		c := newClient(t, fast(Options{Lenient: true}))
		c.send("POST", c.acct("Users"), "text/plain", "text/html", userBody).must(t, 201)
	})
	t.Run("assignment PUT as text/plain", func(t *testing.T) {
		c := newClient(t, fast(Options{}))
		id := c.createUser("a@x.com")
		r := c.send("PUT", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments/principals/"+id, "text/plain", "", `{"permissions":["USER"]}`)
		if r.status != 415 || r.body["error_code"] == nil {
			t.Errorf("status %d body %v, want 415 with a REST error", r.status, r.body)
		}
		r = c.send("PUT", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments/principals/"+id, "application/json", "", `{"permissions":["USER"],"extra":1}`)
		if r.status != 400 {
			t.Errorf("unknown field in an assignment PUT: status %d, want 400", r.status)
		}
	})
}

// TestStrictResourceBodies: schemas required, unknown fields and wrongly typed values
// refused with the documented invalidSyntax text (§4.2).
func TestStrictResourceBodies(t *testing.T) {
	const unparsable = "Request is unparsable, syntactically incorrect, or violates schema."
	tests := []struct {
		name, path, body string
		opts             Options
		status           int
		detail           string
	}{
		{"documented user", "Users", userBody, Options{}, 201, ""},
		{"workspace extension schema too", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:workspace:2.0:User"],"userName":"a@x.com"}`, Options{}, 201, ""},
		{"no schemas", "Users", `{"userName":"a@x.com"}`, Options{}, 400, "has no schemas"},
		{"no schemas, SchemalessResources", "Users", `{"userName":"a@x.com"}`, Options{SchemalessResources: true}, 201, ""},
		{"no schemas, lenient", "Users", `{"userName":"a@x.com"}`, Options{Lenient: true}, 201, ""},
		{"the group schema on a user", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"a@x.com"}`, Options{}, 400, "Unsupported schema"},
		{"unknown field", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","nickName":"a"}`, Options{}, 400, unparsable},
		{"unknown field, lenient", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","nickName":"a"}`, Options{Lenient: true}, 201, ""},
		{"applicationId on a user", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","applicationId":"x"}`, Options{}, 400, unparsable},
		{"unknown nested field", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","name":{"givenName":"A","middleName":"B"}}`, Options{}, 400, unparsable},
		{"active as a string", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","active":"false"}`, Options{}, 400, unparsable},
		{"member as a bare string", "Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":["1"]}`, Options{}, 400, unparsable},
		{"members on a service principal", "ServicePrincipals", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"],"displayName":"sp","members":[]}`, Options{}, 400, unparsable},
		{"read-only fields echoed back are fine", "Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"5","displayName":"g","meta":{"resourceType":"Group"},"groups":[]}`, Options{}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(tt.opts))
			r := c.send("POST", c.acct(tt.path), "application/scim+json", "", tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %v", r.status, tt.status, r.body)
			}
			if tt.detail != "" && !strings.Contains(r.str("detail"), tt.detail) {
				t.Errorf("detail %q, want %q", r.str("detail"), tt.detail)
			}
		})
	}
	t.Run("PUT is checked too", func(t *testing.T) {
		c := newClient(t, fast(Options{}))
		id := c.createUser("a@x.com")
		c.send("PUT", c.acct("Users/"+id), "application/json", "", `{"userName":"a@x.com","active":true}`).wantSCIMError(t, 400, "invalidSyntax", "has no schemas")
		c.send("PUT", c.acct("Users/"+id), "application/json", "", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","active":true}`).must(t, 200)
	})
}

// TestStrictPatchForms: the deactivate forms sources document are accepted and the JSON
// boolean no source documents is refused (§4.2 item 6); PatchOps need their schema.
func TestStrictPatchForms(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		c := newClient(t, fast(Options{Lenient: lenient}))
		id := c.createUser("a@x.com")
		for _, v := range []any{"false", []map[string]string{{"value": "false"}}} {
			c.do("PATCH", c.acct("Users/"+id), patchOps(map[string]any{"op": "replace", "path": "active", "value": v})).must(t, 200)
		}
		r := c.do("PATCH", c.acct("Users/"+id), patchOps(map[string]any{"op": "replace", "path": "active", "value": true}))
		if lenient {
			r.must(t, 200)
		} else {
			r.wantSCIMError(t, 400, "invalidSyntax", "Request is unparsable")
		}
		r = c.do("PATCH", c.acct("Users/"+id), map[string]any{"Operations": []map[string]any{{"op": "replace", "path": "active", "value": "false"}}})
		if lenient {
			r.must(t, 200)
		} else {
			r.wantSCIMError(t, 400, "invalidSyntax", "has no schemas")
		}
	}
}

// TestStrictRemoveKeepsTerraformsEntitlementRemove: with StrictRemove on a workspace tree,
// a member remove with a value is refused but Terraform's entitlement remove with a value
// list, the documented form (§4.2 item 5), is accepted. Before, it was refused, and 25 of 30
// convergence seeds failed with StrictRemove on.
func TestStrictRemoveKeepsTerraformsEntitlementRemove(t *testing.T) {
	c := newClient(t, fast(Options{StrictRemove: true})).inWorkspace("1001")
	uid := c.do("POST", wsp("Users"), map[string]any{"userName": "a@x.com", "entitlements": []map[string]string{{"value": "workspace-access"}, {"value": "databricks-sql-access"}}}).must(t, 201).str("id")
	c.do("PATCH", wsp("Users/"+uid), patchOps(map[string]any{"op": "remove", "path": "entitlements", "value": []map[string]string{{"value": "workspace-access"}}})).must(t, 200)
	if got := values0(c.do("GET", wsp("Users/"+uid), nil).must(t, 200).body, "entitlements"); len(got) != 1 || got[0] != "databricks-sql-access" {
		t.Errorf("entitlements %v", got)
	}
	gid := c.do("POST", wsp("Groups"), map[string]any{"displayName": "g", "members": []map[string]string{{"value": uid}}}).must(t, 201).str("id")
	c.do("PATCH", wsp("Groups/"+gid), patchOps(map[string]any{"op": "remove", "path": "members", "value": []map[string]string{{"value": uid}}})).
		wantSCIMError(t, 400, "", `Unrecognized field "value"`)
}

// TestRemoveAbsent: a filtered remove that matches nothing is a no-op by default and RFC
// 7644's 400 noTarget with RemoveAbsentFails (an UNKNOWN run both ways).
func TestRemoveAbsent(t *testing.T) {
	for _, fails := range []bool{false, true} {
		c := newClient(t, fast(Options{RemoveAbsentFails: fails}))
		uid := c.createUser("a@x.com")
		gid := c.createGroup("g", uid)
		remove := patchOps(map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`})
		c.do("PATCH", c.acct("Groups/"+gid), remove).must(t, 200)
		r := c.do("PATCH", c.acct("Groups/"+gid), remove)
		roleRemove := c.do("PATCH", c.acct("Users/"+uid), patchOps(map[string]any{"op": "remove", "path": `roles[value eq "account_admin"]`}))
		if fails {
			r.wantSCIMError(t, 400, "noTarget", "No values match")
			roleRemove.wantSCIMError(t, 400, "noTarget", "No values match")
		} else {
			r.must(t, 200)
			roleRemove.must(t, 200)
		}
	}
}

// TestWhatARealClientExpects: /Me for a service principal answers userName = its
// applicationId, client ids are UUIDs, the legacy X-Databricks-Org-Id header routes a
// workspace call, and OIDC discovery uses the scheme the client used (issue 13).
func TestWhatARealClientExpects(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if !uuid.MatchString(DefaultClientID) {
		t.Errorf("DefaultClientID %q is not a UUID", DefaultClientID)
	}
	// The legacy header addresses a workspace on a unified host (§1.4, UnifiedHost).
	c := newClient(t, fast(Options{UnifiedHost: true}))
	_, body := fetchToken(t, c.ts.URL+"/oidc/accounts/"+DefaultAccountID+"/v1/token", true, DefaultClientID, DefaultClientSecret)
	c.token = body["access_token"].(string)
	req, _ := http.NewRequest("GET", c.ts.URL+wsp("Me"), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Databricks-Org-Id", "1002")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Databricks-Org-Id") != "1002" {
		t.Fatalf("legacy header: status %d, org %q", resp.StatusCode, resp.Header.Get("X-Databricks-Org-Id"))
	}
	if me["userName"] != DefaultClientID || me["schemas"].([]any)[0] != "urn:ietf:params:scim:schemas:core:2.0:User" {
		t.Errorf("/Me for the service principal = %v, want a user-shaped object with userName %s", me, DefaultClientID)
	}

	tls := httptest.NewTLSServer(New(fast(Options{Level: model.LevelWorkspace})))
	defer tls.Close()
	resp, err = tls.Client().Get(tls.URL + "/oidc/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if !strings.HasPrefix(meta["token_endpoint"], "https://") {
		t.Errorf("discovery over TLS answered %q", meta["token_endpoint"])
	}
}
