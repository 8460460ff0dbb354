package scim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// patchBody returns the Operations of the one PATCH a test server received, as JSON.
func patchBody(t *testing.T, rec *recorder) string {
	t.Helper()
	var patches []recorded
	for _, r := range rec.requests() {
		if r.Method == http.MethodPatch {
			patches = append(patches, r)
		}
	}
	if len(patches) != 1 {
		t.Fatalf("PATCH requests = %d, want 1", len(patches))
	}
	var body struct {
		Schemas    []string        `json:"schemas"`
		Operations json.RawMessage `json:"Operations"`
	}
	if err := json.Unmarshal([]byte(patches[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Schemas) != 1 || body.Schemas[0] != SchemaPatchOp {
		t.Errorf("schemas = %v", body.Schemas)
	}
	return string(body.Operations)
}

func ok200(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_, _ = io.WriteString(w, `{}`)
}

func TestPatchForms(t *testing.T) {
	type call func(c *Client) error
	ctx := context.Background()
	tests := map[string]struct {
		level model.Level
		call  call
		want  string
	}{
		"members: one add with every id, one remove per id without value": {
			call: func(c *Client) error { return c.PatchMembers(ctx, "9", []string{"1", "2"}, []string{"3", "4"}) },
			want: `[{"op":"add","path":"members","value":[{"value":"1"},{"value":"2"}]},` +
				`{"op":"remove","path":"members[value eq \"3\"]"},{"op":"remove","path":"members[value eq \"4\"]"}]`,
		},
		"user: scalars replaced, active in Terraform's account list form, roles by filter": {
			level: model.LevelAccount,
			call: func(c *Client) error {
				return c.UpdateUser(ctx, "1",
					&model.User{UserName: "a@x", DisplayName: "A", GivenName: "An", FamilyName: "Old", ExternalID: "e1", Active: true, Roles: []string{"account_admin", "r2"}, Entitlements: []string{"workspace-access"}},
					&model.User{UserName: "A@X", DisplayName: "B", GivenName: "An", FamilyName: "New", Active: false, Roles: []string{"r2", "r3"}})
			},
			want: `[{"op":"replace","path":"displayName","value":"B"},{"op":"replace","path":"name.familyName","value":"New"},` +
				`{"op":"remove","path":"externalId"},{"op":"replace","path":"active","value":[{"value":"false"}]},` +
				`{"op":"add","path":"roles","value":[{"value":"r3"}]},{"op":"remove","path":"roles[value eq \"account_admin\"]"}]`,
		},
		"user at workspace level: active as the SDK's string, entitlements added and removed": {
			level: model.LevelWorkspace,
			call: func(c *Client) error {
				return c.UpdateUser(ctx, "1",
					&model.User{Active: false, Entitlements: []string{"allow-cluster-create", "workspace-access"}},
					&model.User{Active: true, Entitlements: []string{"databricks-sql-access", "workspace-access"}})
			},
			want: `[{"op":"replace","path":"active","value":"true"},{"op":"add","path":"entitlements","value":[{"value":"databricks-sql-access"}]},` +
				`{"op":"remove","path":"entitlements","value":[{"value":"allow-cluster-create"}]}]`,
		},
		"service principal": {
			level: model.LevelWorkspace,
			call: func(c *Client) error {
				return c.UpdateServicePrincipal(ctx, "1",
					&model.ServicePrincipal{ApplicationID: "x", DisplayName: "old", Active: true},
					&model.ServicePrincipal{ApplicationID: "x", DisplayName: "new", ExternalID: "e", Active: false, Roles: []string{"r"}, Entitlements: []string{"workspace-access"}})
			},
			want: `[{"op":"replace","path":"displayName","value":"new"},{"op":"replace","path":"externalId","value":"e"},` +
				`{"op":"replace","path":"active","value":"false"},{"op":"add","path":"roles","value":[{"value":"r"}]},` +
				`{"op":"add","path":"entitlements","value":[{"value":"workspace-access"}]}]`,
		},
		"group rename and roles; members untouched": {
			level: model.LevelAccount,
			call: func(c *Client) error {
				return c.UpdateGroup(ctx, "1",
					&model.Group{DisplayName: "old", Members: model.Members{Users: []string{"a"}}},
					&model.Group{DisplayName: "new", Roles: []string{"account_admin"}, Entitlements: []string{"workspace-access"}})
			},
			want: `[{"op":"replace","path":"displayName","value":"new"},{"op":"add","path":"roles","value":[{"value":"account_admin"}]}]`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			level := tc.level
			if level == "" {
				level = model.LevelAccount
			}
			c, rec, _ := testClient(t, level, ok200, nil)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			got := patchBody(t, rec)
			var gotV, wantV any
			_ = json.Unmarshal([]byte(got), &gotV)
			if err := json.Unmarshal([]byte(tc.want), &wantV); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("operations (-want +got):\n%s\ngot %s", diff, got)
			}
		})
	}
}

func TestNoRequestWhenNothingChanges(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelWorkspace, ok200, nil)
	ctx := context.Background()
	u := &model.User{UserName: "a@x", DisplayName: "A", Active: true, Roles: []string{"b", "a"}, Entitlements: []string{"workspace-access"}}
	same := &model.User{UserName: "a@x", DisplayName: "A", Active: true, Roles: []string{"a", "b", "a"}, Entitlements: []string{"workspace-access"}}
	g := &model.Group{DisplayName: "g", Roles: []string{"r"}}
	p := &model.ServicePrincipal{ApplicationID: "x", DisplayName: "p", Active: true}
	for _, err := range []error{
		c.UpdateUser(ctx, "1", u, same),
		c.UpdateGroup(ctx, "1", g, &model.Group{DisplayName: "g", Roles: []string{"r"}, Members: model.Members{Users: []string{"z"}}}),
		c.UpdateServicePrincipal(ctx, "1", p, p),
		c.PatchMembers(ctx, "1", nil, nil),
		c.PatchWorkspaceEntitlements(ctx, model.Workspace{ID: "5"}, model.KindUser, "1", nil, nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("requests = %d, want none", n)
	}
	if u.Roles[0] != "b" {
		t.Error("UserOps reordered the caller's roles")
	}
	// At account level, entitlement differences are not the user's to patch.
	ca, reca, _ := testClient(t, model.LevelAccount, ok200, nil)
	if err := ca.UpdateUser(ctx, "1", &model.User{Active: true}, &model.User{Active: true, Entitlements: []string{"workspace-access"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(reca.requests()); n != 0 {
		t.Errorf("account-level entitlement diff sent %d requests, want none", n)
	}
}

func TestCreateBodies(t *testing.T) {
	var bodies []map[string]any
	route := func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		bodies = append(bodies, m)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"5","applicationId":"11111111-2222-3333-4444-555555555555"}`)
	}
	c, _, _ := testClient(t, model.LevelAccount, route, func(cfg *Config) { cfg.MaxInFlight = 1 })
	ctx := context.Background()
	if id, err := c.CreateUser(ctx, &model.User{UserName: "a@x", GivenName: "A", Active: false, Entitlements: []string{"workspace-access"}}); err != nil || id != "5" {
		t.Fatalf("CreateUser = %q, %v", id, err)
	}
	if id, app, err := c.CreateServicePrincipal(ctx, &model.ServicePrincipal{DisplayName: "sp", Active: true}); err != nil || id != "5" || app != "11111111-2222-3333-4444-555555555555" {
		t.Fatalf("CreateServicePrincipal = %q, %q, %v", id, app, err)
	}
	if id, err := c.CreateGroup(ctx, &model.Group{DisplayName: "g", Members: model.Members{Users: []string{"a@x"}}}); err != nil || id != "5" {
		t.Fatalf("CreateGroup = %q, %v", id, err)
	}
	want := []map[string]any{
		{"schemas": []any{SchemaUser}, "userName": "a@x", "name": map[string]any{"givenName": "A"}, "active": false},
		{"schemas": []any{SchemaServicePrincipal}, "displayName": "sp", "active": true},
		{"schemas": []any{SchemaGroup}, "displayName": "g"},
	}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("create bodies (-want +got):\n%s", diff)
	}
}
