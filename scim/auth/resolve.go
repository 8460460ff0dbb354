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

	"github.com/scimsync/scimsync/model"
)

// The authentication types scimsync supports, named as Databricks' auth_type names them.
const (
	AuthPAT      = "pat"       // a personal access token or account SCIM token, sent as a bearer token
	AuthOAuthM2M = "oauth-m2m" // OAuth client credentials of a service principal
)

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
)

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
	AuthType     string      // AuthPAT or AuthOAuthM2M
	Token        Secret      // set for AuthPAT
	ClientID     string      // set for AuthOAuthM2M
	ClientSecret Secret      // set for AuthOAuthM2M
	RateLimit    float64     // requests per second from the environment or profile; 0 if unset
	Profile      string      // the config-file profile read, "" when none was
	ConfigFile   string      // the config file read, "" when none was
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
	if c.AccountID != "" {
		attrs = append(attrs, slog.String("account_id", c.AccountID))
	}
	if c.WorkspaceID != "" {
		attrs = append(attrs, slog.String("workspace_id", c.WorkspaceID))
	}
	if c.ClientID != "" {
		attrs = append(attrs, slog.String("client_id", c.ClientID))
	}
	if c.Profile != "" {
		attrs = append(attrs, slog.String("profile", c.Profile), slog.String("config_file", c.ConfigFile))
	}
	return slog.GroupValue(attrs...)
}

// source looks attributes up in the explicit settings, the environment and the profile,
// in that order, and records where each value came from.
type source struct {
	getenv  func(string) string
	profile map[string]string
	name    string // profile name, for origins
	origins map[string]string
}

func (s *source) get(key, explicit, env string) string {
	if v := strings.TrimSpace(explicit); v != "" {
		s.origins[key] = "config"
		return v
	}
	if v := strings.TrimSpace(s.getenv(env)); v != "" {
		s.origins[key] = "env " + env
		return v
	}
	if v := strings.TrimSpace(s.profile[key]); v != "" {
		s.origins[key] = "profile " + s.name
		return v
	}
	return ""
}

// Resolve combines explicit settings, the environment and a ~/.databrickscfg profile into a
// Config, attribute by attribute: an explicit value wins over DATABRICKS_* variables, which
// win over the profile (the precedence of Databricks' SDKs).
//
// The profile is Settings.Profile, else DATABRICKS_CONFIG_PROFILE, else DEFAULT; the file is
// Settings.ConfigFile, else DATABRICKS_CONFIG_FILE, else .databrickscfg in Env.HomeDir. A
// missing file or DEFAULT section is not an error unless the file or profile was named.
//
// The auth type is the one configured (auth_type) or else the first that has credentials:
// pat when a token is set, then oauth-m2m when a client id and secret are.
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
	c := &Config{Origins: src.origins}

	file, err := loadProfile(set, env, getenv, c)
	if err != nil {
		return nil, err
	}
	src.profile, src.name = file, c.Profile

	host := src.get("host", set.Host, EnvHost)
	c.AccountID = src.get("account_id", set.AccountID, EnvAccountID)
	c.WorkspaceID = src.get("workspace_id", set.WorkspaceID, EnvWorkspaceID)
	c.AuthType = strings.ToLower(src.get("auth_type", set.AuthType, EnvAuthType))
	c.Token = NewSecret(src.get("token", set.Token.Reveal(), EnvToken))
	c.ClientID = src.get("client_id", set.ClientID, EnvClientID)
	c.ClientSecret = NewSecret(src.get("client_secret", set.ClientSecret.Reveal(), EnvClientSecret))
	var explicitRate string
	if set.RateLimit != 0 {
		explicitRate = strconv.FormatFloat(set.RateLimit, 'f', -1, 64)
	}
	if rl := src.get("rate_limit", explicitRate, EnvRateLimit); rl != "" {
		c.RateLimit, err = strconv.ParseFloat(rl, 64)
		if err != nil || c.RateLimit <= 0 {
			return nil, fmt.Errorf("rate_limit from %s must be a positive number of requests per second", src.origins["rate_limit"])
		}
	}

	if c.Host, err = NormalizeHost(host); err != nil {
		return nil, err
	}
	if err := c.resolveLevel(set.Level); err != nil {
		return nil, err
	}
	if err := c.resolveAuthType(); err != nil {
		return nil, err
	}
	return c, nil
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
	profile, explicitProfile := set.Profile, true
	if profile == "" {
		profile = strings.TrimSpace(getenv(EnvConfigProfile))
	}
	if profile == "" {
		profile, explicitProfile = DefaultProfile, false
	}
	if path == "" {
		if explicitProfile {
			return nil, fmt.Errorf("profile %q: no config file to read it from (set %s or the home directory)", profile, EnvConfigFile)
		}
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicitPath && !explicitProfile {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Databricks config file: %w", err)
	}
	f, err := parseConfigFile(data, path)
	if err != nil {
		return nil, err
	}
	section, ok := f.sections[profile]
	if !ok {
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

// resolveAuthType checks the configured auth type or picks the first with credentials.
func (c *Config) resolveAuthType() error {
	hasToken := !c.Token.IsZero()
	hasID, hasSecret := c.ClientID != "", !c.ClientSecret.IsZero()
	switch c.AuthType {
	case AuthPAT:
		if !hasToken {
			return fmt.Errorf("auth_type %s needs a token: set %s or token in the profile", AuthPAT, EnvToken)
		}
	case AuthOAuthM2M:
		if !hasID || !hasSecret {
			return fmt.Errorf("auth_type %s needs a client id and secret: set %s and %s, or client_id and client_secret in the profile", AuthOAuthM2M, EnvClientID, EnvClientSecret)
		}
	case "":
		switch {
		case hasToken:
			c.AuthType = AuthPAT
		case hasID && hasSecret:
			c.AuthType = AuthOAuthM2M
		case hasID:
			return fmt.Errorf("client id is set but no client secret: set %s (or client_secret in the profile) for OAuth machine-to-machine", EnvClientSecret)
		case hasSecret:
			return fmt.Errorf("client secret is set but no client id: set %s (or client_id in the profile) for OAuth machine-to-machine", EnvClientID)
		default:
			return fmt.Errorf("no Databricks credentials: set %s, or %s and %s, or a profile in ~/.databrickscfg (%s selects one)", EnvToken, EnvClientID, EnvClientSecret, EnvConfigProfile)
		}
	default:
		return fmt.Errorf("auth_type %q is not supported: use %s (%s) or %s (%s and %s)", c.AuthType, AuthPAT, EnvToken, AuthOAuthM2M, EnvClientID, EnvClientSecret)
	}
	// Keep only the chosen credentials, so that the other kind cannot leak into requests.
	if c.AuthType == AuthPAT {
		c.ClientSecret = Secret{}
	} else {
		c.Token = Secret{}
	}
	return nil
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
