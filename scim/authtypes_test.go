package scim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
	"github.com/scimsync/scimsync/scim/auth/authtest"
)

// TestCredentialsFailureIsNotRetried: when the tool that supplies the token fails (here
// `databricks auth token` without a login), the request fails at once with the tool's
// message first, and nothing is sent.
func TestCredentialsFailureIsNotRetried(t *testing.T) {
	cli := authtest.FailingTool(t, "databricks", "Error: not logged in")
	c, rec, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}, func(cfg *Config) {
		cfg.Auth.Token = auth.Secret{}
		cfg.Auth.AuthType = auth.AuthDatabricksCLI
		cfg.Env = auth.Env{Getenv: func(k string) string { return map[string]string{"PATH": cli.Dir}[k] }}
	})
	_, err := c.Users().List(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "Users: databricks auth token: Error: not logged in") || strings.Contains(err.Error(), "GET ") {
		t.Fatalf("error = %v", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
	if s := c.Stats(); s.Retries != 0 {
		t.Errorf("%d retries of a tool that failed", s.Retries)
	}
	if calls := cli.Calls(); len(calls) != 2 || calls[0] != "version" {
		t.Errorf("the tool ran as %q, want its version asked and one token request", calls)
	}
}

// TestAzureHeadersSentOnSCIMCalls: with an Azure auth type, every SCIM request carries the
// Entra ID token as the bearer token and the management token and workspace resource id
// headers, as the SDK sends them.
func TestAzureHeadersSentOnSCIMCalls(t *testing.T) {
	key := []byte("k")
	entra := authtest.NewEntra(t, key, "tid", "app", "secret")
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Clone())
		w.Header().Set("Content-Type", "application/scim+json")
		_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`))
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{auth.EnvARMClientID: "app", auth.EnvARMSecret: "secret", auth.EnvARMTenantID: "tid",
		auth.EnvAzureAuthorityHost: entra.AuthorityHost, "DATABRICKS_AZURE_RESOURCE_ID": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w"}
	c, err := New(Config{
		Auth:       auth.Settings{Host: srv.URL, Level: model.LevelWorkspace, AuthType: auth.AuthAzureClientSecret},
		Env:        auth.Env{Getenv: func(k string) string { return vars[k] }},
		HTTPClient: entra.Client(), // trusts the fake Entra ID; the SCIM server is plain http on loopback
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users().List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no request")
	}
	h := seen[0]
	if claims := authtest.Claims(strings.TrimPrefix(h.Get("Authorization"), "Bearer ")); claims["aud"] != auth.AzureDatabricksAppID {
		t.Errorf("bearer token claims %v", claims)
	}
	if claims := authtest.Claims(h.Get(auth.HeaderAzureManagementToken)); claims["aud"] != "https://management.core.windows.net/" {
		t.Errorf("management token claims %v", claims)
	}
	if h.Get(auth.HeaderAzureResourceID) == "" {
		t.Errorf("no %s", auth.HeaderAzureResourceID)
	}
}

func TestRejectedHintNamesTheAuthType(t *testing.T) {
	for authType, want := range map[string]string{
		auth.AuthPAT:               "the credentials were rejected: check DATABRICKS_TOKEN (auth type pat)",
		auth.AuthOAuthM2M:          "check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (auth type oauth-m2m)",
		auth.AuthGitHubOIDC:        "check that the service principal DATABRICKS_CLIENT_ID (auth type github-oidc) is active",
		auth.AuthAzureClientSecret: "the Entra ID application or user (auth type azure-client-secret)",
		auth.AuthDatabricksCLI:     "log in again with `databricks auth login` for this host",
		"":                         "the credentials were rejected: check DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET",
	} {
		e := &Error{Status: http.StatusUnauthorized, Method: "GET", Path: "/x", AuthType: authType}
		if !strings.Contains(e.Error(), want) {
			t.Errorf("%s: %q does not contain %q", authType, e.Error(), want)
		}
	}
}

// TestProfileTimeouts: the profile's http_timeout_seconds and retry_timeout_seconds set the
// attempt timeout and the retry budget that the config leaves unset.
func TestProfileTimeouts(t *testing.T) {
	home := t.TempDir()
	cfg := "[DEFAULT]\nhost = https://dbc-1.cloud.databricks.com\ntoken = t\nhttp_timeout_seconds = 7\nretry_timeout_seconds = 90\n"
	if err := os.WriteFile(filepath.Join(home, ".databrickscfg"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Env: auth.Env{HomeDir: home}})
	if err != nil {
		t.Fatal(err)
	}
	if c.t.timeout != 7*time.Second || c.t.budget != 90*time.Second {
		t.Errorf("timeout %s, retry budget %s; want 7s and 1m30s from the profile", c.t.timeout, c.t.budget)
	}
	c, err = New(Config{Env: auth.Env{HomeDir: home}, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c.t.timeout != 3*time.Second {
		t.Errorf("timeout %s; the config's 3s wins over the profile", c.t.timeout)
	}
}
