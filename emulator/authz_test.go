package emulator

import (
	"testing"
)

func TestAuthorization(t *testing.T) {
	c := newClient(t, fast(Options{AccountSCIMToken: "scim-token"}))
	_, body := fetchToken(t, c.ts.URL+"/oidc/accounts/"+DefaultAccountID+"/v1/token", true, DefaultClientID, DefaultClientSecret)
	acctOAuth := *c
	acctOAuth.token = body["access_token"].(string)
	spID := c.do("GET", c.acct("ServicePrincipals")+"?filter="+q(`applicationId eq "`+DefaultClientID+`"`), nil).must(t, 200).list()[0]["id"].(string)
	meID := c.do("GET", c.acct("Users")+"?filter="+q(`userName eq "`+DefaultMeUserName+`"`), nil).must(t, 200).list()[0]["id"].(string)

	// A workspace where the service principal is only a USER: it may read /Me, Users and
	// Groups there, and nothing else (§1.2).
	c.do("PUT", assignPath("1002", "/principals/"+spID), map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	wsHost := hostName(c.ts.WorkspaceHost("1002"))
	_, wsBody := fetchTokenAt(t, c.ts.URL+"/oidc/v1/token", wsHost, true, DefaultClientID, DefaultClientSecret)
	sp := c.inWorkspace("1002")
	sp.token = wsBody["access_token"].(string)
	sp.do("GET", wsp("Me"), nil).must(t, 200)
	sp.do("GET", wsp("Users")+"?count=1", nil).must(t, 200)
	sp.do("GET", wsp("Groups")+"?count=1", nil).must(t, 200)
	sp.do("GET", wsp("ServicePrincipals")+"?count=1", nil).wantSCIMError(t, 403, "", "Only workspace admins")
	sp.do("PATCH", wsp("Users/"+meID), patchOps(map[string]any{"op": "add", "path": "entitlements",
		"value": []map[string]string{{"value": "workspace-access"}}})).wantSCIMError(t, 403, "", "Only workspace admins")
	c.inWorkspace("1001").do("GET", wsp("ServicePrincipals")+"?count=1", nil).must(t, 200) // the token's owner is ADMIN there

	// The account APIs need account_admin.
	acctOAuth.do("PATCH", c.acct("Users/"+meID), patchOps(map[string]any{"op": "remove", "path": `roles[value eq "account_admin"]`})).must(t, 200)
	c.do("GET", c.acct("Users"), nil).wantSCIMError(t, 403, "", "Only account admins")
	if r := c.do("GET", assignPath("1001", ""), nil); r.status != 403 || r.str("error_code") != "PERMISSION_DENIED" {
		t.Errorf("assignments without account_admin: %d %s", r.status, r.raw)
	}
	acctOAuth.do("PATCH", c.acct("Users/"+meID), patchOps(map[string]any{"op": "add", "path": "roles",
		"value": []map[string]string{{"value": "account_admin"}}})).must(t, 200)

	// The account SCIM token works only on the account SCIM API (§7).
	scimTok := *c
	scimTok.token = "scim-token"
	scimTok.do("GET", c.acct("Users"), nil).must(t, 200)
	scimTok.do("GET", assignPath("1001", ""), nil).must(t, 401)
	scimTok.inWorkspace("1001").do("GET", wsp("Users"), nil).wantSCIMError(t, 401, "", "Invalid access token")

	// Deactivating the owner of a token makes the token fail.
	acctOAuth.do("PATCH", c.acct("Users/"+meID), patchOps(map[string]any{"op": "replace", "path": "active", "value": "false"})).must(t, 200)
	c.do("GET", c.acct("Users"), nil).wantSCIMError(t, 401, "", "Invalid access token")
	c.inWorkspace("1001").do("GET", wsp("Me"), nil).wantSCIMError(t, 401, "", "Invalid access token")
	acctOAuth.do("GET", c.acct("Users"), nil).must(t, 200)
}
