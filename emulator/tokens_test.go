package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
	"github.com/scimsync/scimsync/scim/auth/authtest"
)

// with returns a copy of the client that sends tok.
func (c *client) with(tok string) *client {
	cc := *c
	cc.token = tok
	return &cc
}

func TestAccountSCIMTokenOpensTheAccountSCIMAPIOnly(t *testing.T) {
	c := newClient(t, fast(Options{Tokens: []TokenSpec{{Kind: TokenAccountSCIM, Value: "dsapi-account"}}}))
	sc := c.with("dsapi-account")
	sc.do("GET", c.acct("Users"), nil).must(t, 200)
	sc.do("POST", c.acct("Users"), map[string]any{"schemas": []string{scim.SchemaUser}, "userName": "ada@example.com"}).must(t, 201)
	if r := sc.inWorkspace("1001").do("GET", wsp("Users"), nil).must(t, 403); !strings.Contains(r.str("detail"), "Account SCIM API only") {
		t.Errorf("403 body %s", r.raw)
	}
	if r := sc.do("GET", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments", nil).must(t, 403); r.str("error_code") != "PERMISSION_DENIED" {
		t.Errorf("403 body %s", r.raw)
	}
}

func TestPATBelongsToAUserInOneWorkspace(t *testing.T) {
	c := newClient(t, fast(Options{}))
	uid := c.do("POST", c.acct("Users"), map[string]any{"schemas": []string{scim.SchemaUser}, "userName": "dev@example.com"}).must(t, 201).str("id")
	c.do("PUT", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments/principals/"+uid,
		map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	pat, err := c.ts.IssueToken(TokenSpec{Kind: TokenPAT, Owner: "dev@example.com", Workspace: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	p := c.with(pat)
	p.inWorkspace("1001").do("GET", wsp("Me"), nil).must(t, 200)
	p.inWorkspace("1002").do("GET", wsp("Users"), nil).must(t, 401)
	p.do("GET", c.acct("Users"), nil).must(t, 403)

	// Deactivating the owner revokes the PAT (seed 000).
	c.do("PATCH", c.acct("Users/"+uid), map[string]any{"schemas": []string{scim.SchemaPatchOp},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": "false"}}}).must(t, 200)
	p.inWorkspace("1001").do("GET", wsp("Me"), nil).must(t, 401)

	allow := newClient(t, fast(Options{AllowPATOnAccount: true, Tokens: []TokenSpec{{Kind: TokenPAT, Value: "dapi-x"}}}))
	allow.with("dapi-x").do("GET", allow.acct("Users"), nil).must(t, 200)
}

func TestOAuthTokenWorksOnlyOnItsHost(t *testing.T) {
	c := newClient(t, fast(Options{}))
	_, body := fetchToken(t, c.ts.URL+"/oidc/accounts/"+DefaultAccountID+"/v1/token", true, DefaultClientID, DefaultClientSecret)
	tok := body["access_token"].(string)
	c.with(tok).do("GET", c.acct("Users"), nil).must(t, 200)

	req, _ := http.NewRequest("GET", c.ts.URL+c.acct("Users"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Host = "dbc-other.cloud.databricks.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a token minted for %s was accepted with Host %s: %d", c.ts.URL, req.Host, resp.StatusCode)
	}
}

func TestOAuthServicePrincipalNeedsAdmin(t *testing.T) {
	c := newClient(t, fast(Options{}))
	_, body := fetchToken(t, c.ts.URL+"/oidc/accounts/"+DefaultAccountID+"/v1/token", true, DefaultClientID, DefaultClientSecret)
	o := c.with(body["access_token"].(string))
	// Each host mints its own tokens: the workspace's token endpoint for its SCIM tree.
	_, wsBody := fetchTokenAt(t, c.ts.URL+"/oidc/v1/token", hostName(c.ts.WorkspaceHost("1001")), true, DefaultClientID, DefaultClientSecret)
	w := c.with(wsBody["access_token"].(string)).inWorkspace("1001")
	w.do("GET", wsp("Users"), nil).must(t, 200)

	sp := c.do("GET", c.acct("ServicePrincipals")+"?filter="+url.QueryEscape(`applicationId eq "`+DefaultClientID+`"`), nil).must(t, 200).list()[0]["id"].(string)
	// Not ADMIN of workspace 1001 any more: the workspace tree refuses, the account still works.
	c.do("PUT", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments/principals/"+sp,
		map[string]any{"permissions": []string{"USER"}}).must(t, 200)
	if r := w.do("GET", wsp("Users"), nil).must(t, 403); !strings.Contains(r.str("detail"), "not an admin of workspace 1001") {
		t.Errorf("403 body %s", r.raw)
	}
	o.do("GET", c.acct("Users"), nil).must(t, 200)
	// Not an account admin any more: the account refuses.
	c.do("PATCH", c.acct("ServicePrincipals/"+sp), map[string]any{"schemas": []string{scim.SchemaPatchOp},
		"Operations": []map[string]any{{"op": "remove", "path": `roles[value eq "account_admin"]`}}}).must(t, 200)
	o.do("GET", c.acct("Users"), nil).must(t, 403)
}

func TestTokenExchangeWithFederationPolicy(t *testing.T) {
	key := []byte("k")
	now := time.Now()
	policy := FederationPolicy{Issuer: authtest.GitHubIssuer, Subject: "repo:northwind/identities:ref:refs/heads/main", Key: key, ServicePrincipal: DefaultClientID}
	c := newClient(t, fast(Options{Federation: []FederationPolicy{policy}}))
	jwt := func(sub, aud string) string {
		return authtest.SignJWT(key, map[string]any{"iss": authtest.GitHubIssuer, "sub": sub, "aud": aud, "exp": now.Add(time.Hour).Unix()})
	}
	endpoint := c.ts.URL + "/oidc/accounts/" + DefaultAccountID + "/v1/token"
	exchange := func(form url.Values) (int, map[string]any) {
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
		form.Set("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")
		form.Set("scope", "all-apis")
		resp, err := http.PostForm(endpoint, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	status, body := exchange(url.Values{"client_id": {DefaultClientID}, "subject_token": {jwt(policy.Subject, DefaultAccountID)}})
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	c.with(body["access_token"].(string)).do("GET", c.acct("Users"), nil).must(t, 200)
	for name, form := range map[string]url.Values{
		"other subject":  {"client_id": {DefaultClientID}, "subject_token": {jwt("repo:evil/fork:ref:refs/heads/main", DefaultAccountID)}},
		"other audience": {"client_id": {DefaultClientID}, "subject_token": {jwt(policy.Subject, "https://elsewhere")}},
		"other key":      {"client_id": {DefaultClientID}, "subject_token": {authtest.SignJWT([]byte("x"), map[string]any{"iss": authtest.GitHubIssuer, "sub": policy.Subject, "aud": DefaultAccountID, "exp": now.Add(time.Hour).Unix()})}},
		"other client":   {"client_id": {"someone-else"}, "subject_token": {jwt(policy.Subject, DefaultAccountID)}},
	} {
		if status, body := exchange(form); status != 401 || body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v, want 401 invalid_grant", name, status, body)
		}
	}
	// The audience the SDK asks for on workspace hosts, the token endpoint, is accepted too.
	if status, body := exchange(url.Values{"client_id": {DefaultClientID}, "subject_token": {jwt(policy.Subject, endpoint)}}); status != 200 {
		t.Errorf("token endpoint as audience: %d %v", status, body)
	}
	if status, _ := exchange(url.Values{"subject_token": {jwt(policy.Subject, DefaultAccountID)}}); status != 400 {
		t.Errorf("account-wide federation (no client_id): %d, want 400", status)
	}
}

func TestEntraTokens(t *testing.T) {
	key := []byte("entra")
	c := newClient(t, fast(Options{Entra: &EntraTrust{Tenant: "t1", Key: key}}))
	exp := time.Now().Add(time.Hour).Unix()
	tok := func(claims map[string]any) string {
		base := map[string]any{"tid": "t1", "aud": auth.AzureDatabricksAppID, "exp": exp}
		for k, v := range claims {
			base[k] = v
		}
		return authtest.SignJWT(key, base)
	}
	c.with(tok(map[string]any{"appid": DefaultClientID})).do("GET", c.acct("Users"), nil).must(t, 200)
	c.with(tok(map[string]any{"upn": DefaultMeUserName})).inWorkspace("1002").do("GET", wsp("Users"), nil).must(t, 200)
	for name, claims := range map[string]map[string]any{
		"other tenant":   {"appid": DefaultClientID, "tid": "t2"},
		"other audience": {"appid": DefaultClientID, "aud": "https://management.core.windows.net/"},
		"expired":        {"appid": DefaultClientID, "exp": time.Now().Add(-time.Minute).Unix()},
		"unknown app":    {"appid": "not-a-service-principal"},
	} {
		if r := c.with(tok(claims)).do("GET", c.acct("Users"), nil); r.status != 401 {
			t.Errorf("%s: %d, want 401", name, r.status)
		}
	}
	ws := newClient(t, fast(Options{Level: model.LevelWorkspace, Entra: &EntraTrust{Tenant: "t1", Key: key}}))
	ws.with(tok(map[string]any{"appid": DefaultClientID})).do("GET", wsp("Me"), nil).must(t, 200)
}
