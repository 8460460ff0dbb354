// Package auth resolves Databricks credentials the way Databricks' own tools do ("unified
// authentication"): explicit settings first, then DATABRICKS_* environment variables, then a
// profile in ~/.databrickscfg. It supports personal access tokens and account SCIM tokens
// (auth type pat) and OAuth machine-to-machine client credentials (auth type oauth-m2m),
// refuses plain http:// except on loopback addresses, and keeps every secret in a Secret,
// which prints, marshals and logs as REDACTED.
//
// Package auth imports model, the standard library and golang.org/x/oauth2 only. Inputs
// (environment lookups, the home directory) are injected so that callers and tests decide
// what the environment is.
package auth
