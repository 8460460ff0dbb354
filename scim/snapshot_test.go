package scim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// snapshotServer serves a small account: lists answer on the first page only, the
// workspace tree answers entitlements for workspace 1001, and groups come without members
// in the list.
func snapshotServer(t *testing.T) http.HandlerFunc {
	acct := "/api/2.0/accounts/" + testAccount
	list := func(w http.ResponseWriter, r *http.Request, resources string) {
		if r.URL.Query().Get("startIndex") != "1" {
			resources = "[]"
		}
		var n []json.RawMessage
		if err := json.Unmarshal([]byte(resources), &n); err != nil {
			t.Errorf("fixture %s: %v", resources, err)
		}
		_, _ = io.WriteString(w, `{"startIndex":1,"totalResults":`+strconv.Itoa(len(n))+`,"Resources":`+resources+`}`)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ws := r.Header.Get(HeaderWorkspaceID)
		if ws != "" {
			t.Errorf("%s %s sent %s %s", r.Method, r.URL, HeaderWorkspaceID, ws)
		}
		if r.Host == "dbc-1001.test.invalid" {
			ws = "1001"
		}
		switch p := r.URL.Path; {
		case p == acct+"/scim/v2/Users" && ws == "":
			list(w, r, `[{"id":"1","userName":"Ann@Example.com","displayName":"Ann A","name":{"givenName":"Ann","familyName":"A"},"active":true,"roles":[{"value":"account_admin"}]},
				{"id":"2","userName":"bob@example.com","active":false,"externalId":"e-bob"}]`)
		case p == acct+"/scim/v2/ServicePrincipals" && ws == "":
			list(w, r, `[{"id":"3","applicationId":"AAAAAAAA-0000-4000-8000-000000000003","displayName":"deployer","active":true}]`)
		case p == acct+"/scim/v2/Groups" && ws == "":
			list(w, r, `[{"id":"10","displayName":"eng","meta":{"resourceType":"Group"}},
				{"id":"11","displayName":"platform","roles":[{"value":"account_admin"}]},
				{"id":"12","displayName":"account users"}]`)
		case strings.HasPrefix(p, acct+"/scim/v2/Groups/") && ws == "":
			members := map[string]string{
				"10": `[{"value":"1","$ref":"Users/1"},{"value":"3","$ref":"ServicePrincipals/3"},{"value":"11","$ref":"Groups/11"},{"value":"999"}]`,
				"11": `[{"value":"2"}]`,
				"12": `[{"value":"1"},{"value":"2"}]`,
			}[strings.TrimPrefix(p, acct+"/scim/v2/Groups/")]
			_, _ = io.WriteString(w, `{"members":`+members+`}`)
		case p == acct+"/workspaces/1001/permissionassignments":
			_, _ = io.WriteString(w, `{"permission_assignments":[
				{"principal":{"principal_id":1,"user_name":"ann@example.com"},"permissions":["USER","ADMIN"]},
				{"principal":{"principal_id":10,"group_name":"eng"},"permissions":["USER"]},
				{"principal":{"principal_id":3,"service_principal_name":"aaaaaaaa-0000-4000-8000-000000000003"},"permissions":["USER"]},
				{"principal":{"principal_id":77,"group_name":"ws-local"},"permissions":["USER"]},
				{"principal":{"principal_id":78},"permissions":["USER"],"error":"principal not found"}]}`)
		case p == "/api/2.0/preview/scim/v2/Users" && ws == "1001":
			list(w, r, `[{"id":"1","entitlements":[{"value":"workspace-access"},{"value":"allow-cluster-create"}]},{"id":"2"}]`)
		case p == "/api/2.0/preview/scim/v2/ServicePrincipals" && ws == "1001":
			list(w, r, `[{"id":"3","entitlements":[{"value":"databricks-sql-access"}]}]`)
		case p == "/api/2.0/preview/scim/v2/Groups" && ws == "1001":
			list(w, r, `[{"id":"10","entitlements":[{"value":"workspace-access"}]},{"id":"500","entitlements":[{"value":"workspace-access"}]}]`)
		default:
			t.Errorf("unexpected request %s %s (workspace %q)", r.Method, r.URL, ws)
			scimError(w, 404, "no route")
		}
	}
}

func TestSnapshotAccount(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, snapshotServer(t), withWorkspaceHost)
	st, err := c.Snapshot(context.Background(), []model.Workspace{{ID: "1001", Host: testWorkspaceHost}})
	if err != nil {
		t.Fatal(err)
	}
	sp := "aaaaaaaa-0000-4000-8000-000000000003"
	want := &model.State{
		Users: []model.User{
			{ID: "1", UserName: "Ann@Example.com", DisplayName: "Ann A", GivenName: "Ann", FamilyName: "A", Active: true, Roles: []string{"account_admin"}},
			{ID: "2", UserName: "bob@example.com", ExternalID: "e-bob", Active: false},
		},
		ServicePrincipals: []model.ServicePrincipal{{ID: "3", ApplicationID: "AAAAAAAA-0000-4000-8000-000000000003", DisplayName: "deployer", Active: true}},
		Groups: []model.Group{
			{ID: "12", DisplayName: "account users", Members: model.Members{Users: []string{"ann@example.com", "bob@example.com"}}},
			{ID: "10", DisplayName: "eng", Members: model.Members{Users: []string{"ann@example.com"}, Groups: []string{"platform"}, ServicePrincipals: []string{sp}}},
			{ID: "11", DisplayName: "platform", Roles: []string{"account_admin"}, Members: model.Members{Users: []string{"bob@example.com"}}},
		},
		Workspaces: []model.Workspace{{
			ID: "1001", Host: testWorkspaceHost,
			Assignments: []model.Assignment{
				{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER"},
				{Principal: model.Ref{Kind: model.KindGroup, Key: "ws-local"}, Permission: "USER"},
				{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: sp}, Permission: "USER"},
				{Principal: model.Ref{Kind: model.KindUser, Key: "ann@example.com"}, Permission: "ADMIN"},
			},
			Entitlements: []model.PrincipalEntitlements{
				{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Entitlements: []string{"workspace-access"}},
				{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: sp}, Entitlements: []string{"databricks-sql-access"}},
				{Principal: model.Ref{Kind: model.KindUser, Key: "ann@example.com"}, Entitlements: []string{"allow-cluster-create", "workspace-access"}},
			},
		}},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	// 3 lists of one page, 3 member reads, 1 assignment list, 3 workspace lists of one
	// page: totalResults says each first page is all there is.
	if n := len(rec.requests()); n != 10 {
		t.Errorf("requests = %d, want 10", n)
	}
}

func TestSnapshotWorkspace(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("startIndex") != "1" {
			_, _ = io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
			return
		}
		if !strings.Contains(q.Get("attributes"), "entitlements") {
			t.Errorf("%s: workspace lists must ask for entitlements, got attributes=%s", r.URL.Path, q.Get("attributes"))
		}
		var body any
		switch strings.TrimPrefix(r.URL.Path, "/api/2.0/preview/scim/v2/") {
		case "Users":
			body = map[string]any{"startIndex": 1, "totalResults": 1, "Resources": []User{{ID: "1", UserName: "a@x", Entitlements: []ComplexValue{{Value: "workspace-access"}}}}}
		case "ServicePrincipals":
			body = map[string]any{"startIndex": 1, "totalResults": 0, "Resources": []ServicePrincipal{}}
		case "Groups":
			// A workspace list that includes members: no per-group reads.
			body = map[string]any{"startIndex": 1, "totalResults": 2, "Resources": []Group{
				{ID: "5", DisplayName: "admins", Members: []ComplexValue{{Value: "1"}}, Meta: &Meta{ResourceType: "WorkspaceGroup"}},
				{ID: "6", DisplayName: "data", Entitlements: []ComplexValue{{Value: "databricks-sql-access"}}, Meta: &Meta{ResourceType: "Group"}},
			}}
		}
		_ = json.NewEncoder(w).Encode(body)
	}, nil)
	st, err := c.Snapshot(context.Background(), []model.Workspace{{ID: "ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &model.State{
		Users: []model.User{{ID: "1", UserName: "a@x", Active: true, Entitlements: []string{"workspace-access"}}},
		Groups: []model.Group{
			{ID: "5", DisplayName: "admins", Members: model.Members{Users: []string{"a@x"}}},
			{ID: "6", DisplayName: "data", Entitlements: []string{"databricks-sql-access"}, AccountManaged: true}, // meta.resourceType "Group"
		},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if n := len(rec.requests()); n != 3 {
		t.Errorf("requests = %d, want 3 (one page each: totalResults says it is all)", n)
	}
}
