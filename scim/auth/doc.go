// Package auth resolves Databricks credentials the way Databricks' own tools do ("unified
// authentication", reference §7): explicit settings first, then DATABRICKS_* (and ARM_*,
// ACTIONS_ID_TOKEN_*) environment variables, then a profile of ~/.databrickscfg read with
// gopkg.in/ini.v1 as the Go SDK reads it. It supports the auth types pat, oauth-m2m,
// databricks-cli, github-oidc, env-oidc, file-oidc, azure-msi, azure-client-secret and
// azure-cli, each following the SDK strategy of the same name; DATABRICKS_AUTH_TYPE picks
// one, and without it the first whose settings are present is used, in the SDK's order. It
// refuses plain http:// except on loopback addresses, and keeps every secret in a Secret,
// which prints, marshals and logs as REDACTED.
//
// Package auth imports model, the standard library, golang.org/x/oauth2, golang.org/x/mod,
// gopkg.in/ini.v1 and Azure's azidentity only. Inputs (environment lookups, the home
// directory, the HTTP client) are injected so that callers and tests decide what the
// environment is; azidentity's azure-cli runs az from the process's PATH. Fakes of the
// identity providers are in authtest.
package auth
