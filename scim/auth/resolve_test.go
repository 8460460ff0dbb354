package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// testEnv returns an Env whose variables are vars and whose home holds cfg as
// .databrickscfg (no file when cfg is empty).
func testEnv(t *testing.T, vars map[string]string, cfg string) Env {
	t.Helper()
	home := t.TempDir()
	if cfg != "" {
		if err := os.WriteFile(filepath.Join(home, ".databrickscfg"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Env{Getenv: func(k string) string { return vars[k] }, HomeDir: home}
}

const profiles = `[DEFAULT]
host = https://dbc-default.cloud.databricks.com
token = dapi-profile-default

[acct]
host = https://accounts.cloud.databricks.com
account_id = acct-from-profile
client_id = cid-profile
client_secret = secret-profile
rate_limit = 7

[ws-oauth]
host = dbc-ws.cloud.databricks.com
client_id = cid-ws
client_secret = secret-ws
workspace_id = 1234

[typed]
host = https://dbc-t.cloud.databricks.com
token = dapi-typed
client_id = cid-typed
client_secret = secret-typed
auth_type = oauth-m2m
`

// resolved is the comparable part of a Config.
type resolved struct {
	Host, AccountID, WorkspaceID string
	Level                        model.Level
	AuthType                     string
	Token, ClientID, Secret      string
	RateLimit                    float64
	Profile                      string
	Origins                      map[string]string
}

func summarize(c *Config) resolved {
	return resolved{
		Host: c.Host, AccountID: c.AccountID, WorkspaceID: c.WorkspaceID, Level: c.Level,
		AuthType: c.AuthType, Token: c.Token.Reveal(), ClientID: c.ClientID, Secret: c.ClientSecret.Reveal(),
		RateLimit: c.RateLimit, Profile: c.Profile, Origins: c.Origins,
	}
}

func TestResolve(t *testing.T) {
	tests := map[string]struct {
		set  Settings
		vars map[string]string
		cfg  string
		want resolved
	}{
		"DEFAULT profile when nothing is selected": {
			cfg: profiles,
			want: resolved{Host: "https://dbc-default.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT,
				Token: "dapi-profile-default", Profile: "DEFAULT",
				Origins: map[string]string{"host": "profile DEFAULT", "token": "profile DEFAULT"}},
		},
		"DATABRICKS_CONFIG_PROFILE selects a profile; accounts host plus account id is account level": {
			cfg:  profiles,
			vars: map[string]string{EnvConfigProfile: "acct"},
			want: resolved{Host: "https://accounts.cloud.databricks.com", AccountID: "acct-from-profile", Level: model.LevelAccount,
				AuthType: AuthOAuthM2M, ClientID: "cid-profile", Secret: "secret-profile", RateLimit: 7, Profile: "acct",
				Origins: map[string]string{"host": "profile acct", "account_id": "profile acct", "client_id": "profile acct",
					"client_secret": "profile acct", "rate_limit": "profile acct"}},
		},
		"explicit profile wins over DATABRICKS_CONFIG_PROFILE; host without scheme gets https": {
			cfg:  profiles,
			set:  Settings{Profile: "ws-oauth"},
			vars: map[string]string{EnvConfigProfile: "acct"},
			want: resolved{Host: "https://dbc-ws.cloud.databricks.com", WorkspaceID: "1234", Level: model.LevelWorkspace,
				AuthType: AuthOAuthM2M, ClientID: "cid-ws", Secret: "secret-ws", Profile: "ws-oauth",
				Origins: map[string]string{"host": "profile ws-oauth", "workspace_id": "profile ws-oauth",
					"client_id": "profile ws-oauth", "client_secret": "profile ws-oauth"}},
		},
		"environment overrides the profile attribute by attribute": {
			cfg: profiles,
			vars: map[string]string{EnvConfigProfile: "acct", EnvAccountID: "acct-from-env",
				EnvClientSecret: "secret-env", EnvRateLimit: "3.5"},
			want: resolved{Host: "https://accounts.cloud.databricks.com", AccountID: "acct-from-env", Level: model.LevelAccount,
				AuthType: AuthOAuthM2M, ClientID: "cid-profile", Secret: "secret-env", RateLimit: 3.5, Profile: "acct",
				Origins: map[string]string{"host": "profile acct", "account_id": "env DATABRICKS_ACCOUNT_ID",
					"client_id": "profile acct", "client_secret": "env DATABRICKS_CLIENT_SECRET", "rate_limit": "env DATABRICKS_RATE_LIMIT"}},
		},
		"explicit settings override the environment; credentials outside the file skip it (SDK #304)": {
			cfg: profiles,
			set: Settings{Host: "https://accounts.azuredatabricks.net", AccountID: "acct-explicit", Token: NewSecret("tok-explicit"), RateLimit: 10},
			vars: map[string]string{EnvHost: "https://env.cloud.databricks.com", EnvAccountID: "acct-env",
				EnvToken: "tok-env", EnvRateLimit: "2"},
			want: resolved{Host: "https://accounts.azuredatabricks.net", AccountID: "acct-explicit", Level: model.LevelAccount,
				AuthType: AuthPAT, Token: "tok-explicit", RateLimit: 10,
				Origins: map[string]string{"host": "config", "account_id": "config", "token": "config", "rate_limit": "config"}},
		},
		"a host from the environment still reads the DEFAULT profile's credentials": {
			cfg:  profiles,
			vars: map[string]string{EnvHost: "https://env.cloud.databricks.com"},
			want: resolved{Host: "https://env.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT,
				Token: "dapi-profile-default", Profile: "DEFAULT",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "token": "profile DEFAULT"}},
		},
		"a token and client credentials with DATABRICKS_AUTH_TYPE=pat": {
			vars: map[string]string{EnvHost: "https://dbc-x.cloud.databricks.com", EnvToken: "tok",
				EnvClientID: "cid", EnvClientSecret: "sec", EnvAuthType: "PAT"},
			want: resolved{Host: "https://dbc-x.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				ClientID: "cid",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "token": "env DATABRICKS_TOKEN", "auth_type": "env DATABRICKS_AUTH_TYPE",
					"client_id": "env DATABRICKS_CLIENT_ID", "client_secret": "env DATABRICKS_CLIENT_SECRET"}},
		},
		"__settings__ default_profile selects the profile": {
			cfg: "[__settings__]\ndefault_profile = acct\n\n" + profiles,
			want: resolved{Host: "https://accounts.cloud.databricks.com", AccountID: "acct-from-profile", Level: model.LevelAccount,
				AuthType: AuthOAuthM2M, ClientID: "cid-profile", Secret: "secret-profile", RateLimit: 7, Profile: "acct",
				Origins: map[string]string{"host": "profile acct", "account_id": "profile acct", "client_id": "profile acct",
					"client_secret": "profile acct", "rate_limit": "profile acct"}},
		},
		"upper-case keys are not the SDK's keys and are ignored": {
			cfg: "[DEFAULT]\nHOST = https://ignored.cloud.databricks.com\nhost = https://dbc-lower.cloud.databricks.com\nTOKEN = ignored\ntoken = dapi-lower\n",
			want: resolved{Host: "https://dbc-lower.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "dapi-lower", Profile: "DEFAULT",
				Origins: map[string]string{"host": "profile DEFAULT", "token": "profile DEFAULT"}},
		},
		"auth_type oauth-m2m picks client credentials over a token": {
			cfg: profiles,
			set: Settings{Profile: "typed"},
			want: resolved{Host: "https://dbc-t.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthOAuthM2M,
				ClientID: "cid-typed", Secret: "secret-typed", Profile: "typed",
				Origins: map[string]string{"host": "profile typed", "token": "profile typed", "client_id": "profile typed",
					"client_secret": "profile typed", "auth_type": "profile typed"}},
		},
		"DATABRICKS_CONFIG_FILE overrides the path": {
			vars: map[string]string{EnvConfigFile: "~/elsewhere.cfg", EnvConfigProfile: "acct"},
			want: resolved{Host: "https://accounts.cloud.databricks.com", AccountID: "acct-from-profile", Level: model.LevelAccount,
				AuthType: AuthOAuthM2M, ClientID: "cid-profile", Secret: "secret-profile", RateLimit: 7, Profile: "acct",
				Origins: map[string]string{"host": "profile acct", "account_id": "profile acct", "client_id": "profile acct",
					"client_secret": "profile acct", "rate_limit": "profile acct"}},
		},
		"no config file at all is fine": {
			vars: map[string]string{EnvHost: "https://dbc-x.cloud.databricks.com", EnvToken: "tok"},
			want: resolved{Host: "https://dbc-x.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "token": "env DATABRICKS_TOKEN"}},
		},
		"accounts host without account id is a workspace": {
			vars: map[string]string{EnvHost: "https://accounts.cloud.databricks.com", EnvToken: "tok"},
			want: resolved{Host: "https://accounts.cloud.databricks.com", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "token": "env DATABRICKS_TOKEN"}},
		},
		"accounts-dod host with account id is an account": {
			vars: map[string]string{EnvHost: "https://accounts-dod.cloud.databricks.us", EnvAccountID: "a", EnvToken: "tok"},
			want: resolved{Host: "https://accounts-dod.cloud.databricks.us", AccountID: "a", Level: model.LevelAccount, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "account_id": "env DATABRICKS_ACCOUNT_ID", "token": "env DATABRICKS_TOKEN"}},
		},
		"workspace host with account id stays a workspace": {
			vars: map[string]string{EnvHost: "https://dbc-x.cloud.databricks.com", EnvAccountID: "a", EnvToken: "tok"},
			want: resolved{Host: "https://dbc-x.cloud.databricks.com", AccountID: "a", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "env DATABRICKS_HOST", "account_id": "env DATABRICKS_ACCOUNT_ID", "token": "env DATABRICKS_TOKEN"}},
		},
		"loopback http with account id is an account (the emulator)": {
			set: Settings{Host: "http://127.0.0.1:8080/", AccountID: "a", Token: NewSecret("tok")},
			want: resolved{Host: "http://127.0.0.1:8080", AccountID: "a", Level: model.LevelAccount, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "config", "account_id": "config", "token": "config"}},
		},
		"explicit workspace level on loopback": {
			set: Settings{Host: "http://localhost:1", AccountID: "a", Level: model.LevelWorkspace, Token: NewSecret("tok")},
			want: resolved{Host: "http://localhost:1", AccountID: "a", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "config", "account_id": "config", "token": "config"}},
		},
		"explicit account level on a non-accounts host": {
			set: Settings{Host: "https://proxy.example.com", AccountID: "a", Level: model.LevelAccount, Token: NewSecret("tok")},
			want: resolved{Host: "https://proxy.example.com", AccountID: "a", Level: model.LevelAccount, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "config", "account_id": "config", "token": "config"}},
		},
		"IPv6 loopback http": {
			set: Settings{Host: "http://[::1]:9/", Token: NewSecret("tok")},
			want: resolved{Host: "http://[::1]:9", Level: model.LevelWorkspace, AuthType: AuthPAT, Token: "tok",
				Origins: map[string]string{"host": "config", "token": "config"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := testEnv(t, tc.vars, tc.cfg)
			if strings.HasPrefix(tc.vars[EnvConfigFile], "~/") {
				if err := os.WriteFile(filepath.Join(env.HomeDir, "elsewhere.cfg"), []byte(profiles), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Resolve(tc.set, env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summarize(c)); diff != "" {
				t.Errorf("resolved config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := map[string]struct {
		set  Settings
		vars map[string]string
		cfg  string
		want string
	}{
		"no credentials": {
			vars: map[string]string{EnvHost: "https://dbc.cloud.databricks.com"},
			want: "no Databricks credentials: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or a profile in ~/.databrickscfg",
		},
		"no host": {
			vars: map[string]string{EnvToken: "tok"},
			want: "no Databricks host: set DATABRICKS_HOST",
		},
		"client id without secret": {
			vars: map[string]string{EnvHost: "https://h", EnvClientID: "cid"},
			want: "client id is set but no client secret: set DATABRICKS_CLIENT_SECRET",
		},
		"client secret without id": {
			vars: map[string]string{EnvHost: "https://h", EnvClientSecret: "very-secret"},
			want: "client secret is set but no client id: set DATABRICKS_CLIENT_ID",
		},
		"auth_type pat without token": {
			vars: map[string]string{EnvHost: "https://h", EnvAuthType: "pat", EnvClientID: "c", EnvClientSecret: "very-secret"},
			want: "auth_type pat needs a token",
		},
		"unsupported auth type": {
			vars: map[string]string{EnvHost: "https://h", EnvAuthType: "basic", EnvToken: "very-secret"},
			want: `auth_type "basic" is not supported: use one of pat, oauth-m2m, databricks-cli, github-oidc`,
		},
		"a token and client credentials without an auth type name both": {
			vars: map[string]string{EnvHost: "https://h", EnvToken: "very-secret", EnvClientID: "cid", EnvClientSecret: "very-secret"},
			want: "more than one authorization method configured: oauth (DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET) and pat (DATABRICKS_TOKEN); set DATABRICKS_AUTH_TYPE",
		},
		"a profile token and ARM variables name both": {
			cfg:  "[p]\nhost = https://adb-1.2.azuredatabricks.net\ntoken = very-secret\n",
			vars: map[string]string{EnvConfigProfile: "p", EnvARMClientID: "app", EnvARMSecret: "very-secret", EnvARMTenantID: "tid"},
			want: "more than one authorization method configured: azure (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID) and pat (token from profile p)",
		},
		"azure-client-secret without a tenant": {
			vars: map[string]string{EnvHost: "https://h", EnvAuthType: "azure-client-secret", EnvARMClientID: "app", EnvARMSecret: "very-secret"},
			want: "auth_type azure-client-secret needs ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID",
		},
		"github-oidc outside GitHub Actions": {
			vars: map[string]string{EnvHost: "https://h", EnvAuthType: "github-oidc", EnvClientID: "cid"},
			want: "auth_type github-oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN",
		},
		"databricks-cli without the CLI": {
			vars: map[string]string{EnvHost: "https://h", EnvAuthType: "databricks-cli", "PATH": "/nonexistent"},
			want: "auth_type databricks-cli needs the Databricks CLI",
		},
		"reserved __settings__ profile": {
			cfg:  profiles,
			vars: map[string]string{EnvConfigProfile: "__settings__"},
			want: "__settings__ is a reserved section name",
		},
		"basic auth is not supported": {
			vars: map[string]string{EnvHost: "https://h", "DATABRICKS_USERNAME": "u", "DATABRICKS_PASSWORD": "very-secret"},
			want: "basic authentication (username and password) is not supported",
		},
		"plain http to a remote host": {
			set:  Settings{Host: "http://dbc.cloud.databricks.com", Token: NewSecret("very-secret")},
			want: "host dbc.cloud.databricks.com uses plain http: use https:// (plain http is allowed only for loopback addresses",
		},
		"plain http to a private address": {
			set:  Settings{Host: "http://10.0.0.1:80", Token: NewSecret("very-secret")},
			want: "uses plain http",
		},
		"plain http to a name that only starts like localhost": {
			set:  Settings{Host: "http://localhost.evil.example", Token: NewSecret("very-secret")},
			want: "uses plain http",
		},
		"unsupported scheme": {
			set:  Settings{Host: "ftp://h", Token: NewSecret("very-secret")},
			want: `scheme "ftp" is not supported`,
		},
		"account level without account id": {
			set:  Settings{Host: "https://accounts.cloud.databricks.com", Level: model.LevelAccount, Token: NewSecret("very-secret")},
			want: "has no account id: set DATABRICKS_ACCOUNT_ID",
		},
		"bad level": {
			set:  Settings{Host: "https://h", Level: "org", Token: NewSecret("very-secret")},
			want: `target level "org"`,
		},
		"explicit profile missing": {
			cfg:  profiles,
			vars: map[string]string{EnvConfigProfile: "nope"},
			want: `profile "nope" not found in`,
		},
		"explicit profile without a file": {
			set:  Settings{Profile: "acct"},
			want: "read Databricks config file",
		},
		"explicit file missing": {
			vars: map[string]string{EnvConfigFile: "/nonexistent/databrickscfg", EnvHost: "https://h"},
			want: "read Databricks config file",
		},
		"malformed file": {
			cfg:  "[DEFAULT]\nhost = https://h\ntoken very-secret\n",
			want: ".databrickscfg:3: key-value delimiter not found",
		},
		"bad timeout in the profile": {
			cfg:  "[DEFAULT]\nhost = https://h\ntoken = very-secret\nhttp_timeout_seconds = soon\n",
			want: "http_timeout_seconds from profile DEFAULT must be a positive number of seconds",
		},
		"bad rate limit": {
			vars: map[string]string{EnvHost: "https://h", EnvToken: "very-secret", EnvRateLimit: "fast"},
			want: "rate_limit from env DATABRICKS_RATE_LIMIT must be a positive number",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Resolve(tc.set, testEnv(t, tc.vars, tc.cfg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("error contains a secret: %v", err)
			}
		})
	}
}

func TestResolveNilGetenvMeansNoEnvironment(t *testing.T) {
	t.Setenv(EnvHost, "https://from-process-env.example")
	t.Setenv(EnvToken, "process-token")
	_, err := Resolve(Settings{}, Env{})
	if err == nil || !strings.Contains(err.Error(), "no Databricks host") {
		t.Fatalf("Resolve with the zero Env read the process environment: err = %v", err)
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := map[string]string{
		"accounts.cloud.databricks.com":             "https://accounts.cloud.databricks.com",
		" https://adb-1.2.azuredatabricks.net/?o=1": "https://adb-1.2.azuredatabricks.net",
		"HTTPS://Dbc.example.com/":                  "https://Dbc.example.com",
		"http://127.0.0.1:3000":                     "http://127.0.0.1:3000",
		"http://127.9.9.9":                          "http://127.9.9.9",
		"http://LOCALHOST:1":                        "http://LOCALHOST:1",
	}
	for in, want := range tests {
		got, err := NormalizeHost(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
