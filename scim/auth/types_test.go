package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth/authtest"
)

var testKey = []byte("authtest-signing-key")

// exchangeServer is a Databricks token endpoint for the RFC 8693 token exchange of
// workload identity federation; it checks the form as the SDK sends it.
type exchangeServer struct {
	*httptest.Server
	expiresIn int
	fetches   atomic.Int32
	last      atomic.Value // the last form, encoded
}

func newExchangeServer(t *testing.T, tokenPath string, expiresIn int) *exchangeServer {
	s := &exchangeServer{expiresIn: expiresIn}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oidc/.well-known/oauth-authorization-server":
			_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": s.URL + "/oidc/v1/token"})
		case tokenPath:
			_ = r.ParseForm()
			f := r.PostForm
			s.last.Store(f.Encode())
			if _, _, basic := r.BasicAuth(); basic || f.Get("grant_type") != grantTokenExchange ||
				f.Get("subject_token_type") != tokenTypeJWT || f.Get("scope") != "all-apis" || authtest.Claims(f.Get("subject_token")) == nil {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprint(w, `{"error":"invalid_request"}`)
				return
			}
			n := s.fetches.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("dbx-%d", n), "token_type": "Bearer", "expires_in": s.expiresIn})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func resolveWith(t *testing.T, vars map[string]string) *Config {
	t.Helper()
	c, err := Resolve(Settings{}, Env{Getenv: func(k string) string { return vars[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tokens calls Token n times and returns the values.
func tokens(t *testing.T, creds Credentials, n int) []string {
	t.Helper()
	var out []string
	for range n {
		tok, err := creds.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.Reveal())
	}
	return out
}

func TestGitHubOIDCExchangesTheJobToken(t *testing.T) {
	for _, level := range []model.Level{model.LevelAccount, model.LevelWorkspace} {
		t.Run(string(level), func(t *testing.T) {
			path := "/oidc/v1/token"
			if level == model.LevelAccount {
				path = "/oidc/accounts/acc-1/v1/token"
			}
			dbx := newExchangeServer(t, path, 3600)
			gh := authtest.NewGitHubOIDC(t, testKey, "repo:northwind/identities:ref:refs/heads/main")
			vars := map[string]string{EnvHost: dbx.URL, EnvClientID: "sp-app-id", EnvActionsURL: gh.URL, EnvActionsToken: gh.RequestToken}
			if level == model.LevelAccount {
				vars[EnvAccountID] = "acc-1"
			}
			c := resolveWith(t, vars)
			if c.AuthType != AuthGitHubOIDC {
				t.Fatalf("auth type %s, want %s (the settings of GitHub Actions are present)", c.AuthType, AuthGitHubOIDC)
			}
			got := tokens(t, c.Credentials(nil), 3)
			if diff := cmp.Diff([]string{"dbx-1", "dbx-1", "dbx-1"}, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			wantAud := dbx.URL + "/oidc/v1/token"
			if level == model.LevelAccount {
				wantAud = "acc-1"
			}
			if diff := cmp.Diff([]string{wantAud}, gh.Audiences()); diff != "" {
				t.Errorf("ID token audiences (-want +got):\n%s", diff)
			}
			if form := dbx.last.Load().(string); !strings.Contains(form, "client_id=sp-app-id") {
				t.Errorf("the exchange does not name the service principal: %s", form)
			}
		})
	}
}

func TestFederatedTokenRefreshedOnExpiry(t *testing.T) {
	dbx := newExchangeServer(t, "/oidc/v1/token", 5) // within the 10 s margin: always stale
	gh := authtest.NewGitHubOIDC(t, testKey, "repo:x")
	c := resolveWith(t, map[string]string{EnvHost: dbx.URL, EnvAuthType: AuthGitHubOIDC, EnvActionsURL: gh.URL, EnvActionsToken: gh.RequestToken})
	if diff := cmp.Diff([]string{"dbx-1", "dbx-2", "dbx-3"}, tokens(t, c.Credentials(nil), 3)); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	if gh.Requests() != 3 {
		t.Errorf("%d ID tokens requested, want a fresh one per exchange (3)", gh.Requests())
	}
	if form := dbx.last.Load().(string); strings.Contains(form, "client_secret") {
		t.Errorf("the exchange sends a client secret: %s", form)
	}
}

func TestGitHubOIDCWithoutIDTokenPermission(t *testing.T) {
	dbx := newExchangeServer(t, "/oidc/v1/token", 3600)
	gh := authtest.NewGitHubOIDC(t, testKey, "repo:x")
	c := resolveWith(t, map[string]string{EnvHost: dbx.URL, EnvAuthType: AuthGitHubOIDC, EnvActionsURL: gh.URL, EnvActionsToken: "wrong-request-token"})
	_, err := c.Credentials(nil).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "permissions: id-token: write") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-request-token") {
		t.Errorf("the error holds the request token: %v", err)
	}
}

func TestEnvAndFileOIDC(t *testing.T) {
	jwt := authtest.SignJWT(testKey, map[string]any{"iss": "https://idp.example", "sub": "ci"})
	file := filepath.Join(t.TempDir(), "id-token")
	if err := os.WriteFile(file, []byte(jwt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, vars := range map[string]map[string]string{
		AuthEnvOIDC:  {"MY_ID_TOKEN": jwt, "DATABRICKS_OIDC_TOKEN_ENV": "MY_ID_TOKEN"},
		AuthFileOIDC: {"DATABRICKS_OIDC_TOKEN_FILEPATH": file},
	} {
		t.Run(name, func(t *testing.T) {
			dbx := newExchangeServer(t, "/oidc/v1/token", 3600)
			vars[EnvHost] = dbx.URL
			c := resolveWith(t, vars)
			if c.AuthType != name {
				t.Fatalf("auth type %s, want %s", c.AuthType, name)
			}
			if got := tokens(t, c.Credentials(nil), 1); got[0] != "dbx-1" {
				t.Errorf("token %q", got[0])
			}
			if form := dbx.last.Load().(string); !strings.Contains(form, "subject_token="+jwt) {
				t.Errorf("the exchange does not carry the ID token: %s", form)
			}
		})
	}
}

func TestAzureClientSecret(t *testing.T) {
	entra := authtest.NewEntra(t, testKey, "tenant-1", "arm-app", "arm-SECRET-value")
	c := resolveWith(t, map[string]string{
		EnvHost: "https://adb-123.4.azuredatabricks.net", EnvARMClientID: "arm-app", EnvARMSecret: "arm-SECRET-value",
		EnvARMTenantID: "tenant-1", EnvAzureAuthorityHost: entra.AuthorityHost, "DATABRICKS_AZURE_RESOURCE_ID": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w",
	})
	if c.AuthType != AuthAzureClientSecret {
		t.Fatalf("auth type %s, want %s", c.AuthType, AuthAzureClientSecret)
	}
	creds := c.Credentials(entra.Client())
	tok := tokens(t, creds, 2)
	if claims := authtest.Claims(tok[0]); claims["aud"] != AzureDatabricksAppID || claims["appid"] != "arm-app" {
		t.Errorf("token claims %v: want the Azure Databricks application as audience", claims)
	}
	h, err := creds.(HeaderCredentials).Headers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if claims := authtest.Claims(h.Get(HeaderAzureManagementToken)); claims["aud"] != "https://management.core.windows.net/" {
		t.Errorf("management token claims %v", claims)
	}
	if h.Get(HeaderAzureResourceID) == "" {
		t.Errorf("no %s header", HeaderAzureResourceID)
	}
	if n := entra.Requests(AzureDatabricksAppID); n != 1 {
		t.Errorf("%d token requests for two calls, want 1 (cached)", n)
	}
}

func TestAzureTokensRefreshedOnExpiry(t *testing.T) {
	entra := authtest.NewEntra(t, testKey, "tenant-1", "arm-app", "arm-secret")
	entra.TTL = 30 * time.Second // Azure Databricks refuses tokens this close to expiry
	c := resolveWith(t, map[string]string{EnvHost: "https://adb-1.2.azuredatabricks.net", EnvAuthType: AuthAzureClientSecret,
		EnvARMClientID: "arm-app", EnvARMSecret: "arm-secret", EnvARMTenantID: "tenant-1", EnvAzureAuthorityHost: entra.AuthorityHost})
	tokens(t, c.Credentials(entra.Client()), 3)
	if n := entra.Requests(AzureDatabricksAppID); n != 3 {
		t.Errorf("%d token requests for three calls of a token close to expiry, want 3", n)
	}
}

func TestAzureClientSecretRefused(t *testing.T) {
	entra := authtest.NewEntra(t, testKey, "tenant-1", "arm-app", "arm-secret")
	c := resolveWith(t, map[string]string{EnvHost: "https://adb-1.2.azuredatabricks.net", EnvAuthType: AuthAzureClientSecret,
		EnvARMClientID: "arm-app", EnvARMSecret: "WRONG-arm-secret", EnvARMTenantID: "tenant-1", EnvAzureAuthorityHost: entra.AuthorityHost})
	_, err := c.Credentials(entra.Client()).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "check ARM_CLIENT_ID") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "WRONG-arm-secret") {
		t.Errorf("the error holds the secret: %v", err)
	}
}

func TestAzureMSI(t *testing.T) {
	imds := authtest.NewIMDS(t, testKey, "tenant-1", "msi-app")
	imds.TTL = 30 * time.Second
	c := resolveWith(t, map[string]string{EnvHost: "https://adb-1.2.azuredatabricks.net", EnvARMUseMSI: "true",
		EnvARMClientID: "msi-app", EnvAzureIMDS: imds.URL})
	if c.AuthType != AuthAzureMSI {
		t.Fatalf("auth type %s, want %s", c.AuthType, AuthAzureMSI)
	}
	creds := c.Credentials(nil)
	tok := tokens(t, creds, 2)
	if claims := authtest.Claims(tok[0]); claims["aud"] != AzureDatabricksAppID || claims["appid"] != "msi-app" {
		t.Errorf("token claims %v", claims)
	}
	if n := imds.Requests(AzureDatabricksAppID); n != 2 {
		t.Errorf("%d token requests for two calls of a token close to expiry, want 2", n)
	}
	if _, err := creds.(HeaderCredentials).Headers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if imds.Requests("https://management.core.windows.net/") != 1 {
		t.Errorf("no management token was requested")
	}
	if app, ok := c.ServicePrincipal(); !ok || app != "msi-app" {
		t.Errorf("ServicePrincipal = %q, %v", app, ok)
	}
}

func TestAzureIMDSOverrideMustBeLoopback(t *testing.T) {
	_, err := Resolve(Settings{}, Env{Getenv: func(k string) string {
		return map[string]string{EnvHost: "https://adb-1.2.azuredatabricks.net", EnvAuthType: AuthAzureMSI, EnvAzureIMDS: "http://imds.evil.example"}[k]
	}})
	if err == nil || !strings.Contains(err.Error(), "must be a loopback address") {
		t.Fatalf("error = %v", err)
	}
}

func TestAzureCLI(t *testing.T) {
	main := authtest.SignJWT(testKey, map[string]any{"aud": AzureDatabricksAppID, "upn": "ada@northwind.example"})
	az := authtest.FakeAz(t, main, "management-token", AzureDatabricksAppID, 30*time.Second)
	t.Setenv("PATH", az.Dir+string(os.PathListSeparator)+os.Getenv("PATH")) // azidentity runs az from the process PATH
	c := resolveWith(t, map[string]string{EnvHost: "https://adb-1.2.azuredatabricks.net", "PATH": az.Dir})
	if c.AuthType != AuthAzureCLI {
		t.Fatalf("auth type %s, want %s (az is on PATH and the host is Azure)", c.AuthType, AuthAzureCLI)
	}
	creds := c.Credentials(nil)
	if got := tokens(t, creds, 2); got[0] != main || got[1] != main {
		t.Errorf("tokens %q", got)
	}
	h, err := creds.(HeaderCredentials).Headers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderAzureManagementToken) != "management-token" {
		t.Errorf("management header %q", h.Get(HeaderAzureManagementToken))
	}
	calls := az.Calls()
	if len(calls) < 3 || !strings.Contains(calls[0], "account get-access-token -o json --resource "+AzureDatabricksAppID) {
		t.Errorf("az calls %q: want one per token close to expiry, for the Azure Databricks application", calls)
	}
}

func TestDatabricksCLI(t *testing.T) {
	for _, tc := range []struct {
		version, profile string
		level            model.Level
		want             string
	}{
		{"v0.296.0", "", model.LevelWorkspace, "auth token --host https://dbc-1.cloud.databricks.com --force-refresh"},
		{"v0.296.0", "dev", model.LevelWorkspace, "auth token --profile dev --force-refresh"},
		{"v0.250.0", "", model.LevelAccount, "auth token --host https://accounts.cloud.databricks.com --account-id acc-1"},
		{"v0.200.0", "dev", model.LevelWorkspace, "auth token --host https://dbc-1.cloud.databricks.com"},
	} {
		t.Run(tc.version+tc.profile, func(t *testing.T) {
			cli := authtest.FakeDatabricksCLI(t, tc.version, map[string]string{"": "cli-access-token"}, 5*time.Second)
			vars := map[string]string{EnvHost: "https://dbc-1.cloud.databricks.com", "PATH": cli.Dir}
			cfg := ""
			if tc.level == model.LevelAccount {
				vars[EnvHost], vars[EnvAccountID] = "https://accounts.cloud.databricks.com", "acc-1"
			}
			if tc.profile != "" {
				vars[EnvConfigProfile] = tc.profile
				cfg = "[" + tc.profile + "]\nhost = " + vars[EnvHost] + "\n"
			}
			env := testEnv(t, vars, cfg)
			authtest.WriteCLITokenCache(t, env.HomeDir, vars[EnvHost], "cli-access-token", time.Now().Add(time.Hour))
			c, err := Resolve(Settings{}, env)
			if err != nil {
				t.Fatal(err)
			}
			if c.AuthType != AuthDatabricksCLI {
				t.Fatalf("auth type %s, want %s", c.AuthType, AuthDatabricksCLI)
			}
			if got := tokens(t, c.Credentials(nil), 2); got[1] != "cli-access-token" {
				t.Errorf("tokens %q", got)
			}
			var tokenCalls []string
			for _, call := range cli.Calls() {
				if call != "version" {
					tokenCalls = append(tokenCalls, call)
				}
			}
			if diff := cmp.Diff([]string{tc.want, tc.want}, tokenCalls); diff != "" {
				t.Errorf("calls, one per token close to expiry (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolFailureIsACredentialsError(t *testing.T) {
	cli := authtest.FailingTool(t, "databricks", "Error: cache: databricks OAuth is not configured for this host")
	c := resolveWith(t, map[string]string{EnvHost: "https://dbc-1.cloud.databricks.com", EnvAuthType: AuthDatabricksCLI, "PATH": cli.Dir})
	_, err := c.Credentials(nil).Token(context.Background())
	var ce *CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "databricks OAuth is not configured for this host") ||
		!strings.Contains(err.Error(), "databricks auth login --host https://dbc-1.cloud.databricks.com") {
		t.Fatalf("error = %v (%T)", err, err)
	}
}

// TestDatabricksCLINeedsALogin: without an auth type, databricks-cli is chosen only when the
// CLI's token cache shows a login, as the SDK moves on when `databricks auth token` fails.
func TestDatabricksCLINeedsALogin(t *testing.T) {
	cli := authtest.FakeDatabricksCLI(t, "v0.296.0", map[string]string{"": "tok"}, time.Hour)
	env := testEnv(t, map[string]string{EnvHost: "https://dbc-1.cloud.databricks.com", "PATH": cli.Dir}, "")
	if _, err := Resolve(Settings{}, env); err == nil || !strings.Contains(err.Error(), "no Databricks credentials") {
		t.Fatalf("without a login: err = %v", err)
	}
	authtest.WriteCLITokenCache(t, env.HomeDir, "https://dbc-1.cloud.databricks.com", "tok", time.Now().Add(time.Hour))
	c, err := Resolve(Settings{}, env)
	if err != nil || c.AuthType != AuthDatabricksCLI {
		t.Fatalf("with a login: %v, %v", c, err)
	}
	if len(cli.Calls()) != 0 {
		t.Errorf("resolving ran the CLI: %q", cli.Calls())
	}
}

// TestFederatedWorkspaceHostAtAccountLevel: an account-level run exchanges the ID token at
// each workspace's own token endpoint, with the account id as audience (the default of the
// account's federation policies).
func TestFederatedWorkspaceHostAtAccountLevel(t *testing.T) {
	acct := newExchangeServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	ws := newExchangeServer(t, "/oidc/v1/token", 3600)
	gh := authtest.NewGitHubOIDC(t, testKey, "repo:x")
	c := resolveWith(t, map[string]string{EnvHost: acct.URL, EnvAccountID: "acc-1", EnvClientID: "sp", EnvActionsURL: gh.URL, EnvActionsToken: gh.RequestToken})
	creds, err := c.CredentialsFor(ws.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tokens(t, creds, 1); got[0] != "dbx-1" || ws.fetches.Load() != 1 || acct.fetches.Load() != 0 {
		t.Errorf("token %q from the workspace endpoint (%d) and the account endpoint (%d)", got[0], ws.fetches.Load(), acct.fetches.Load())
	}
	if diff := cmp.Diff([]string{"acc-1"}, gh.Audiences()); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}
}
