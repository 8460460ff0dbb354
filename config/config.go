// Package config reads scimsync.yaml: the target to reconcile, the sources of desired state,
// the plan policy and apply settings. The file is validated against
// schemas/config.schema.json; problems are reported as diagnostics with file:line:column.
//
// Package config imports model, diag, schemas and policy.
package config

import (
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// DefaultFile is the config file read when none is named and it exists.
const DefaultFile = "scimsync.yaml"

// Config is a parsed scimsync.yaml.
type Config struct {
	// File is the path the config was read from; relative source paths are resolved
	// against its directory. Empty for a config built from command-line paths only.
	File    string        `yaml:"-"`
	Target  Target        `yaml:"target"`
	Sources []Source      `yaml:"sources"`
	Policy  policy.Policy `yaml:"policy"`
	Apply   Apply         `yaml:"apply"`
}

// Target says which Databricks account or workspace is reconciled. Fields left empty come
// from the Databricks environment variables or ~/.databrickscfg profile.
type Target struct {
	Level       model.Level `yaml:"level"` // account (default) or workspace
	Host        string      `yaml:"host"`
	AccountID   string      `yaml:"accountId"`
	WorkspaceID string      `yaml:"workspaceId"`
	Profile     string      `yaml:"profile"`
	// AuthType picks the authentication method, as DATABRICKS_AUTH_TYPE does: pat,
	// oauth-m2m, databricks-cli, github-oidc, env-oidc, file-oidc, azure-msi,
	// azure-client-secret or azure-cli. Empty means the first whose settings are present.
	AuthType string `yaml:"authType"`
	// HostOverrides send the requests for a host (a workspace's, or the account's) to a
	// loopback URL instead, keeping the host's name in the Host header: how tests and the
	// built-in emulator stand in for Databricks hosts. SCIMSYNC_HOST_OVERRIDES adds to them.
	HostOverrides map[string]string `yaml:"hostOverrides"`
	// UnifiedHost sends the workspace SCIM calls of workspaces without host: to the account
	// host with an X-Databricks-Workspace-Id header (reference §1.4), for unified hosts
	// that serve every workspace. Off by default: each workspace needs its host.
	UnifiedHost bool `yaml:"unifiedHost"`
}

// Apply holds apply settings.
type Apply struct {
	// BatchSize is the most members added to one group in one PATCH request.
	BatchSize int `yaml:"batchSize"`
	// Concurrency caps the requests in flight.
	Concurrency int `yaml:"concurrency"`
	// RateLimit is the overall request budget per second (default 25).
	RateLimit float64 `yaml:"rateLimit"`
	// WriteRateLimit is the budget per second for POST, PUT, PATCH and DELETE; 0 means the
	// overall budget only.
	WriteRateLimit float64 `yaml:"writeRateLimit"`
	// RateLimits are per-method budgets (GET, POST, PUT, PATCH, DELETE), below the overall
	// one. A method left out starts at the overall budget and learns the server's limit
	// for it from throttled responses.
	RateLimits map[string]float64 `yaml:"rateLimits"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults for Apply.
const (
	DefaultBatchSize   = 100
	DefaultConcurrency = 8
	DefaultRateLimit   = 25
)
