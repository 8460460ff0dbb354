package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
)

// The authentication types scimsync supports, named as Databricks' auth_type names them
// (sdk:config/auth_default.go and the strategies it lists).
const (
	AuthPAT               = "pat"                 // a personal access token or account SCIM token, sent as a bearer token
	AuthOAuthM2M          = "oauth-m2m"           // OAuth client credentials of a service principal
	AuthDatabricksCLI     = "databricks-cli"      // the Databricks CLI's login (databricks auth token)
	AuthGitHubOIDC        = "github-oidc"         // a GitHub Actions ID token exchanged for a Databricks token
	AuthEnvOIDC           = "env-oidc"            // an ID token from an environment variable, exchanged likewise
	AuthFileOIDC          = "file-oidc"           // an ID token from a file, exchanged likewise
	AuthAzureMSI          = "azure-msi"           // an Azure managed identity's Entra ID token
	AuthAzureClientSecret = "azure-client-secret" // an Entra ID service principal's client secret
	AuthAzureCLI          = "azure-cli"           // the Azure CLI's login (az account get-access-token)
)

// AuthTypes are the supported auth types in the order they are tried when none is
// configured: the order of sdk:config/auth_default.go without the strategies scimsync
// does not support (basic, metadata-service, azure-devops-oidc, azure-github-oidc, google).
var AuthTypes = []string{
	AuthPAT, AuthOAuthM2M, AuthDatabricksCLI, AuthGitHubOIDC, AuthEnvOIDC, AuthFileOIDC,
	AuthAzureMSI, AuthAzureClientSecret, AuthAzureCLI,
}

// The environment variables read, as Databricks' SDKs and CLI name them.
const (
	EnvHost          = "DATABRICKS_HOST"
	EnvAccountID     = "DATABRICKS_ACCOUNT_ID"
	EnvWorkspaceID   = "DATABRICKS_WORKSPACE_ID"
	EnvToken         = "DATABRICKS_TOKEN"
	EnvClientID      = "DATABRICKS_CLIENT_ID"
	EnvClientSecret  = "DATABRICKS_CLIENT_SECRET"
	EnvAuthType      = "DATABRICKS_AUTH_TYPE"
	EnvConfigProfile = "DATABRICKS_CONFIG_PROFILE"
	EnvConfigFile    = "DATABRICKS_CONFIG_FILE"
	EnvRateLimit     = "DATABRICKS_RATE_LIMIT"
	EnvARMClientID   = "ARM_CLIENT_ID"
	EnvARMSecret     = "ARM_CLIENT_SECRET"
	EnvARMTenantID   = "ARM_TENANT_ID"
	EnvARMUseMSI     = "ARM_USE_MSI"
	EnvActionsURL    = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvActionsToken  = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// EnvAzureAuthorityHost is azidentity's variable for the Entra ID authority host, read
	// here through the injected environment (default https://login.microsoftonline.com/).
	EnvAzureAuthorityHost = "AZURE_AUTHORITY_HOST"
	// EnvAzureIMDS overrides the Azure instance metadata service address
	// (http://169.254.169.254). It exists for tests and must be a loopback address.
	EnvAzureIMDS = "SCIMSYNC_AZURE_IMDS_ENDPOINT"
)

// attribute is one key of the unified configuration: its ~/.databrickscfg key, its
// environment variable and, for credentials, the authorization method it belongs to. The
// table is sdk:config/config.go's struct tags for the keys scimsync reads.
type attribute struct {
	key, env  string
	method    string // "" for attributes that are not credentials
	sensitive bool
}

var attributes = []attribute{
	{key: "host", env: EnvHost},
	{key: "account_id", env: EnvAccountID},
	{key: "workspace_id", env: EnvWorkspaceID},
	{key: "token", env: EnvToken, method: "pat", sensitive: true},
	{key: "username", env: "DATABRICKS_USERNAME", method: "basic"},
	{key: "password", env: "DATABRICKS_PASSWORD", method: "basic", sensitive: true},
	{key: "client_id", env: EnvClientID, method: "oauth"},
	{key: "client_secret", env: EnvClientSecret, method: "oauth", sensitive: true},
	{key: "auth_type", env: EnvAuthType},
	{key: "profile", env: EnvConfigProfile},
	{key: "config_file", env: EnvConfigFile},
	{key: "rate_limit", env: EnvRateLimit},
	{key: "retry_timeout_seconds"},
	{key: "http_timeout_seconds"},
	{key: "debug_headers", env: "DATABRICKS_DEBUG_HEADERS"},
	{key: "azure_workspace_resource_id", env: "DATABRICKS_AZURE_RESOURCE_ID", method: "azure"},
	{key: "azure_use_msi", env: EnvARMUseMSI, method: "azure"},
	{key: "azure_client_secret", env: EnvARMSecret, method: "azure", sensitive: true},
	{key: "azure_client_id", env: EnvARMClientID, method: "azure"},
	{key: "azure_tenant_id", env: EnvARMTenantID, method: "azure"},
	{key: "azure_environment", env: "ARM_ENVIRONMENT"},
	{key: "actions_id_token_request_url", env: EnvActionsURL},
	{key: "actions_id_token_request_token", env: EnvActionsToken, sensitive: true},
	{key: "audience", env: "DATABRICKS_TOKEN_AUDIENCE"},
	{key: "databricks_cli_path", env: "DATABRICKS_CLI_PATH"},
	{key: "oidc_token_env", env: "DATABRICKS_OIDC_TOKEN_ENV", method: "env-oidc"},
	{key: "databricks_id_token_filepath", env: "DATABRICKS_OIDC_TOKEN_FILEPATH", method: "file-oidc"},
}

// Settings are values given explicitly, for example from scimsync.yaml or flags. A non-zero
// field wins over the environment and the config-file profile.
type Settings struct {
	Host        string
	AccountID   string
	WorkspaceID string
	// Level is account or workspace; empty means detect it from the host (see Resolve).
	Level model.Level
	// Profile selects a section of the config file; empty means DATABRICKS_CONFIG_PROFILE,
	// then DEFAULT.
	Profile string
	// ConfigFile is the path of the config file; empty means DATABRICKS_CONFIG_FILE, then
	// ~/.databrickscfg.
	ConfigFile   string
	AuthType     string
	Token        Secret
	ClientID     string
	ClientSecret Secret
	// RateLimit is the request budget per second; 0 means not set here.
	RateLimit float64
}

// Env is where values that Settings leave empty come from. Both fields are injected so that
// tests never see the real environment.
type Env struct {
	// Getenv looks up an environment variable; nil means no environment variables at all.
	// Pass os.Getenv to use the process environment.
	Getenv func(string) string
	// HomeDir is the directory holding .databrickscfg; empty means no default config file
	// (an explicit or DATABRICKS_CONFIG_FILE path is still read).
	HomeDir string
}

// Config is a resolved target and its credentials. Its String and LogValue show where each
// value came from and which auth type was chosen, never a secret.
type Config struct {
	Host         string      // scheme://host[:port], no path
	AccountID    string      // required at account level
	WorkspaceID  string      // optional; sent as X-Databricks-Workspace-Id on workspace calls
	Level        model.Level // account or workspace
	AuthType     string      // one of AuthTypes
	Token        Secret      // set for AuthPAT
	ClientID     string      // the service principal's application id: oauth-m2m, and the OIDC types
	ClientSecret Secret      // set for AuthOAuthM2M
	RateLimit    float64     // requests per second from the environment or profile; 0 if unset
	// HTTPTimeout and RetryTimeout are the profile's http_timeout_seconds and
	// retry_timeout_seconds (file only, as in the SDK); 0 if unset.
	HTTPTimeout, RetryTimeout time.Duration
	Profile                   string // the config-file profile read, "" when none was
	ConfigFile                string // the config file read, "" when none was

	// Azure: the Entra ID application and tenant, the workspace's Azure resource id, and
	// the authority host (AZURE_AUTHORITY_HOST, default login.microsoftonline.com).
	AzureClientID      string
	AzureClientSecret  Secret
	AzureTenantID      string
	AzureResourceID    string
	AzureUseMSI        bool
	AzureAuthorityHost string
	// AzureIMDS is the instance metadata service address for azure-msi (tests only).
	AzureIMDS string

	// OIDC federation: where a GitHub Actions job asks for its ID token, the audience of
	// the ID token, and the sources of env-oidc and file-oidc.
	ActionsTokenURL   string
	ActionsToken      Secret
	Audience          string
	OIDCTokenEnv      string
	OIDCTokenFilepath string
	oidcToken         Secret // the value of OIDCTokenEnv, read when resolving

	// DatabricksCLIPath is the databricks executable for databricks-cli.
	DatabricksCLIPath string
	// path is the PATH the executables of databricks-cli and azure-cli are looked up in.
	path string
	// home is the home directory, where the Databricks CLI keeps its token cache.
	home string

	// Origins says where each attribute came from, by config-file key name: "config",
	// "env DATABRICKS_HOST", or "profile NAME".
	Origins map[string]string
}

// String describes the configuration for debugging: host, level, account and workspace
// ids, the auth type, the client id and the origin of each value. Secrets are never shown.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host=%s level=%s", c.Host, c.Level)
	if c.AccountID != "" {
		fmt.Fprintf(&b, " account_id=%s", c.AccountID)
	}
	if c.WorkspaceID != "" {
		fmt.Fprintf(&b, " workspace_id=%s", c.WorkspaceID)
	}
	fmt.Fprintf(&b, " auth_type=%s", c.AuthType)
	if c.ClientID != "" {
		fmt.Fprintf(&b, " client_id=%s", c.ClientID)
	}
	if c.AzureClientID != "" {
		fmt.Fprintf(&b, " azure_client_id=%s", c.AzureClientID)
	}
	if c.AzureTenantID != "" {
		fmt.Fprintf(&b, " azure_tenant_id=%s", c.AzureTenantID)
	}
	if c.Profile != "" {
		fmt.Fprintf(&b, " profile=%s config_file=%s", c.Profile, c.ConfigFile)
	}
	keys := make([]string, 0, len(c.Origins))
	for k := range c.Origins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s from %s", k, c.Origins[k])
	}
	if len(keys) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// LogValue records the configuration as a log/slog group without secrets.
func (c *Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("host", c.Host),
		slog.String("level", string(c.Level)),
		slog.String("auth_type", c.AuthType),
	}
	for _, kv := range [][2]string{
		{"account_id", c.AccountID}, {"workspace_id", c.WorkspaceID}, {"client_id", c.ClientID},
		{"azure_client_id", c.AzureClientID}, {"azure_tenant_id", c.AzureTenantID},
	} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	if c.Profile != "" {
		attrs = append(attrs, slog.String("profile", c.Profile), slog.String("config_file", c.ConfigFile))
	}
	return slog.GroupValue(attrs...)
}

// ServicePrincipal returns the application id of the service principal the credentials
// act as, when it is known without asking Databricks: the OAuth client id, the client id
// of an OIDC federation policy, or the Entra ID application of azure-client-secret and of
// a user-assigned managed identity (Azure Databricks service principals carry the Entra
// application id as applicationId).
func (c *Config) ServicePrincipal() (string, bool) {
	switch c.AuthType {
	case AuthOAuthM2M, AuthGitHubOIDC, AuthEnvOIDC, AuthFileOIDC:
		return c.ClientID, c.ClientID != ""
	case AuthAzureClientSecret, AuthAzureMSI:
		return c.AzureClientID, c.AzureClientID != ""
	}
	return "", false
}

// source looks attributes up in the explicit settings, the environment and the profile,
// in that order, and records where each value came from.
type source struct {
	getenv  func(string) string
	profile map[string]string
	name    string // profile name, for origins
	origins map[string]string
}

// envOf returns the environment variable of a config-file key.
func envOf(key string) string {
	for _, a := range attributes {
		if a.key == key {
			return a.env
		}
	}
	return ""
}

// get returns the value of key: explicit, else its environment variable, else the profile.
func (s *source) get(key, explicit string) string {
	if v := strings.TrimSpace(explicit); v != "" {
		s.origins[key] = "config"
		return v
	}
	if env := envOf(key); env != "" {
		if v := strings.TrimSpace(s.getenv(env)); v != "" {
			s.origins[key] = "env " + env
			return v
		}
	}
	if v := strings.TrimSpace(s.profile[key]); v != "" {
		s.origins[key] = "profile " + s.name
		return v
	}
	return ""
}

// Resolve combines explicit settings, the environment and a ~/.databrickscfg profile into a
// Config, attribute by attribute: an explicit value wins over the environment variable,
// which wins over the profile (the precedence of Databricks' SDKs). The keys and variables
// are those of sdk:config/config.go (reference §7).
//
// The profile is Settings.Profile, else DATABRICKS_CONFIG_PROFILE, else the CLI's
// [__settings__] default_profile, else DEFAULT; the file is Settings.ConfigFile, else
// DATABRICKS_CONFIG_FILE, else .databrickscfg in Env.HomeDir. A missing file or DEFAULT
// section is not an error unless the file or profile was named. As in the SDK
// (sdk:config/config_file.go, its issue #304), when no profile is named and credentials are
// set explicitly or in the environment, the file is not read, so that they are not mixed
// with the file's.
//
// The auth type is the one configured (target.authType, DATABRICKS_AUTH_TYPE or auth_type);
// when none is, the first of AuthTypes whose settings are present is chosen, as the SDK's
// default chain does, except that credentials of more than one method (a token and a client
// secret, say) are an error naming both, as the SDK's config validation makes them.
//
// The level is Settings.Level when set. Otherwise the target is an account when an account
// id is set and the host is an accounts host (https://accounts. or https://accounts-dod.) or
// a loopback address (the emulator); else it is a workspace.
//
// Plain http:// hosts are refused unless they are loopback addresses (127.0.0.0/8, ::1,
// localhost). Errors say what to set; they never contain a secret.
func Resolve(set Settings, env Env) (*Config, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	src := &source{getenv: getenv, origins: map[string]string{}}
	c := &Config{Origins: src.origins, path: getenv("PATH"), home: env.HomeDir}

	file, err := loadProfile(set, env, getenv, c)
	if err != nil {
		return nil, err
	}
	src.profile, src.name = file, c.Profile

	host := src.get("host", set.Host)
	c.AccountID = src.get("account_id", set.AccountID)
	c.WorkspaceID = src.get("workspace_id", set.WorkspaceID)
	c.AuthType = strings.ToLower(src.get("auth_type", set.AuthType))
	c.Token = NewSecret(src.get("token", set.Token.Reveal()))
	c.ClientID = src.get("client_id", set.ClientID)
	c.ClientSecret = NewSecret(src.get("client_secret", set.ClientSecret.Reveal()))
	c.AzureClientID = src.get("azure_client_id", "")
	c.AzureClientSecret = NewSecret(src.get("azure_client_secret", ""))
	c.AzureTenantID = src.get("azure_tenant_id", "")
	c.AzureResourceID = src.get("azure_workspace_resource_id", "")
	if v := src.get("azure_use_msi", ""); v != "" {
		if c.AzureUseMSI, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("azure_use_msi from %s must be true or false", src.origins["azure_use_msi"])
		}
	}
	if e := src.get("azure_environment", ""); e != "" && !strings.EqualFold(e, "public") && !strings.EqualFold(e, "azurepubliccloud") {
		return nil, fmt.Errorf("azure_environment %q from %s is not supported: scimsync supports the public Azure cloud", e, src.origins["azure_environment"])
	}
	c.AzureAuthorityHost = strings.TrimSpace(getenv(EnvAzureAuthorityHost))
	c.AzureIMDS = strings.TrimSpace(getenv(EnvAzureIMDS))
	c.ActionsTokenURL = src.get("actions_id_token_request_url", "")
	c.ActionsToken = NewSecret(src.get("actions_id_token_request_token", ""))
	c.Audience = src.get("audience", "")
	c.OIDCTokenEnv = src.get("oidc_token_env", "")
	c.OIDCTokenFilepath = src.get("databricks_id_token_filepath", "")
	tokenEnv := c.OIDCTokenEnv
	if tokenEnv == "" {
		tokenEnv = "DATABRICKS_OIDC_TOKEN"
	}
	c.oidcToken = NewSecret(strings.TrimSpace(getenv(tokenEnv)))
	c.DatabricksCLIPath = src.get("databricks_cli_path", "")
	var explicitRate string
	if set.RateLimit != 0 {
		explicitRate = strconv.FormatFloat(set.RateLimit, 'f', -1, 64)
	}
	if rl := src.get("rate_limit", explicitRate); rl != "" {
		c.RateLimit, err = strconv.ParseFloat(rl, 64)
		if err != nil || c.RateLimit <= 0 {
			return nil, fmt.Errorf("rate_limit from %s must be a positive number of requests per second", src.origins["rate_limit"])
		}
	}
	for _, d := range []struct {
		key string
		to  *time.Duration
	}{{"http_timeout_seconds", &c.HTTPTimeout}, {"retry_timeout_seconds", &c.RetryTimeout}} {
		if v := src.get(d.key, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s from %s must be a positive number of seconds", d.key, src.origins[d.key])
			}
			*d.to = time.Duration(n) * time.Second
		}
	}
	// debug_headers is read and ignored: scimsync never logs headers, which carry tokens.
	_ = src.get("debug_headers", "")
	basic := src.get("username", "") != "" || src.get("password", "") != ""

	if c.Host, err = NormalizeHost(host); err != nil {
		return nil, err
	}
	if err := c.resolveLevel(set.Level); err != nil {
		return nil, err
	}
	if err := c.resolveAuthType(basic); err != nil {
		return nil, err
	}
	return c, nil
}

// credentialsOutsideFile reports whether a credential attribute is set explicitly or in the
// environment.
func credentialsOutsideFile(set Settings, getenv func(string) string) bool {
	if !set.Token.IsZero() || set.ClientID != "" || !set.ClientSecret.IsZero() {
		return true
	}
	for _, a := range attributes {
		if a.method != "" && a.env != "" && strings.TrimSpace(getenv(a.env)) != "" {
			return true
		}
	}
	return false
}

// loadProfile reads the selected profile of the config file, recording the file and
// profile names in c. It returns nil when there is no file or no DEFAULT section and neither
// was named explicitly.
func loadProfile(set Settings, env Env, getenv func(string) string, c *Config) (map[string]string, error) {
	path, explicitPath := set.ConfigFile, true
	if path == "" {
		path = strings.TrimSpace(getenv(EnvConfigFile))
	}
	if path == "" && env.HomeDir != "" {
		path, explicitPath = filepath.Join(env.HomeDir, ".databrickscfg"), false
	}
	if strings.HasPrefix(path, "~/") || path == "~" {
		if env.HomeDir == "" {
			return nil, fmt.Errorf("config file %s: no home directory to expand ~ in", path)
		}
		path = filepath.Join(env.HomeDir, strings.TrimPrefix(path, "~"))
	}
	requested := set.Profile
	if requested == "" {
		requested = strings.TrimSpace(getenv(EnvConfigProfile))
	}
	if path == "" {
		if requested != "" {
			return nil, fmt.Errorf("profile %q: no config file to read it from (set %s or the home directory)", requested, EnvConfigFile)
		}
		return nil, nil
	}
	if requested == "" && credentialsOutsideFile(set, getenv) {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicitPath && requested == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Databricks config file: %w", err)
	}
	f, err := parseConfigFile(data, path)
	if err != nil {
		return nil, err
	}
	profile, explicitProfile, err := f.profile(requested)
	if err != nil {
		return nil, err
	}
	section := f.sections[profile]
	if len(section) == 0 {
		if explicitProfile {
			return nil, fmt.Errorf("profile %q not found in %s (profiles: %s)", profile, path, strings.Join(f.profileNames(), ", "))
		}
		return nil, nil
	}
	c.Profile, c.ConfigFile = profile, path
	return section, nil
}

// resolveLevel sets c.Level from an explicit level or from the host and account id.
func (c *Config) resolveLevel(explicit model.Level) error {
	switch explicit {
	case model.LevelAccount, model.LevelWorkspace:
		c.Level = explicit
	case "":
		if c.AccountID != "" && (IsAccountsHost(c.Host) || isLoopbackHost(c.Host)) {
			c.Level = model.LevelAccount
		} else {
			c.Level = model.LevelWorkspace
		}
	default:
		return fmt.Errorf("target level %q: must be %q or %q", explicit, model.LevelAccount, model.LevelWorkspace)
	}
	if c.Level == model.LevelAccount && c.AccountID == "" {
		return fmt.Errorf("account-level target %s has no account id: set %s, account_id in the profile, or target.accountId", c.Host, EnvAccountID)
	}
	return nil
}

// methodKeys are the settings of each authorization method, as an error names them.
var methodKeys = map[string][]string{
	"pat":       {"token"},
	"basic":     {"username", "password"},
	"oauth":     {"client_id", "client_secret"},
	"azure":     {"azure_client_id", "azure_client_secret", "azure_tenant_id", "azure_workspace_resource_id", "azure_use_msi"},
	"env-oidc":  {"oidc_token_env"},
	"file-oidc": {"databricks_id_token_filepath"},
}

// methodsUsed returns the authorization methods whose settings are present, sorted, as the
// SDK's attributes.Validate counts them (sdk:config/config_attributes.go).
func (c *Config) methodsUsed(basic bool) []string {
	var used []string
	if !c.Token.IsZero() {
		used = append(used, "pat")
	}
	if basic {
		used = append(used, "basic")
	}
	if c.ClientID != "" || !c.ClientSecret.IsZero() {
		used = append(used, "oauth")
	}
	if c.AzureClientID != "" || !c.AzureClientSecret.IsZero() || c.AzureTenantID != "" || c.AzureResourceID != "" || c.AzureUseMSI {
		used = append(used, "azure")
	}
	if c.OIDCTokenEnv != "" {
		used = append(used, "env-oidc")
	}
	if c.OIDCTokenFilepath != "" {
		used = append(used, "file-oidc")
	}
	sort.Strings(used)
	return used
}

// describe names the settings of a method that are present and where they came from:
// "oauth (DATABRICKS_CLIENT_ID, client_secret from profile p)".
func (c *Config) describe(method string) string {
	var parts []string
	for _, k := range methodKeys[method] {
		switch o, ok := c.Origins[k]; {
		case !ok:
		case strings.HasPrefix(o, "env "):
			parts = append(parts, strings.TrimPrefix(o, "env "))
		default:
			parts = append(parts, k+" from "+o)
		}
	}
	return method + " (" + strings.Join(parts, ", ") + ")"
}

// IsAzure reports whether the target is an Azure Databricks workspace or account, as the
// SDK decides it: an Azure resource id is set or the host is in an Azure Databricks DNS zone
// (sdk:config/config.go IsAzure, sdk:common/environment).
func (c *Config) IsAzure() bool {
	if c.AzureResourceID != "" {
		return true
	}
	u, err := url.Parse(c.Host)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, zone := range []string{".azuredatabricks.net", ".databricks.azure.cn", ".databricks.azure.us"} {
		if strings.HasSuffix(h, zone) {
			return true
		}
	}
	return false
}

// resolveAuthType checks the configured auth type or picks the first with settings.
func (c *Config) resolveAuthType(basic bool) error {
	if c.AuthType == "" {
		if used := c.methodsUsed(basic); len(used) > 1 {
			descr := make([]string, len(used))
			for i, m := range used {
				descr[i] = c.describe(m)
			}
			return fmt.Errorf("more than one authorization method configured: %s; set %s (or auth_type in the profile, or target.authType) to the one to use",
				strings.Join(descr, " and "), EnvAuthType)
		}
		for _, t := range AuthTypes {
			if c.has(t) {
				c.AuthType = t
				break
			}
		}
		if c.AuthType == "" {
			return c.noCredentials(basic)
		}
	}
	if err := c.check(); err != nil {
		return err
	}
	c.keepOnly()
	return nil
}

// has reports whether the settings of an auth type are present, for the default order.
// The types that run a program count when the program is found: azure-cli for Azure hosts,
// databricks-cli when the CLI's token cache (~/.databricks/token-cache.json) shows a login.
func (c *Config) has(t string) bool {
	switch t {
	case AuthPAT:
		return !c.Token.IsZero()
	case AuthOAuthM2M:
		return c.ClientID != "" && !c.ClientSecret.IsZero()
	case AuthDatabricksCLI:
		// The SDK tries `databricks auth token` and moves on when it fails; a login leaves
		// the CLI's token cache, so its absence says the same without running the CLI.
		_, err := c.lookPath(c.databricksCLI())
		return err == nil && c.home != "" && isFile(filepath.Join(c.home, ".databricks", "token-cache.json"))
	case AuthGitHubOIDC:
		return c.ActionsTokenURL != "" && !c.ActionsToken.IsZero()
	case AuthEnvOIDC:
		return !c.oidcToken.IsZero()
	case AuthFileOIDC:
		return c.OIDCTokenFilepath != ""
	case AuthAzureMSI:
		return c.IsAzure() && c.AzureUseMSI
	case AuthAzureClientSecret:
		return c.IsAzure() && c.AzureClientID != "" && !c.AzureClientSecret.IsZero() && c.AzureTenantID != ""
	case AuthAzureCLI:
		_, err := c.lookPath("az")
		return c.IsAzure() && err == nil
	}
	return false
}

// noCredentials explains what is missing when no auth type has its settings.
func (c *Config) noCredentials(basic bool) error {
	switch {
	case basic:
		return fmt.Errorf("basic authentication (username and password) is not supported: use a token or OAuth")
	case c.ClientID != "":
		return fmt.Errorf("client id is set but no client secret: set %s (or client_secret in the profile) for OAuth machine-to-machine, or %s=%s for workload identity federation", EnvClientSecret, EnvAuthType, AuthGitHubOIDC)
	case !c.ClientSecret.IsZero():
		return fmt.Errorf("client secret is set but no client id: set %s (or client_id in the profile) for OAuth machine-to-machine", EnvClientID)
	}
	return fmt.Errorf("no Databricks credentials: set %s, or %s and %s, or a profile in ~/.databrickscfg (%s selects one), or %s (see README \"Connecting to Databricks\")",
		EnvToken, EnvClientID, EnvClientSecret, EnvConfigProfile, EnvAuthType)
}

// check reports what the chosen auth type lacks.
func (c *Config) check() error {
	need := func(what string) error {
		return fmt.Errorf("auth_type %s needs %s", c.AuthType, what)
	}
	switch c.AuthType {
	case AuthPAT:
		if c.Token.IsZero() {
			return need("a token: set " + EnvToken + " or token in the profile")
		}
	case AuthOAuthM2M:
		if c.ClientID == "" || c.ClientSecret.IsZero() {
			return need("a client id and secret: set " + EnvClientID + " and " + EnvClientSecret + ", or client_id and client_secret in the profile")
		}
	case AuthDatabricksCLI:
		if _, err := c.lookPath(c.databricksCLI()); err != nil {
			return need("the Databricks CLI: install it and run `databricks auth login`, or set databricks_cli_path")
		}
	case AuthGitHubOIDC:
		if c.ActionsTokenURL == "" || c.ActionsToken.IsZero() {
			return need(EnvActionsURL + " and " + EnvActionsToken + ": run it in a GitHub Actions job with permissions id-token: write")
		}
	case AuthEnvOIDC:
		if c.oidcToken.IsZero() {
			return need("an ID token in DATABRICKS_OIDC_TOKEN (or the variable oidc_token_env names)")
		}
	case AuthFileOIDC:
		if c.OIDCTokenFilepath == "" {
			return need("databricks_id_token_filepath (DATABRICKS_OIDC_TOKEN_FILEPATH)")
		}
	case AuthAzureMSI:
	case AuthAzureClientSecret:
		if c.AzureClientID == "" || c.AzureClientSecret.IsZero() || c.AzureTenantID == "" {
			return need(EnvARMClientID + ", " + EnvARMSecret + " and " + EnvARMTenantID + " (or azure_client_id, azure_client_secret and azure_tenant_id in the profile)")
		}
	case AuthAzureCLI:
		if _, err := c.lookPath("az"); err != nil {
			return need("the Azure CLI (az) on PATH, logged in with `az login`")
		}
	default:
		return fmt.Errorf("auth_type %q is not supported: use one of %s", c.AuthType, strings.Join(AuthTypes, ", "))
	}
	if c.AzureIMDS != "" && !isLoopbackHost(c.AzureIMDS) {
		return fmt.Errorf("%s must be a loopback address (it exists for tests)", EnvAzureIMDS)
	}
	return nil
}

// keepOnly clears the secrets of the auth types not chosen, so that they cannot leak into
// requests.
func (c *Config) keepOnly() {
	if c.AuthType != AuthPAT {
		c.Token = Secret{}
	}
	if c.AuthType != AuthOAuthM2M {
		c.ClientSecret = Secret{}
	}
	if c.AuthType != AuthAzureClientSecret {
		c.AzureClientSecret = Secret{}
	}
	if c.AuthType != AuthGitHubOIDC {
		c.ActionsToken = Secret{}
	}
	if c.AuthType != AuthEnvOIDC {
		c.oidcToken = Secret{}
	}
}

// databricksCLI returns the databricks executable to run.
func (c *Config) databricksCLI() string {
	if c.DatabricksCLIPath != "" {
		return c.DatabricksCLIPath
	}
	return "databricks"
}

// lookPath finds an executable as exec.LookPath does, in the PATH of the injected
// environment rather than the process's.
func (c *Config) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	for _, dir := range filepath.SplitList(c.path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH", name)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// NormalizeHost checks a Databricks host and returns it as scheme://host[:port]. A host
// without a scheme gets https://. Plain http:// is accepted only for loopback addresses.
func NormalizeHost(host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", fmt.Errorf("no Databricks host: set %s, host in the ~/.databrickscfg profile, or target.host", EnvHost)
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("host %q is not a URL such as https://accounts.cloud.databricks.com", host)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("host %s uses plain http: use https:// (plain http is allowed only for loopback addresses such as http://127.0.0.1, e.g. the emulator)", u.Host)
		}
	default:
		return "", fmt.Errorf("host %s: scheme %q is not supported, use https://", u.Host, u.Scheme)
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host, nil
}

// IsAccountsHost reports whether a normalised host is a Databricks accounts console host, as
// the Databricks SDK decides it.
func IsAccountsHost(host string) bool {
	return strings.HasPrefix(host, "https://accounts.") || strings.HasPrefix(host, "https://accounts-dod.")
}

// isLoopbackHost reports whether a normalised host names a loopback address.
func isLoopbackHost(host string) bool {
	u, err := url.Parse(host)
	return err == nil && isLoopback(u.Hostname())
}

// isLoopback reports whether a host name is localhost or a loopback IP address.
func isLoopback(name string) bool {
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}
