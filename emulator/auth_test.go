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
)

func TestBearerAuth(t *testing.T) {
	c := newClient(t, fast(Options{Token: "secret-pat"}))
	tests := []struct {
		name, header string
		status       int
	}{
		{"right token", "Bearer secret-pat", 200},
		{"scheme case", "bearer secret-pat", 200},
		{"wrong token", "Bearer nope", 401},
		{"no scheme", "secret-pat", 401},
		{"basic", "Basic c2VjcmV0LXBhdA==", 401},
		{"empty", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", c.ts.URL+c.acct("Users"), nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 401 {
				var e scim.ErrorBody
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Status != "401" || e.Schemas[0] != scim.SchemaError {
					t.Errorf("401 body %+v (%v)", e, err)
				}
			}
		})
	}
	// The assignment API answers in the REST error shape.
	bad := *c
	bad.token = "nope"
	r := bad.do("GET", "/api/2.0/accounts/"+DefaultAccountID+"/workspaces/1001/permissionassignments", nil).must(t, 401)
	if r.str("error_code") != "UNAUTHENTICATED" {
		t.Errorf("assignment 401 body %s", r.raw)
	}
}

// fetchToken runs the client-credentials grant against tokenURL.
func fetchToken(t *testing.T, tokenURL string, basic bool, id, secret string) (int, map[string]any) {
	t.Helper()
	return fetchTokenAt(t, tokenURL, "", basic, id, secret)
}

// fetchTokenAt is fetchToken with the request addressed to host (a Host header), when set.
func fetchTokenAt(t *testing.T, tokenURL, host string, basic bool, id, secret string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if host != "" {
		req.Host = host
	}
	if basic {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestOAuth(t *testing.T) {
	clk := newClock()
	c := newClient(t, fast(Options{Now: clk.Now, TokenTTL: 10 * time.Minute}))
	accountToken := c.ts.URL + "/oidc/accounts/" + DefaultAccountID + "/v1/token"
	wsHost := hostName(c.ts.WorkspaceHost("1001"))

	tests := []struct {
		name       string
		url        string
		host       string
		basic      bool
		id, secret string
		status     int
		errCode    string
	}{
		{"account, basic", accountToken, "", true, DefaultClientID, DefaultClientSecret, 200, ""},
		{"account, form", accountToken, "", false, DefaultClientID, DefaultClientSecret, 200, ""},
		{"workspace", c.ts.URL + "/oidc/v1/token", wsHost, true, DefaultClientID, DefaultClientSecret, 200, ""},
		{"workspace endpoint on the accounts host", c.ts.URL + "/oidc/v1/token", "", true, DefaultClientID, DefaultClientSecret, 404, "not_found"},
		{"account endpoint on a workspace host", accountToken, wsHost, true, DefaultClientID, DefaultClientSecret, 404, "not_found"},
		{"wrong secret", accountToken, "", true, DefaultClientID, "guess", 401, "invalid_client"},
		{"wrong id", accountToken, "", false, "someone", DefaultClientSecret, 401, "invalid_client"},
		{"wrong account", c.ts.URL + "/oidc/accounts/other/v1/token", "", true, DefaultClientID, DefaultClientSecret, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := fetchTokenAt(t, tt.url, tt.host, tt.basic, tt.id, tt.secret)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.errCode != "" {
				if body["error"] != tt.errCode {
					t.Errorf("error %v, want %s", body["error"], tt.errCode)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(600) || body["scope"] != "all-apis" || body["access_token"] == "" {
				t.Errorf("token response %v", body)
			}
		})
	}

	// Discovery on a workspace host points at that workspace's token endpoint (§7); the
	// accounts host has no workspace discovery document.
	req, _ := http.NewRequest("GET", c.ts.URL+"/oidc/.well-known/oauth-authorization-server", nil)
	req.Host = wsHost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var meta scim.OAuthMetadata
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta.TokenEndpoint != c.ts.WorkspaceHost("1001")+"/oidc/v1/token" {
		t.Errorf("token_endpoint %q", meta.TokenEndpoint)
	}
	resp, err = http.Get(c.ts.URL + "/oidc/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("workspace discovery on the accounts host: %d, want 404", resp.StatusCode)
	}

	// Issued tokens authenticate until they expire.
	_, body := fetchToken(t, accountToken, true, DefaultClientID, DefaultClientSecret)
	_, other := fetchToken(t, accountToken, true, DefaultClientID, DefaultClientSecret)
	if body["access_token"] == other["access_token"] {
		t.Errorf("two grants returned the same token")
	}
	oc := *c
	oc.token = body["access_token"].(string)
	oc.do("GET", c.acct("Users"), nil).must(t, 200)
	clk.Advance(9 * time.Minute)
	oc.do("GET", c.acct("Users"), nil).must(t, 200)
	clk.Advance(time.Minute)
	oc.do("GET", c.acct("Users"), nil).wantSCIMError(t, 401, "", "")
	// The configured token does not expire.
	c.do("GET", c.acct("Users"), nil).must(t, 200)

	// The token endpoints are not rate limited.
	limited := newClient(t, Options{RateLimit: 1, Burst: 1, Now: clk.Now})
	for range 5 {
		if status, _ := fetchToken(t, limited.ts.URL+"/oidc/accounts/"+DefaultAccountID+"/v1/token", true, DefaultClientID, DefaultClientSecret); status != 200 {
			t.Fatalf("token endpoint answered %d under rate limit", status)
		}
	}
}

func TestMe(t *testing.T) {
	tests := []struct {
		name      string
		level     model.Level
		ws        string
		oauth     bool
		wantField string
		want      string
	}{
		{"workspace, token", model.LevelWorkspace, "", false, "userName", DefaultMeUserName},
		{"workspace, oauth", model.LevelWorkspace, "", true, "userName", DefaultClientID},
		{"account view, token", model.LevelAccount, "1001", false, "userName", DefaultMeUserName},
		{"account view, oauth", model.LevelAccount, "1002", true, "userName", DefaultClientID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(Options{Level: tt.level})).inWorkspace(tt.ws)
			if tt.oauth {
				host := ""
				if tt.level == model.LevelAccount {
					host = hostName(c.ts.WorkspaceHost(tt.ws))
				}
				_, body := fetchTokenAt(t, c.ts.URL+"/oidc/v1/token", host, true, DefaultClientID, DefaultClientSecret)
				c.token = body["access_token"].(string)
			}
			r := c.do("GET", wsp("Me"), nil).must(t, 200)
			if r.str(tt.wantField) != tt.want {
				t.Errorf("%s = %q, want %q", tt.wantField, r.str(tt.wantField), tt.want)
			}
			if org := r.header.Get("X-Databricks-Org-Id"); org == "" {
				t.Errorf("no X-Databricks-Org-Id header")
			}
			var admin bool
			groups, _ := r.body["groups"].([]any)
			for _, g := range groups {
				admin = admin || g.(map[string]any)["display"] == "admins"
			}
			if tt.level == model.LevelWorkspace && !admin {
				t.Errorf("token owner not in admins: %s", r.raw)
			}
		})
	}
}
