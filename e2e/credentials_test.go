package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// writes returns the requests that could have changed the account.
func writes(srv *emulator.TestServer) []emulator.Request {
	var out []emulator.Request
	for _, r := range srv.Requests() {
		if isWrite(r) {
			out = append(out, r)
		}
	}
	return out
}

// TestAccountSCIMTokenNeedsWorkspaceAPIs: the account SCIM token works only on the account
// SCIM API (reference §7), and the example organisation needs permission assignments and
// each workspace's SCIM API: apply fails before any write, listing each API with its fix.
func TestAccountSCIMTokenNeedsWorkspaceAPIs(t *testing.T) {
	a := newAccount(t, emulator.Options{Tokens: []emulator.TokenSpec{{Kind: emulator.TokenAccountSCIM, Value: "scim-provisioning-token"}}}, nil)
	a.env = append(withoutCredentials(a.env), "DATABRICKS_TOKEN=scim-provisioning-token")
	r := a.run(t, "apply", "--auto-approve")
	if r.code != 1 {
		t.Fatalf("apply: %s", r)
	}
	for _, want := range []string{
		"error: the credentials (a token at account level) cannot do what the config needs; nothing was planned or changed:",
		"workspace 1234567890123456 assignments at", "the SCIM API of workspace 2345678901234567 at https://northwind-ml.cloud.databricks.com",
		"the account SCIM token only on the account SCIM API", "hint: fix the permissions or credentials above",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "the account SCIM API at") {
		t.Errorf("the account SCIM API, which the token may use, was reported:\n%s", r.stderr)
	}
	if w := writes(a.srv); len(w) != 0 {
		t.Errorf("%d writes before the failure: %+v", len(w), w)
	}
}

// TestOAuthWithoutWorkspaceAdmin: a service principal that is only a USER of one declared
// workspace cannot read entitlements or change identities there: apply fails before any
// write and says what to assign.
func TestOAuthWithoutWorkspaceAdmin(t *testing.T) {
	a := newAccount(t, emulator.Options{}, nil)
	sp := lookupID(t, a.srv, "ServicePrincipals", `applicationId eq "`+a.srv.Options().ClientID+`"`)
	put(t, a.srv, "/api/2.0/accounts/"+emulator.DefaultAccountID+"/workspaces/2345678901234567/permissionassignments/principals/"+sp, `{"permissions":["USER"]}`)
	a.srv.Reset()
	r := a.run(t, "apply", "--auto-approve")
	if r.code != 1 {
		t.Fatalf("apply: %s", r)
	}
	want := "  - the SCIM API of workspace 2345678901234567 at https://northwind-ml.cloud.databricks.com: the identity is not a workspace admin there"
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "assign the identity ADMIN in this workspace") || strings.Contains(r.stderr, "workspace 1234567890123456") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if w := writes(a.srv); len(w) != 0 {
		t.Errorf("%d writes before the failure: %+v", len(w), w)
	}
}

// TestPATOwnerProtectedAndRevoked: at workspace level a personal access token's owner is
// found through /Me and never planned for deactivation, though no manifest declares it;
// once someone deactivates the owner, the token fails (issue 12 point 2).
func TestPATOwnerProtectedAndRevoked(t *testing.T) {
	a := startAccount(t, emulator.Options{Level: "workspace", TokenKind: emulator.TokenPAT})
	owner := a.srv.Options().MeUserName
	a.env = append(withoutCredentials(a.env), "DATABRICKS_TOKEN="+a.srv.Options().Token)
	a.write(t, map[string]string{
		// The OAuth client's service principal is listed: this test is about the token's owner.
		"scimsync.yaml": "target:\n  level: workspace\nsources:\n  - kind: yaml\n    path: users.yaml\npolicy:\n  protected:\n    servicePrincipals: [" + a.srv.Options().ClientID + "]\napply:\n  rateLimit: 1000\n",
		"users.yaml":    "users:\n  - userName: ada@northwind.example\n",
	})
	r := a.run(t, "apply", "--auto-approve")
	// No change names the owner; the review section lists it as protected ("= user ...").
	changed := regexp.MustCompile(`(?m)^  [+~!-] user ` + regexp.QuoteMeta(owner))
	if r.code != 0 || !strings.Contains(r.stdout, "Protected: ") || !strings.Contains(r.stdout, "user:"+owner) || changed.MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "  = user "+owner+": protected: never changed") {
		t.Fatalf("apply: the token's owner must be protected and unchanged: %s", r)
	}
	id := lookupID(t, a.srv, "Users", `userName eq "`+owner+`"`)
	patch(t, a.srv, "/api/2.0/preview/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"false"}]}`)
	r = a.run(t, "plan")
	if r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Errorf("plan with the deactivated owner's token: %s", r)
	}
}

// withoutCredentials drops the OAuth settings from an environment.
func withoutCredentials(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DATABRICKS_CLIENT_") && !strings.HasPrefix(kv, "DATABRICKS_TOKEN=") {
			out = append(out, kv)
		}
	}
	return out
}

// emulatorCall sends one request to srv as its OAuth service principal, which is an
// account admin and an admin of every workspace (its first workspace's host at account
// level for workspace paths).
func emulatorCall(t *testing.T, srv *emulator.TestServer, method, path, body string) []byte {
	t.Helper()
	o := srv.Options()
	tokenURL, host := srv.URL+"/oidc/accounts/"+o.AccountID+"/v1/token", ""
	if o.Level == "workspace" {
		tokenURL = srv.URL + "/oidc/v1/token"
	} else if strings.HasPrefix(path, "/api/2.0/preview/") {
		host = strings.TrimPrefix(srv.WorkspaceHost(o.Workspaces[0]), "https://")
		tokenURL = srv.URL + "/oidc/v1/token"
	}
	do := func(req *http.Request) []byte {
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, buf.String())
		}
		return buf.Bytes()
	}
	treq, _ := http.NewRequest("POST", tokenURL, strings.NewReader("grant_type=client_credentials&scope=all-apis"))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(o.ClientID, o.ClientSecret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(do(treq), &tok)
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/scim+json")
	return do(req)
}

func put(t *testing.T, srv *emulator.TestServer, path, body string) {
	t.Helper()
	emulatorCall(t, srv, "PUT", path, body)
}

func patch(t *testing.T, srv *emulator.TestServer, path, body string) {
	t.Helper()
	emulatorCall(t, srv, "PATCH", path, body)
}

// lookupID finds the SCIM id of the one resource a filter matches, through the account
// tree at account level and the workspace tree at workspace level.
func lookupID(t *testing.T, srv *emulator.TestServer, resource, filter string) string {
	t.Helper()
	base := "/api/2.0/accounts/" + srv.Options().AccountID + "/scim/v2/"
	if srv.Options().Level == "workspace" {
		base = "/api/2.0/preview/scim/v2/"
	}
	var list struct {
		Resources []struct {
			ID string `json:"id"`
		}
	}
	raw := emulatorCall(t, srv, "GET", base+resource+"?filter="+strings.ReplaceAll(strings.ReplaceAll(filter, " ", "%20"), `"`, "%22"), "")
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Resources) != 1 {
		t.Fatalf("%s %s: %s", resource, filter, raw)
	}
	return list.Resources[0].ID
}

// TestBlockedUserNameChange: a userName change Databricks cannot make is shown as blocked,
// the plan never says the state matches, and plan --detailed-exitcode exits 2, as drift
// does (issue 12 point 5).
func TestBlockedUserNameChange(t *testing.T) {
	a := newAccount(t, emulator.Options{}, map[string]string{"u.yaml": "users:\n  - userName: ann.jones@northwind.example\n    externalId: emp-4242\n"})
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	a.write(t, map[string]string{"extra/u.yaml": "users:\n  - userName: ann.smith@northwind.example\n    externalId: emp-4242\n"})
	r := a.run(t, "plan", "--detailed-exitcode")
	if r.code != 2 || strings.Contains(r.stdout, "matches the desired state") || !strings.Contains(r.stdout, "No changes can be made. The live state does not match the desired state: 1 difference blocked") ||
		!strings.Contains(r.stdout, "Blocked:\n  - user ann.jones@northwind.example: userName would change to ann.smith@northwind.example") {
		t.Errorf("plan: %s", r)
	}
	if r := a.run(t, "drift"); r.code != 2 {
		t.Errorf("drift disagrees with plan: %s", r)
	}
}

// TestAdminGuard: a plan that leaves fewer than policy.guards.minAdmins account admins,
// or deactivates an account admin, is refused and shown; --allow-admin-removal lets it
// through (issue 12 point 4).
func TestAdminGuard(t *testing.T) {
	a := startAccount(t, emulator.Options{})
	conf := func(minAdmins int) string {
		return fmt.Sprintf("target:\n  level: account\nsources:\n  - kind: yaml\n    path: ids.yaml\npolicy:\n  guards: {minAdmins: %d, maxRemovalPercent: 0}\n  protected:\n    users: [%s]\n    servicePrincipals: [%s]\napply:\n  rateLimit: 1000\n",
			minAdmins, exampleAdmin, a.srv.Options().ClientID)
	}
	ids := func(members string, users ...string) string {
		s := "users:\n"
		for _, u := range users {
			s += "  - userName: " + u + "\n"
		}
		return s + "groups:\n  - displayName: account-admins\n    roles: [account_admin]\n    members:\n      users: [" + members + "]\n"
	}
	// Four account admins: the emulator's two token owners, ada and bob.
	a.write(t, map[string]string{"scimsync.yaml": conf(4), "ids.yaml": ids("ada@northwind.example, bob@northwind.example", "ada@northwind.example", "bob@northwind.example")})
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	// Taking bob out of the admins group leaves three.
	a.write(t, map[string]string{"ids.yaml": ids("ada@northwind.example", "ada@northwind.example", "bob@northwind.example")})
	a.srv.Reset()
	r := a.run(t, "apply", "--auto-approve")
	if r.code != 1 || !strings.Contains(r.stderr, "error: plan refused by the admin guard: it leaves 3 active account admins (policy.guards.minAdmins is 4)") ||
		!strings.Contains(r.stderr, "--allow-admin-removal") || !strings.Contains(r.stdout, "group account-admins: remove 1 member") {
		t.Errorf("apply under the admin guard: %s", r)
	}
	if w := writes(a.srv); len(w) != 0 {
		t.Errorf("%d writes by a refused plan", len(w))
	}
	if r := a.run(t, "apply", "--auto-approve", "--allow-admin-removal"); r.code != 0 || !strings.Contains(r.stdout, "admin guard overridden") {
		t.Errorf("apply with the override: %s", r)
	}
	// Deactivating an account admin is refused whatever minAdmins says.
	a.write(t, map[string]string{"scimsync.yaml": conf(0), "ids.yaml": ids("", "bob@northwind.example")})
	r = a.run(t, "plan")
	if r.code != 1 || !strings.Contains(r.stderr, "it deactivates or deletes user:ada@northwind.example, which holds account_admin") {
		t.Errorf("plan deactivating an admin: %s", r)
	}
	if r := a.run(t, "plan", "--allow-admin-removal"); r.code != 0 || !strings.Contains(r.stdout, "! user ada@northwind.example: deactivate") {
		t.Errorf("plan with the override: %s", r)
	}
}

// TestFederatedWorkspaceLevel: a workspace-level config on an identity-federated workspace
// (the workspace's own host of the account emulator, whose Groups list mixes account groups
// with the workspace's own) never deletes, renames or changes the members of an account
// group, may reference it, and blocks a user displayName change the workspace API refuses
// (issue 12 point 3; reference §2.3, §2.4).
func TestFederatedWorkspaceLevel(t *testing.T) {
	a := startAccount(t, emulator.Options{})
	ws := exampleWorkspaces[0]
	if _, err := a.srv.Seed(&model.State{
		// cy is declared nowhere: an account principal, which only the account may deactivate.
		Users: []model.User{{UserName: "ann@northwind.example", DisplayName: "Ann", Active: true}, {UserName: "bo@northwind.example", DisplayName: "Bo", Active: true},
			{UserName: "cy@northwind.example", DisplayName: "Cy", Active: true}},
		Groups: []model.Group{
			{DisplayName: "eng", Members: model.Members{Users: []string{"ann@northwind.example", "bo@northwind.example"}}},
			{DisplayName: "finance", Members: model.Members{Users: []string{"bo@northwind.example", "cy@northwind.example"}}},
		},
		Workspaces: []model.Workspace{{ID: ws, Assignments: []model.Assignment{
			{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: model.PermissionUser},
			{Principal: model.Ref{Kind: model.KindGroup, Key: "finance"}, Permission: model.PermissionUser}}}},
	}); err != nil {
		t.Fatal(err)
	}
	a.env = append(withoutHost(a.env), "DATABRICKS_HOST="+exampleHosts[ws])
	a.write(t, map[string]string{
		"scimsync.yaml": "target:\n  level: workspace\nsources:\n  - kind: yaml\n    path: ids.yaml\npolicy:\n  protected:\n    users: [" + exampleAdmin + "]\napply:\n  rateLimit: 1000\n",
		// eng is declared with other members and finance not at all; ws-team is the
		// workspace's own and has the account group eng as a member; Ann's new name
		// cannot be set from the workspace.
		"ids.yaml": "users:\n  - userName: ann@northwind.example\n    displayName: Ann Lee\n  - userName: bo@northwind.example\n    displayName: Bo\n" +
			"groups:\n  - displayName: eng\n    members:\n      users: [ann@northwind.example]\n  - displayName: ws-team\n    members:\n      groups: [eng]\n",
	})
	r := a.run(t, "plan", "-o", "plan.json", "--format", "json")
	if r.code != 0 {
		t.Fatalf("plan: %s", r)
	}
	var p struct {
		Changes []struct {
			Action, Kind, Key string
		}
		Blocked []struct{ Kind, Key, Reason string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	var created bool
	for _, c := range p.Changes {
		if c.Kind == "group" && (c.Key == "eng" || c.Key == "finance") {
			t.Errorf("a change to account group %s: %+v", c.Key, c)
		}
		if c.Kind == "user" && c.Action != "update" {
			t.Errorf("an account user changed through the workspace: %+v", c)
		}
		created = created || (c.Action == "create" && c.Key == "ws-team")
	}
	if !created {
		t.Errorf("the workspace group was not planned: %+v", p.Changes)
	}
	if len(p.Blocked) != 1 || p.Blocked[0].Key != "ann@northwind.example" || !strings.Contains(p.Blocked[0].Reason, "identity-federated") {
		t.Errorf("blocked = %+v", p.Blocked)
	}
	a.srv.Reset()
	if r := a.run(t, "apply", "plan.json"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	for _, req := range a.srv.Requests() {
		if isWrite(req) && strings.Contains(req.Path, "/Groups/") && req.Status >= 400 {
			t.Errorf("the workspace API refused %s %s: %d", req.Method, req.Path, req.Status)
		}
	}
	r = a.run(t, "drift")
	if !strings.Contains(r.stdout, "managed at account level") {
		t.Errorf("drift does not say the account groups are managed at account level: %s", r)
	}
}

// withoutHost drops DATABRICKS_HOST and DATABRICKS_ACCOUNT_ID from an environment.
func withoutHost(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DATABRICKS_HOST=") && !strings.HasPrefix(kv, "DATABRICKS_ACCOUNT_ID=") {
			out = append(out, kv)
		}
	}
	return out
}
